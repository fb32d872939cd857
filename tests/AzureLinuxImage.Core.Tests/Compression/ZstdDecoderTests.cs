using System;
using System.IO.Hashing;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Compression.CompressionOracle;

namespace AzureLinuxImage.Tests.Compression
{
    public class ZstdDecoderTests
    {
        public static TheoryData<string, string> Cases()
        {
            var d = new TheoryData<string, string>();
            foreach (string kind in DataKinds)
            {
                foreach (string level in new[] { "-1", "-3", "-19", "--fast=5" })
                {
                    d.Add(kind, level);
                }
            }
            d.Add("bigtext", "-3");
            d.Add("bigtext", "--long=23 -1");
            d.Add("text", "--ultra -22");
            d.Add("binary", "--ultra -22");
            d.Add("text", "--long=24 -12");
            d.Add("binary", "-9 --no-check");
            d.Add("text", "-19 --no-check -B16384");
            return d;
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void Decodes_what_zstd_encodes_from_stdin(string kind, string level)
        {
            using var dir = new TempDirectory();
            byte[] data = Make(kind);
            byte[] z = Compress(dir, data, "zstd", "zstd", $"-q -c {level}");
            Assert.Equal(data, Decode(z, CompressionFormat.Zstd));
        }

        [Theory]
        [InlineData("text", "-19")]
        [InlineData("binary", "-3")]
        [InlineData("one", "-3")]
        [InlineData("empty", "-3")]
        public void Decodes_single_segment_frames_with_known_content_size(string kind, string level)
        {
            using var dir = new TempDirectory();
            byte[] data = Make(kind);
            byte[] z = CompressFile(dir, data, "zstd", "zstd", $"-q {level}", ".zst");
            Assert.Equal(data, Decode(z, CompressionFormat.Zstd));
        }

        [Fact]
        public void Decodes_concatenated_and_skippable_frames()
        {
            using var dir = new TempDirectory();
            byte[] a = Make("text"), b = Make("binary");
            byte[] za = Compress(dir, a, "zstd", "zstd", "-q -c -5");
            byte[] zb = Compress(dir, b, "zstd", "zstd", "-q -c -1");
            byte[] skippable = { 0x53, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 9, 9, 9 };
            byte[] all = Concat(za, skippable, zb, skippable);
            // Oracle: zstd itself on the concatenation.
            byte[] expected = Compress(dir, all, "zstd", "zstd", "-q -d -c");
            Assert.Equal(Concat(a, b), expected);
            Assert.Equal(expected, Decode(all, CompressionFormat.Zstd));
        }

        [Fact]
        public void Refuses_a_window_above_the_cap_and_decodes_within_it()
        {
            using var dir = new TempDirectory();
            byte[] data = Make("text", 200_000);
            // From stdin zstd cannot shrink the window to the input: --ultra -22 declares 2^27 bytes.
            byte[] z = Compress(dir, data, "zstd", "zstd", "-q -c --ultra -22");
            var e = Assert.Throws<AzureLinuxImageException>(() => Decode(z, CompressionFormat.Zstd, new DecompressionLimits(1 << 30, 64 << 20)));
            Assert.Equal("DecompressionLimitExceeded", e.ErrorId);
            Assert.Contains("window", e.Message, StringComparison.Ordinal);
            Assert.Equal(data, Decode(z, CompressionFormat.Zstd, new DecompressionLimits(1 << 30, 128 << 20)));
        }

        [Fact]
        public void Refuses_output_beyond_the_limit()
        {
            using var dir = new TempDirectory();
            byte[] data = new byte[5_000_000];
            byte[] z = Compress(dir, data, "zstd", "zstd", "-q -c -19");
            Assert.True(z.Length < 1000);
            var e = Assert.Throws<AzureLinuxImageException>(() => Decode(z, CompressionFormat.Zstd, new DecompressionLimits(1_000_000, 8 << 20)));
            Assert.Equal("DecompressionLimitExceeded", e.ErrorId);
            Assert.Equal(data.Length, Decode(z, CompressionFormat.Zstd, new DecompressionLimits(5_000_000, 8 << 20)).Length);
        }

        [Fact]
        public void Detects_a_corrupt_content_checksum()
        {
            using var dir = new TempDirectory();
            byte[] z = Compress(dir, Make("text", 50_000), "zstd", "zstd", "-q -c -3 --check");
            z[z.Length - 1] ^= 0x40;
            var e = Assert.Throws<InvalidImageException>(() => Decode(z, CompressionFormat.Zstd));
            Assert.Contains("checksum", e.Structure, StringComparison.Ordinal);
        }

        [Fact]
        public void Refuses_trailing_garbage_and_dictionaries()
        {
            using var dir = new TempDirectory();
            byte[] z = Compress(dir, Make("text", 5000), "zstd", "zstd", "-q -c -3");
            Assert.Throws<InvalidImageException>(() => Decode(Concat(z, new byte[] { 1, 2, 3, 4, 5 }), CompressionFormat.Zstd));
            // Frame header with Dictionary_ID_flag = 1 and dictionary id 7.
            byte[] withDict = { 0x28, 0xB5, 0x2F, 0xFD, 0x01, 0x50, 7, 1, 0, 0 };
            Assert.Throws<UnsupportedImageException>(() => Decode(withDict, CompressionFormat.Zstd));
        }

        [Fact]
        public void XxHash64_matches_the_zstd_checksums_and_the_reference_vector()
        {
            // Reference: XXH64 of the empty input with seed 0 (xxHash documentation).
            Assert.Equal(0xEF46DB3751D8E999UL, XxHash64.HashToUInt64(ReadOnlySpan<byte>.Empty));
            using var dir = new TempDirectory();
            foreach (int size in new[] { 1, 7, 31, 32, 33, 100, 1000 })
            {
                byte[] data = Make("random", size);
                byte[] z = Compress(dir, data, "zstd", "zstd", "-q -c --check -1");
                // The last 4 bytes of a single-frame, checksummed zstd file are the low half of XXH64.
                uint stored = BitConverter.ToUInt32(z, z.Length - 4);
                Assert.Equal(stored, (uint)XxHash64.HashToUInt64(data));
                var streaming = new XxHash64();
                for (int i = 0; i < data.Length; i += 5)
                {
                    streaming.Append(data.AsSpan(i, Math.Min(5, data.Length - i)));
                }
                Assert.Equal(XxHash64.HashToUInt64(data), streaming.GetCurrentHashAsUInt64());
            }
        }
    }
}
