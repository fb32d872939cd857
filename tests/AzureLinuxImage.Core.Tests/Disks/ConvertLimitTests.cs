using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>
    /// Sources convert cannot turn into a useful output (issue 16): refused with a typed error naming the
    /// cause, before anything is written, and nothing is left at the destination (no output, no partial).
    /// </summary>
    public class ConvertLimitTests
    {
        private const long TiB = 1L << 40;

        private static void AssertNothingWritten(TempDirectory dir)
        {
            Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".vhd") || f.EndsWith(".partial"));
        }

        [Theory]
        [InlineData("qcow2", "0")]
        [InlineData("vdi", "0")]
        [InlineData("raw", "256")]
        public void A_source_smaller_than_one_sector_is_refused_naming_the_source_and_nothing_is_written(string format, string size)
        {
            using var dir = new TempDirectory();
            string source = dir.File("empty." + format);
            if (format == "raw")
            {
                // qemu-img rounds sizes up to a sector; a raw file can be any length.
                File.WriteAllBytes(source, new byte[int.Parse(size)]);
            }
            else
            {
                ExternalTool.QemuImg("create", "-f", format, source, size);
            }

            var e = Assert.Throws<AzureLinuxImageException>(() => ConvertToFixedVhd.Run(source, dir.File("out.vhd"), false, false, new SilentContext()));

            Assert.Equal("SourceEmpty", e.ErrorId);
            Assert.Equal(source, e.FilePath);
            Assert.Contains(source, e.Message);
            AssertNothingWritten(dir);
        }

        [Fact]
        public void The_CLI_refuses_an_empty_source_with_exit_1_and_leaves_no_file()
        {
            using var dir = new TempDirectory();
            string source = dir.File("empty.qcow2");
            ExternalTool.QemuImg("create", "-f", "qcow2", source, "0");

            ToolResult r = AzLinux.Run("convert", source, dir.File("out.vhd"));

            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains(source, r.StdErr);
            Assert.DoesNotContain("Unhandled", r.StdErr);
            AssertNothingWritten(dir);
        }

        [Fact]
        public void A_source_beyond_Azures_32_TiB_is_refused_early_with_the_limit_named()
        {
            using var dir = new TempDirectory();
            string source = dir.File("huge.vhdx");
            ExternalTool.QemuImg("create", "-f", "vhdx", source, "64T");

            var e = Assert.Throws<AzureLinuxImageException>(() => ConvertToFixedVhd.Run(source, dir.File("out.vhd"), false, false, new SilentContext()));

            Assert.Equal("ExceedsAzureDiskLimit", e.ErrorId);
            Assert.Contains("32 TiB", e.Message);
            AssertNothingWritten(dir);
        }

        [Fact]
        public void An_output_over_2_TiB_warns_that_an_OS_disk_needs_Gen2()
        {
            using var dir = new TempDirectory();
            string source = dir.File("big.qcow2");
            ExternalTool.QemuImg("create", "-f", "qcow2", source, "3T");
            var context = new SilentContext();

            ConvertToFixedVhd.Run(source, dir.File("out.vhd"), false, false, context);

            Assert.Contains(context.Warnings, w => w.Contains("Generation 2") && w.Contains("2 TiB"));
            Assert.Equal((3 * TiB) + 512, new FileInfo(dir.File("out.vhd")).Length);
        }

        [Fact]
        public void An_output_the_destination_file_system_cannot_hold_is_a_typed_error_and_leaves_nothing()
        {
            using var dir = new TempDirectory();
            // ext4 with 4 KiB blocks holds files up to 16 TiB; 20 TiB is within Azure's limit but not ext4's.
            string probe = dir.File("probe");
            bool holds;
            using (var f = new FileStream(probe, FileMode.CreateNew))
            {
                try
                {
                    f.SetLength((20 * TiB) + 512);
                    holds = true;
                }
                catch (System.Exception e) when (e is IOException || e is System.ArgumentOutOfRangeException)
                {
                    holds = false;
                }
            }
            File.Delete(probe);
            if (holds)
            {
                Assert.Skip($"the file system of {dir.Path} holds 20 TiB files; this test needs one that does not (ext4).");
            }
            string source = dir.File("big.qcow2");
            ExternalTool.QemuImg("create", "-f", "qcow2", source, "20T");

            var e2 = Assert.Throws<AzureLinuxImageException>(() => ConvertToFixedVhd.Run(source, dir.File("out.vhd"), false, false, new SilentContext()));

            Assert.Equal("DestinationFileTooLarge", e2.ErrorId);
            Assert.Equal(dir.File("out.vhd"), e2.FilePath);
            AssertNothingWritten(dir);
            ToolResult r = AzLinux.Run("convert", source, dir.File("out.vhd"));
            Assert.NotEqual(0, r.ExitCode);
            Assert.DoesNotContain("Unhandled", r.StdErr);
            Assert.Contains("cannot hold", r.StdErr);
            AssertNothingWritten(dir);
        }
    }
}
