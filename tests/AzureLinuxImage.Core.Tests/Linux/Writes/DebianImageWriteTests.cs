using System;
using System.IO;
using System.Linq;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Linux.Writes.WritableTestImages;

namespace AzureLinuxImage.Tests.Linux.Writes
{
    /// <summary>The two real Debian 12 images of build-debian-image.sh (GPT + ext4, MBR + XFS), built once for this class.</summary>
    public sealed class DebianWriteImagesFixture : IDisposable
    {
        private readonly TempDirectory? temp;

        public DebianWriteImagesFixture()
        {
            string script = Repository.File("tests/fixtures/build-debian-image.sh");
            string cache = ExternalTool.DebianRootfsCache;
            if (Environment.UserName != "root" || ExternalTool.Find("debootstrap") == null || ExternalTool.Find("mkfs.xfs") == null)
            {
                Problem = "build-debian-image.sh needs root, debootstrap and xfsprogs.";
                return;
            }
            if (!File.Exists(Path.Combine(cache, ".complete")) && !ExternalTool.InCi)
            {
                Problem = "the Debian rootfs cache is not built yet (" + cache + ").";
                return;
            }
            temp = new TempDirectory();
            Ext4 = temp.File("debian-gpt-ext4.raw");
            Xfs = temp.File("debian-mbr-xfs.raw");
            ExternalTool.Run("/bin/bash", new[] { script, Ext4 }, timeoutSeconds: 900);
            ExternalTool.Run("/bin/bash", new[] { script, Xfs, "--fs", "xfs", "--table", "mbr" }, timeoutSeconds: 900);
        }

        public string? Ext4 { get; }

        public string? Xfs { get; }

        public string? Problem { get; }

        public string Folder => temp!.Path;

        public void Require()
        {
            if (Problem != null)
            {
                ExternalTool.Unavailable(Problem);
            }
        }

        public void Dispose() => temp?.Dispose();
    }

    /// <summary>
    /// Issue 17's proof on the real Debian 12 images: waagent.conf and other files edited through the CLI,
    /// then e2fsck -fn / xfs_repair -n clean and debugfs / xfs_db showing the new content; a refused edit
    /// and -Destination leave the image byte-identical.
    /// </summary>
    public class DebianImageWriteTests : IClassFixture<DebianWriteImagesFixture>
    {
        private readonly DebianWriteImagesFixture images;

        public DebianImageWriteTests(DebianWriteImagesFixture images)
        {
            this.images = images;
        }

        private static ToolResult Cli(string? stdin, params string[] args) =>
            ExternalTool.Run("dotnet", new[] { Repository.CliDll }.Concat(args).ToArray(), check: false, stdin: stdin);

        private static (long Offset, long Length) Partition(string disk, int number)
        {
            var p = Partitions.PartitionTableTests.SfdiskJson(disk)[number - 1];
            return (p.Start * 512, p.Size * 512);
        }

        [Fact]
        public void Gpt_ext4_waagent_and_files_edited_offline_pass_e2fsck_and_read_back_in_debugfs()
        {
            images.Require();
            string disk = images.Ext4!;
            var (root, _) = Partition(disk, 3);
            ToolResult r = Cli(null, "waagent", "set", disk, "--azure-recommended", "Provisioning.Agent=waagent");
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Equal(0, Cli("Authorized uses only.\n", "write", disk, "/etc/issue.net").ExitCode);
            Assert.Equal(0, Cli(null, "mkdir", disk, "/etc/cloud/cloud.cfg.d", "-p").ExitCode);
            Assert.Equal(0, Cli("datasource_list: [ Azure ]\n", "write", disk, "/etc/cloud/cloud.cfg.d/90-azure.cfg").ExitCode);
            Assert.Equal(0, Cli(null, "ln", disk, "/lib/systemd/system/serial-getty@.service", "/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service").ExitCode);
            AssertExtClean(disk, root);
            string conf = DebugfsCat(disk, root, "/etc/waagent.conf");
            Assert.Contains("ResourceDisk.EnableSwap=y\n", conf);
            Assert.Contains("ResourceDisk.SwapSizeMB=2048\n", conf);
            Assert.Contains("Provisioning.Agent=waagent\n", conf);
            Assert.Contains("# Microsoft Azure Linux Agent Configuration", conf); // comments kept
            Assert.Equal("Authorized uses only.\n", DebugfsCat(disk, root, "/etc/issue.net"));
            Assert.Equal("datasource_list: [ Azure ]\n", DebugfsCat(disk, root, "/etc/cloud/cloud.cfg.d/90-azure.cfg"));
            // And our own reader sees the agent settings as R-AGENT-5 wants them.
            ToolResult get = Cli(null, "waagent", "get", disk, "--json");
            Assert.Contains("\"meetsAzureRecommendation\": true", get.StdOut, StringComparison.OrdinalIgnoreCase);
        }

        [Fact]
        public void Mbr_xfs_waagent_edited_in_place_passes_xfs_repair_and_reads_back_in_xfs_db()
        {
            images.Require();
            string disk = images.Xfs!;
            var (root, length) = Partition(disk, 1);
            ToolResult r = Cli(null, "waagent", "set", disk, "ResourceDisk.EnableSwap=y", "ResourceDisk.SwapSizeMB=4096");
            Assert.True(r.ExitCode == 0, r.StdErr);
            string before = Hash(disk);
            ToolResult refused = Cli("new\n", "write", disk, "/etc/new-file");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("XfsCreateNotSupported", refused.StdErr);
            Assert.Contains("/etc/new-file", refused.StdErr);
            Assert.Equal(before, Hash(disk));

            string part = Extract(disk, root, length, Path.Combine(images.Folder, "xfs-root.part"));
            try
            {
                AssertXfsClean(part);
                string size = ExternalTool.Run("xfs_db", new[] { "-r", "-f", "-c", "path /etc/waagent.conf", "-c", "print core.size", part }).StdOut;
                long bytes = long.Parse(size.Split('=')[1].Trim());
                string conf = XfsDbCat(part, "/etc/waagent.conf", bytes);
                Assert.Contains("ResourceDisk.EnableSwap=y\n", conf);
                Assert.Contains("ResourceDisk.SwapSizeMB=4096\n", conf);
            }
            finally
            {
                File.Delete(part);
            }
        }

        [Fact]
        public void Destination_copy_of_the_debian_image_leaves_the_source_untouched()
        {
            images.Require();
            string disk = images.Ext4!;
            var (root, _) = Partition(disk, 3);
            string before = Hash(disk);
            string copy = Path.Combine(images.Folder, "edited.raw");
            try
            {
                ToolResult r = Cli("edited\n", "write", disk, "/etc/hostname", "--destination", copy);
                Assert.True(r.ExitCode == 0, r.StdErr);
                Assert.Equal(before, Hash(disk));
                Assert.Equal("edited\n", DebugfsCat(copy, root, "/etc/hostname"));
                AssertExtClean(copy, root);
            }
            finally
            {
                File.Delete(copy);
            }
        }
    }
}
