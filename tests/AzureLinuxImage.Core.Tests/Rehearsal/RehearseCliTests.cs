using System.IO;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Rehearsal
{
    /// <summary>azlinux rehearse through the built CLI: its errors and dry run (the boot itself: RehearsalBootTests).</summary>
    public class RehearseCliTests
    {
        [Fact]
        public void MissingImageExitsTwoNamingIt()
        {
            using var dir = new TempDirectory();
            ToolResult run = AzLinux.Run("rehearse", dir.File("nope.raw"));
            Assert.Equal(2, run.ExitCode);
            Assert.Contains("ImageNotFound", run.StdErr);
            Assert.Contains("nope.raw", run.StdErr);
        }

        [Fact]
        public void QemuMissingExitsTwoWithAnInstallHintAndWritesNothing()
        {
            using var dir = new TempDirectory();
            File.WriteAllBytes(dir.File("disk.raw"), new byte[1 << 20]);
            ToolResult run = AzLinux.Run("rehearse", dir.File("disk.raw"), "--qemu", dir.File("no-qemu"), "--keep", dir.File("work"));
            Assert.Equal(2, run.ExitCode);
            Assert.Contains("QemuNotFound", run.StdErr);
            Assert.Contains("apt-get install qemu-system-x86", run.StdErr);
            Assert.False(Directory.Exists(dir.File("work")));
        }

        [Fact]
        public void BadGenerationIsRefused()
        {
            using var dir = new TempDirectory();
            File.WriteAllBytes(dir.File("disk.raw"), new byte[1 << 20]);
            ToolResult run = AzLinux.Run("rehearse", dir.File("disk.raw"), "--generation", "3");
            Assert.Equal(2, run.ExitCode);
            Assert.Contains("InvalidGeneration", run.StdErr);
        }

        [Fact]
        public void DryRunChecksQemuAndBootsNothing()
        {
            ExternalTool.Require("qemu-system-x86_64", "qemu-system-x86");
            using var dir = new TempDirectory();
            File.WriteAllBytes(dir.File("disk.raw"), new byte[1 << 20]);
            ToolResult run = AzLinux.Run("rehearse", dir.File("disk.raw"), "--dry-run", "--verbose", "--keep", dir.File("work"));
            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            Assert.False(Directory.Exists(dir.File("work")));
            Assert.Equal(new byte[1 << 20], File.ReadAllBytes(dir.File("disk.raw")));
        }
    }
}
