using System.Text;
using AzureLinuxImage.Checksums;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    public class CrcTests
    {
        // Check values from the CRC catalogue: CRC of "123456789".
        [Fact]
        public void Ieee_check_value() => Assert.Equal(0xCBF43926u, Crc32.Ieee.Compute(Encoding.ASCII.GetBytes("123456789")));

        [Fact]
        public void Castagnoli_check_value() => Assert.Equal(0xE3069283u, Crc32.Castagnoli.Compute(Encoding.ASCII.GetBytes("123456789")));

        [Fact]
        public void Long_input_matches_bytewise_definition()
        {
            var data = new byte[1000];
            new System.Random(7).NextBytes(data);
            uint expected = 0xFFFFFFFF;
            foreach (byte b in data)
            {
                expected ^= b;
                for (int k = 0; k < 8; k++)
                {
                    expected = (expected & 1) != 0 ? (expected >> 1) ^ 0xEDB88320u : expected >> 1;
                }
            }
            Assert.Equal(~expected, Crc32.Ieee.Compute(data));
        }
    }
}
