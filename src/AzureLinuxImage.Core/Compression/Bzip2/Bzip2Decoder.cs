using System;
using System.IO.Hashing;

namespace AzureLinuxImage.Compression.Bzip2
{
    /// <summary>
    /// bzip2 decoder: stream header "BZh1".."BZh9", blocks (48-bit magic 0x314159265359, block CRC,
    /// origin pointer, symbol map, 2-6 Huffman tables chosen per 50 symbols, RUNA/RUNB zero runs, move-
    /// to-front), the inverse Burrows-Wheeler transform, the initial run-length stage (4 equal bytes and
    /// a count), and the end-of-stream magic 0x177245385090 with the combined CRC; every block and
    /// stream CRC is verified. Randomised blocks (written only by bzip2 0.9.0 and older) are refused.
    /// </summary>
    internal sealed class Bzip2Decoder : IDecoder
    {
        private const int MaxGroups = 6;
        private const int MaxAlpha = 258;
        private const int MaxCodeLength = 20;
        private const int GroupSize = 50;
        private const int MaxSelectors = 18002;

        private readonly InputBuffer input;
        private readonly string source;
        private readonly bool strict;
        private readonly int maxWindow;

        private ulong bitBuffer;
        private int bitCount;

        private int blockSizeMax;
        private byte[] ll = Array.Empty<byte>();
        private int[] next = Array.Empty<int>();
        private readonly int[] counts = new int[256];
        private readonly byte[] seqToUnseq = new byte[256];
        private readonly byte[] selectors = new byte[MaxSelectors];
        private readonly byte[][] lengths = new byte[MaxGroups][];
        private readonly int[][] first = new int[MaxGroups][];
        private readonly int[][] countByLength = new int[MaxGroups][];
        private readonly int[][] offsetByLength = new int[MaxGroups][];
        private readonly int[][] perm = new int[MaxGroups][];

        private enum Phase { StreamHeader, BlockHeader, BlockOutput, Done }

        private Phase phase = Phase.StreamHeader;
        private int streams;
        private uint combinedCrc;
        /// <summary>CRC-32/BZIP2: the IEEE polynomial, not reflected, all-ones start and final inversion.</summary>
        private static readonly Crc32ParameterSet Bzip2Crc = Crc32ParameterSet.Create(0x04C11DB7u, uint.MaxValue, uint.MaxValue, false);

        private readonly Crc32 blockCrc = new Crc32(Bzip2Crc);
        private uint storedBlockCrc;

        // Output state of the current block.
        private int tPos;
        private int blockLeft;
        private int runLength;
        private int lastByte = -1;
        private int repeat;

        public Bzip2Decoder(InputBuffer input, DecompressionLimits limits, bool strict)
        {
            this.input = input;
            source = input.SourceName;
            this.strict = strict;
            maxWindow = limits.MaxWindowBytes;
            for (int g = 0; g < MaxGroups; g++)
            {
                lengths[g] = new byte[MaxAlpha];
                first[g] = new int[MaxCodeLength + 2];
                countByLength[g] = new int[MaxCodeLength + 2];
                offsetByLength[g] = new int[MaxCodeLength + 2];
                perm[g] = new int[MaxAlpha];
            }
        }

        public int Read(byte[] buffer, int offset, int count)
        {
            while (true)
            {
                switch (phase)
                {
                    case Phase.Done:
                        return 0;
                    case Phase.StreamHeader:
                        phase = ReadStreamHeader() ? Phase.BlockHeader : Phase.Done;
                        break;
                    case Phase.BlockHeader:
                        phase = ReadBlock() ? Phase.BlockOutput : Phase.StreamHeader;
                        break;
                    default:
                        int n = Output(buffer, offset, count);
                        if (n > 0)
                        {
                            return n;
                        }
                        uint actual = blockCrc.GetCurrentHashAsUInt32();
                        if (actual != storedBlockCrc)
                        {
                            throw CompressionErrors.Invalid(source, "bzip2 block CRC", $"stored 0x{storedBlockCrc:X8}, computed 0x{actual:X8}: the data is corrupt.");
                        }
                        combinedCrc = ((combinedCrc << 1) | (combinedCrc >> 31)) ^ actual;
                        phase = Phase.BlockHeader;
                        break;
                }
            }
        }

