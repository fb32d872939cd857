using System;

namespace AzureLinuxImage.Compression.Xz
{
    /// <summary>
    /// The LZMA decoder (range coder, literal/match/rep state machine), as specified by the LZMA SDK's
    /// lzma-specification.txt and used inside LZMA2 chunks and .lzma files. It writes into an
    /// <see cref="LzWindow"/> in bounded steps, so a long match may be split across calls.
    /// </summary>
    internal sealed class LzmaDecoder
    {
        private const int NumStates = 12;
        private const int PosStatesMax = 16;
        private const uint TopValue = 1u << 24;

        private readonly string source;
        private readonly LzWindow window;

        private ushort[] literal = Array.Empty<ushort>();
        private readonly ushort[] isMatch = new ushort[NumStates * PosStatesMax];
        private readonly ushort[] isRep = new ushort[NumStates];
        private readonly ushort[] isRepG0 = new ushort[NumStates];
        private readonly ushort[] isRepG1 = new ushort[NumStates];
        private readonly ushort[] isRepG2 = new ushort[NumStates];
        private readonly ushort[] isRep0Long = new ushort[NumStates * PosStatesMax];
        private readonly ushort[] posSlot = new ushort[4 << 6];
        private readonly ushort[] posSpecial = new ushort[1 + 114];
        private readonly ushort[] align = new ushort[16];
        private readonly LengthDecoder matchLength = new LengthDecoder();
        private readonly LengthDecoder repLength = new LengthDecoder();

        private int lc, lp, pb;
        private int state;
        private uint rep0, rep1, rep2, rep3;
        private int pendingLength;

        // Range decoder over the current input (RangeInit).
        private byte[] data = Array.Empty<byte>();
        private int dataPos;
        private int dataEnd;
        private InputBuffer? stream;
        private uint range;
        private uint code;

        public LzmaDecoder(LzWindow window, string source)
        {
            this.window = window;
            this.source = source;
        }

        /// <summary>Bytes of a match not yet copied when the last call stopped at its limit.</summary>
        public int PendingLength => pendingLength;

        /// <summary>Consumed bytes of the in-memory input.</summary>
        public int DataPosition => dataPos;

        /// <summary>After the last symbol: the encoder's flush leaves one normalisation to do, then the code must be 0.</summary>
        public bool FinishRange()
        {
            if (range < TopValue)
            {
                range <<= 8;
                code = (code << 8) | NextByte();
            }
            return code == 0;
        }

        /// <summary>Decodes one lc/lp/pb properties byte (0..224).</summary>
        public static bool TryDecodeProperties(int props, out int lc, out int lp, out int pb)
        {
            lc = lp = pb = 0;
            if (props >= 9 * 5 * 5)
            {
                return false;
            }
            lc = props % 9;
            props /= 9;
            lp = props % 5;
            pb = props / 5;
            return true;
        }

        public void SetProperties(int literalContextBits, int literalPosBits, int posBits)
        {
            lc = literalContextBits;
            lp = literalPosBits;
            pb = posBits;
            int size = 0x300 << (lc + lp);
            if (literal.Length != size)
            {
                literal = new ushort[size];
            }
        }

        /// <summary>Resets probabilities, state and repeat distances (LZMA2 "state reset").</summary>
        public void ResetState()
        {
            Fill(literal);
            Fill(isMatch);
            Fill(isRep);
            Fill(isRepG0);
            Fill(isRepG1);
            Fill(isRepG2);
            Fill(isRep0Long);
            Fill(posSlot);
            Fill(posSpecial);
            Fill(align);
            matchLength.Reset();
            repLength.Reset();
            state = 0;
            rep0 = rep1 = rep2 = rep3 = 0;
            pendingLength = 0;
        }

        private static void Fill(ushort[] a)
        {
            for (int i = 0; i < a.Length; i++)
            {
                a[i] = 1024;
            }
        }

        /// <summary>Starts the range decoder on an in-memory chunk (LZMA2) or, with <paramref name="input"/>, on a stream (.lzma).</summary>
        public void InitRange(byte[] buffer, int offset, int count, InputBuffer? input)
        {
            data = buffer;
            dataPos = offset;
            dataEnd = offset + count;
            stream = input;
            if (NextByte() != 0)
            {
                throw CompressionErrors.Invalid(source, "LZMA range coder", "the first byte of the range-coded data is not 0.");
            }
            code = 0;
            range = 0xFFFFFFFF;
            for (int i = 0; i < 4; i++)
            {
                code = (code << 8) | NextByte();
            }
            if (code == range)
            {
                throw CompressionErrors.Invalid(source, "LZMA range coder", "the initial code is invalid.");
            }
        }

