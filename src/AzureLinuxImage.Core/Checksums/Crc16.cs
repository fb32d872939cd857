using System;

namespace AzureLinuxImage.Checksums
{
    /// <summary>
    /// CRC-16 (polynomial 0x8005, reflected, no final xor) as ext4's uninit_bg/gdt_csum group descriptor
    /// checksum uses it (kernel Documentation/filesystems/ext4/group_descr.rst, bg_checksum).
    /// </summary>
    internal static class Crc16
    {
        private static readonly ushort[] Table = Build();

        public static ushort Append(ushort state, ReadOnlySpan<byte> data)
        {
            uint crc = state;
            foreach (byte b in data)
            {
                crc = (crc >> 8) ^ Table[(crc ^ b) & 0xFF];
            }
            return (ushort)crc;
        }

        private static ushort[] Build()
        {
            var t = new ushort[256];
            for (uint i = 0; i < 256; i++)
            {
                uint c = i;
                for (int k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? (c >> 1) ^ 0xA001u : c >> 1;
                }
                t[i] = (ushort)c;
            }
            return t;
        }
    }
}