        private bool ReadStreamHeader()
        {
            const string S = "bzip2 stream header";
            if (streams > 0)
            {
                bool another = input.PeekByte(0) == 'B' && input.PeekByte(1) == 'Z' && input.PeekByte(2) == 'h';
                if (!another)
                {
                    if (strict && !input.AtEnd)
                    {
                        throw CompressionErrors.Invalid(source, S, "data after the last stream is not another bzip2 stream.");
                    }
                    return false;
                }
            }
            if (input.ReadByte(S) != 'B' || input.ReadByte(S) != 'Z' || input.ReadByte(S) != 'h')
            {
                throw CompressionErrors.Invalid(source, S, "the input does not start with 'BZh'.");
            }
            int level = input.ReadByte(S) - '0';
            if (level < 1 || level > 9)
            {
                throw CompressionErrors.Invalid(source, S, "the block size digit is not 1-9.");
            }
            blockSizeMax = level * 100_000;
            if (blockSizeMax > maxWindow)
            {
                throw CompressionErrors.LimitExceeded(source, $"bzip2 blocks of {blockSizeMax} bytes exceed the window limit of {maxWindow}");
            }
            if (ll.Length < blockSizeMax)
            {
                ll = new byte[blockSizeMax];
                next = new int[blockSizeMax];
            }
            bitBuffer = 0;
            bitCount = 0;
            combinedCrc = 0;
            streams++;
            return true;
        }

        private uint Bits(int n)
        {
            while (bitCount < n)
            {
                bitBuffer = (bitBuffer << 8) | input.ReadByte("bzip2 data");
                bitCount += 8;
            }
            bitCount -= n;
            return (uint)((bitBuffer >> bitCount) & ((1UL << n) - 1));
        }

        private int Bit() => (int)Bits(1);

