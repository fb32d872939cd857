using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Linux.Writes;
using Xunit;
using static AzureLinuxImage.Tests.Linux.Writes.WritableTestImages;

namespace AzureLinuxImage.Tests.Repair
{
    /// <summary>
    /// Issue 18's proof on the real Debian 12 stock images of build-debian-image.sh: Repair then
    /// Test-LinuxImageReadiness, e2fsck -fn / xfs_repair -n clean; XFS takes the edits that fit in place and
    /// refuses the rest clearly; generalize removes planted state. Changes go to copies (-Destination), so the
    /// fixture's images and the source stay byte-identical.
    /// </summary>
    public sealed class RepairImageTests : IClassFixture<DebianWriteImagesFixture>
    {
        private readonly DebianWriteImagesFixture images;

        public RepairImageTests(DebianWriteImagesFixture images)
        {
            this.images = images;
        }

        private static (long Offset, long Length) Partition(string disk, int number)
        {
            var p = Partitions.PartitionTableTests.SfdiskJson(disk)[number - 1];
            return (p.Start * 512, p.Size * 512);
        }

        private static Dictionary<string, ReadinessFinding> Test(string image) =>
            TestLinuxImageReadiness.Run(new LinuxImageReadinessOptions { ImagePath = image }, new SilentContext()).ToDictionary(f => f.RuleId);

        [Fact]
        public void Gpt_ext4_stock_image_repaired_passes_every_rule_with_an_offline_fix_and_e2fsck()
        {
            images.Require();
            string source = images.Ext4!;
            string hash = Hash(source);
            string copy = Path.Combine(images.Folder, "repaired-ext4.raw");
            IReadOnlyList<LinuxImageChange> changes = RepairLinuxImage.Run(new RepairLinuxImageOptions { ImagePath = source, Destination = copy }, new SilentContext());
            Assert.Equal(hash, Hash(source));
            Assert.All(changes.Where(c => c.Action != LinuxImageChangeAction.NotFixed), c => Assert.True(c.Applied));
            var after = Test(copy);
            // Left: the container (a raw file is converted, not repaired: ConvertTo-FixedVhd) and a package (eject).
            Assert.Equal(new[] { "FixedVhd", "WaagentEject" }, after.Values.Where(f => f.Status == ReadinessStatus.Fail).Select(f => f.RuleId).OrderBy(x => x, StringComparer.Ordinal).ToArray());
            Assert.Contains(changes, c => c.Action == LinuxImageChangeAction.NotFixed && c.RuleId == "WaagentEject");
            foreach (string rule in new[] { "SerialConsole", "QuietBoot", "WaagentResourceDiskSwap", "ProvisioningAgentConflict", "DhcpPrimaryNic", "SshClientAliveInterval", "BootConfigurationInSync" })
            {
                Assert.True(after[rule].Status == ReadinessStatus.Pass, $"{rule}: {after[rule].Message}");
            }
            var (root, _) = Partition(copy, 3);
            AssertExtClean(copy, root);
            Assert.Contains("console=ttyS0,115200n8", DebugfsCat(copy, root, "/boot/grub/grub.cfg"));
            Assert.Equal("auto eth0\niface eth0 inet dhcp\n", DebugfsCat(copy, root, "/etc/network/interfaces.d/eth0"));
            Assert.Contains(changes, c => c.Action == LinuxImageChangeAction.NotFixed && c.RuleId == "FixedVhd");
        }

        [Fact]
        public void Mbr_xfs_takes_the_edits_that_fit_in_place_and_refuses_the_rest_clearly()
        {
            images.Require();
            string source = images.Xfs!;
            string copy = Path.Combine(images.Folder, "repaired-xfs.raw");
            IReadOnlyList<LinuxImageChange> changes = RepairLinuxImage.Run(new RepairLinuxImageOptions { ImagePath = source, Destination = copy }, new SilentContext());
            var after = Test(copy);
            foreach (string rule in new[] { "SerialConsole", "QuietBoot", "WaagentResourceDiskSwap", "ProvisioningAgentConflict" })
            {
                Assert.True(after[rule].Status == ReadinessStatus.Pass, $"{rule}: {after[rule].Message}");
            }
            // Every refusal names the file system's reason; none is silent.
            foreach (LinuxImageChange refused in changes.Where(c => c.Description.StartsWith("Refused by the image's file system", StringComparison.Ordinal)))
            {
                Assert.Equal(LinuxImageChangeAction.NotFixed, refused.Action);
                Assert.Contains("XFS", refused.Description);
                Assert.NotEqual(ReadinessStatus.Pass, after.TryGetValue(refused.RuleId!, out ReadinessFinding? f) ? f.Status : ReadinessStatus.Fail);
            }
            var (offset, length) = Partition(copy, 1);
            AssertXfsClean(Extract(copy, offset, length, Path.Combine(images.Folder, "repaired-xfs.part")));
            File.Delete(Path.Combine(images.Folder, "repaired-xfs.part"));
        }

        [Fact]
        public void Generalize_on_the_ext4_image_removes_the_state_and_e2fsck_stays_clean()
        {
            images.Require();
            string copy = Path.Combine(images.Folder, "generalized-ext4.raw");
            IReadOnlyList<LinuxImageChange> changes = ClearLinuxImageState.Run(new ClearLinuxImageStateOptions { ImagePath = images.Ext4!, Destination = copy }, new SilentContext());
            Assert.Contains(changes, c => c.ItemPath == "/etc/machine-id" && c.Action == LinuxImageChangeAction.Truncated && c.Applied);
            Assert.Contains(changes, c => c.ItemPath == "/var/lib/dbus/machine-id" && c.Action == LinuxImageChangeAction.Created && c.After == "-> /etc/machine-id");
            Assert.Contains(changes, c => c.ItemPath!.StartsWith("/etc/ssh/ssh_host_", StringComparison.Ordinal) && c.Action == LinuxImageChangeAction.Removed);
            var (root, _) = Partition(copy, 3);
            AssertExtClean(copy, root);
            Assert.Equal(string.Empty, DebugfsCat(copy, root, "/etc/machine-id"));
            Assert.Contains("/etc/machine-id", DebugfsStat(copy, root, "/var/lib/dbus/machine-id"));
            var after = Test(copy);
            foreach (string rule in new[] { "MachineIdBlank", "SshHostKeysRegenerated", "NoStaleProvisioningState", "NoDhcpLeases", "NoShellHistory" })
            {
                Assert.True(after[rule].Status == ReadinessStatus.Pass, $"{rule}: {after[rule].Message}");
            }
        }
    }
}
