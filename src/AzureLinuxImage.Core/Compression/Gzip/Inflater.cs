using AzureLinuxImage.Compression.Xz;

namespace AzureLinuxImage.Compression.Gzip
{
    /// <summary>
    /// DEFLATE (RFC 1951): stored, fixed-Huffman and dynamic-Huffman blocks, decoded bit by bit from an
    /// <see cref="InputBuffer"/> without reading past the end of the compressed data, so what follows
    /// (the gzip trailer, the next initramfs part) is found exactly. Canonical codes are decoded by
    /// counting codes per length (section 3.2.2); the 32 KiB history is an <see cref="LzWindow"/>.
    /// </summary>
    internal sealed class Inflater
    {
        private const int MaxBits = 15;

        private static readonly ushort[] LengthBase = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
        private static readonly byte[] LengthExtra = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
        private static readonly ushort[] DistanceBase = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
        private static readonly byte[] DistanceExtra = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };
        private static readonly byte[] CodeLengthOrder = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };

        private readonly InputBuffer input;
        private readonly string source;
        private readonly LzWindow window = new LzWindow(32 * 1024);
        private readonly Huffman literals = new Huffman(288);
        private readonly Huffman distances = new Huffman(32);
        private readonly Huffman codeLengths = new Huffman(19);
        private readonly byte[] lengths = new byte[288 + 32];

        private uint bitBuffer;
        private int bitCount;
        private bool lastBlock;
        private int blockType = -1;
        private int storedRemaining;
        private int pendingLength;
        private int pendingDistance;
        private bool finished;

        public Inflater(InputBuffer input)
        {
            this.input = input;
            source = input.SourceName;
        }

        /// <summary>The history buffer the <see cref="Decode"/> results are in.</summary>
        public byte[] WindowBuffer => window.Buffer;

        public void Reset()
        {
            window.Reset();
            bitBuffer = 0;
            bitCount = 0;
            lastBlock = false;
            blockType = -1;
            pendingLength = 0;
            finished = false;
        }

        /// <summary>Decodes into the window; returns the count and its start, 0 once the final block ended (input then byte-aligned).</summary>
        public int Decode(int limit, out int start)
        {
            int room = window.PrepareRoom();
            start = window.Position;
            if (limit > room)
            {
                limit = room;
            }
            byte[] buf = window.Buffer;
            int pos = start;
            int end = start + limit;
            while (pos < end && !finished)
            {
                if (pendingLength > 0)
                {
                    int from = pos - pendingDistance;
                    if (from < 0)
                    {
                        from += buf.Length;
                    }
                    while (pendingLength > 0 && pos < end)
                    {
                        buf[pos++] = buf[from++];
                        if (from == buf.Length)
                        {
                            from = 0;
                        }
                        pendingLength--;
                    }
                    continue;
                }
                if (blockType < 0)
                {
                    if (lastBlock)
                    {
                        finished = true;
                        bitBuffer = 0;
                        bitCount = 0; // the rest of the last byte is padding
                        break;
                    }
                    StartBlock();
                    continue;
                }
                if (blockType == 0)
                {
                    if (storedRemaining == 0)
                    {
                        blockType = -1;
                        continue;
                    }
                    int n = System.Math.Min(storedRemaining, end - pos);
                    input.ReadExactly(buf, pos, n, "deflate stored block");
                    pos += n;
                    storedRemaining -= n;
                    continue;
                }
                int sym = literals.Decode(this);
                if (sym < 256)
                {
                    buf[pos++] = (byte)sym;
                    continue;
                }
                if (sym == 256)
                {
                    blockType = -1;
                    continue;
                }
                sym -= 257;
                if (sym >= 29)
                {
                    throw CompressionErrors.Invalid(source, "deflate data", "an invalid length symbol.");
                }
                int length = LengthBase[sym] + (int)Bits(LengthExtra[sym]);
                int dsym = distances.Decode(this);
                if (dsym >= 30)
                {
                    throw CompressionErrors.Invalid(source, "deflate data", "an invalid distance symbol.");
                }
                int distance = DistanceBase[dsym] + (int)Bits(DistanceExtra[dsym]);
                long available = window.Total + (pos - start);
                if (distance > available)
                {
                    throw CompressionErrors.Invalid(source, "deflate data", $"distance {distance} reaches before the start of the data.");
                }
                pendingLength = length;
                pendingDistance = distance;
            }
            int produced = pos - start;
            window.Position = pos;
            window.Total += produced;
            return produced;
        }

        private uint Bits(int n)
        {
            while (bitCount < n)
            {
                bitBuffer |= (uint)input.ReadByte("deflate data") << bitCount;
                bitCount += 8;
            }
            uint v = bitBuffer & ((1u << n) - 1);
            bitBuffer >>= n;
            bitCount -= n;
            return v;
        }

        private void StartBlock()
        {
            const string S = "deflate block header";
            lastBlock = Bits(1) == 1;
            int type = (int)Bits(2);
            switch (type)
            {
                case 0:
                    bitBuffer = 0;
                    bitCount = 0;
                    int len = input.ReadByte(S) | (input.ReadByte(S) << 8);
                    int nlen = input.ReadByte(S) | (input.ReadByte(S) << 8);
                    if ((len ^ 0xFFFF) != nlen)
                    {
                        throw CompressionErrors.Invalid(source, S, "a stored block's LEN and NLEN do not match.");
                    }
                    storedRemaining = len;
                    break;
                case 1:
                    for (int i = 0; i < 288; i++)
                    {
                        lengths[i] = (byte)(i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8);
                    }
                    literals.Build(lengths, 0, 288, this);
                    for (int i = 0; i < 30; i++)
                    {
                        lengths[i] = 5;
                    }
                    distances.Build(lengths, 0, 30, this);
                    break;
                case 2:
                    ReadDynamicTables();
                    break;
                default:
                    throw CompressionErrors.Invalid(source, S, "block type 3 is reserved.");
            }
            blockType = type;
        }

        private void ReadDynamicTables()
        {
            const string S = "deflate dynamic block header";
            int hlit = (int)Bits(5) + 257;
            int hdist = (int)Bits(5) + 1;
            int hclen = (int)Bits(4) + 4;
            if (hlit > 286 || hdist > 30)
            {
                throw CompressionErrors.Invalid(source, S, "too many literal/length or distance codes.");
            }
            var cl = new byte[19];
            for (int i = 0; i < hclen; i++)
            {
                cl[CodeLengthOrder[i]] = (byte)Bits(3);
            }
            codeLengths.Build(cl, 0, 19, this);
            int n = 0;
            while (n < hlit + hdist)
            {
                int sym = codeLengths.Decode(this);
                if (sym < 16)
                {
                    lengths[n++] = (byte)sym;
                    continue;
                }
                int repeat;
                byte value = 0;
                if (sym == 16)
                {
                    if (n == 0)
                    {
                        throw CompressionErrors.Invalid(source, S, "a repeat with no previous length.");
                    }
                    value = lengths[n - 1];
                    repeat = 3 + (int)Bits(2);
                }
                else if (sym == 17)
                {
                    repeat = 3 + (int)Bits(3);
                }
                else
                {
                    repeat = 11 + (int)Bits(7);
                }
                if (n + repeat > hlit + hdist)
                {
                    throw CompressionErrors.Invalid(source, S, "code lengths run past the declared counts.");
                }
                while (repeat-- > 0)
                {
                    lengths[n++] = value;
                }
            }
            if (lengths[256] == 0)
            {
                throw CompressionErrors.Invalid(source, S, "the end-of-block code has no length.");
            }
            literals.Build(lengths, 0, hlit, this);
            distances.Build(lengths, hlit, hdist, this);
        }

        /// <summary>A canonical Huffman code: the number of codes per length and the symbols in code order.</summary>
        private sealed class Huffman
        {
            private readonly short[] count = new short[MaxBits + 1];
            private readonly short[] symbol;

            public Huffman(int maxSymbols) => symbol = new short[maxSymbols];

            public void Build(byte[] lengths, int offset, int n, Inflater owner)
            {
                System.Array.Clear(count, 0, count.Length);
                for (int i = 0; i < n; i++)
                {
                    count[lengths[offset + i]]++;
                }
                int left = 1;
                for (int len = 1; len <= MaxBits; len++)
                {
                    left <<= 1;
                    left -= count[len];
                    if (left < 0)
                    {
                        throw CompressionErrors.Invalid(owner.source, "deflate Huffman code", "the code lengths are over-subscribed.");
                    }
                }
                System.Span<short> offs = stackalloc short[MaxBits + 2];
                for (int len = 1; len <= MaxBits; len++)
                {
                    offs[len + 1] = (short)(offs[len] + count[len]);
                }
                for (int i = 0; i < n; i++)
                {
                    int l = lengths[offset + i];
                    if (l != 0)
                    {
                        symbol[offs[l]++] = (short)i;
                    }
                }
            }

            public int Decode(Inflater owner)
            {
                int code = 0, first = 0, index = 0;
                for (int len = 1; len <= MaxBits; len++)
                {
                    code |= (int)owner.Bits(1);
                    int c = count[len];
                    if (code - c < first)
                    {
                        return symbol[index + (code - first)];
                    }
                    index += c;
                    first += c;
                    first <<= 1;
                    code <<= 1;
                }
                throw CompressionErrors.Invalid(owner.source, "deflate data", "a bit sequence matches no code.");
            }
        }
    }
}
