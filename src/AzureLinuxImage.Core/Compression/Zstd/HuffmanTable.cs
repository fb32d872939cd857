using System;

namespace AzureLinuxImage.Compression.Zstd
{
    /// <summary>
    /// The literals' Huffman decoding table (RFC 8878 section 4.2.1): weights read directly or
    /// FSE-compressed, the last weight implied, then a table indexed by the next <see cref="MaxBits"/> bits.
    /// </summary>
    internal sealed class HuffmanTable
    {
        private const int MaxTableLog = 11;

        public readonly byte[] Symbol = new byte[1 << MaxTableLog];
        public readonly byte[] NumberOfBits = new byte[1 << MaxTableLog];
        private readonly byte[] weights = new byte[256];
        private readonly FseTable weightTable = new FseTable(6);

        public int MaxBits { get; private set; }

        /// <summary>Reads a Huffman tree description at <paramref name="pos"/>; returns its size in bytes.</summary>
        public int Read(byte[] src, int pos, int end, string source)
        {
            const string Structure = "zstd Huffman tree description";
            if (pos >= end)
            {
                throw CompressionErrors.Truncated(source, Structure);
            }
            int header = src[pos];
            int numWeights;
            int consumed;
            if (header >= 128)
            {
                numWeights = header - 127;
                int bytes = (numWeights + 1) / 2;
                if (end - pos - 1 < bytes)
                {
                    throw CompressionErrors.Truncated(source, Structure);
                }
                for (int i = 0; i < numWeights; i++)
                {
                    byte b = src[pos + 1 + (i / 2)];
                    weights[i] = (byte)((i & 1) == 0 ? b >> 4 : b & 15);
                }
                consumed = 1 + bytes;
            }
            else
            {
                int compressedSize = header;
                if (compressedSize == 0 || end - pos - 1 < compressedSize)
                {
                    throw CompressionErrors.Truncated(source, Structure);
                }
                int fseStart = pos + 1;
                int fseEnd = fseStart + compressedSize;
                int tableBytes = weightTable.Read(src, fseStart, fseEnd, 255, 6, source, Structure);
                var reader = default(BackwardBitReader);
                if (!reader.Init(src, fseStart + tableBytes, compressedSize - tableBytes))
                {
                    throw CompressionErrors.Invalid(source, Structure, "the weights bitstream is empty or has no end mark.");
                }
                FseTable t = weightTable;
                int al = t.AccuracyLog;
                int state1 = (int)reader.ReadBits(al);
                int state2 = (int)reader.ReadBits(al);
                numWeights = 0;
                while (true)
                {
                    if (numWeights >= 254)
                    {
                        // Two weights may be written below; 255 is the most a description holds.
                        throw CompressionErrors.Invalid(source, Structure, "more than 255 weights.");
                    }
                    weights[numWeights++] = t.Symbol[state1];
                    state1 = t.Baseline[state1] + (int)reader.ReadBits(t.NumberOfBits[state1]);
                    weights[numWeights++] = t.Symbol[state2];
                    if (reader.Remaining < 0)
                    {
                        break;
                    }
                    state2 = t.Baseline[state2] + (int)reader.ReadBits(t.NumberOfBits[state2]);
                    if (reader.Remaining < 0)
                    {
                        if (numWeights >= 255)
                        {
                            throw CompressionErrors.Invalid(source, Structure, "more than 255 weights.");
                        }
                        weights[numWeights++] = t.Symbol[state1];
                        break;
                    }
                }
                consumed = 1 + compressedSize;
            }
            Build(numWeights, source, Structure);
            return consumed;
        }

