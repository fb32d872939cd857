using System;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Compression.CompressionOracle;

namespace AzureLinuxImage.Tests.Compression
{
    public class Bzip2DecoderTests
    {
        public static TheoryData<string, string> Cases()
        {
            var d = new TheoryData<string, string>();
            foreach (string kind in DataKinds)
            {
                foreach (string level in new[] { "-1", "-9" })
                {
                    d.Add(kind, level);
                }
            }
            d.Add("bigtext", "-9");
            d.Add("text", "-3");
            return d;
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void Decodes_what_bzip2_encodes(string kind, string level)
        {
            using var dir = new TempDirectory();
            byte[] data = Make(kind);
            byte[] z = Compress(dir, data, "bzip2", "bzip2", $"-q -c {level}");
            Assert.Equal(data, Decode(z, CompressionFormat.Bzip2));
        }

        [Fact]
        public void Decodes_long_runs_of_one_byte()
        {
            // Runs longer than 4 exercise the run-length stage (4 bytes + count) and RUNA/RUNB.
            using var dir = new TempDirectory();
            var data = new byte[1_000_000];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (byte)((i / 1000) % 3 == 0 ? 'a' : (i % 251) == 0 ? 'b' : 'a');
            }
            Assert.Equal(data, Decode(Compress(dir, data, "bzip2", "bzip2", "-q -c -1"), CompressionFormat.Bzip2));
        }

        [Fact]
        public void Decodes_concatenated_streams()
        {
            using var dir = new TempDirectory();
            byte[] a = Make("text"), b = Make("binary");
            byte[] all = Concat(Compress(dir, a, "bzip2", "bzip2", "-q -c -9"), Compress(dir, b, "bzip2", "bzip2", "-q -c -2"));
            byte[] expected = Compress(dir, all, "bzip2", "bzip2", "-q -d -c");
            Assert.Equal(Concat(a, b), expected);
            Assert.Equal(expected, Decode(all, CompressionFormat.Bzip2));
        }

        [Fact]
        public void Detects_a_corrupt_block_crc()
        {
            using var dir = new TempDirectory();
            byte[] z = Compress(dir, Make("text", 50_000), "bzip2", "bzip2", "-q -c -9");
            z[10] ^= 0x01; // inside the stored block CRC (bytes 10-13)
            var e = Assert.Throws<InvalidImageException>(() => Decode(z, CompressionFormat.Bzip2));
            Assert.Contains("CRC", e.Structure, StringComparison.Ordinal);
        }
    }
}