        private uint NextByte()
        {
            if (dataPos < dataEnd)
            {
                return data[dataPos++];
            }
            if (stream != null)
            {
                return stream.ReadByte("LZMA compressed data");
            }
            throw CompressionErrors.Invalid(source, "LZMA2 chunk", "the range decoder needs more bytes than the chunk's compressed size.");
        }

        private int Bit(ushort[] probs, int index)
        {
            if (range < TopValue)
            {
                range <<= 8;
                code = (code << 8) | NextByte();
            }
            uint p = probs[index];
            uint bound = (range >> 11) * p;
            if (code < bound)
            {
                range = bound;
                probs[index] = (ushort)(p + ((2048 - p) >> 5));
                return 0;
            }
            range -= bound;
            code -= bound;
            probs[index] = (ushort)(p - (p >> 5));
            return 1;
        }

        private uint DirectBits(int count)
        {
            uint result = 0;
            for (int i = 0; i < count; i++)
            {
                if (range < TopValue)
                {
                    range <<= 8;
                    code = (code << 8) | NextByte();
                }
                range >>= 1;
                uint bit = code >= range ? 1u : 0u;
                if (bit != 0)
                {
                    code -= range;
                }
                result = (result << 1) | bit;
            }
            return result;
        }

        private int BitTree(ushort[] probs, int offset, int bits)
        {
            int m = 1;
            for (int i = 0; i < bits; i++)
            {
                m = (m << 1) | Bit(probs, offset + m);
            }
            return m - (1 << bits);
        }

        private int ReverseBitTree(ushort[] probs, int offset, int bits)
        {
            int m = 1;
            int result = 0;
            for (int i = 0; i < bits; i++)
            {
                int bit = Bit(probs, offset + m);
                m = (m << 1) | bit;
                result |= bit << i;
            }
            return result;
        }

        private int DecodeLength(LengthDecoder d, int posState)
        {
            if (Bit(d.Choice, 0) == 0)
            {
                return BitTree(d.Low, posState << 3, 3);
            }
            if (Bit(d.Choice, 1) == 0)
            {
                return 8 + BitTree(d.Mid, posState << 3, 3);
            }
            return 16 + BitTree(d.High, 0, 8);
        }

