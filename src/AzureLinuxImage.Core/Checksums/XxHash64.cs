using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.Checksums
{
    /// <summary>
    /// Streaming XXH64 (the xxHash specification, "XXH64 algorithm description"). zstd stores the
    /// low 32 bits of XXH64(content, seed 0) as its content checksum (RFC 8878 section 3.1.1).
    /// </summary>
    internal sealed class XxHash64
    {
        private const ulong P1 = 11400714785074694791UL;
        private const ulong P2 = 14029467366897019727UL;
        private const ulong P3 = 1609587929392839161UL;
        private const ulong P4 = 9650029242287828579UL;
        private const ulong P5 = 2870177450012600261UL;

        private readonly ulong seed;
        private readonly byte[] pending = new byte[32];
        private int pendingCount;
        private ulong v1, v2, v3, v4;
        private ulong total;

        public XxHash64(ulong seed = 0)
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

        public static ulong Compute(ReadOnlySpan<byte> data, ulong seed = 0)
        {
            var h = new XxHash64(seed);
            h.Append(data);
            return h.Digest();
        }

        private static ulong Rotl(ulong x, int r) => (x << r) | (x >> (64 - r));

        private static ulong Round(ulong acc, ulong input) => Rotl(acc + (input * P2), 31) * P1;

        private static ulong Merge(ulong acc, ulong v) => ((acc ^ Round(0, v)) * P1) + P4;

        public void Append(ReadOnlySpan<byte> data)
        {
            total += (ulong)data.Length;
            if (pendingCount > 0)
            {
                int take = Math.Min(32 - pendingCount, data.Length);
                data.Slice(0, take).CopyTo(pending.AsSpan(pendingCount));
                pendingCount += take;
                data = data.Slice(take);
                if (pendingCount < 32)
                {
                    return;
                }
                Stripe(pending);
                pendingCount = 0;
            }
            while (data.Length >= 32)
            {
                Stripe(data);
                data = data.Slice(32);
            }
            data.CopyTo(pending);
            pendingCount = data.Length;
        }

        private void Stripe(ReadOnlySpan<byte> s)
        {
            v1 = Round(v1, BinaryPrimitives.ReadUInt64LittleEndian(s));
            v2 = Round(v2, BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(8)));
            v3 = Round(v3, BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(16)));
            v4 = Round(v4, BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(24)));
        }

        public ulong Digest()
        {
            ulong h;
            if (total >= 32)
            {
                h = Rotl(v1, 1) + Rotl(v2, 7) + Rotl(v3, 12) + Rotl(v4, 18);
                h = Merge(h, v1);
                h = Merge(h, v2);
                h = Merge(h, v3);
                h = Merge(h, v4);
            }
            else
            {
                h = seed + P5;
            }
            h += total;
            ReadOnlySpan<byte> rest = pending.AsSpan(0, pendingCount);
            while (rest.Length >= 8)
            {
                h ^= Round(0, BinaryPrimitives.ReadUInt64LittleEndian(rest));
                h = (Rotl(h, 27) * P1) + P4;
                rest = rest.Slice(8);
            }
            if (rest.Length >= 4)
            {
                h ^= BinaryPrimitives.ReadUInt32LittleEndian(rest) * P1;
                h = (Rotl(h, 23) * P2) + P3;
                rest = rest.Slice(4);
            }
            foreach (byte b in rest)
            {
                h ^= b * P5;
                h = Rotl(h, 11) * P1;
            }
            h ^= h >> 33;
            h *= P2;
            h ^= h >> 29;
            h *= P3;
            h ^= h >> 32;
            return h;
        }
    }
}
