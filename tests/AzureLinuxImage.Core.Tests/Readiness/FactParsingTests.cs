using System.Linq;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;
using Xunit;
using static AzureLinuxImage.Tests.Readiness.DebianReadinessTests;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>Fact readers on configuration files written the way each distribution writes them.</summary>
    public sealed class FactParsingTests
    {
        private static LinuxFacts Facts(LinuxRoot root) => new LinuxFacts(new HostDirectoryFileSystem(root.Path));

        [Fact]
        public void BlsEntriesTakeKernelOptsFromGrubenvAndTheSavedEntry()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            root.Write("boot/grub2/grub.cfg", "set default=\"${saved_entry}\"\ninsmod blscfg\nblscfg\n");
            root.Write("boot/grub2/grubenv", "# GRUB Environment Block\nsaved_entry=abc-4.18.0-513.el8.x86_64\nkernelopts=root=/dev/mapper/rhel-root ro crashkernel=auto rhgb quiet\n###########\n");
            root.Write("boot/loader/entries/abc-4.18.0-513.el8.x86_64.conf", "title Red Hat Enterprise Linux (4.18.0-513.el8.x86_64) 8.9\nversion 4.18.0-513.el8.x86_64\nlinux /vmlinuz-4.18.0-513.el8.x86_64\ninitrd /initramfs-4.18.0-513.el8.x86_64.img $tuned_initrd\noptions $kernelopts $tuned_params\n");
            root.Write("boot/loader/entries/abc-0-rescue.conf", "title Rescue\nlinux /vmlinuz-0-rescue\noptions $kernelopts console=ttyS0\n");
            root.Write("etc/os-release", "ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"8.9\"\n");
            BootConfiguration boot = Facts(root).Boot.Value!;
            Assert.True(boot.UsesBls);
            Assert.Equal("abc-4.18.0-513.el8.x86_64", boot.DefaultEntry!.Id);
            Assert.Equal("root=/dev/mapper/rhel-root ro crashkernel=auto rhgb quiet", boot.EffectiveCommandLine!.Text);
            ReadinessFinding quiet = Rule(Check(root.Path), "QuietBoot");
            Assert.Equal(ReadinessStatus.Warning, quiet.Status);
            Assert.Contains("grubby --update-kernel=ALL --remove-args=\"crashkernel=auto rhgb quiet\"", quiet.Remediation);
            Assert.Contains("grubby", Rule(Check(root.Path), "SerialConsole").Remediation);
            // fstab root on LVM: R-PART-1 warns.
            root.Write("etc/fstab", "/dev/mapper/rhel-root / xfs defaults 0 0\n");
            Assert.Equal(ReadinessStatus.Warning, Rule(Check(root.Path), "NoLvmOsDisk").Status);
        }

        [Fact]
        public void GrubDefaultFollowsSubmenusTitlesAndSavedEntry()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            string cfg = "set default=\"1>1\"\n" +
                "menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-x' {\n\tlinux /boot/vmlinuz-6.1.0-2-amd64 root=UUID=x ro quiet\n}\n" +
                "submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-x' {\n" +
                "\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-2-amd64' {\n\t\tlinux /boot/vmlinuz-6.1.0-2-amd64 root=UUID=x ro quiet\n\t}\n" +
                "\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-1-amd64' $menuentry_id_option 'gnulinux-6.1.0-1-amd64-advanced-x' {\n\t\tlinux /boot/vmlinuz-6.1.0-1-amd64 root=UUID=x ro console=ttyS0\n\t}\n}\n";
            root.Write("boot/grub/grub.cfg", cfg);
            BootConfiguration boot = Facts(root).Boot.Value!;
            Assert.Equal(3, boot.Entries.Count);
            Assert.Equal("/boot/vmlinuz-6.1.0-1-amd64", boot.DefaultEntry!.KernelPath);
            Assert.Equal(new SourceLine("/boot/grub/grub.cfg", 10).ToString(), boot.EffectiveCommandLine!.Source.ToString());

            root.Write("boot/grub/grub.cfg", cfg.Replace("set default=\"1>1\"", "set default=\"${saved_entry}\""));
            root.Write("boot/grub/grubenv", "saved_entry=gnulinux-advanced-x>gnulinux-6.1.0-1-amd64-advanced-x\n");
            Assert.Equal("/boot/vmlinuz-6.1.0-1-amd64", Facts(root).Boot.Value!.DefaultEntry!.KernelPath);
        }

        [Fact]
        public void GrubLegacyAndDisagreementWithDefaultGrub()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            root.Write("boot/grub/menu.lst", "default=1\ntimeout=5\ntitle CentOS (2.6.32-431.el6.x86_64)\n\troot (hd0,0)\n\tkernel /vmlinuz-2.6.32-431.el6.x86_64 ro root=/dev/sda1 rhgb quiet\n\tinitrd /initramfs-2.6.32-431.el6.x86_64.img\ntitle Other\n\tkernel /vmlinuz-2.6.32-504.el6.x86_64 ro root=UUID=x console=ttyS0 numa=off\n");
            BootConfiguration boot = Facts(root).Boot.Value!;
            Assert.Equal("Other", boot.DefaultEntry!.Title);
            Assert.Equal("off", boot.EffectiveCommandLine!.Value("numa"));

            root.Delete("boot/grub/menu.lst");
            root.Write("etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"console=ttyS0,115200n8 earlyprintk=ttyS0,115200 rootdelay=300\"\n");
            root.Write("boot/grub/grub.cfg", "menuentry 'Debian' {\n\tlinux /boot/vmlinuz-6.1.0-1-amd64 root=UUID=x ro quiet\n}\n");
            ReadinessFinding f = Rule(Check(root.Path), "BootConfigurationInSync");
            Assert.Equal(ReadinessStatus.Warning, f.Status);
            Assert.Contains("console=ttyS0,115200n8", f.Message);
            Assert.Contains("update-grub", f.Remediation);
        }

        [Fact]
        public void SshdIncludesAreReadInPlaceAndTheFirstValueWins()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            root.Write("usr/sbin/sshd", "binary");
            root.Write("etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nClientAliveInterval 600\nMatch User backup\n    ClientAliveInterval 5\n");
            root.Write("etc/ssh/sshd_config.d/50-cloud.conf", "ClientAliveInterval 120\n");
            root.Write("etc/ssh/sshd_config.d/60-late.conf", "ClientAliveInterval 300\n");
            SshdConfig sshd = Facts(root).Sshd.Value!;
            Assert.Equal("120", sshd.Get("clientaliveinterval")!.Value);
            Assert.Equal("/etc/ssh/sshd_config.d/50-cloud.conf", sshd.Get("ClientAliveInterval")!.Source.File);
            root.Delete("etc/ssh/sshd_config.d/50-cloud.conf");
            ReadinessFinding f = Rule(Check(root.Path), "SshClientAliveInterval");
            Assert.Equal(ReadinessStatus.Warning, f.Status);
            Assert.Equal("/etc/ssh/sshd_config.d/60-late.conf", f.EvidenceFile);
        }

        [Fact]
        public void CloudConfigMergesCloudCfgDInLexicalOrder()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            root.Write("usr/bin/cloud-init", "#!/usr/bin/python3\n");
            root.Write("lib/systemd/system/cloud-init-local.service", "[Unit]\n");
            root.Symlink("etc/systemd/system/cloud-init.target.wants/cloud-init-local.service", "/lib/systemd/system/cloud-init-local.service");
            root.Write("etc/cloud/cloud.cfg", "datasource_list: [ NoCloud, ConfigDrive, Azure, None ]\nusers:\n  - default\n");
            root.Write("etc/cloud/cloud.cfg.d/90_dpkg.cfg", "# to update this file, run dpkg-reconfigure cloud-init\ndatasource_list:\n  - NoCloud\n  - None\n");
            ReadinessFinding f = Rule(Check(root.Path), "CloudInitAzureDatasource");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Equal("/etc/cloud/cloud.cfg.d/90_dpkg.cfg", f.EvidenceFile);
            Assert.Equal(2, f.EvidenceLine);

            root.Write("etc/cloud/cloud.cfg.d/91-azure.cfg", "datasource_list: [ 'Azure' ]\ndatasource:\n  Azure:\n    apply_network_config: false\n");
            Assert.Equal(ReadinessStatus.Pass, Rule(Check(root.Path), "CloudInitAzureDatasource").Status);
            ReadinessFinding leftovers = Rule(Check(root.Path), "CloudInitInstallerLeftovers");
            Assert.Equal(ReadinessStatus.Warning, leftovers.Status);
            Assert.Equal(4, leftovers.EvidenceLine);

            root.Write("etc/cloud/cloud.cfg.d/91-azure.cfg", "datasource_list: [ Azure ]\n");
            root.Write("etc/cloud/cloud.cfg.d/99-installer.cfg", "network: {config: disabled}\n");
            Assert.Contains("99-installer.cfg", Rule(Check(root.Path), "CloudInitInstallerLeftovers").Message);
            // cloud-init enabled: it is the provisioning agent, and it writes the network configuration.
            Assert.Equal(ReadinessStatus.Pass, Rule(Check(root.Path), "ProvisioningAgent").Status);
            root.Write("etc/cloud/cloud-init.disabled", string.Empty);
            Assert.Equal(ReadinessStatus.Fail, Rule(Check(root.Path), "ProvisioningAgent").Status);
        }

        [Theory]
        [InlineData("etc/netplan/50-cloud-init.yaml", "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n      match:\n        macaddress: 00:15:5d:01:02:03\n      set-name: eth0\n", ReadinessStatus.Pass, true)]
        [InlineData("etc/netplan/01-static.yaml", "network:\n  ethernets:\n    enp1s0:\n      addresses: [192.168.1.5/24]\n      routes:\n        - to: default\n          via: 192.168.1.1\n", ReadinessStatus.Fail, false)]
        [InlineData("etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=\"dhcp\"\nONBOOT=yes\nHWADDR=00:15:5d:01:02:03\n", ReadinessStatus.Pass, true)]
        [InlineData("etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=none\nIPADDR=10.0.0.4\nPREFIX=24\n", ReadinessStatus.Fail, false)]
        [InlineData("etc/sysconfig/network/ifcfg-eth0", "BOOTPROTO='dhcp'\nSTARTMODE='auto'\n", ReadinessStatus.Pass, false)]
        public void NetworkConfigurationsOfEachTool(string file, string content, ReadinessStatus dhcp, bool pinned)
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            root.Write("sbin/dhclient", "binary");
            root.Write(file, content);
            FindingsById findings = new FindingsById(Check(root.Path));
            Assert.Equal(dhcp, findings["DhcpPrimaryNic"].Status);
            Assert.Equal(pinned ? ReadinessStatus.Warning : ReadinessStatus.Pass, findings["NoMacPinning"].Status);
        }

        [Fact]
        public void NetworkdAndNetworkManagerCountOnlyWhenTheirServiceIsEnabled()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            root.Write("lib/systemd/systemd-networkd", "binary");
            root.Write("etc/systemd/network/10-eth0.network", "[Match]\nName=eth0\n\n[Network]\nAddress=10.0.0.4/24\n");
            root.Write("lib/systemd/system/systemd-networkd.service", "[Unit]\n");
            Assert.Equal(ReadinessStatus.Fail, Rule(Check(root.Path), "DhcpPrimaryNic").Status); // not enabled: ignored, so nothing brings the NIC up (issue 27)
            root.Symlink("etc/systemd/system/multi-user.target.wants/systemd-networkd.service", "/lib/systemd/system/systemd-networkd.service");
            Assert.Equal(ReadinessStatus.Fail, Rule(Check(root.Path), "DhcpPrimaryNic").Status);
            root.Write("etc/systemd/network/10-eth0.network", "[Match]\nName=eth*\n\n[Network]\nDHCP=ipv4\n");
            Assert.Equal(ReadinessStatus.Pass, Rule(Check(root.Path), "DhcpPrimaryNic").Status);
        }

        [Fact]
        public void PersistentNetRulesAndHygieneLeftovers()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            root.Write("etc/udev/rules.d/70-persistent-net.rules", "# generated\nSUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"52:54:00:12:34:56\", NAME=\"eth0\"\n");
            root.Write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nbuild:x:1000:1000::/home/build:/bin/bash\n");
            root.Write("etc/shadow", "root:*:19000:0:99999:7:::\nbuild:$6$salt$hash:19000:0:99999:7:::\nnopass::19000::::::\n");
            root.Write("home/build/.ssh/authorized_keys", "# keys\nssh-ed25519 AAAAC3Nza build@laptop\n");
            root.Write("home/build/.bash_history", new string('x', 2048));
            root.Write("root/.bash_history", "ls\n");
            root.Write("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
            root.Write("var/lib/dhcp/dhclient.eth0.leases", "lease { }\n");
            root.Write("var/lib/cloud/instances/iid-1/obj.pkl", "x");
            var f = new FindingsById(Check(root.Path));
            Assert.Equal(ReadinessStatus.Warning, f["NoMacPinning"].Status);
            Assert.Equal(2, f["NoMacPinning"].EvidenceLine);
            Assert.Equal(ReadinessStatus.Warning, f["NoPasswordHashes"].Status);
            Assert.Contains("build, nopass", f["NoPasswordHashes"].Message);
            Assert.Equal(ReadinessStatus.Warning, f["NoAuthorizedKeys"].Status);
            Assert.Contains("/home/build/.ssh/authorized_keys (1 key)", f["NoAuthorizedKeys"].Message);
            Assert.Equal(ReadinessStatus.Warning, f["NoShellHistory"].Status);
            Assert.DoesNotContain("/root/.bash_history (", f["NoShellHistory"].Message); // 3 bytes: under LISA's 1 KB
            Assert.Equal(ReadinessStatus.Warning, f["MachineIdBlank"].Status);
            Assert.Equal(ReadinessStatus.Warning, f["NoDhcpLeases"].Status);
            Assert.Equal(ReadinessStatus.Fail, f["NoStaleProvisioningState"].Status);
            Assert.Contains("cloud-init clean", f["NoStaleProvisioningState"].Remediation);
        }

        [Fact]
        public void ThirtyTwoBitAndArmBinaries()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            byte[] elf = new byte[64];
            elf[0] = 0x7F; elf[1] = (byte)'E'; elf[2] = (byte)'L'; elf[3] = (byte)'F'; elf[4] = 1; elf[5] = 1; elf[18] = 3; // ELFCLASS32, EM_386
            root.WriteBytes("bin/sh", elf);
            Assert.Equal(ReadinessStatus.Fail, Rule(Check(root.Path), "Architecture64Bit").Status);
            elf[4] = 2; elf[18] = 183; // ELFCLASS64, EM_AARCH64
            root.WriteBytes("bin/sh", elf);
            Assert.Equal(ReadinessStatus.Pass, Rule(Check(root.Path), "Architecture64Bit").Status);
            Assert.Equal(ReadinessStatus.Fail, Rule(Check(root.Path, generation: 1), "Architecture64Bit").Status);
            Assert.Equal("aarch64", ElfArchitecture.Parse(elf, "/bin/sh")!.Name);
        }

        [Fact]
        public void RuleSelectionAndUnknownRuleNames()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            var options = new AzureLinuxImage.Operations.LinuxImageReadinessOptions { RootPath = root.Path, Rules = { "Sudoers*", "serialconsole" }, ExcludeRules = { "SudoersAllUsers" } };
            var findings = AzureLinuxImage.Operations.TestLinuxImageReadiness.Run(options, new AzureLinuxImage.Operations.SilentContext());
            Assert.Equal(new[] { "SerialConsole", "SudoersTargetPw" }, findings.Select(f => f.RuleId).OrderBy(x => x));
            options.Rules.Add("NoSuchRule");
            var ex = Assert.Throws<AzureLinuxImage.Errors.AzureLinuxImageException>(() => AzureLinuxImage.Operations.TestLinuxImageReadiness.Run(options, new AzureLinuxImage.Operations.SilentContext()));
            Assert.Equal("UnknownRule", ex.ErrorId);
        }

        [Fact]
        public void AFolderThatIsNotALinuxRootCannotBeInspected()
        {
            using var empty = new AzureLinuxImage.Tests.Infrastructure.TempDirectory();
            var ex = Assert.Throws<AzureLinuxImage.Errors.AzureLinuxImageException>(() => Check(empty.Path));
            Assert.Equal("NotALinuxRoot", ex.ErrorId);
            var image = Assert.Throws<AzureLinuxImage.Errors.AzureLinuxImageException>(() => AzureLinuxImage.Operations.TestLinuxImageReadiness.Run(
                new AzureLinuxImage.Operations.LinuxImageReadinessOptions { ImagePath = empty.File("disk.vhd") }, new AzureLinuxImage.Operations.SilentContext()));
            // -Path goes through the Linux image view, which names the missing file.
            Assert.Equal("ImageNotFound", image.ErrorId);
        }

        [Fact]
        public void KernelVersionsParseRhelAndDebianStyles()
        {
            KernelVersion rhel = KernelVersion.Parse("2.6.32-504.el6.x86_64")!;
            Assert.Equal((2, 6, 32, 504, true), (rhel.Major, rhel.Minor, rhel.Patch, rhel.Release, rhel.IsRhel));
            KernelVersion deb = KernelVersion.Parse("6.1.0-28-cloud-amd64")!;
            Assert.Equal((6, 1, 0, 28, false), (deb.Major, deb.Minor, deb.Patch, deb.Release, deb.IsRhel));
            Assert.True(KernelVersion.Parse("2.6.32-431.el6.x86_64")!.IsOlderThan(2, 6, 32, 504));
            Assert.Null(KernelVersion.Parse("rescue"));
            Assert.Equal("hyperv_keyboard", KernelInfo.ModuleName("kernel/drivers/input/serio/hyperv-keyboard.ko.zst"));
        }
    }

    /// <summary>Findings by rule id.</summary>
    internal sealed class FindingsById
    {
        private readonly System.Collections.Generic.IReadOnlyList<ReadinessFinding> findings;

        public FindingsById(System.Collections.Generic.IReadOnlyList<ReadinessFinding> findings)
        {
            this.findings = findings;
        }

        public ReadinessFinding this[string id] => findings.Single(f => f.RuleId == id);
    }
}

