using System;
using System.Buffers.Binary;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>
    /// XFS v5 metadata checksums (xfs_cksum.h): CRC-32C over the whole structure with the 4-byte CRC
    /// field counted as zeros, stored little-endian.
    /// </summary>
    internal static class XfsChecksum
    {
        private static readonly byte[] Zeros = new byte[4];

        public static uint Compute(byte[] buffer, int offset, int length, int crcOffset)
        {
            ReadOnlySpan<byte> span = new ReadOnlySpan<byte>(buffer, offset, length);
            uint state = CrcRegister.Crc32C(0xFFFFFFFFu, span.Slice(0, crcOffset));
            state = CrcRegister.Crc32C(state, Zeros);
            state = CrcRegister.Crc32C(state, span.Slice(crcOffset + 4));
            return ~state;
        }

        /// <summary>Throws an <see cref="InvalidImageException"/> naming <paramref name="structure"/> when the stored CRC differs.</summary>
        public static void Verify(byte[] buffer, int offset, int length, int crcOffset, string where, string structure)
        {
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(buffer, offset + crcOffset, 4));
            uint computed = Compute(buffer, offset, length, crcOffset);
            if (stored != computed)
            {
                throw new InvalidImageException(where, structure + " CRC", $"stored CRC-32C 0x{stored:x8} does not match the computed 0x{computed:x8} (the metadata is corrupt).");
            }
        }
    }
}
