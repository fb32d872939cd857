using System;
using System.IO;
using System.Linq;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Linux
{
    /// <summary>The Debian 12 root laid out as Fedora does: GPT, ESP, /boot on ext4, btrfs subvolumes root and home (build-debian-image.sh --fs btrfs).</summary>
    public sealed class BtrfsDebianImageFixture : DebianImageFixture
    {
        public BtrfsDebianImageFixture()
            : base(new[] { "--fs", "btrfs" })
        {
        }
    }

    /// <summary>A Fedora-shaped btrfs image seen through the Linux view, the CLI and the readiness check, against the ext4 variant of the same root.</summary>
    public class BtrfsDebianImageTests : IClassFixture<BtrfsDebianImageFixture>, IClassFixture<DebianImageFixture>
    {
        private readonly BtrfsDebianImageFixture btrfs;
        private readonly DebianImageFixture ext4;

        public BtrfsDebianImageTests(BtrfsDebianImageFixture btrfs, DebianImageFixture ext4)
        {
            this.btrfs = btrfs;
            this.ext4 = ext4;
        }

        [Fact]
        public void The_root_and_home_subvolumes_and_boot_are_mounted_from_fstab()
        {
            string path = btrfs.Require();
            using LinuxImage image = LinuxImage.Open(path);
            Assert.Equal(new[] { PartitionKind.BiosBoot, PartitionKind.EfiSystem, PartitionKind.LinuxFileSystem, PartitionKind.LinuxFileSystem }, image.Table.Partitions.Select(p => p.Kind).ToArray());
            VolumeInfo volume = image.Volumes.Single(v => v.FileSystem.Kind == FileSystemKind.Btrfs);
            Assert.Equal(new[] { "home", "root" }, volume.Subvolumes.Select(s => s.Path).OrderBy(p => p, StringComparer.Ordinal));
            Assert.All(volume.Subvolumes, s => Assert.False(s.IsSnapshot || s.IsDefault));

            MountInfo root = image.Mounts.Single(m => m.MountPoint == "/");
            Assert.Equal("root", root.Subvolume);
            Assert.Equal("btrfs", root.Type);
            Assert.Null(root.Problem);
            MountInfo home = image.Mounts.Single(m => m.MountPoint == "/home");
            Assert.True(home.Mounted);
            Assert.Equal("home", home.Subvolume);
            MountInfo boot = image.Mounts.Single(m => m.MountPoint == "/boot");
            Assert.True(boot.Mounted);
            Assert.Equal("ext4", boot.Type);

            IFileSystem fs = image.RequireFileSystem();
            Assert.Contains("VERSION_ID=\"12\"", new StreamReader(fs.OpenRead("/etc/os-release")).ReadToEnd());
            Assert.Contains(fs.List("/boot"), e => e.Name.StartsWith("vmlinuz-", StringComparison.Ordinal));
            Assert.Equal("/usr/bin/bash", fs.GetEntry("/bin/bash")!.Path);
            Assert.Contains("rootflags=subvol=root", new StreamReader(fs.OpenRead("/boot/grub/grub.cfg")).ReadToEnd());
            Assert.DoesNotContain(image.Warnings, w => w.Contains("fstab", StringComparison.Ordinal));
        }

        [Fact]
        public void Test_reports_the_same_findings_as_the_ext4_variant()
        {
            string b = btrfs.Require();
            string e = ext4.Require();
            var onBtrfs = TestLinuxImageReadiness.Run(new LinuxImageReadinessOptions { ImagePath = b }, new SilentContext());
            var onExt4 = TestLinuxImageReadiness.Run(new LinuxImageReadinessOptions { ImagePath = e }, new SilentContext());
            Assert.True(onExt4.Count > 20);
            Assert.Equal(onExt4.Select(f => $"{f.RuleId} {f.Status}"), onBtrfs.Select(f => $"{f.RuleId} {f.Status}"));
            Assert.DoesNotContain(onBtrfs, f => f.Status == ReadinessStatus.Unknown && !onExt4.Any(x => x.RuleId == f.RuleId && x.Status == ReadinessStatus.Unknown));
            Assert.Contains(onBtrfs, f => f.RuleId == "InitrdHyperVDrivers" && f.Status == ReadinessStatus.Pass);
        }

        [Fact]
        public void Cli_info_ls_cat_and_test_work_on_the_btrfs_root()
        {
            string path = btrfs.Require();
            ToolResult info = AzLinux.Run("info", path);
            Assert.Equal(0, info.ExitCode);
            Assert.Contains("btrfs", info.StdOut);
            Assert.Matches(@"subvolume\s+\d+ root", info.StdOut);
            Assert.Contains("/home <- UUID=", info.StdOut);
            Assert.Contains("subvolume home", info.StdOut);
            ToolResult ls = AzLinux.Run("ls", path, "/home");
            Assert.Equal(0, ls.ExitCode);
            ToolResult cat = AzLinux.Run("cat", path, "/etc/fstab");
            Assert.Equal(0, cat.ExitCode);
            Assert.Contains("subvol=root", cat.StdOut);
            ToolResult test = AzLinux.Run("test", path, "--json");
            Assert.Equal(1, test.ExitCode);
            Assert.Contains("\"HyperVDrivers\"", test.StdOut);
            var waagent = GetWaagentConfig.FromImage(path);
            Assert.Equal("/etc/waagent.conf", waagent.ConfigPath);
        }
    }
}
