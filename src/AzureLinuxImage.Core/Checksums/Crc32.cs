using System;

namespace AzureLinuxImage.Checksums
{
    /// <summary>
    /// Table-driven reflected CRC-32. netstandard2.0 has neither System.IO.Hashing nor the SSE4.2
    /// intrinsic, so both polynomials in use are computed here: IEEE 802.3 (GPT, UEFI spec 5.3.2)
    /// and Castagnoli CRC-32C (VHDX, ext4 metadata_csum, XFS v5).
    /// </summary>
    internal sealed class Crc32
    {
        /// <summary>CRC-32 (IEEE, polynomial 0x04C11DB7 reflected).</summary>
        public static readonly Crc32 Ieee = new Crc32(0xEDB88320u);

        /// <summary>CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected).</summary>
        public static readonly Crc32 Castagnoli = new Crc32(0x82F63B78u);

        private readonly uint[] table = new uint[256 * 8];

        private Crc32(uint reflectedPolynomial)
        {
            for (uint i = 0; i < 256; i++)
            {
                uint c = i;
                for (int k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? (c >> 1) ^ reflectedPolynomial : c >> 1;
                }
                table[i] = c;
            }
            // Slicing-by-8 tables: table[n*256 + i] is the CRC of byte i followed by n zero bytes.
            for (int n = 1; n < 8; n++)
            {
                for (int i = 0; i < 256; i++)
                {
                    uint prev = table[((n - 1) * 256) + i];
                    table[(n * 256) + i] = (prev >> 8) ^ table[prev & 0xFF];
                }
            }
        }

        /// <summary>The CRC of <paramref name="data"/>, with the usual all-ones start and final inversion.</summary>
        public uint Compute(ReadOnlySpan<byte> data) => ~Append(0xFFFFFFFFu, data);

        /// <summary>Continues a running (non-inverted) CRC state; start with 0xFFFFFFFF and invert the result.</summary>
        public uint Append(uint state, ReadOnlySpan<byte> data)
        {
            uint crc = state;
            int i = 0;
            uint[] t = table;
            while (data.Length - i >= 8)
            {
                uint one = (uint)(data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ crc;
                uint two = (uint)(data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24));
                crc = t[(7 * 256) + (one & 0xFF)] ^ t[(6 * 256) + ((one >> 8) & 0xFF)] ^
                      t[(5 * 256) + ((one >> 16) & 0xFF)] ^ t[(4 * 256) + (one >> 24)] ^
                      t[(3 * 256) + (two & 0xFF)] ^ t[(2 * 256) + ((two >> 8) & 0xFF)] ^
                      t[256 + ((two >> 16) & 0xFF)] ^ t[two >> 24];
                i += 8;
            }
            for (; i < data.Length; i++)
            {
                crc = (crc >> 8) ^ t[(crc ^ data[i]) & 0xFF];
            }
            return crc;
        }
    }
}