namespace AzureLinuxImage.Tests.Readiness
{
    public sealed class AzureInitTests
    {
        [Fact]
        public void AzureInitProvisionsAndTwoAgentsConflict()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            root.Write("usr/bin/azure-init", "binary");
            root.Write("lib/systemd/system/azure-init.service", "[Service]\nType=oneshot\nExecStart=/usr/bin/azure-init\n[Install]\nWantedBy=multi-user.target\n");
            root.Symlink("etc/systemd/system/multi-user.target.wants/azure-init.service", "/lib/systemd/system/azure-init.service");
            ReadinessFinding f = DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "ProvisioningAgent");
            Assert.Equal(ReadinessStatus.Pass, f.Status);
            Assert.Contains("azure-init", f.Message);

            root.Write("usr/bin/cloud-init", "#!/usr/bin/python3\n");
            root.Write("lib/systemd/system/cloud-init-local.service", "[Unit]\n");
            root.Symlink("etc/systemd/system/cloud-init.target.wants/cloud-init-local.service", "/lib/systemd/system/cloud-init-local.service");
            ReadinessFinding both = DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "ProvisioningAgent");
            Assert.Equal(ReadinessStatus.Fail, both.Status);
            Assert.Contains("cloud-init, azure-init", both.Message);

            // Masking azure-init leaves cloud-init alone.
            root.Symlink("etc/systemd/system/azure-init.service", "/dev/null");
            Assert.Equal(ReadinessStatus.Pass, DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "ProvisioningAgent").Status);
        }
    }
}
