using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// The htree name hashes (directory.rst, "Hash Tree Directories"; hash versions 0-5): legacy, half-MD4
    /// and TEA, each with the name's bytes read as signed or unsigned chars (the superblock's
    /// signed/unsigned_directory_hash flag). Only the major hash is kept, with its low bit cleared.
    /// </summary>
    internal static class ExtDirectoryHash
    {
        public const byte Legacy = 0;
        public const byte HalfMd4 = 1;
        public const byte Tea = 2;
        public const byte LegacyUnsigned = 3;
        public const byte HalfMd4Unsigned = 4;
        public const byte TeaUnsigned = 5;

        public static bool IsSupported(byte version) => version <= TeaUnsigned;

        /// <param name="name">The name's bytes.</param>
        /// <param name="version">Hash version 0-5 (the root's, plus 3 when the superblock says unsigned).</param>
        /// <param name="seed">s_hash_seed (16 bytes); all zeros means the default seed.</param>
        public static uint Hash(ReadOnlySpan<byte> name, byte version, ReadOnlySpan<byte> seed)
        {
            uint[] buf = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
            bool seeded = false;
            for (int i = 0; i < 16 && !seeded; i++)
            {
                seeded = seed.Length >= 16 && seed[i] != 0;
            }
            if (seeded)
            {
                for (int i = 0; i < 4; i++)
                {
                    buf[i] = BinaryPrimitives.ReadUInt32LittleEndian(seed.Slice(4 * i));
                }
            }
            bool unsigned = version >= LegacyUnsigned;
            uint hash;
            switch (version % 3)
            {
                case Legacy:
                    hash = LegacyHash(name, unsigned);
                    break;
                case HalfMd4:
                {
                    var input = new uint[8];
                    for (int p = 0; p < name.Length; p += 32)
                    {
                        ToBuffer(name.Slice(p), input, 8, unsigned);
                        HalfMd4Transform(buf, input);
                    }
                    hash = buf[1];
                    break;
                }
                default:
                {
                    var input = new uint[4];
                    for (int p = 0; p < name.Length; p += 16)
                    {
                        ToBuffer(name.Slice(p), input, 4, unsigned);
                        TeaTransform(buf, input);
                    }
                    hash = buf[0];
                    break;
                }
            }
            hash &= ~1u;
            if (hash == 0x7FFFFFFFu << 1)
            {
                hash = (0x7FFFFFFFu - 1) << 1;
            }
            return hash;
        }

        private static int Char(byte b, bool unsigned) => unsigned ? b : (sbyte)b;

        private static uint LegacyHash(ReadOnlySpan<byte> name, bool unsigned)
        {
            uint hash0 = 0x12a3fe2d, hash1 = 0x37abe8f9;
            foreach (byte b in name)
            {
                uint hash = hash1 + (hash0 ^ (uint)(Char(b, unsigned) * 7152373));
                if ((hash & 0x80000000) != 0)
                {
                    hash -= 0x7fffffff;
                }
                hash1 = hash0;
                hash0 = hash;
            }
            return hash0 << 1;
        }

        /// <summary>Packs up to 4*<paramref name="words"/> name bytes into words, padded with the length pattern.</summary>
        private static void ToBuffer(ReadOnlySpan<byte> msg, uint[] into, int words, bool unsigned)
        {
            int len = msg.Length;
            uint pad = (uint)len | ((uint)len << 8);
            pad |= pad << 16;
            uint val = pad;
            int n = Math.Min(len, words * 4);
            int w = 0;
            int num = words;
            for (int i = 0; i < n; i++)
            {
                val = (uint)Char(msg[i], unsigned) + (val << 8);
                if ((i % 4) == 3)
                {
                    into[w++] = val;
                    val = pad;
                    num--;
                }
            }
            if (--num >= 0)
            {
                into[w++] = val;
            }
            while (--num >= 0)
            {
                into[w++] = pad;
            }
        }

        private static uint Rol(uint x, int s) => (x << s) | (x >> (32 - s));

        private static uint F(uint x, uint y, uint z) => z ^ (x & (y ^ z));

        private static uint G(uint x, uint y, uint z) => (x & y) + ((x ^ y) & z);

        private static uint H(uint x, uint y, uint z) => x ^ y ^ z;

        private static void HalfMd4Transform(uint[] buf, uint[] x)
        {
            const uint K2 = 0x5A827999, K3 = 0x6ED9EBA1;
            uint a = buf[0], b = buf[1], c = buf[2], d = buf[3];

            a = Rol(a + F(b, c, d) + x[0], 3);
            d = Rol(d + F(a, b, c) + x[1], 7);
            c = Rol(c + F(d, a, b) + x[2], 11);
            b = Rol(b + F(c, d, a) + x[3], 19);
            a = Rol(a + F(b, c, d) + x[4], 3);
            d = Rol(d + F(a, b, c) + x[5], 7);
            c = Rol(c + F(d, a, b) + x[6], 11);
            b = Rol(b + F(c, d, a) + x[7], 19);

            a = Rol(a + G(b, c, d) + x[1] + K2, 3);
            d = Rol(d + G(a, b, c) + x[3] + K2, 5);
            c = Rol(c + G(d, a, b) + x[5] + K2, 9);
            b = Rol(b + G(c, d, a) + x[7] + K2, 13);
            a = Rol(a + G(b, c, d) + x[0] + K2, 3);
            d = Rol(d + G(a, b, c) + x[2] + K2, 5);
            c = Rol(c + G(d, a, b) + x[4] + K2, 9);
            b = Rol(b + G(c, d, a) + x[6] + K2, 13);

            a = Rol(a + H(b, c, d) + x[3] + K3, 3);
            d = Rol(d + H(a, b, c) + x[7] + K3, 9);
            c = Rol(c + H(d, a, b) + x[2] + K3, 11);
            b = Rol(b + H(c, d, a) + x[6] + K3, 15);
            a = Rol(a + H(b, c, d) + x[1] + K3, 3);
            d = Rol(d + H(a, b, c) + x[5] + K3, 9);
            c = Rol(c + H(d, a, b) + x[0] + K3, 11);
            b = Rol(b + H(c, d, a) + x[4] + K3, 15);

            buf[0] += a;
            buf[1] += b;
            buf[2] += c;
            buf[3] += d;
        }

        private static void TeaTransform(uint[] buf, uint[] x)
        {
            uint sum = 0, b0 = buf[0], b1 = buf[1];
            uint a = x[0], b = x[1], c = x[2], d = x[3];
            for (int n = 0; n < 16; n++)
            {
                sum += 0x9E3779B9;
                b0 += ((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >> 5) + b);
                b1 += ((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >> 5) + d);
            }
            buf[0] += b0;
            buf[1] += b1;
        }
    }
}
