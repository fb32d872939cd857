using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>One copy of each Debian root for the whole class; tests plant defects inside LinuxRoot.Change() scopes.</summary>
    public sealed class DebianRoots : System.IDisposable
    {
        private LinuxRoot? stock;
        private LinuxRoot? azureReady;

        public LinuxRoot Stock => stock ??= LinuxRoot.Debian(azureReady: false);

        public LinuxRoot AzureReady => azureReady ??= LinuxRoot.Debian(azureReady: true);

        public void Dispose()
        {
            stock?.Dispose();
            azureReady?.Dispose();
        }
    }

    /// <summary>The real Debian 12 root of build-debian-image.sh, stock and --azure-ready (issue 7, "Proof").</summary>
    public sealed class DebianReadinessTests : IClassFixture<DebianRoots>
    {
        private readonly DebianRoots roots;

        public DebianReadinessTests(DebianRoots roots)
        {
            this.roots = roots;
        }

        internal static IReadOnlyList<ReadinessFinding> Check(string root, ProvisioningAgentChoice agent = ProvisioningAgentChoice.Auto, int? generation = null) =>
            TestLinuxImageReadiness.Run(new LinuxImageReadinessOptions { RootPath = root, ProvisioningAgent = agent, Generation = generation }, new SilentContext());

        internal static ReadinessFinding Rule(IReadOnlyList<ReadinessFinding> findings, string id) => findings.Single(f => f.RuleId == id);

        [Fact]
        public void StockDebianFailsSerialConsoleSwapAndAgentConflictAndWarnsOnQuiet()
        {
            LinuxRoot root = roots.Stock;
            IReadOnlyList<ReadinessFinding> findings = Check(root.Path);

            ReadinessFinding console = Rule(findings, "SerialConsole");
            Assert.Equal(ReadinessStatus.Fail, console.Status);
            Assert.Equal("/boot/grub/grub.cfg", console.EvidenceFile);
            Assert.Equal(6, console.EvidenceLine); // the linux line the script writes
            Assert.Contains("console=ttyS0,115200n8", console.Remediation);
            Assert.Contains("update-grub", console.Remediation);

            ReadinessFinding swap = Rule(findings, "WaagentResourceDiskSwap");
            Assert.Equal(ReadinessStatus.Fail, swap.Status);
            Assert.Equal("/etc/waagent.conf", swap.EvidenceFile);
            Assert.Contains("ResourceDisk.EnableSwap=n", swap.Message);
            Assert.Contains("ResourceDisk.EnableSwap=y", swap.Remediation);
            Assert.Contains("ResourceDisk.SwapSizeMB=2048", swap.Remediation);

            ReadinessFinding conflict = Rule(findings, "ProvisioningAgentConflict");
            Assert.Equal(ReadinessStatus.Fail, conflict.Status);
            Assert.Contains("cloud-init is not installed", conflict.Message);
            Assert.Equal("/etc/waagent.conf", conflict.EvidenceFile);
            string conf = root.Read("etc/waagent.conf");
            Assert.StartsWith("Provisioning.Agent=cloud-init", conf.Split('\n')[conflict.EvidenceLine - 1]);
            Assert.Contains("Provisioning.Agent=waagent", conflict.Remediation);

            ReadinessFinding quiet = Rule(findings, "QuietBoot");
            Assert.Equal(ReadinessStatus.Warning, quiet.Status);
            Assert.Equal("/etc/default/grub", quiet.EvidenceFile);
            Assert.StartsWith("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"", root.Read("etc/default/grub").Split('\n')[quiet.EvidenceLine - 1]);

            // What AZURE-LINUX.md says of this image: Hyper-V drivers and udf are modules, ssh and waagent enabled.
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "HyperVDrivers").Status);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "UdfAvailable").Status);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "NvmeDriver").Status);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "SshServer").Status);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "ProvisioningAgent").Status);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "Architecture64Bit").Status);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "FstabStableNames").Status);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "NoSwapOnOsDisk").Status);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "SudoersTargetPw").Status);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "BootConfigurationInSync").Status);
            // Its initrd is zstd: Unknown until Compression's reader is wired, then Pass; never Fail.
            Assert.Contains(Rule(findings, "InitrdHyperVDrivers").Status, new[] { ReadinessStatus.Unknown, ReadinessStatus.Pass });
            // Disk rules have nothing to look at in a folder.
            Assert.Equal(ReadinessStatus.NotApplicable, Rule(findings, "FixedVhd").Status);
            // One finding per rule, every rule.
            Assert.Equal(ReadinessRules.All.Select(r => r.Id).OrderBy(x => x), findings.Select(f => f.RuleId).OrderBy(x => x));
        }

        [Fact]
        public void AzureReadyDebianPassesThem()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            IReadOnlyList<ReadinessFinding> findings = Check(root.Path);
            foreach (string id in new[] { "SerialConsole", "EarlyPrintk", "RootDelay", "DhcpPrimaryNic", "WaagentEject", "QuietBoot", "WaagentResourceDiskSwap", "ProvisioningAgentConflict", "ProvisioningAgent", "BootConfigurationInSync" })
            {
                ReadinessFinding f = Rule(findings, id);
                Assert.True(f.Status == ReadinessStatus.Pass, $"{id}: {f.Status} {f.Message}");
                Assert.Null(f.Remediation);
            }
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "ProvisioningAgent").Status);
            Assert.Contains("waagent", Rule(findings, "ProvisioningAgent").Message);
            Assert.DoesNotContain(findings, f => f.Status == ReadinessStatus.Fail);
        }

        [Fact]
        public void AskingForCloudInitOnTheAzureReadyImageFails()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            ReadinessFinding f = Rule(Check(root.Path, ProvisioningAgentChoice.CloudInit), "ProvisioningAgent");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Contains("cloud-init", f.Remediation);
        }

        [Fact]
        public void MaskedSshFails()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            root.Symlink("etc/systemd/system/ssh.service", "/dev/null");
            ReadinessFinding f = Rule(Check(root.Path), "SshServer");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Equal("/etc/systemd/system/ssh.service", f.EvidenceFile);
            Assert.Contains("systemctl unmask ssh.service", f.Remediation);
        }

        [Fact]
        public void UdfBlacklistedFails()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            root.Write("etc/modprobe.d/cis.conf", "# hardening\ninstall cramfs /bin/true\nblacklist udf\n");
            ReadinessFinding f = Rule(Check(root.Path), "UdfAvailable");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Equal("/etc/modprobe.d/cis.conf", f.EvidenceFile);
            Assert.Equal(3, f.EvidenceLine);

            root.Write("etc/modprobe.d/cis.conf", "install udf /bin/false\n");
            Assert.Equal(ReadinessStatus.Fail, Rule(Check(root.Path), "UdfAvailable").Status);
            root.Delete("etc/modprobe.d/cis.conf");
            Assert.Equal(ReadinessStatus.Pass, Rule(Check(root.Path), "UdfAvailable").Status);
        }

        [Fact]
        public void StaleProvisioningStateFails()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            root.Write("var/lib/waagent/provisioned", string.Empty);
            root.Write("var/lib/waagent/ovf-env.xml", "<Environment/>");
            ReadinessFinding f = Rule(Check(root.Path), "NoStaleProvisioningState");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Contains("/var/lib/waagent/provisioned", f.Message);
            Assert.Contains("waagent -force -deprovision", f.Remediation);
        }

        [Fact]
        public void SwapLineInFstabFails()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            root.Write("etc/fstab", $"UUID={root.RootUuid} / ext4 errors=remount-ro 0 1\n# swap was on /dev/sda5 during installation\nUUID=5f1c7f5e-1111-4a2b-9c3d-0123456789ab none swap sw 0 0\n");
            ReadinessFinding f = Rule(Check(root.Path), "NoSwapOnOsDisk");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Equal("/etc/fstab", f.EvidenceFile);
            Assert.Equal(3, f.EvidenceLine);
            Assert.Contains("sed -i '3s/^/# /' /etc/fstab", f.Remediation);
        }

        [Fact]
        public void SudoersDefectsFailWithTheirLines()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            root.Edit("etc/sudoers", t => t + "Defaults targetpw\n");
            root.Write("etc/sudoers.d/90-build", "# left by the kickstart\nALL     ALL=(ALL) ALL\n");
            root.Write("etc/sudoers.d/README.txt", "ALL ALL=(ALL) ALL\n"); // names with '.' are skipped by sudo
            IReadOnlyList<ReadinessFinding> findings = Check(root.Path);
            ReadinessFinding targetpw = Rule(findings, "SudoersTargetPw");
            Assert.Equal(ReadinessStatus.Fail, targetpw.Status);
            Assert.Equal("/etc/sudoers", targetpw.EvidenceFile);
            Assert.Equal("Defaults targetpw", root.Read("etc/sudoers").Split('\n')[targetpw.EvidenceLine - 1]);
            ReadinessFinding all = Rule(findings, "SudoersAllUsers");
            Assert.Equal(ReadinessStatus.Fail, all.Status);
            Assert.Equal("/etc/sudoers.d/90-build", all.EvidenceFile);
            Assert.Equal(2, all.EvidenceLine);
            Assert.DoesNotContain("README", all.Message);
        }

        [Fact]
        public void StaticIpOnlyFails()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            root.Write("etc/network/interfaces.d/eth0", "auto eth0\niface eth0 inet static\n    address 192.168.122.10/24\n    gateway 192.168.122.1\n");
            ReadinessFinding f = Rule(Check(root.Path), "DhcpPrimaryNic");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Equal("/etc/network/interfaces.d/eth0", f.EvidenceFile);
            Assert.Equal(2, f.EvidenceLine);
            Assert.Contains("inet dhcp", f.Remediation);

            root.Write("etc/network/interfaces.d/eth0", "auto eth0\niface eth0 inet dhcp\n");
            Assert.Equal(ReadinessStatus.Pass, Rule(Check(root.Path), "DhcpPrimaryNic").Status);
        }
    }
}
