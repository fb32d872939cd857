using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.Checksums
{
    /// <summary>Streaming XXH32 (xxHash specification), used by the LZ4 frame format for header, block and content checksums.</summary>
    internal sealed class XxHash32
    {
        private const uint P1 = 2654435761U;
        private const uint P2 = 2246822519U;
        private const uint P3 = 3266489917U;
        private const uint P4 = 668265263U;
        private const uint P5 = 374761393U;

        private readonly uint seed;
        private readonly byte[] pending = new byte[16];
        private int pendingCount;
        private uint v1, v2, v3, v4;
        private ulong total;

        public XxHash32(uint seed = 0)
        {
            this.seed = seed;
            Reset();
        }

        public void Reset()
        {
            v1 = seed + P1 + P2;
            v2 = seed + P2;
            v3 = seed;
            v4 = seed - P1;
            total = 0;
            pendingCount = 0;
        }

        public static uint Compute(ReadOnlySpan<byte> data, uint seed = 0)
        {
            var h = new XxHash32(seed);
            h.Append(data);
            return h.Digest();
        }

        private static uint Rotl(uint x, int r) => (x << r) | (x >> (32 - r));

        private static uint Round(uint acc, uint input) => Rotl(acc + (input * P2), 13) * P1;

        public void Append(ReadOnlySpan<byte> data)
        {
            total += (ulong)data.Length;
            if (pendingCount > 0)
            {
                int take = Math.Min(16 - pendingCount, data.Length);
                data.Slice(0, take).CopyTo(pending.AsSpan(pendingCount));
                pendingCount += take;
                data = data.Slice(take);
                if (pendingCount < 16)
                {
                    return;
                }
                Stripe(pending);
                pendingCount = 0;
            }
            while (data.Length >= 16)
            {
                Stripe(data);
                data = data.Slice(16);
            }
            data.CopyTo(pending);
            pendingCount = data.Length;
        }

        private void Stripe(ReadOnlySpan<byte> s)
        {
            v1 = Round(v1, BinaryPrimitives.ReadUInt32LittleEndian(s));
            v2 = Round(v2, BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(4)));
            v3 = Round(v3, BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(8)));
            v4 = Round(v4, BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(12)));
        }

        public uint Digest()
        {
            uint h = total >= 16 ? Rotl(v1, 1) + Rotl(v2, 7) + Rotl(v3, 12) + Rotl(v4, 18) : seed + P5;
            h += (uint)total;
            ReadOnlySpan<byte> rest = pending.AsSpan(0, pendingCount);
            while (rest.Length >= 4)
            {
                h += BinaryPrimitives.ReadUInt32LittleEndian(rest) * P3;
                h = Rotl(h, 17) * P4;
                rest = rest.Slice(4);
            }
            foreach (byte b in rest)
            {
                h += b * P5;
                h = Rotl(h, 11) * P1;
            }
            h ^= h >> 15;
            h *= P2;
            h ^= h >> 13;
            h *= P3;
            h ^= h >> 16;
            return h;
        }
    }
}
