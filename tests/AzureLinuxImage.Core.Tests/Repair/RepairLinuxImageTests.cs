using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Readiness;
using Xunit;

namespace AzureLinuxImage.Tests.Repair
{
    /// <summary>An IOperationContext that answers ShouldProcess with a fixed answer and records what it was asked.</summary>
    internal sealed class AnswerContext : IOperationContext
    {
        private readonly bool answer;

        public AnswerContext(bool answer) => this.answer = answer;

        public List<string> Asked { get; } = new List<string>();

        public CancellationToken Cancellation => CancellationToken.None;

        public bool ShouldProcess(string target, string action)
        {
            Asked.Add(action);
            return answer;
        }

        public void Progress(string activity, string status, long done, long total)
        {
        }

        public void Verbose(string message)
        {
        }

        public void Warning(string message)
        {
        }
    }

    /// <summary>Repair-LinuxImage on the real Debian 12 root and on planted defects (issue 18's proof), on -RootPath.</summary>
    public sealed class RepairLinuxImageTests
    {
        private static IReadOnlyList<ReadinessFinding> Test(string root, params string[] rules) =>
            TestLinuxImageReadiness.Run(new LinuxImageReadinessOptions { RootPath = root, Rules = rules.ToList() }, new SilentContext());

        private static IReadOnlyList<LinuxImageChange> Repair(string root, bool apply = true, params string[] rules) =>
            RepairLinuxImage.Run(new RepairLinuxImageOptions { RootPath = root, Rules = rules.ToList() }, new AnswerContext(apply));

        private static ReadinessStatus Status(string root, string rule) => Test(root, rule).Single().Status;

        [Fact]
        public void Debian_stock_root_every_finding_with_an_offline_fix_passes_afterwards()
        {
            using LinuxRoot r = RepairRoots.Debian();
            var before = Test(r.Path).ToDictionary(f => f.RuleId);
            Assert.Equal(ReadinessStatus.Fail, before["SerialConsole"].Status);
            Assert.Equal(ReadinessStatus.Fail, before["WaagentResourceDiskSwap"].Status);
            Assert.Equal(ReadinessStatus.Fail, before["ProvisioningAgentConflict"].Status);
            Assert.Equal(ReadinessStatus.Warning, before["QuietBoot"].Status);

            IReadOnlyList<LinuxImageChange> changes = Repair(r.Path);
            var after = Test(r.Path).ToDictionary(f => f.RuleId);
            Assert.DoesNotContain(after.Values, f => f.Status == ReadinessStatus.Fail);
            foreach (string rule in new[] { "SerialConsole", "QuietBoot", "WaagentResourceDiskSwap", "ProvisioningAgentConflict", "SshClientAliveInterval", "DhcpPrimaryNic" })
            {
                Assert.True(after[rule].Status == ReadinessStatus.Pass, $"{rule}: {after[rule].Message}");
                Assert.Contains(changes, c => c.RuleId!.Split(',').Contains(rule) && c.Applied && c.Action != LinuxImageChangeAction.NotFixed);
            }
            // The edit reaches the generated grub.cfg too, so it applies without update-grub (BootConfigurationInSync passes).
            string grubCfg = r.Read("boot/grub/grub.cfg");
            Assert.Contains("console=ttyS0,115200n8", grubCfg);
            Assert.DoesNotContain(" quiet", grubCfg);
            Assert.Equal(ReadinessStatus.Pass, after["BootConfigurationInSync"].Status);
            // initramfs-tools: rootdelay is an unconditional sleep (issue 24): never added, and said so.
            Assert.DoesNotContain("rootdelay", grubCfg + r.Read("etc/default/grub"));
            Assert.NotEqual(ReadinessStatus.Warning, after["RootDelay"].Status);
            Assert.NotEqual(ReadinessStatus.Warning, after["EarlyPrintk"].Status);
            // Nothing configured the NIC: Debian's cloud-image way (issue 27).
            Assert.Equal("auto eth0\niface eth0 inet dhcp\n", r.Read("etc/network/interfaces.d/eth0"));
            Assert.Contains("net.ifnames=0", grubCfg);
            // Every change names the file and the lines.
            Assert.All(changes.Where(c => c.Action == LinuxImageChangeAction.Edited), c => Assert.True(c.ItemPath!.StartsWith("/") && (c.Before != null || c.After != null)));

            // A second run has nothing left to write.
            Assert.DoesNotContain(Repair(r.Path), c => c.Action != LinuxImageChangeAction.NotFixed);
        }

