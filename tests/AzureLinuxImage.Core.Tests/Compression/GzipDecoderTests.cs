using System;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Compression.CompressionOracle;

namespace AzureLinuxImage.Tests.Compression
{
    public class GzipDecoderTests
    {
        [Theory]
        [InlineData("empty", "-6")]
        [InlineData("text", "-1")]
        [InlineData("binary", "-9")]
        [InlineData("random", "-6")]
        public void Decodes_what_gzip_encodes(string kind, string level)
        {
            using var dir = new TempDirectory();
            byte[] data = Make(kind);
            Assert.Equal(data, Decode(Compress(dir, data, "gzip", "gzip", $"-c -n {level}"), CompressionFormat.Gzip));
        }

        [Fact]
        public void Decodes_concatenated_members()
        {
            using var dir = new TempDirectory();
            byte[] a = Make("text"), b = Make("binary");
            byte[] all = Concat(Compress(dir, a, "gzip", "gzip", "-c -1"), Compress(dir, b, "gzip", "gzip", "-c -9"));
            Assert.Equal(Compress(dir, all, "gzip", "gzip", "-d -c"), Decode(all, CompressionFormat.Gzip));
        }

        [Theory]
        [InlineData("-n -1")]
        [InlineData("-N -9")]
        public void Decodes_stored_and_named_members_and_refuses_truncation(string args)
        {
            using var dir = new TempDirectory();
            byte[] data = Concat(Make("random", 200_000), Make("text", 100_000));
            byte[] z = CompressFile(dir, data, "gzip", "gzip", args, ".gz");
            Assert.Equal(data, Decode(z, CompressionFormat.Gzip));
            Assert.Throws<InvalidImageException>(() => Decode(z.AsSpan(0, z.Length - 3).ToArray(), CompressionFormat.Gzip));
            Assert.Throws<InvalidImageException>(() => Decode(z.AsSpan(0, z.Length / 2).ToArray(), CompressionFormat.Gzip));
        }

        [Fact]
        public void Corrupt_data_is_a_typed_error()
        {
            using var dir = new TempDirectory();
            byte[] z = Compress(dir, Make("text", 50_000), "gzip", "gzip", "-c -6");
            z[z.Length - 6] ^= 0xFF; // the CRC32 trailer
            Assert.Throws<InvalidImageException>(() => Decode(z, CompressionFormat.Gzip));
        }
    }
}