        /// <summary>
        /// Decodes up to <paramref name="limit"/> bytes (at most the window's contiguous room) into the
        /// window; returns how many. <paramref name="endMarker"/> is set when the end-of-payload marker was read
        /// (allowed only when <paramref name="allowEndMarker"/>).
        /// </summary>
        public int Decode(int limit, bool allowEndMarker, out bool endMarker)
        {
            endMarker = false;
            LzWindow w = window;
            int room = w.PrepareRoom();
            if (limit > room)
            {
                limit = room;
            }
            byte[] buf = w.Buffer;
            int pos = w.Position;
            int start = pos;
            int end = pos + limit;
            long total = w.Total;
            int posMask = (1 << pb) - 1;
            int lpMask = (1 << lp) - 1;
            uint dictSize = (uint)w.DictionarySize;

            while (pendingLength > 0 && pos < end)
            {
                int src = pos - (int)rep0 - 1;
                if (src < 0)
                {
                    src += buf.Length;
                }
                buf[pos++] = buf[src];
                total++;
                pendingLength--;
            }

            while (pos < end)
            {
                int posState = (int)total & posMask;
                if (Bit(isMatch, (state << 4) + posState) == 0)
                {
                    int prev = total == 0 ? 0 : buf[pos == 0 ? buf.Length - 1 : pos - 1];
                    int litBase = 0x300 * (((int)(total & lpMask) << lc) + (prev >> (8 - lc)));
                    int symbol = 1;
                    if (state < 7)
                    {
                        while (symbol < 0x100)
                        {
                            symbol = (symbol << 1) | Bit(literal, litBase + symbol);
                        }
                    }
                    else
                    {
                        int si = pos - (int)rep0 - 1;
                        if (si < 0)
                        {
                            si += buf.Length;
                        }
                        int matchByte = buf[si];
                        while (symbol < 0x100)
                        {
                            int matchBit = (matchByte >> 7) & 1;
                            matchByte <<= 1;
                            int bit = Bit(literal, litBase + 0x100 + (matchBit << 8) + symbol);
                            symbol = (symbol << 1) | bit;
                            if (matchBit != bit)
                            {
                                while (symbol < 0x100)
                                {
                                    symbol = (symbol << 1) | Bit(literal, litBase + symbol);
                                }
                                break;
                            }
                        }
                    }
                    buf[pos++] = (byte)symbol;
                    total++;
                    state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
                    continue;
                }

                int len;
                if (Bit(isRep, state) == 0)
                {
                    rep3 = rep2;
                    rep2 = rep1;
                    rep1 = rep0;
                    len = DecodeLength(matchLength, posState);
                    state = state < 7 ? 7 : 10;
                    rep0 = DecodeDistance(len);
                    if (rep0 == 0xFFFFFFFF)
                    {
                        if (!allowEndMarker)
                        {
                            throw CompressionErrors.Invalid(source, "LZMA data", "an end-of-payload marker where none is allowed.");
                        }
                        endMarker = true;
                        break;
                    }
                }
                else
                {
                    if (total == 0)
                    {
                        throw CompressionErrors.Invalid(source, "LZMA data", "a repeated match before any data.");
                    }
                    if (Bit(isRepG0, state) == 0)
                    {
                        if (Bit(isRep0Long, (state << 4) + posState) == 0)
                        {
                            // Short rep: one byte at rep0.
                            if (rep0 >= total)
                            {
                                throw CompressionErrors.Invalid(source, "LZMA data", "a repeated match reaches before the start of the dictionary.");
                            }
                            state = state < 7 ? 9 : 11;
                            int si = pos - (int)rep0 - 1;
                            if (si < 0)
                            {
                                si += buf.Length;
                            }
                            buf[pos] = buf[si];
                            pos++;
                            total++;
                            continue;
                        }
                    }
                    else
                    {
                        uint dist;
                        if (Bit(isRepG1, state) == 0)
                        {
                            dist = rep1;
                        }
                        else
                        {
                            if (Bit(isRepG2, state) == 0)
                            {
                                dist = rep2;
                            }
                            else
                            {
                                dist = rep3;
                                rep3 = rep2;
                            }
                            rep2 = rep1;
                        }
                        rep1 = rep0;
                        rep0 = dist;
                    }
                    len = DecodeLength(repLength, posState);
                    state = state < 7 ? 8 : 11;
                }

                if (rep0 >= total || rep0 >= dictSize)
                {
                    throw CompressionErrors.Invalid(source, "LZMA data", $"match distance {(long)rep0 + 1} reaches before the start of the dictionary.");
                }
                int length = len + 2;
                int copy = Math.Min(length, end - pos);
                int from = pos - (int)rep0 - 1;
                if (from < 0)
                {
                    from += buf.Length;
                }
                for (int i = 0; i < copy; i++)
                {
                    buf[pos++] = buf[from++];
                    if (from == buf.Length)
                    {
                        from = 0;
                    }
                }
                total += copy;
                pendingLength = length - copy;
            }
            w.Position = pos;
            w.Total = total;
            return pos - start;
        }

        private uint DecodeDistance(int len)
        {
            int lenState = len < 3 ? len : 3;
            int slot = BitTree(posSlot, lenState << 6, 6);
            if (slot < 4)
            {
                return (uint)slot;
            }
            int directBits = (slot >> 1) - 1;
            uint dist = (uint)((2 | (slot & 1)) << directBits);
            if (slot < 14)
            {
                dist += (uint)ReverseBitTree(posSpecial, (int)dist - slot, directBits);
            }
            else
            {
                dist += DirectBits(directBits - 4) << 4;
                dist += (uint)ReverseBitTree(align, 0, 4);
            }
            return dist;
        }

        private sealed class LengthDecoder
        {
            public readonly ushort[] Choice = new ushort[2];
            public readonly ushort[] Low = new ushort[PosStatesMax << 3];
            public readonly ushort[] Mid = new ushort[PosStatesMax << 3];
            public readonly ushort[] High = new ushort[256];

            public void Reset()
            {
                Fill(Choice);
                Fill(Low);
                Fill(Mid);
                Fill(High);
            }
        }
    }
}
