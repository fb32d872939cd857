using System;

namespace AzureLinuxImage.Checksums
{
    /// <summary>CRC-64/XZ (ECMA-182 polynomial, reflected, all-ones start and final inversion): the .xz check type 0x04.</summary>
    internal static class Crc64
    {
        private static readonly ulong[] Table = BuildTable();

        private static ulong[] BuildTable()
        {
            var t = new ulong[256];
            for (ulong i = 0; i < 256; i++)
            {
                ulong c = i;
                for (int k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? (c >> 1) ^ 0xC96C5795D7870F42UL : c >> 1;
                }
                t[i] = c;
            }
            return t;
        }

        /// <summary>Continues a running (non-inverted) state; start with ulong.MaxValue and invert the result.</summary>
        public static ulong Append(ulong state, ReadOnlySpan<byte> data)
        {
            ulong crc = state;
            ulong[] t = Table;
            foreach (byte b in data)
            {
                crc = (crc >> 8) ^ t[(byte)crc ^ b];
            }
            return crc;
        }

        public static ulong Compute(ReadOnlySpan<byte> data) => ~Append(ulong.MaxValue, data);
    }

    /// <summary>The non-reflected CRC-32 (polynomial 0x04C11DB7, MSB first) that bzip2 uses for its block and stream checks.</summary>
    internal static class Crc32Msb
    {
        private static readonly uint[] Table = BuildTable();

        private static uint[] BuildTable()
        {
            var t = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                uint c = i << 24;
                for (int k = 0; k < 8; k++)
                {
                    c = (c & 0x80000000u) != 0 ? (c << 1) ^ 0x04C11DB7u : c << 1;
                }
                t[i] = c;
            }
            return t;
        }

        public static uint Append(uint state, byte b) => (state << 8) ^ Table[(state >> 24) ^ b];

        public static uint Append(uint state, byte b, int repeat)
        {
            uint crc = state;
            for (int i = 0; i < repeat; i++)
            {
                crc = (crc << 8) ^ Table[(crc >> 24) ^ b];
            }
            return crc;
        }
    }
}