        private void Build(int numWeights, string source, string structure)
        {
            long total = 0;
            for (int i = 0; i < numWeights; i++)
            {
                int w = weights[i];
                if (w > MaxTableLog)
                {
                    throw CompressionErrors.Invalid(source, structure, $"weight {w} exceeds {MaxTableLog}.");
                }
                if (w > 0)
                {
                    total += 1L << (w - 1);
                }
            }
            if (total == 0)
            {
                throw CompressionErrors.Invalid(source, structure, "all weights are zero.");
            }
            int maxBits = BackwardBitReader.HighBit((uint)total) + 1;
            if (maxBits > MaxTableLog)
            {
                throw CompressionErrors.Invalid(source, structure, $"the codes would be longer than {MaxTableLog} bits.");
            }
            long rest = (1L << maxBits) - total;
            if ((rest & (rest - 1)) != 0)
            {
                throw CompressionErrors.Invalid(source, structure, "the weights leave no power of two for the last symbol.");
            }
            weights[numWeights] = (byte)(BackwardBitReader.HighBit((uint)rest) + 1);
            int numSymbols = numWeights + 1;
            // Table positions: weights ascending, symbols ascending within a weight (RFC 8878 4.2.1.3).
            Span<int> rankStart = stackalloc int[MaxTableLog + 2];
            for (int s = 0; s < numSymbols; s++)
            {
                if (weights[s] > 0)
                {
                    rankStart[weights[s]] += 1 << (weights[s] - 1);
                }
            }
            int next = 0;
            for (int w = 1; w <= MaxTableLog + 1; w++)
            {
                int c = rankStart[w];
                rankStart[w] = next;
                next += c;
            }
            for (int s = 0; s < numSymbols; s++)
            {
                int w = weights[s];
                if (w == 0)
                {
                    continue;
                }
                int len = 1 << (w - 1);
                int at = rankStart[w];
                byte nb = (byte)(maxBits + 1 - w);
                for (int i = 0; i < len; i++)
                {
                    Symbol[at + i] = (byte)s;
                    NumberOfBits[at + i] = nb;
                }
                rankStart[w] = at + len;
            }
            MaxBits = maxBits;
        }

        /// <summary>Decodes exactly <paramref name="count"/> literals from one backward stream; the stream must be consumed exactly.</summary>
        public void DecodeStream(byte[] src, int pos, int length, byte[] output, int outPos, int count, string source)
        {
            if (length <= 0 || src[pos + length - 1] == 0)
            {
                throw CompressionErrors.Invalid(source, "zstd Huffman literals stream", "the stream is empty or has no end mark.");
            }
            int maxBits = MaxBits;
            byte[] sym = Symbol;
            byte[] nbs = NumberOfBits;
            ulong mask = (1UL << maxBits) - 1;
            long bitPos = ((long)(length - 1) * 8) + BackwardBitReader.HighBit(src[pos + length - 1]);
            int i = 0;
            // Fast path: four symbols (at most 44 bits) per 64-bit load while the load stays inside the stream.
            int reach = 4 * maxBits;
            while (count - i >= 4 && bitPos >= reach)
            {
                long baseByte = (bitPos - reach) >> 3;
                ulong word = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(src, pos + (int)baseByte, Math.Min(8, length - (int)baseByte)).Length == 8
                    ? new ReadOnlySpan<byte>(src, pos + (int)baseByte, 8)
                    : Padded(src, pos + (int)baseByte, length - (int)baseByte));
                int shift = (int)(bitPos - (baseByte * 8));
                for (int k = 0; k < 4; k++)
                {
                    int v = (int)((word >> (shift - maxBits)) & mask);
                    output[outPos + i++] = sym[v];
                    shift -= nbs[v];
                }
                bitPos = (baseByte * 8) + shift;
            }
            var reader = default(BackwardBitReader);
            reader.Init(src, pos, length);
            reader.Skip((int)(reader.Remaining - bitPos));
            for (; i < count; i++)
            {
                int v = (int)reader.PeekBits(maxBits);
                output[outPos + i] = sym[v];
                reader.Skip(nbs[v]);
            }
            if (reader.Remaining != 0)
            {
                throw CompressionErrors.Invalid(source, "zstd Huffman literals stream", "the stream is not consumed exactly by the regenerated size.");
            }
        }

        private static ReadOnlySpan<byte> Padded(byte[] src, int at, int available)
        {
            var b = new byte[8];
            Array.Copy(src, at, b, 0, Math.Max(0, Math.Min(8, available)));
            return b;
        }
    }
}