        [Fact]
        public void WhatIf_writes_nothing_and_shows_the_lines()
        {
            using LinuxRoot r = RepairRoots.Debian();
            var snapshot = RepairRoots.Snapshot(r.Path);
            var context = new AnswerContext(false);
            IReadOnlyList<LinuxImageChange> changes = RepairLinuxImage.Run(new RepairLinuxImageOptions { RootPath = r.Path }, context);
            Assert.Empty(RepairRoots.Diff(snapshot, RepairRoots.Snapshot(r.Path)));
            Assert.NotEmpty(changes);
            Assert.All(changes, c => Assert.False(c.Applied));
            string asked = Assert.Single(context.Asked);
            Assert.Contains("- GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"", asked);
            Assert.Contains("+ ResourceDisk.EnableSwap=y", asked);
        }

        [Fact]
        public void Sudoers_lines_are_commented_and_the_result_parses_with_visudo()
        {
            string visudo = ExternalTool.Require("visudo", "sudo");
            using LinuxRoot r = RepairRoots.Debian();
            r.Edit("etc/sudoers", t => t + "Defaults targetpw\nALL ALL=(ALL) ALL\n");
            r.Write("etc/sudoers.d/90-build", "Defaults   targetpw   # ask for the target's password\n");
            Assert.True(AzureLinuxImage.IO.UnixFileApi.TryApply(r.Full("etc/sudoers"), new AzureLinuxImage.IO.UnixOwnership(Convert.ToUInt32("440", 8), 0, 0), out _));
            Assert.Equal(ReadinessStatus.Fail, Status(r.Path, "SudoersTargetPw"));
            Assert.Equal(ReadinessStatus.Fail, Status(r.Path, "SudoersAllUsers"));
            IReadOnlyList<LinuxImageChange> changes = Repair(r.Path, true, "Sudoers*");
            Assert.Equal(3, changes.Count(c => c.Action == LinuxImageChangeAction.Edited));
            Assert.Equal(ReadinessStatus.Pass, Status(r.Path, "SudoersTargetPw"));
            Assert.Equal(ReadinessStatus.Pass, Status(r.Path, "SudoersAllUsers"));
            Assert.Contains("# ALL ALL=(ALL) ALL", r.Read("etc/sudoers"));
            foreach (string file in new[] { "etc/sudoers", "etc/sudoers.d/90-build" })
            {
                ToolResult check = ExternalTool.Run(visudo, new[] { "-c", "-f", r.Full(file) }, check: false);
                Assert.True(check.ExitCode == 0, check.StdOut + check.StdErr);
            }
            // The mode sudo insists on (0440) is kept.
            Assert.Equal(Convert.ToInt32("440", 8), (int)(AzureLinuxImage.IO.UnixFileApi.GetOwnership(r.Full("etc/sudoers"))!.Value.Mode));
        }

        [Fact]
        public void Swap_and_resume_kernel_device_names_udf_and_pinning_are_fixed()
        {
            using LinuxRoot r = RepairRoots.Debian(azureReady: true);
            r.Edit("etc/fstab", t => t + "/dev/sdb2 none swap sw 0 0\n/swapfile none swap sw 0 0\n");
            r.Write("swapfile", "not really swap");
            r.Edit("boot/grub/grub.cfg", t => t.Replace(" ro ", " ro resume=/dev/sdb2 "));
            r.Edit("etc/default/grub", t => t.Replace("GRUB_CMDLINE_LINUX=\"", "GRUB_CMDLINE_LINUX=\"resume=/dev/sdb2 "));
            r.Write("etc/initramfs-tools/conf.d/resume", "RESUME=/dev/sdb2\n");
            r.Write("etc/modprobe.d/blacklist-udf.conf", "# no DVDs here\nblacklist udf\ninstall udf /bin/true\n");
            r.Write("etc/udev/rules.d/70-persistent-net.rules",
                "SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"00:15:5d:01:02:03\", NAME=\"eth0\"\n");
            foreach (string rule in new[] { "NoSwapOnOsDisk", "UdfAvailable", "NoMacPinning" })
            {
                Assert.NotEqual(ReadinessStatus.Pass, Status(r.Path, rule));
            }
            IReadOnlyList<LinuxImageChange> changes = Repair(r.Path);
            foreach (string rule in new[] { "NoSwapOnOsDisk", "UdfAvailable", "NoMacPinning" })
            {
                ReadinessFinding f = Test(r.Path, rule).Single();
                Assert.True(f.Status == ReadinessStatus.Pass, $"{rule}: {f.Message}");
            }
            Assert.Contains("# /dev/sdb2 none swap sw 0 0", r.Read("etc/fstab"));
            Assert.False(File.Exists(r.Full("swapfile")));
            Assert.DoesNotContain("resume=", r.Read("boot/grub/grub.cfg") + r.Read("etc/default/grub"));
            Assert.Equal("RESUME=none\n", r.Read("etc/initramfs-tools/conf.d/resume"));
            Assert.False(File.Exists(r.Full("etc/udev/rules.d/70-persistent-net.rules")));
            Assert.Contains("# blacklist udf", r.Read("etc/modprobe.d/blacklist-udf.conf"));
            // The initramfs still holds the old resume setting: said, not faked.
            Assert.Contains(changes, c => c.Action == LinuxImageChangeAction.NotFixed && c.RuleId == "NoSwapOnOsDisk" && c.Remediation!.Contains("update-initramfs"));
        }

        [Fact]
        public void Root_by_kernel_name_needs_the_disk_and_is_reported_not_fixed_on_a_folder()
        {
            using LinuxRoot r = RepairRoots.Debian(azureReady: true);
            r.Write("etc/fstab", "/dev/sda3 / ext4 errors=remount-ro 0 1\n");
            Assert.Equal(ReadinessStatus.Fail, Status(r.Path, "FstabStableNames"));
            IReadOnlyList<LinuxImageChange> changes = Repair(r.Path, true, "FstabStableNames");
            LinuxImageChange left = Assert.Single(changes);
            Assert.Equal(LinuxImageChangeAction.NotFixed, left.Action);
            Assert.Contains("no disk", left.Description);
            Assert.Equal("/dev/sda3 / ext4 errors=remount-ro 0 1\n", r.Read("etc/fstab"));
        }

        [Fact]
        public void An_Ubuntu_style_grub_d_override_is_the_file_edited()
        {
            using LinuxRoot r = RepairRoots.Debian(azureReady: true);
            // Ubuntu's cloud images decide the command line in grub.d (issue 27): the last assignment wins.
            r.Write("etc/default/grub.d/50-cloudimg-settings.cfg",
                "# Cloud Image specific Grub settings\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX console=tty1\"\n");
            r.Edit("boot/grub/grub.cfg", t => t.Replace(" ro ", " ro quiet splash "));
            string defaultBefore = r.Read("etc/default/grub");
            Repair(r.Path, true, "QuietBoot", "SerialConsole");
            string over = r.Read("etc/default/grub.d/50-cloudimg-settings.cfg");
            Assert.Contains("GRUB_CMDLINE_LINUX_DEFAULT=\"\"", over);
            Assert.Contains("GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX console=tty1\"", over);
            Assert.Equal(defaultBefore, r.Read("etc/default/grub"));
            Assert.Equal(ReadinessStatus.Pass, Status(r.Path, "QuietBoot"));
        }

        [Fact]
        public void BLS_entries_and_grubenv_kernelopts_are_edited_in_place()
        {
            using LinuxRoot r = LinuxRoot.Synthetic();
            r.Write("etc/os-release", "ID=rhel\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n");
            r.Write("boot/loader/entries/abc-5.14.0.conf", "title Red Hat\nversion 5.14.0\nlinux /vmlinuz-5.14.0\ninitrd /initramfs-5.14.0.img\noptions $kernelopts\n");
            r.Write("boot/loader/entries/abc-rescue.conf", "title Rescue\nlinux /vmlinuz-0-rescue\noptions root=UUID=1 ro quiet rhgb\n");
            string env = "# GRUB Environment Block\nsaved_entry=abc-5.14.0\nkernelopts=root=UUID=1 ro crashkernel=auto quiet rhgb\n";
            r.Write("boot/grub2/grubenv", env + new string('#', 1024 - env.Length));
            Directory.CreateDirectory(r.Full("usr/lib/dracut"));
            r.Write("boot/vmlinuz-5.14.0", "kernel");
            r.Write("boot/config-5.14.0", "CONFIG_X86_64=y\nCONFIG_EARLY_PRINTK=y\n");
            Assert.Equal(ReadinessStatus.Fail, Status(r.Path, "SerialConsole"));
            Assert.Equal(ReadinessStatus.Warning, Status(r.Path, "EarlyPrintk"));
            Repair(r.Path, true, "SerialConsole", "QuietBoot", "EarlyPrintk");
            byte[] grubenv = File.ReadAllBytes(r.Full("boot/grub2/grubenv"));
            Assert.Equal(1024, grubenv.Length);
            string text = System.Text.Encoding.ASCII.GetString(grubenv);
            Assert.Contains("kernelopts=root=UUID=1 ro console=ttyS0,115200n8 earlyprintk=ttyS0,115200\n", text);
            Assert.DoesNotContain("rootdelay", text);
            Assert.Contains("options root=UUID=1 ro console=ttyS0,115200n8", r.Read("boot/loader/entries/abc-rescue.conf"));
            Assert.Contains("options $kernelopts", r.Read("boot/loader/entries/abc-5.14.0.conf"));
            Assert.Equal(ReadinessStatus.Pass, Status(r.Path, "SerialConsole"));
            Assert.Equal(ReadinessStatus.Pass, Status(r.Path, "QuietBoot"));
            Assert.Equal(ReadinessStatus.Pass, Status(r.Path, "EarlyPrintk"));
        }

        [Theory]
        [InlineData("ifupdown")]
        [InlineData("ifcfg")]
        [InlineData("networkd")]
        [InlineData("netplan")]
        [InlineData("NetworkManager")]
        public void A_static_only_NIC_becomes_DHCP(string tool)
        {
            using LinuxRoot r = RepairRoots.Debian(azureReady: true);
            switch (tool)
            {
                case "ifupdown":
                    r.Write("etc/network/interfaces.d/eth0", "auto eth0\niface eth0 inet static\n    address 10.0.0.5\n    netmask 255.255.255.0\n    gateway 10.0.0.1\n");
                    break;
                case "ifcfg":
                    r.Write("etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=10.0.0.5\nPREFIX=24\nGATEWAY=10.0.0.1\nONBOOT=yes\n");
                    break;
                case "networkd":
                    r.Symlink("etc/systemd/system/multi-user.target.wants/systemd-networkd.service", "/lib/systemd/system/systemd-networkd.service");
                    // systemd's own examples for containers and VMs' host0/vz interfaces ask for DHCP on those names; not this NIC.
                    foreach (string shipped in Directory.GetFiles(r.Full("lib/systemd/network"), "*.network"))
                    {
                        File.Delete(shipped);
                    }
                    r.Write("etc/systemd/network/10-eth0.network", "[Match]\nName=eth0\n\n[Network]\nAddress=10.0.0.5/24\nGateway=10.0.0.1\n");
                    break;
                case "netplan":
                    r.Write("etc/netplan/50-static.yaml", "network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses:\n        - 10.0.0.5/24\n      gateway4: 10.0.0.1\n");
                    break;
                default:
                    // NetworkManager installed and enabled, its automatic DHCP profile turned off.
                    r.Write("usr/sbin/NetworkManager", "#!/bin/sh\n");
                    r.Write("lib/systemd/system/NetworkManager.service", "[Service]\nExecStart=/usr/sbin/NetworkManager\n[Install]\nWantedBy=multi-user.target\n");
                    r.Symlink("etc/systemd/system/multi-user.target.wants/NetworkManager.service", "/lib/systemd/system/NetworkManager.service");
                    r.Write("etc/NetworkManager/NetworkManager.conf", "[main]\nno-auto-default=*\n");
                    r.Write("etc/NetworkManager/system-connections/eth0.nmconnection", "[connection]\nid=eth0\ntype=ethernet\ninterface-name=eth0\n\n[ipv4]\nmethod=manual\naddress1=10.0.0.5/24,10.0.0.1\n");
                    break;
            }
            ReadinessFinding before = Test(r.Path, "DhcpPrimaryNic").Single();
            Assert.True(before.Status == ReadinessStatus.Fail, before.Message);
            IReadOnlyList<LinuxImageChange> changes = Repair(r.Path, true, "DhcpPrimaryNic");
            ReadinessFinding after = Test(r.Path, "DhcpPrimaryNic").Single();
            Assert.True(after.Status == ReadinessStatus.Pass, after.Message);
            Assert.DoesNotContain("10.0.0.5", string.Join("\n", changes.Where(c => c.Applied).Select(c => c.After ?? string.Empty)));
            Assert.Contains(changes, c => c.Before != null && c.Before.Contains("10.0.0.5"));
        }

        [Fact]
        public void Unknown_rules_and_missing_roots_are_typed_errors()
        {
            var e = Assert.Throws<AzureLinuxImageException>(() => RepairLinuxImage.Run(new RepairLinuxImageOptions { RootPath = "/", Rules = new List<string> { "NoSuchRule" } }, new SilentContext()));
            Assert.Equal("UnknownRule", e.ErrorId);
            using var temp = new TempDirectory();
            e = Assert.Throws<AzureLinuxImageException>(() => RepairLinuxImage.Run(new RepairLinuxImageOptions { RootPath = temp.Path }, new SilentContext()));
            Assert.Equal("NotALinuxRoot", e.ErrorId);
            e = Assert.Throws<AzureLinuxImageException>(() => RepairLinuxImage.Run(new RepairLinuxImageOptions { RootPath = temp.File("missing") }, new SilentContext()));
            Assert.Equal("RootPathNotFound", e.ErrorId);
        }
    }
}
