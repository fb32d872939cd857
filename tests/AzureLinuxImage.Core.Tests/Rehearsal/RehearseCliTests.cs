using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Xml.Linq;
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

        /// <summary>
        /// --serial-log, --admin-username (alias of --user) and --custom-data-file through the built CLI, on the boot sector
        /// that QEMU runs and leaves within a second: the log holds its console, the JSON names it, the user asked for is
        /// the alias's value, and the provisioning CD kept with --keep carries the file's bytes base64 in ovf-env.xml.
        /// </summary>
        [Fact]
        public void SerialLogAdminUsernameAndCustomDataFileReachTheRehearsal()
        {
            ExternalTool.Require("qemu-system-x86_64", "qemu-system-x86");
            string isoinfo = ExternalTool.Require("isoinfo", "genisoimage");
            using var dir = new TempDirectory();
            BootSectorImage.Write(dir.File("disk.raw"), tripleFault: true);
            byte[] custom = { 0x23, 0x21, 0x2f, 0x62, 0x69, 0x6e, 0x0a, 0x00, 0xff, 0x1f, 0x8b };
            File.WriteAllBytes(dir.File("custom.bin"), custom);

            ToolResult run = AzLinux.Run("rehearse", dir.File("disk.raw"), "--no-kvm", "--serial-log", dir.File("console.log"), "--admin-username", "bob",
                "--custom-data-file", dir.File("custom.bin"), "--keep", dir.File("work"), "--json");

            Assert.True(run.ExitCode == 1, run.StdErr + run.StdOut); // ran, not ready
            using JsonDocument doc = JsonDocument.Parse(run.StdOut);
            JsonElement r = doc.RootElement;
            Assert.False(r.GetProperty("ready").GetBoolean());
            Assert.Equal(dir.File("console.log"), r.GetProperty("consoleLog").GetString());
            Assert.Equal("bob", r.GetProperty("userName").GetString());
            Assert.False(r.GetProperty("customDataWritten").GetBoolean());
            Assert.Contains(BootSectorImage.LineOne, File.ReadAllText(dir.File("console.log")));
            ToolResult xml = ExternalTool.Run(isoinfo, new[] { "-i", dir.File("work/provisioning.iso"), "-x", "/OVF-ENV.XML;1" });
            XNamespace wa = "http://schemas.microsoft.com/windowsazure";
            XElement set = XDocument.Parse(xml.StdOut).Descendants(wa + "LinuxProvisioningConfigurationSet").Single();
            Assert.Equal("bob", set.Element(wa + "UserName")!.Value);
            Assert.Equal(custom, Convert.FromBase64String(set.Element(wa + "CustomData")!.Value));
        }

        [Fact]
        public void AnExistingSerialLogNeedsForce()
        {
            ExternalTool.Require("qemu-system-x86_64", "qemu-system-x86");
            using var dir = new TempDirectory();
            BootSectorImage.Write(dir.File("disk.raw"), tripleFault: true);
            File.WriteAllText(dir.File("console.log"), "keep me");

            ToolResult refused = AzLinux.Run("rehearse", dir.File("disk.raw"), "--no-kvm", "--serial-log", dir.File("console.log"), "--custom-data", "hello");
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("DestinationExists", refused.StdErr);
            Assert.Contains("--force", refused.StdErr);
            Assert.Equal("keep me", File.ReadAllText(dir.File("console.log")));

            ToolResult forced = AzLinux.Run("rehearse", dir.File("disk.raw"), "--no-kvm", "--serial-log", dir.File("console.log"), "--custom-data", "hello", "--force");
            Assert.True(forced.ExitCode == 1, forced.StdErr + forced.StdOut);
            Assert.Contains("Custom data:  NOT written back", forced.StdOut);
            Assert.Contains("Serial log:   " + dir.File("console.log"), forced.StdOut);
            Assert.StartsWith(BootSectorImage.LineOne, File.ReadAllText(dir.File("console.log")));
        }

        [Fact]
        public void CustomDataIsGivenOnceAndItsFileMustExist()
        {
            using var dir = new TempDirectory();
            File.WriteAllBytes(dir.File("disk.raw"), new byte[1 << 20]);
            File.WriteAllText(dir.File("custom.txt"), "x");
            ToolResult both = AzLinux.Run("rehearse", dir.File("disk.raw"), "--custom-data", "x", "--custom-data-file", dir.File("custom.txt"));
            Assert.Equal(2, both.ExitCode);
            Assert.Contains("CustomDataTwice", both.StdErr);
            ToolResult missing = AzLinux.Run("rehearse", dir.File("disk.raw"), "--custom-data-file", dir.File("nope.txt"));
            Assert.Equal(2, missing.ExitCode);
            Assert.Contains("CustomDataFileNotFound", missing.StdErr);
            Assert.Contains("nope.txt", missing.StdErr);
        }
    }
}
