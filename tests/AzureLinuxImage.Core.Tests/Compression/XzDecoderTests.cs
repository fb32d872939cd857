using System;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Compression.CompressionOracle;

namespace AzureLinuxImage.Tests.Compression
{
    public class XzDecoderTests
    {
        public static TheoryData<string, string> Cases()
        {
            var d = new TheoryData<string, string>();
            foreach (string kind in DataKinds)
            {
                foreach (string args in new[] { "-0", "-6", "-9e --check=sha256", "--check=crc32 -3", "--check=none -1" })
                {
                    d.Add(kind, args);
                }
            }
            d.Add("bigtext", "-6 --check=crc64");
            d.Add("binary", "--x86 --lzma2=preset=6");
            d.Add("text", "--x86 --lzma2=preset=1");
            d.Add("bigtext", "-T2 --block-size=1MiB --check=crc32");
            d.Add("text", "--block-size=10000 -2");
            d.Add("text", "--lzma2=lc=4,lp=0,pb=0");
            d.Add("binary", "--lzma2=lc=0,lp=2,pb=2,dict=64KiB");
            return d;
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void Decodes_what_xz_encodes(string kind, string args)
        {
            using var dir = new TempDirectory();
            byte[] data = Make(kind);
            byte[] z = Compress(dir, data, "xz", "xz-utils", $"-q -c {args}");
            Assert.Equal(data, Decode(z, CompressionFormat.Xz));
        }

        [Theory]
        [InlineData("text", "-6")]
        [InlineData("binary", "-9e")]
        [InlineData("empty", "")]
        [InlineData("random", "-1")]
        public void Decodes_what_xz_encodes_as_lzma_alone(string kind, string args)
        {
            using var dir = new TempDirectory();
            byte[] data = Make(kind);
            // From stdin: unknown size, so the stream ends with an end marker; from a file the size is stored.
            Assert.Equal(data, Decode(Compress(dir, data, "xz", "xz-utils", $"-q -c --format=lzma {args}"), CompressionFormat.Lzma));
            Assert.Equal(data, Decode(CompressFile(dir, data, "xz", "xz-utils", $"-q --format=lzma {args}", ".lzma"), CompressionFormat.Lzma));
        }

        [Fact]
        public void Decodes_concatenated_streams_with_padding()
        {
            using var dir = new TempDirectory();
            byte[] a = Make("text"), b = Make("binary");
            byte[] za = Compress(dir, a, "xz", "xz-utils", "-q -c -1 --check=crc64");
            byte[] zb = Compress(dir, b, "xz", "xz-utils", "-q -c -3 --check=crc32");
            byte[] all = Concat(za, new byte[8], zb, new byte[4]);
            byte[] expected = Compress(dir, all, "xz", "xz-utils", "-q -d -c");
            Assert.Equal(Concat(a, b), expected);
            Assert.Equal(expected, Decode(all, CompressionFormat.Xz));
            Assert.Throws<InvalidImageException>(() => Decode(Concat(za, new byte[3], zb), CompressionFormat.Xz));
        }

        [Theory]
        [InlineData("--check=crc32")]
        [InlineData("--check=crc64")]
        [InlineData("--check=sha256")]
        public void Detects_corrupt_checks(string check)
        {
            using var dir = new TempDirectory();
            byte[] data = Make("text", 100_000);
            byte[] z = Compress(dir, data, "xz", "xz-utils", $"-q -c -1 {check}");
            int size = check.EndsWith("32", StringComparison.Ordinal) ? 4 : check.EndsWith("64", StringComparison.Ordinal) ? 8 : 32;
            // The block check sits just before the index; the index of one block is 12 bytes here (+ 12 footer).
            int checkEnd = z.Length - 12 - 12;
            z[checkEnd - size] ^= 0x01;
            var e = Assert.Throws<InvalidImageException>(() => Decode(z, CompressionFormat.Xz));
            Assert.Contains("check", e.Structure, StringComparison.Ordinal);
        }

        [Fact]
        public void Refuses_a_dictionary_above_the_cap_and_other_filters()
        {
            using var dir = new TempDirectory();
            byte[] data = Make("text", 100_000);
            byte[] z = Compress(dir, data, "xz", "xz-utils", "-q -c -9");
            var e = Assert.Throws<AzureLinuxImageException>(() => Decode(z, CompressionFormat.Xz, new DecompressionLimits(1 << 30, 32 << 20)));
            Assert.Equal("DecompressionLimitExceeded", e.ErrorId);
            Assert.Equal(data, Decode(z, CompressionFormat.Xz, new DecompressionLimits(1 << 30, 64 << 20)));
            byte[] delta = Compress(dir, data, "xz", "xz-utils", "-q -c --delta=dist=2 --lzma2=preset=1");
            var u = Assert.Throws<UnsupportedImageException>(() => Decode(delta, CompressionFormat.Xz));
            Assert.Contains("Delta", u.Message, StringComparison.Ordinal);
        }
    }
}
