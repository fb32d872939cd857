namespace AzureLinuxImage.Compression.Xz
{
    /// <summary>
    /// LZMA2 (the .xz file format's filter 0x21): a sequence of chunks, each uncompressed or LZMA with
    /// an optional reset of state, properties or dictionary (control byte: 0x00 end, 0x01/0x02
    /// uncompressed with/without dictionary reset, 0x80-0xFF LZMA with reset level in bits 5-6).
    /// </summary>
    internal sealed class Lzma2Decoder
    {
        private readonly InputBuffer input;
        private readonly string source;
        private readonly LzWindow window;
        private readonly LzmaDecoder lzma;
        private readonly byte[] chunk = new byte[1 << 16];
        private bool needDictReset = true;
        private bool needProperties = true;
        private bool inLzmaChunk;
        private bool inUncompressedChunk;
        private int chunkRemaining;
        private int chunkPacked;
        private bool finished;

        public Lzma2Decoder(InputBuffer input, LzWindow window)
        {
            this.input = input;
            source = input.SourceName;
            this.window = window;
            lzma = new LzmaDecoder(window, source);
        }

        /// <summary>Decodes into the window; returns the count and where it starts, 0 at the end marker.</summary>
        public int Decode(int limit, out int start)
        {
            start = 0;
            while (true)
            {
                if (finished)
                {
                    return 0;
                }
                if (chunkRemaining == 0)
                {
                    EndChunk();
                    if (!StartChunk())
                    {
                        finished = true;
                        return 0;
                    }
                    continue;
                }
                int ask = limit < chunkRemaining ? limit : chunkRemaining;
                if (inUncompressedChunk)
                {
                    int room = window.PrepareRoom();
                    if (ask > room)
                    {
                        ask = room;
                    }
                    start = window.Position;
                    input.ReadExactly(window.Buffer, start, ask, "LZMA2 uncompressed chunk");
                    window.Position += ask;
                    window.Total += ask;
                    chunkRemaining -= ask;
                    return ask;
                }
                start = window.PrepareRoom() > 0 ? window.Position : 0;
                int n = lzma.Decode(ask, allowEndMarker: false, out _);
                chunkRemaining -= n;
                return n;
            }
        }

        private void EndChunk()
        {
            if (inLzmaChunk)
            {
                if (lzma.PendingLength > 0 || !lzma.FinishRange() || lzma.DataPosition != chunkPacked)
                {
                    throw CompressionErrors.Invalid(source, "LZMA2 chunk", "the LZMA data does not end exactly with the chunk's sizes.");
                }
            }
            inLzmaChunk = false;
            inUncompressedChunk = false;
        }

        private bool StartChunk()
        {
            const string S = "LZMA2 chunk header";
            int control = input.ReadByte(S);
            if (control == 0)
            {
                return false;
            }
            if (control == 1 || control >= 0xE0)
            {
                window.Reset();
                needDictReset = false;
                needProperties = true;
            }
            else if (needDictReset)
            {
                throw CompressionErrors.Invalid(source, S, "the first chunk does not reset the dictionary.");
            }
            if (control < 0x80)
            {
                if (control > 2)
                {
                    throw CompressionErrors.Invalid(source, S, $"control byte 0x{control:X2} is invalid.");
                }
                chunkRemaining = ((input.ReadByte(S) << 8) | input.ReadByte(S)) + 1;
                inUncompressedChunk = true;
                return true;
            }
            int unpacked = ((control & 0x1F) << 16) + (input.ReadByte(S) << 8) + input.ReadByte(S) + 1;
            int packed = (input.ReadByte(S) << 8) + input.ReadByte(S) + 1;
            if (control >= 0xC0)
            {
                int props = input.ReadByte(S);
                if (!LzmaDecoder.TryDecodeProperties(props, out int lc, out int lp, out int pb) || lc + lp > 4)
                {
                    throw CompressionErrors.Invalid(source, S, $"properties byte 0x{props:X2} is invalid (LZMA2 needs lc + lp ≤ 4).");
                }
                lzma.SetProperties(lc, lp, pb);
                needProperties = false;
                lzma.ResetState();
            }
            else if (needProperties)
            {
                throw CompressionErrors.Invalid(source, S, "an LZMA chunk without properties after a dictionary reset.");
            }
            else if (control >= 0xA0)
            {
                lzma.ResetState();
            }
            input.ReadExactly(chunk, 0, packed, "LZMA2 compressed chunk");
            chunkPacked = packed;
            lzma.InitRange(chunk, 0, packed, null);
            chunkRemaining = unpacked;
            inLzmaChunk = true;
            return true;
        }
    }
}