        /// <summary>Reads and decodes the next block; false at the end-of-stream marker (its CRC checked).</summary>
        private bool ReadBlock()
        {
            const string S = "bzip2 block header";
            ulong magic = ((ulong)Bits(24) << 24) | Bits(24);
            if (magic == 0x177245385090UL)
            {
                uint stored = Bits(32);
                if (stored != combinedCrc)
                {
                    throw CompressionErrors.Invalid(source, "bzip2 stream CRC", $"stored 0x{stored:X8}, computed 0x{combinedCrc:X8}.");
                }
                bitCount = 0; // the rest of the last byte is padding
                return false;
            }
            if (magic != 0x314159265359UL)
            {
                throw CompressionErrors.Invalid(source, S, $"magic 0x{magic:X12} is neither a block nor the end of the stream.");
            }
            storedBlockCrc = Bits(32);
            if (Bit() != 0)
            {
                throw CompressionErrors.Unsupported(source, "randomised bzip2 blocks (written by bzip2 0.9.0 and older) are not supported.");
            }
            int origPtr = (int)Bits(24);

            int inUse = 0;
            uint used16 = Bits(16);
            for (int i = 0; i < 16; i++)
            {
                if ((used16 & (0x8000u >> i)) != 0)
                {
                    uint bits = Bits(16);
                    for (int j = 0; j < 16; j++)
                    {
                        if ((bits & (0x8000u >> j)) != 0)
                        {
                            seqToUnseq[inUse++] = (byte)((i * 16) + j);
                        }
                    }
                }
            }
            if (inUse == 0)
            {
                throw CompressionErrors.Invalid(source, S, "the block uses no byte values.");
            }
            int alphaSize = inUse + 2;
            int groups = (int)Bits(3);
            if (groups < 2 || groups > MaxGroups)
            {
                throw CompressionErrors.Invalid(source, S, $"{groups} Huffman tables (2-6 allowed).");
            }
            int selectorCount = (int)Bits(15);
            if (selectorCount < 1)
            {
                throw CompressionErrors.Invalid(source, S, "no selectors.");
            }
            Span<byte> mtfGroups = stackalloc byte[MaxGroups];
            for (int g = 0; g < groups; g++)
            {
                mtfGroups[g] = (byte)g;
            }
            for (int i = 0; i < selectorCount; i++)
            {
                int j = 0;
                while (Bit() != 0)
                {
                    if (++j >= groups)
                    {
                        throw CompressionErrors.Invalid(source, S, "a selector names a table that does not exist.");
                    }
                }
                byte v = mtfGroups[j];
                for (; j > 0; j--)
                {
                    mtfGroups[j] = mtfGroups[j - 1];
                }
                mtfGroups[0] = v;
                if (i < MaxSelectors)
                {
                    selectors[i] = v;
                }
            }
            if (selectorCount > MaxSelectors)
            {
                selectorCount = MaxSelectors;
            }

            for (int g = 0; g < groups; g++)
            {
                int current = (int)Bits(5);
                for (int s = 0; s < alphaSize; s++)
                {
                    while (true)
                    {
                        if (current < 1 || current > MaxCodeLength)
                        {
                            throw CompressionErrors.Invalid(source, S, $"a code length of {current} (1-20 allowed).");
                        }
                        if (Bit() == 0)
                        {
                            break;
                        }
                        current += Bit() == 0 ? 1 : -1;
                    }
                    lengths[g][s] = (byte)current;
                }
                BuildTable(g, alphaSize);
            }

            DecodeSymbols(alphaSize, inUse, selectorCount, origPtr);
            return true;
        }

        private void BuildTable(int g, int alphaSize)
        {
            int[] cnt = countByLength[g];
            int[] fst = first[g];
            int[] off = offsetByLength[g];
            int[] p = perm[g];
            byte[] len = lengths[g];
            Array.Clear(cnt, 0, cnt.Length);
            for (int s = 0; s < alphaSize; s++)
            {
                cnt[len[s]]++;
            }
            int code = 0;
            int index = 0;
            for (int l = 1; l <= MaxCodeLength; l++)
            {
                code <<= 1;
                fst[l] = code;
                off[l] = index;
                code += cnt[l];
                index += cnt[l];
            }
            int k = 0;
            for (int l = 1; l <= MaxCodeLength; l++)
            {
                for (int s = 0; s < alphaSize; s++)
                {
                    if (len[s] == l)
                    {
                        p[k++] = s;
                    }
                }
            }
        }

        private int DecodeSymbol(int g)
        {
            int[] cnt = countByLength[g];
            int[] fst = first[g];
            int code = 0;
            for (int l = 1; l <= MaxCodeLength; l++)
            {
                code = (code << 1) | Bit();
                int d = code - fst[l];
                if ((uint)d < (uint)cnt[l])
                {
                    return perm[g][offsetByLength[g][l] + d];
                }
            }
            throw CompressionErrors.Invalid(source, "bzip2 Huffman data", "a bit sequence matches no code.");
        }

