using System;

namespace AzureLinuxImage.Compression.Zstd
{
    /// <summary>
    /// A finite-state-entropy decoding table (RFC 8878 section 4.1): read from its normalized
    /// distribution (4.1.1), spread over the states, each state giving a symbol, the bits to read and
    /// the baseline of the next state.
    /// </summary>
    internal sealed class FseTable
    {
        public readonly byte[] Symbol;
        public readonly byte[] NumberOfBits;
        public readonly ushort[] Baseline;

        public FseTable(int maxAccuracyLog)
        {
            Symbol = new byte[1 << maxAccuracyLog];
            NumberOfBits = new byte[1 << maxAccuracyLog];
            Baseline = new ushort[1 << maxAccuracyLog];
        }

        public int AccuracyLog { get; private set; }

        /// <summary>An "RLE" table: a single state always giving <paramref name="symbol"/> and reading no bit.</summary>
        public void SetRle(byte symbol)
        {
            AccuracyLog = 0;
            Symbol[0] = symbol;
            NumberOfBits[0] = 0;
            Baseline[0] = 0;
        }

        /// <summary>
        /// Reads a normalized distribution at <paramref name="pos"/> (bounded by <paramref name="end"/>)
        /// and builds the table; returns the number of bytes it took.
        /// </summary>
        public int Read(byte[] src, int pos, int end, int maxSymbol, int maxAccuracyLog, string source, string structure)
        {
            var counts = new short[256];
            long bit = 0;
            long availableBits = (long)(end - pos) * 8;
            uint Peek(int n)
            {
                ulong v = 0;
                int byteIndex = (int)(bit >> 3);
                for (int i = 0; i < 5 && pos + byteIndex + i < end; i++)
                {
                    v |= (ulong)src[pos + byteIndex + i] << (8 * i);
                }
                return (uint)((v >> (int)(bit & 7)) & ((1UL << n) - 1));
            }
            if (availableBits < 4)
            {
                throw CompressionErrors.Truncated(source, structure);
            }
            int accuracyLog = (int)Peek(4) + 5;
            bit += 4;
            if (accuracyLog > maxAccuracyLog)
            {
                throw CompressionErrors.Invalid(source, structure, $"accuracy log {accuracyLog} exceeds the maximum {maxAccuracyLog}.");
            }
            int remaining = (1 << accuracyLog) + 1;
            int threshold = 1 << accuracyLog;
            int nbBits = accuracyLog + 1;
            int symbol = 0;
            bool previousZero = false;
            while (remaining > 1 && symbol <= maxSymbol)
            {
                if (previousZero)
                {
                    int n0 = symbol;
                    while (true)
                    {
                        uint r = Peek(2);
                        bit += 2;
                        n0 += (int)r;
                        if (bit > availableBits || n0 > maxSymbol)
                        {
                            throw CompressionErrors.Invalid(source, structure, "a run of zero probabilities runs past the last symbol.");
                        }
                        if (r != 3)
                        {
                            break;
                        }
                    }
                    while (symbol < n0)
                    {
                        counts[symbol++] = 0;
                    }
                }
                int max = (2 * threshold) - 1 - remaining;
                uint v = Peek(nbBits);
                int count;
                if ((v & (uint)(threshold - 1)) < (uint)max)
                {
                    count = (int)(v & (uint)(threshold - 1));
                    bit += nbBits - 1;
                }
                else
                {
                    count = (int)(v & (uint)((2 * threshold) - 1));
                    if (count >= threshold)
                    {
                        count -= max;
                    }
                    bit += nbBits;
                }
                if (bit > availableBits)
                {
                    throw CompressionErrors.Truncated(source, structure);
                }
                count--;
                remaining -= count < 0 ? -count : count;
                if (remaining < 1)
                {
                    throw CompressionErrors.Invalid(source, structure, "the probabilities add up to more than the table size.");
                }
                counts[symbol++] = (short)count;
                previousZero = count == 0;
                while (remaining < threshold)
                {
                    nbBits--;
                    threshold >>= 1;
                }
            }
            if (remaining != 1)
            {
                throw CompressionErrors.Invalid(source, structure, "the probabilities do not add up to the table size.");
            }
            Build(counts, symbol, accuracyLog, source, structure);
            return (int)((bit + 7) >> 3);
        }

        /// <summary>Builds the table from a normalized distribution (-1 = "less than 1").</summary>
        public void Build(short[] counts, int symbolCount, int accuracyLog, string source, string structure)
        {
            int size = 1 << accuracyLog;
            int highThreshold = size - 1;
            Span<ushort> next = stackalloc ushort[256];
            for (int s = 0; s < symbolCount; s++)
            {
                if (counts[s] == -1)
                {
                    Symbol[highThreshold--] = (byte)s;
                    next[s] = 1;
                }
                else
                {
                    next[s] = (ushort)Math.Max((short)0, counts[s]);
                }
            }
            int step = (size >> 1) + (size >> 3) + 3;
            int mask = size - 1;
            int position = 0;
            for (int s = 0; s < symbolCount; s++)
            {
                for (int i = 0; i < counts[s]; i++)
                {
                    Symbol[position] = (byte)s;
                    do
                    {
                        position = (position + step) & mask;
                    }
                    while (position > highThreshold);
                }
            }
            if (position != 0)
            {
                throw CompressionErrors.Invalid(source, structure, "the distribution does not spread over the table.");
            }
            for (int u = 0; u < size; u++)
            {
                int s = Symbol[u];
                int nextState = next[s]++;
                int nb = accuracyLog - BackwardBitReader.HighBit((uint)nextState);
                NumberOfBits[u] = (byte)nb;
                Baseline[u] = (ushort)((nextState << nb) - size);
            }
            AccuracyLog = accuracyLog;
        }
    }
}
