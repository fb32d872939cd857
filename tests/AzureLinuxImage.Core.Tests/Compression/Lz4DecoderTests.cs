using System;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Compression.CompressionOracle;

namespace AzureLinuxImage.Tests.Compression
{
    public class Lz4DecoderTests
    {
        public static TheoryData<string, string> LegacyCases()
        {
            var d = new TheoryData<string, string>();
            foreach (string kind in DataKinds)
            {
                foreach (string level in new[] { "-1", "-9", "-12" })
                {
                    d.Add(kind, level);
                }
            }
            d.Add("bigtext", "-1");
            return d;
        }

        public static TheoryData<string, string> FrameCases()
        {
            var d = new TheoryData<string, string>();
            foreach (string kind in DataKinds)
            {
                foreach (string args in new[] { "-1", "-9 -BD", "-B4 -BD -BX", "-B5 --no-frame-crc", "-12 -B7 --content-size" })
                {
                    d.Add(kind, args);
                }
            }
            d.Add("bigtext", "-1 -B4 -BD");
            return d;
        }

        [Theory]
        [MemberData(nameof(LegacyCases))]
        public void Decodes_what_lz4_l_encodes(string kind, string level)
        {
            using var dir = new TempDirectory();
            byte[] data = Make(kind);
            byte[] z = Compress(dir, data, "lz4", "lz4", $"-q -c -l {level}");
            Assert.Equal(data, Decode(z, CompressionFormat.Lz4Legacy));
        }

        [Theory]
        [MemberData(nameof(FrameCases))]
        public void Decodes_what_lz4_encodes(string kind, string args)
        {
            using var dir = new TempDirectory();
            byte[] data = Make(kind);
            byte[] z = Compress(dir, data, "lz4", "lz4", $"-q -c {args}");
            Assert.Equal(data, Decode(z, CompressionFormat.Lz4Frame));
        }

        [Fact]
        public void Decodes_concatenated_and_skippable_frames_and_legacy_frames()
        {
            using var dir = new TempDirectory();
            byte[] a = Make("text"), b = Make("binary");
            byte[] skippable = { 0x5F, 0x2A, 0x4D, 0x18, 2, 0, 0, 0, 7, 7 };
            byte[] frames = Concat(Compress(dir, a, "lz4", "lz4", "-q -c -1"), skippable, Compress(dir, b, "lz4", "lz4", "-q -c -9 -BD"));
            Assert.Equal(Compress(dir, frames, "lz4", "lz4", "-q -d -c"), Decode(frames, CompressionFormat.Lz4Frame));
            Assert.Equal(Concat(a, b), Decode(frames, CompressionFormat.Lz4Frame));
            byte[] legacy = Concat(Compress(dir, a, "lz4", "lz4", "-q -c -l"), Compress(dir, b, "lz4", "lz4", "-q -c -l -9"));
            Assert.Equal(Compress(dir, legacy, "lz4", "lz4", "-q -d -c"), Decode(legacy, CompressionFormat.Lz4Legacy));
        }

        [Fact]
        public void Detects_corrupt_checksums()
        {
            using var dir = new TempDirectory();
            byte[] data = Make("text", 100_000);
            byte[] z = Compress(dir, data, "lz4", "lz4", "-q -c -1");
            z[z.Length - 1] ^= 0x10;
            var e = Assert.Throws<InvalidImageException>(() => Decode(z, CompressionFormat.Lz4Frame));
            Assert.Contains("checksum", e.Structure, StringComparison.Ordinal);
            byte[] h = Compress(dir, data, "lz4", "lz4", "-q -c -1");
            h[5] ^= 0x01; // BD byte: header checksum no longer matches (or a reserved bit)
            Assert.Throws<InvalidImageException>(() => Decode(h, CompressionFormat.Lz4Frame));
        }
    }
}
