using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;
using Xunit;
using static AzureLinuxImage.Tests.Readiness.DebianReadinessTests;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>
    /// GRUB on a btrfs root names the kernel by its path inside the top level (`/@/boot/vmlinuz-…` on Ubuntu and
    /// openSUSE layouts, `/root/boot/vmlinuz-…` on Fedora's without a separate /boot) and adds rootflags=subvol=.
    /// The facts must find the same kernel and the rules the same outcomes as for `/boot/vmlinuz-…`.
    /// </summary>
    public sealed class BtrfsBootPathTests
    {
        [Theory]
        [InlineData("/@/boot", "@")]
        [InlineData("/root/boot", "root")]
        public void Subvolume_prefixed_kernel_paths_and_rootflags_are_understood(string bootPrefix, string subvolume)
        {
            using LinuxRoot root = LinuxRoot.Debian(azureReady: true);
            var plain = Check(root.Path);
            string cfg = root.Read("boot/grub/grub.cfg");
            root.Write("boot/grub/grub.cfg", cfg
                .Replace("linux /boot/", $"linux {bootPrefix}/")
                .Replace("initrd /boot/", $"initrd {bootPrefix}/")
                .Replace(" ro ", $" ro rootflags=subvol={subvolume} "));
            var facts = new LinuxFacts(new HostDirectoryFileSystem(root.Path));
            Assert.StartsWith(bootPrefix + "/vmlinuz-", facts.Boot.Value!.DefaultEntry!.KernelPath);
            Assert.Contains($"rootflags=subvol={subvolume}", facts.Boot.Value!.EffectiveCommandLine!.Text);
            Assert.Equal(root.KernelVersion, facts.DefaultKernel!.Version.Text);
            var onBtrfs = Check(root.Path);
            Assert.Equal(plain.Count, onBtrfs.Count);
            for (int i = 0; i < plain.Count; i++)
            {
                Assert.True(plain[i].RuleId == onBtrfs[i].RuleId && plain[i].Status == onBtrfs[i].Status, $"{onBtrfs[i]} (was {plain[i]})");
            }
            Assert.Equal(ReadinessStatus.Pass, Rule(onBtrfs, "BootConfigurationInSync").Status);
        }
    }
}
