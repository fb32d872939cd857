using System.Buffers.Binary;

namespace AzureLinuxImage.Compression.Zstd
{
    /// <summary>
    /// Reads a zstd bitstream backward (RFC 8878 section 4.1): the stream is a little-endian number
    /// whose highest set bit is an end mark; fields are taken from the top down. Bits below the start
    /// read as zero so callers can check <see cref="Remaining"/> (overflow is a negative value).
    /// </summary>
    internal struct BackwardBitReader
    {
        private byte[] data;
        private int start;
        private int length;
        private long bitPos;
        private long cacheBase;
        private ulong cache;
        private bool cacheValid;

        /// <summary>Starts at the end mark; false when the last byte is zero (no end mark).</summary>
        public bool Init(byte[] source, int offset, int count)
        {
            data = source;
            start = offset;
            length = count;
            if (count <= 0)
            {
                bitPos = 0;
                return false;
            }
            byte last = source[offset + count - 1];
            if (last == 0)
            {
                bitPos = 0;
                return false;
            }
            bitPos = ((long)(count - 1) * 8) + HighBit(last);
            cacheValid = false;
            return true;
        }

        /// <summary>Bits not read yet; negative once more bits were read than the stream holds.</summary>
        public long Remaining => bitPos;

        public static int HighBit(uint v)
        {
            int n = 0;
            while ((v >>= 1) != 0)
            {
                n++;
            }
            return n;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public uint ReadBits(int n)
        {
            if (n == 0)
            {
                return 0;
            }
            bitPos -= n;
            return Extract(bitPos, n);
        }

        /// <summary>The next <paramref name="n"/> bits (n ≤ 32) without consuming them.</summary>
        public uint PeekBits(int n) => Extract(bitPos - n, n);

        public void Skip(int n) => bitPos -= n;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private uint Extract(long pos, int n)
        {
            // Fast path: the bits lie in the cached 64-bit word (reading backward, it is reloaded every few bytes).
            long off = pos - cacheBase;
            if (cacheValid && off >= 0 && off + n <= 64)
            {
                return (uint)((cache >> (int)off) & ((1UL << n) - 1));
            }
            return ExtractSlow(pos, n);
        }

        private uint ExtractSlow(long pos, int n)
        {
            if (pos < 0)
            {
                int have = n + (int)System.Math.Max(pos, -64);
                return have <= 0 ? 0u : ExtractSlow(0, have) << (n - have);
            }
            long top = (pos + n + 7) >> 3;
            long baseByte = System.Math.Max(0, top - 8);
            cacheBase = baseByte * 8;
            cache = Load((int)baseByte);
            cacheValid = true;
            return (uint)((cache >> (int)(pos - cacheBase)) & ((1UL << n) - 1));
        }

        private ulong Load(int byteIndex)
        {
            ulong word;
            if (byteIndex + 8 <= length)
            {
                word = BinaryPrimitives.ReadUInt64LittleEndian(new System.ReadOnlySpan<byte>(data, start + byteIndex, 8));
            }
            else
            {
                word = 0;
                for (int i = 0; i < 8 && byteIndex + i < length; i++)
                {
                    word |= (ulong)data[start + byteIndex + i] << (8 * i);
                }
            }
            return word;
        }
    }
}
