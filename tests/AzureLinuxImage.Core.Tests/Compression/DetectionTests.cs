using System.IO;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Compression.CompressionOracle;

namespace AzureLinuxImage.Tests.Compression
{
    public class DetectionTests
    {
        // Kernel modules as the kernel's Makefile.modinst compresses them, and the other formats.
        [Theory]
        [InlineData("xz", "xz-utils", "--check=crc32 --lzma2=dict=1MiB -c", "Xz")]
        [InlineData("zstd", "zstd", "-q -c -T0 --ultra -22", "Zstd")]
        [InlineData("gzip", "gzip", "-n -9 -c", "Gzip")]
        [InlineData("bzip2", "bzip2", "-c", "Bzip2")]
        [InlineData("lz4", "lz4", "-q -c -l", "Lz4Legacy")]
        [InlineData("lz4", "lz4", "-q -c", "Lz4Frame")]
        [InlineData("xz", "xz-utils", "--format=lzma -c", "Lzma")]
        public void Opens_by_content(string tool, string package, string args, string expected)
        {
            using var dir = new TempDirectory();
            byte[] module = Make("binary", 200_000);
            byte[] z = Compress(dir, module, tool, package, args);
            using Stream s = Decompressors.OpenDetected(new MemoryStream(z), DecompressionLimits.Default, "hv_vmbus.ko", out CompressionFormat format);
            Assert.Equal(expected, format.ToString());
            var ms = new MemoryStream();
            s.CopyTo(ms);
            Assert.Equal(module, ms.ToArray());
        }

        [Fact]
        public void Passes_uncompressed_data_through()
        {
            byte[] elf = Make("binary", 50_000);
            using Stream s = Decompressors.OpenDetected(new MemoryStream(elf), DecompressionLimits.Default, "hv_vmbus.ko", out CompressionFormat format);
            Assert.Equal(CompressionFormat.None, format);
            var ms = new MemoryStream();
            s.CopyTo(ms);
            Assert.Equal(elf, ms.ToArray());
        }
    }
}
