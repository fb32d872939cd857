using System.IO;
using System.Linq;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Formats
{
    /// <summary>
    /// Every qcow2, VDI and VMDK subformat qemu-img makes, converted to a fixed VHD by ConvertTo-FixedVhd
    /// (and once through the real azlinux CLI) and checked by 'qemu-img compare' against the source image.
    /// </summary>
    public sealed class FormatConversionTests
    {
        private const long Size = (24L << 20) + 1536;

        public static TheoryData<string, string, long> Sources => new TheoryData<string, string, long>
        {
            { "qcow2", "-o compat=0.10", Size },
            { "qcow2", "-o compat=1.1", Size },
            { "qcow2", "-c", Size },
            { "qcow2", "-c -o compression_type=zstd", Size },
            { "qcow2", "-o extended_l2=on", Size },
            { "vdi", "-o static=on", Size },
            { "vdi", "-o static=off", Size },
            { "vmdk", "-o subformat=monolithicSparse", Size },
            { "vmdk", "-o subformat=monolithicFlat", Size },
            { "vmdk", "-o subformat=streamOptimized", Size },
            { "vmdk", "-o subformat=twoGbMaxExtentSparse", (2L << 30) + (8L << 20) },
            { "vmdk", "-o subformat=twoGbMaxExtentFlat", (2L << 30) + (8L << 20) },
        };

        [Theory]
        [MemberData(nameof(Sources))]
        public void ConvertedFixedVhdIsIdenticalToTheSource(string format, string options, long size)
        {
            using var dir = new TempDirectory();
            RawSource raw = RawSource.Create(dir.File("src.raw"), size, 61, new[] { ((2L << 30) - 1000, 5000) });
            string image = dir.File("disk." + format);
            ExternalTool.QemuImg(new[] { "convert", "-f", "raw", "-O", format }.Concat(options.Split(' ')).Concat(new[] { raw.Path, image }).ToArray());
            string out_ = dir.File("out.vhd");

            DiskImageInfo info = ConvertToFixedVhd.Run(image, out_, false, false, new SilentContext())!;

            Assert.True(info.AzureUploadReady, string.Join("; ", info.NotReadyReasons));
            Assert.Equal((size + (1 << 20) - 1) >> 20 << 20, info.VirtualSize);
            Assert.Contains("Images are identical", ExternalTool.QemuImg("compare", "-f", format, "-F", "vpc", image, out_).StdOut);
        }

        [Fact]
        public void AzlinuxConvertsAQcow2OverlayEndToEnd()
        {
            using var dir = new TempDirectory();
            RawSource raw = RawSource.Create(dir.File("src.raw"), Size, 62);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "qcow2", "-c", raw.Path, dir.File("base.qcow2"));
            string overlay = dir.File("x.qcow2");
            ExternalTool.QemuImg("create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", overlay);
            ExternalTool.Run(ExternalTool.Require("qemu-io", "qemu-utils"), new[] { "-f", "qcow2", "-c", "write -P 0x42 1048576 65536", overlay });

            ToolResult result = AzLinux.Run("convert", overlay, dir.File("out.vhd"));

            Assert.True(result.ExitCode == 0, result.StdErr + result.StdOut);
            Assert.Contains("Images are identical", ExternalTool.QemuImg("compare", "-f", "qcow2", "-F", "vpc", overlay, dir.File("out.vhd")).StdOut);
            Assert.True(File.Exists(dir.File("base.qcow2")));
        }
    }
}
