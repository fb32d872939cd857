using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.Checksums
{
    /// <summary>
    /// BLAKE2b without a key (RFC 7693), any digest length of 1-64 bytes. btrfs's csum_type 3
    /// ("blake2b") is BLAKE2b-256; netstandard2.0 has no BLAKE2, so it is computed here.
    /// </summary>
    internal static class Blake2b
    {
        private static readonly ulong[] Iv =
        {
            0x6A09E667F3BCC908UL, 0xBB67AE8584CAA73BUL, 0x3C6EF372FE94F82BUL, 0xA54FF53A5F1D36F1UL,
            0x510E527FADE682D1UL, 0x9B05688C2B3E6C1FUL, 0x1F83D9ABFB41BD6BUL, 0x5BE0CD19137E2179UL,
        };

        // RFC 7693 section 2.7; rounds 10 and 11 reuse rows 0 and 1.
        private static readonly byte[] Sigma =
        {
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
            14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
            11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
            7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
            9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
            2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
            12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
            13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
            6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
            10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
        };

        /// <summary>The digest of <paramref name="data"/> in <paramref name="digest"/> (its length is the digest size).</summary>
        public static void Compute(ReadOnlySpan<byte> data, Span<byte> digest)
        {
            int outLength = digest.Length;
            if (outLength < 1 || outLength > 64)
            {
                throw new ArgumentOutOfRangeException(nameof(digest));
            }
            var h = new ulong[8];
            Iv.CopyTo(h, 0);
            h[0] ^= 0x01010000UL ^ (ulong)outLength;
            var m = new ulong[16];
            var v = new ulong[16];
            var last = new byte[128];
            ulong total = 0;
            int at = 0;
            // Every full block but the final one (which may itself be full) is compressed without the last flag.
            while (data.Length - at > 128)
            {
                total += 128;
                Compress(h, m, v, data.Slice(at, 128), total, false);
                at += 128;
            }
            int rest = data.Length - at;
            data.Slice(at, rest).CopyTo(last);
            total += (ulong)rest;
            Compress(h, m, v, last, total, true);
            var full = new byte[64];
            for (int i = 0; i < 8; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(full.AsSpan(i * 8), h[i]);
            }
            full.AsSpan(0, outLength).CopyTo(digest);
        }

        private static void Compress(ulong[] h, ulong[] m, ulong[] v, ReadOnlySpan<byte> block, ulong counter, bool final)
        {
            for (int i = 0; i < 16; i++)
            {
                m[i] = BinaryPrimitives.ReadUInt64LittleEndian(block.Slice(i * 8));
            }
            for (int i = 0; i < 8; i++)
            {
                v[i] = h[i];
                v[i + 8] = Iv[i];
            }
            v[12] ^= counter;
            if (final)
            {
                v[14] = ~v[14];
            }
            for (int round = 0; round < 12; round++)
            {
                int s = (round % 10) * 16;
                G(v, 0, 4, 8, 12, m[Sigma[s + 0]], m[Sigma[s + 1]]);
                G(v, 1, 5, 9, 13, m[Sigma[s + 2]], m[Sigma[s + 3]]);
                G(v, 2, 6, 10, 14, m[Sigma[s + 4]], m[Sigma[s + 5]]);
                G(v, 3, 7, 11, 15, m[Sigma[s + 6]], m[Sigma[s + 7]]);
                G(v, 0, 5, 10, 15, m[Sigma[s + 8]], m[Sigma[s + 9]]);
                G(v, 1, 6, 11, 12, m[Sigma[s + 10]], m[Sigma[s + 11]]);
                G(v, 2, 7, 8, 13, m[Sigma[s + 12]], m[Sigma[s + 13]]);
                G(v, 3, 4, 9, 14, m[Sigma[s + 14]], m[Sigma[s + 15]]);
            }
            for (int i = 0; i < 8; i++)
            {
                h[i] ^= v[i] ^ v[i + 8];
            }
        }

        private static void G(ulong[] v, int a, int b, int c, int d, ulong x, ulong y)
        {
            v[a] = v[a] + v[b] + x;
            v[d] = Rotr(v[d] ^ v[a], 32);
            v[c] = v[c] + v[d];
            v[b] = Rotr(v[b] ^ v[c], 24);
            v[a] = v[a] + v[b] + y;
            v[d] = Rotr(v[d] ^ v[a], 16);
            v[c] = v[c] + v[d];
            v[b] = Rotr(v[b] ^ v[c], 63);
        }

        private static ulong Rotr(ulong x, int n) => (x >> n) | (x << (64 - n));
    }
}