        private void DecodeSymbols(int alphaSize, int inUse, int selectorCount, int origPtr)
        {
            const string S = "bzip2 block data";
            int endOfBlock = inUse + 1;
            Span<byte> mtf = stackalloc byte[256];
            for (int i = 0; i < 256; i++)
            {
                mtf[i] = (byte)i;
            }
            Array.Clear(counts, 0, counts.Length);
            int n = 0;
            int group = -1;
            int groupLeft = 0;
            int table = 0;
            int run = 0;
            int runWeight = 1;
            byte[] block = ll;
            int max = blockSizeMax;
            while (true)
            {
                if (groupLeft == 0)
                {
                    if (++group >= selectorCount)
                    {
                        throw CompressionErrors.Invalid(source, S, "the data needs more selectors than the block has.");
                    }
                    table = selectors[group];
                    groupLeft = GroupSize;
                }
                groupLeft--;
                int sym = DecodeSymbol(table);
                if (sym <= 1)
                {
                    // RUNA adds 1×weight, RUNB 2×weight (bijective base 2).
                    run += (sym + 1) * runWeight;
                    runWeight <<= 1;
                    if (run > max)
                    {
                        throw CompressionErrors.Invalid(source, S, "a run exceeds the block size.");
                    }
                    continue;
                }
                if (run > 0)
                {
                    if (n + run > max)
                    {
                        throw CompressionErrors.Invalid(source, S, "the block exceeds its declared size.");
                    }
                    byte b = seqToUnseq[mtf[0]];
                    counts[b] += run;
                    for (int i = 0; i < run; i++)
                    {
                        block[n++] = b;
                    }
                    run = 0;
                    runWeight = 1;
                }
                if (sym == endOfBlock)
                {
                    break;
                }
                if (sym >= alphaSize - 1)
                {
                    throw CompressionErrors.Invalid(source, S, "a symbol outside the alphabet.");
                }
                int index = sym - 1;
                if (index >= inUse)
                {
                    throw CompressionErrors.Invalid(source, S, "a move-to-front index outside the used bytes.");
                }
                byte v = mtf[index];
                for (int j = index; j > 0; j--)
                {
                    mtf[j] = mtf[j - 1];
                }
                mtf[0] = v;
                if (n >= max)
                {
                    throw CompressionErrors.Invalid(source, S, "the block exceeds its declared size.");
                }
                byte value = seqToUnseq[v];
                counts[value]++;
                block[n++] = value;
            }
            if (origPtr >= n)
            {
                throw CompressionErrors.Invalid(source, S, $"origin pointer {origPtr} is outside the block of {n} bytes.");
            }
            // Inverse BWT: next[] links each row to the row of the following byte.
            Span<int> start = stackalloc int[256];
            int sum = 0;
            for (int i = 0; i < 256; i++)
            {
                start[i] = sum;
                sum += counts[i];
            }
            int[] nx = next;
            for (int i = 0; i < n; i++)
            {
                nx[start[block[i]]++] = i;
            }
            tPos = nx[origPtr];
            blockLeft = n;
            runLength = 0;
            lastByte = -1;
            repeat = 0;
            blockCrc.Reset();
        }

        /// <summary>Undoes the initial run-length stage while walking the BWT links.</summary>
        private int Output(byte[] buffer, int offset, int count)
        {
            int produced = 0;
            byte[] block = ll;
            int[] nx = next;
            while (produced < count)
            {
                if (repeat > 0)
                {
                    int k = Math.Min(repeat, count - produced);
                    byte b = (byte)lastByte;
                    for (int i = 0; i < k; i++)
                    {
                        buffer[offset + produced++] = b;
                    }
                    repeat -= k;
                    if (repeat == 0)
                    {
                        lastByte = -1;
                    }
                    continue;
                }
                if (blockLeft == 0)
                {
                    break;
                }
                byte ch = block[tPos];
                tPos = nx[tPos];
                blockLeft--;
                if (runLength == 4)
                {
                    repeat = ch;
                    runLength = 0;
                    if (repeat == 0)
                    {
                        lastByte = -1;
                    }
                    continue;
                }
                if (ch == lastByte)
                {
                    runLength++;
                }
                else
                {
                    runLength = 1;
                    lastByte = ch;
                }
                buffer[offset + produced++] = ch;
            }
            blockCrc.Append(new ReadOnlySpan<byte>(buffer, offset, produced));
            return produced;
        }
    }
}
