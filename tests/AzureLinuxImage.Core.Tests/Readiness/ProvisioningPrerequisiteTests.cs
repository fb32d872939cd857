using System;
using System.Collections.Generic;
using AzureLinuxImage.Readiness;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>
    /// Issue 27 items 4 and 5 on the real Debian 12 root: nothing bringing the NIC up fails (waagent never does it),
    /// Debian's eth0 stanza passes; waagent provisioning without eject fails.
    /// </summary>
    public sealed class ProvisioningPrerequisiteTests : IClassFixture<DebianRoots>
    {
        private readonly DebianRoots roots;

        public ProvisioningPrerequisiteTests(DebianRoots roots)
        {
            this.roots = roots;
        }

        private static ReadinessFinding Rule(LinuxRoot root, string id) => DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), id);

        [Fact]
        public void No_network_at_all_fails_and_Debians_eth0_stanza_passes()
        {
            LinuxRoot root = roots.AzureReady;
            using IDisposable change = root.Change();
            // The ready image as built before issue 27: no stanza (interfaces only sources interfaces.d), no net.ifnames=0.
            root.Delete("etc/network/interfaces.d/eth0");
            root.SetKey("etc/default/grub", "GRUB_CMDLINE_LINUX", "\"console=ttyS0,115200n8 earlyprintk=ttyS0,115200\"");
            root.Edit("boot/grub/grub.cfg", t => t.Replace(" net.ifnames=0", string.Empty));
            ReadinessFinding f = Rule(root, "DhcpPrimaryNic");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Contains("never provisioned", f.Message);
            Assert.Contains("waagent does not bring interfaces up", f.Message);
            Assert.Contains("printf 'auto eth0\\niface eth0 inet dhcp\\n' > /etc/network/interfaces.d/eth0", f.Remediation);
            Assert.Contains("append \"net.ifnames=0\" to GRUB_CMDLINE_LINUX", f.Remediation);
            Assert.Contains("update-grub", f.Remediation);

            // A stanza nothing brings up (no auto line) is no better.
            root.Write("etc/network/interfaces.d/eth0", "iface eth0 inet dhcp\n");
            f = Rule(root, "DhcpPrimaryNic");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Equal("/etc/network/interfaces.d/eth0", f.EvidenceFile);
            Assert.Contains("Add 'auto eth0'", f.Remediation);

            // A pattern stanza: ifup eth0 (waagent's NIC restart) refuses the name.
            root.Write("etc/network/interfaces.d/eth0", "auto /e*/1=nic\niface nic inet dhcp\n");
            f = Rule(root, "DhcpPrimaryNic");
            Assert.Equal(ReadinessStatus.Warning, f.Status);
            Assert.Contains("ifup refuses", f.Message);

            // Debian's cloud images' stanza.
            root.Write("etc/network/interfaces.d/eth0", "auto eth0\niface eth0 inet dhcp\n");
            f = Rule(root, "DhcpPrimaryNic");
            Assert.Equal(ReadinessStatus.Pass, f.Status);
            Assert.Equal("/etc/network/interfaces.d/eth0", f.EvidenceFile);
            Assert.Equal(2, f.EvidenceLine);
        }

        [Fact]
        public void The_stock_root_has_no_network_and_says_so()
        {
            LinuxRoot root = roots.Stock;
            using IDisposable change = root.Change();
            ReadinessFinding f = Rule(root, "DhcpPrimaryNic");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Contains("dhclient", f.Message);
        }

        [Fact]
        public void Waagent_provisioning_needs_eject()
        {
            LinuxRoot root = roots.AzureReady;
            using IDisposable change = root.Change();
            Assert.True(System.IO.File.Exists(System.IO.Path.Combine(root.Path, "usr/bin/eject")));
            ReadinessFinding f = Rule(root, "WaagentEject");
            Assert.Equal(ReadinessStatus.Pass, f.Status);
            Assert.Equal("/usr/bin/eject", f.EvidenceFile);

            // The minimal root: debootstrap's minbase has no eject, and Debian's waagent does not depend on it.
            root.Delete("usr/bin/eject");
            f = Rule(root, "WaagentEject");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Equal("/etc/waagent.conf", f.EvidenceFile);
            Assert.StartsWith("Provisioning.Agent=waagent", root.Read("etc/waagent.conf").Split('\n')[f.EvidenceLine - 1]);
            Assert.Equal("apt-get install -y eject", f.Remediation);

            // auto without cloud-init: waagent provisions, eject still needed.
            root.SetKey("etc/waagent.conf", "Provisioning.Agent", "auto");
            Assert.Equal(ReadinessStatus.Fail, Rule(root, "WaagentEject").Status);
            // cloud-init chosen: waagent does not read the DVD.
            root.SetKey("etc/waagent.conf", "Provisioning.Agent", "cloud-init");
            Assert.Equal(ReadinessStatus.NotApplicable, Rule(root, "WaagentEject").Status);
        }
    }
}
