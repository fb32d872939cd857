using System;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace AzureLinuxImage.Checksums
{
    /// <summary>
    /// Reflected CRC-32s continued from a raw register value, as ext4 (crc32c_le from the checksum seed,
    /// no final inversion) and lvm2 (calc_crc from 0xF597A6CF) compute them. System.IO.Hashing starts every
    /// CRC at all ones, so the 4 bytes that take the register from all ones to the wanted value are hashed
    /// first (over 4 bytes the register update is invertible), and the register is read back uninverted.
    /// </summary>
    internal static class CrcRegister
    {
        private const uint CastagnoliReflected = 0x82F63B78u;
        private const uint IeeeReflected = 0xEDB88320u;

        /// <summary>CRC-32C (Castagnoli) register after <paramref name="data"/>, from <paramref name="register"/>.</summary>
        public static uint Crc32C(uint register, ReadOnlySpan<byte> data) => Continue(Crc32ParameterSet.Crc32C, CastagnoliReflected, register, data);

        /// <summary>CRC-32 (IEEE 802.3) register after <paramref name="data"/>, from <paramref name="register"/>.</summary>
        public static uint Crc32(uint register, ReadOnlySpan<byte> data) => Continue(Crc32ParameterSet.Crc32, IeeeReflected, register, data);

        private static uint Continue(Crc32ParameterSet parameters, uint reflectedPolynomial, uint register, ReadOnlySpan<byte> data)
        {
            var crc = new System.IO.Hashing.Crc32(parameters);
            if (register != uint.MaxValue)
            {
                Span<byte> prefix = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(prefix, Unshift(reflectedPolynomial, register) ^ uint.MaxValue);
                crc.Append(prefix);
            }
            crc.Append(data);
            return ~crc.GetCurrentHashAsUInt32();
        }

        /// <summary>The register that 32 shift steps turn into <paramref name="register"/> (the polynomial's top bit marks each feedback).</summary>
        private static uint Unshift(uint reflectedPolynomial, uint register)
        {
            uint v = register;
            for (int i = 0; i < 32; i++)
            {
                v = (v & 0x80000000u) != 0 ? ((v ^ reflectedPolynomial) << 1) | 1u : v << 1;
            }
            return v;
        }
    }
}
