using System;
using System.IO.Hashing;
using System.Text;
using AzureLinuxImage.Checksums;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>
    /// The CRCs of the formats, from System.IO.Hashing: check values from the CRC catalogue ("123456789"),
    /// and CrcRegister's continuation from a raw register (ext4's crc32c_le(seed), lvm2's calc_crc) against
    /// the bytewise definition.
    /// </summary>
    public class CrcTests
    {
        private static readonly byte[] Check = Encoding.ASCII.GetBytes("123456789");

        [Fact]
        public void Ieee_check_value() => Assert.Equal(0xCBF43926u, Crc32.HashToUInt32(Check));

        [Fact]
        public void Castagnoli_check_value() => Assert.Equal(0xE3069283u, Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, Check));

        [Fact]
        public void Xz_and_bzip2_parameter_sets_check_values()
        {
            var xz = new Crc64(Crc64ParameterSet.Create(0x42F0E1EBA9EA3693UL, ulong.MaxValue, ulong.MaxValue, true));
            xz.Append(Check);
            Assert.Equal(0x995DC9BBDF1939FAUL, xz.GetCurrentHashAsUInt64());
            Assert.Equal(0xFC891918u, Crc32.HashToUInt32(Crc32ParameterSet.Create(0x04C11DB7u, uint.MaxValue, uint.MaxValue, false), Check));
        }

        [Fact]
        public void Long_input_matches_bytewise_definition()
        {
            var data = new byte[1000];
            new Random(7).NextBytes(data);
            Assert.Equal(~Bytewise(0xFFFFFFFF, data, 0xEDB88320u), Crc32.HashToUInt32(data));
        }

        [Fact]
        public void A_register_continues_from_any_seed_as_the_bytewise_definition_does()
        {
            var random = new Random(11);
            foreach (int length in new[] { 0, 1, 3, 4, 7, 64, 1000 })
            {
                var data = new byte[length];
                random.NextBytes(data);
                foreach (uint seed in new[] { 0u, 1u, 0x80000000u, 0xF597A6CFu, uint.MaxValue, (uint)random.Next() })
                {
                    Assert.Equal(Bytewise(seed, data, 0x82F63B78u), CrcRegister.Crc32C(seed, data));
                    Assert.Equal(Bytewise(seed, data, 0xEDB88320u), CrcRegister.Crc32(seed, data));
                }
            }
            // Chained calls equal one call over the concatenation.
            var all = new byte[100];
            random.NextBytes(all);
            uint chained = CrcRegister.Crc32C(CrcRegister.Crc32C(0x12345678u, all.AsSpan(0, 37)), all.AsSpan(37));
            Assert.Equal(CrcRegister.Crc32C(0x12345678u, all), chained);
        }

        private static uint Bytewise(uint register, byte[] data, uint reflectedPolynomial)
        {
            uint crc = register;
            foreach (byte b in data)
            {
                crc ^= b;
                for (int k = 0; k < 8; k++)
                {
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ reflectedPolynomial : crc >> 1;
                }
            }
            return crc;
        }
    }
}
