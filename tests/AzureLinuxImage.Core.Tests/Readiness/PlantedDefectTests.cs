using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Readiness.DebianReadinessTests;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>Planted defects in synthetic roots: kernels, initrds crafted with cpio and gzip, and agent-less images.</summary>
    public sealed class PlantedDefectTests
    {
        private const string Kver = "5.10.0-28-amd64";

        /// <summary>A root with one kernel whose Hyper-V drivers are modules and a grub.cfg booting it.</summary>
        private static LinuxRoot KernelRoot(string version, string arguments)
        {
            LinuxRoot r = LinuxRoot.Synthetic();
            r.Write($"boot/vmlinuz-{version}", "not a real kernel");
            foreach (string m in new[] { "drivers/hv/hv_vmbus.ko", "drivers/scsi/hv_storvsc.ko", "drivers/net/hyperv/hv_netvsc.ko", "drivers/hv/hv_utils.ko",
                "drivers/input/serio/hyperv-keyboard.ko", "fs/udf/udf.ko.xz" })
            {
                r.Write($"lib/modules/{version}/kernel/{m}", "module");
            }
            r.Write($"boot/config-{version}", "CONFIG_BLK_DEV_NVME=y\nCONFIG_NVME_CORE=y\n# CONFIG_MICROSOFT_MANA is not set\n");
            r.Write("boot/grub/grub.cfg", $"set default=\"0\"\nmenuentry 'Linux' --class gnu-linux $menuentry_id_option 'gnulinux-simple' {{\n\tlinux\t/boot/vmlinuz-{version} root=UUID=0b0c3b1e-6f4e-4b8a-9d55-3c8f3f1f2a10 ro {arguments}\n\tinitrd\t/boot/initrd.img-{version}\n}}\n");
            return r;
        }

        /// <summary>`find . | cpio -o -H newc | gzip` over a staging folder holding <paramref name="files"/>.</summary>
        internal static byte[] Initramfs(IEnumerable<string> files, bool gzip = true)
        {
            string cpio = ExternalTool.Require("cpio", "cpio");
            ExternalTool.Require("gzip", "gzip");
            using var staging = new TempDirectory();
            foreach (string f in files)
            {
                string full = Path.Combine(staging.Path, f);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                File.WriteAllText(full, "content of " + f);
            }
            string output = staging.File("out.img");
            string pipeline = $"cd '{staging.Path}' && find . -path ./out.img -prune -o -print | LC_ALL=C sort | '{cpio}' --quiet -o -H newc {(gzip ? "| gzip -9" : string.Empty)} > '{output}'";
            ExternalTool.Run("sh", new[] { "-c", pipeline });
            return File.ReadAllBytes(output);
        }

        private static string[] InitrdFiles(params string[] modules) =>
            new[] { "init", "bin/busybox", "conf/initramfs.conf" }.Concat(modules.Select(m => $"usr/lib/modules/{Kver}/kernel/{m}")).ToArray();

        [Fact]
        public void InitrdWithoutHyperVDriversFails()
        {
            using LinuxRoot root = KernelRoot(Kver, "console=ttyS0");
            root.WriteBytes($"boot/initrd.img-{Kver}", Initramfs(InitrdFiles("drivers/ata/ata_piix.ko", "drivers/block/virtio_blk.ko")));
            ReadinessFinding f = Rule(Check(root.Path), "InitrdHyperVDrivers");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Contains("hv_vmbus, hv_storvsc, hv_netvsc", f.Message);
            Assert.Contains("gzip", f.Message);
            Assert.Equal($"/boot/initrd.img-{Kver}", f.EvidenceFile);
            Assert.Contains("/etc/initramfs-tools/modules", f.Remediation);
            Assert.Contains("update-initramfs -u -k all", f.Remediation);
        }

        [Fact]
        public void InitrdWithHyperVDriversPassesAndOnlyTheMissingOneIsNamed()
        {
            using LinuxRoot root = KernelRoot(Kver, "console=ttyS0");
            root.WriteBytes($"boot/initrd.img-{Kver}", Initramfs(InitrdFiles("drivers/hv/hv_vmbus.ko", "drivers/scsi/hv_storvsc.ko.xz", "drivers/net/hyperv/hv_netvsc.ko.zst")));
            Assert.Equal(ReadinessStatus.Pass, Rule(Check(root.Path), "InitrdHyperVDrivers").Status);

            root.WriteBytes($"boot/initrd.img-{Kver}", Initramfs(InitrdFiles("drivers/hv/hv_vmbus.ko", "drivers/net/hyperv/hv_netvsc.ko")));
            ReadinessFinding f = Rule(Check(root.Path), "InitrdHyperVDrivers");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Contains("lacks hv_storvsc", f.Message);
            Assert.DoesNotContain("hv_vmbus", f.Message.Substring(f.Message.IndexOf("lacks")));
        }

        [Fact]
        public void InitrdWithEarlyMicrocodeIsReadThroughBothParts()
        {
            using LinuxRoot root = KernelRoot(Kver, "console=ttyS0");
            byte[] early = Initramfs(new[] { "kernel/x86/microcode/GenuineIntel.bin" }, gzip: false);
            byte[] main = Initramfs(InitrdFiles("drivers/hv/hv_vmbus.ko", "drivers/scsi/hv_storvsc.ko", "drivers/net/hyperv/hv_netvsc.ko"));
            // dracut/initramfs-tools pad the early archive to 512 bytes before the compressed part.
            byte[] padded = early.Concat(new byte[(512 - early.Length % 512) % 512]).Concat(main).ToArray();
            root.WriteBytes($"boot/initrd.img-{Kver}", padded);
            ReadinessFinding f = Rule(Check(root.Path), "InitrdHyperVDrivers");
            Assert.Equal(ReadinessStatus.Pass, f.Status);
            Assert.Contains("cpio", f.Message); // the first part is the uncompressed early archive
        }

        [Fact]
        public void OldKernelWithoutNumaOffFails()
        {
            using LinuxRoot root = KernelRoot("2.6.32-5-amd64", "console=ttyS0 earlyprintk=ttyS0 rootdelay=300");
            ReadinessFinding f = Rule(Check(root.Path), "NumaOffOnOldKernels");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Equal("/boot/grub/grub.cfg", f.EvidenceFile);
            Assert.Equal(3, f.EvidenceLine);
            Assert.Contains("numa=off", f.Remediation);
            Assert.Equal(ReadinessStatus.Warning, Rule(Check(root.Path), "KernelVersion").Status);

            using LinuxRoot fixedRoot = KernelRoot("2.6.32-5-amd64", "console=ttyS0 numa=off");
            Assert.Equal(ReadinessStatus.Pass, Rule(Check(fixedRoot.Path), "NumaOffOnOldKernels").Status);
        }

        [Theory]
        [InlineData("2.6.32-504.el6.x86_64", ReadinessStatus.Pass)] // RHEL 6.6 has the fix
        [InlineData("2.6.32-431.el6.x86_64", ReadinessStatus.Fail)]
        [InlineData("2.6.36-1-amd64", ReadinessStatus.Fail)]
        [InlineData("2.6.37-1-amd64", ReadinessStatus.Pass)]
        public void RhelKernelsFrom2632Dash504HandleNuma(string version, ReadinessStatus expected)
        {
            using LinuxRoot root = KernelRoot(version, "console=ttyS0");
            Assert.Equal(expected, Rule(Check(root.Path), "NumaOffOnOldKernels").Status);
        }

        [Fact]
        public void KernelWithoutHyperVDriversFails()
        {
            using LinuxRoot root = KernelRoot(Kver, "console=ttyS0");
            root.Delete($"lib/modules/{Kver}/kernel/drivers/scsi/hv_storvsc.ko");
            ReadinessFinding f = Rule(Check(root.Path), "HyperVDrivers");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Contains("hv_storvsc", f.Message);
            // A built-in driver counts: CONFIG_HYPERV_STORAGE=y in /boot/config-<version>.
            root.Edit($"boot/config-{Kver}", t => t + "CONFIG_HYPERV_STORAGE=y\n");
            Assert.Equal(ReadinessStatus.Pass, Rule(Check(root.Path), "HyperVDrivers").Status);
        }
    }

    /// <summary>Agent-less images (R-NOAGENT) made from the real Debian root with waagent disabled.</summary>
    public sealed class AgentlessTests : IClassFixture<DebianRoots>
    {
        private readonly DebianRoots roots;

        public AgentlessTests(DebianRoots roots)
        {
            this.roots = roots;
        }

        private const string Unit = "[Unit]\nDescription=Report ready to Azure at first boot (R-NOAGENT)\nAfter=network-online.target\nWants=network-online.target\n\n[Service]\nType=oneshot\nExecStart=/usr/local/sbin/azure-provisioning\n\n[Install]\nWantedBy=multi-user.target\n";

        private const string Script = "#!/bin/bash\nset -e\nattempts=1\n" +
            "goalstate=$(curl -s -H 'x-ms-version: 2012-11-30' 'http://168.63.129.16/machine?comp=goalstate')\n" +
            "container=$(echo \"$goalstate\" | grep -oP '(?<=<ContainerId>).*(?=</ContainerId>)')\n" +
            "instance=$(echo \"$goalstate\" | grep -oP '(?<=<InstanceId>).*(?=</InstanceId>)')\n" +
            "hostnamectl set-hostname \"$(curl -s -H Metadata:true 'http://169.254.169.254/metadata/instance/compute/name?api-version=2019-06-01&format=text')\"\n" +
            "curl -s -X POST -H 'x-ms-version: 2012-11-30' -H 'x-ms-agent-name: custom-provisioning' -H 'Content-Type: text/xml;charset=utf-8' " +
            "-d \"<Health><GoalStateIncarnation>1</GoalStateIncarnation><Container><ContainerId>$container</ContainerId><RoleInstanceList><Role><InstanceId>$instance</InstanceId><Health><State>Ready</State></Health></Role></RoleInstanceList></Container></Health>\" " +
            "'http://168.63.129.16/machine?comp=health'\n" +
            "systemctl disable azure-provisioning.service\n";

        private static void DisableWaagent(LinuxRoot root) => root.Delete("etc/systemd/system/multi-user.target.wants/walinuxagent.service");

        [Fact]
        public void AgentlessImageWithAFirstBootUnitPasses()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            DisableWaagent(root);
            root.Write("etc/systemd/system/azure-provisioning.service", Unit);
            root.Write("usr/local/sbin/azure-provisioning", Script);
            root.Symlink("etc/systemd/system/multi-user.target.wants/azure-provisioning.service", "/etc/systemd/system/azure-provisioning.service");
            IReadOnlyList<ReadinessFinding> findings = Check(root.Path, ProvisioningAgentChoice.None);
            ReadinessFinding f = Rule(findings, "AgentlessReportsReady");
            Assert.True(f.Status == ReadinessStatus.Pass, f.Message);
            Assert.Equal("/etc/systemd/system/azure-provisioning.service", f.EvidenceFile);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "ProvisioningAgent").Status);
            Assert.Contains("agent-less unit azure-provisioning.service", Rule(findings, "ProvisioningAgent").Message);

            // Auto detects it the same way.
            Assert.Equal(ReadinessStatus.Pass, Rule(Check(root.Path), "AgentlessReportsReady").Status);
        }

        [Fact]
        public void AgentlessImageWithoutAUnitFails()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            DisableWaagent(root);
            IReadOnlyList<ReadinessFinding> findings = Check(root.Path, ProvisioningAgentChoice.None);
            ReadinessFinding f = Rule(findings, "AgentlessReportsReady");
            Assert.Equal(ReadinessStatus.Fail, f.Status);
            Assert.Contains("168.63.129.16", f.Message);
            Assert.Contains("azure-provisioning.service", f.Remediation);
            Assert.Equal(ReadinessStatus.Fail, Rule(findings, "ProvisioningAgent").Status);
        }

        [Fact]
        public void AFirstBootUnitThatIsNotEnabledOrNeverReportsReadyFails()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            DisableWaagent(root);
            root.Write("etc/systemd/system/azure-provisioning.service", Unit);
            root.Write("usr/local/sbin/azure-provisioning", Script);
            ReadinessFinding notEnabled = Rule(Check(root.Path, ProvisioningAgentChoice.None), "AgentlessReportsReady");
            Assert.Equal(ReadinessStatus.Fail, notEnabled.Status);
            Assert.Contains("systemctl enable azure-provisioning.service", notEnabled.Remediation);

            root.Symlink("etc/systemd/system/multi-user.target.wants/azure-provisioning.service", "/etc/systemd/system/azure-provisioning.service");
            root.Write("usr/local/sbin/azure-provisioning", Script.Replace("comp=health", "comp=nothing"));
            Assert.Equal(ReadinessStatus.Fail, Rule(Check(root.Path, ProvisioningAgentChoice.None), "AgentlessReportsReady").Status);
        }
    }
}

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>The module's own first-boot unit (samples/azure-provisioning.service) judged by the R-NOAGENT rule.</summary>
    public sealed class SampleUnitTests : IClassFixture<DebianRoots>
    {
        private readonly DebianRoots roots;

        public SampleUnitTests(DebianRoots roots)
        {
            this.roots = roots;
        }

        [Fact]
        public void TheSampleUnitPassesOnceNoAgentIsInstalledAndIsSkippedWhileWaagentIs()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            root.Delete("etc/systemd/system/multi-user.target.wants/walinuxagent.service");
            root.Write("etc/systemd/system/azure-provisioning.service", File.ReadAllText(Repository.File("samples/azure-provisioning.service")));
            root.Symlink("etc/systemd/system/multi-user.target.wants/azure-provisioning.service", "/etc/systemd/system/azure-provisioning.service");
            root.Write("usr/local/bin/azlinux", "\u007fELF (the self-contained CLI)");

            // waagent's binary is still installed: the unit's ConditionPathExists=!/usr/sbin/waagent skips it at boot.
            ReadinessFinding skipped = Rule(Check(root.Path, ProvisioningAgentChoice.None), "AgentlessReportsReady");
            Assert.Equal(ReadinessStatus.Fail, skipped.Status);
            Assert.Contains("never runs", skipped.Message);
            Assert.Equal("/etc/systemd/system/azure-provisioning.service", skipped.EvidenceFile);
            Assert.StartsWith("ConditionPathExists=!/usr/sbin/waagent", root.Read("etc/systemd/system/azure-provisioning.service").Split('\n')[skipped.EvidenceLine - 1]);

            root.Delete("usr/sbin/waagent"); // apt-get purge waagent
            IReadOnlyList<ReadinessFinding> findings = Check(root.Path, ProvisioningAgentChoice.None);
            ReadinessFinding f = Rule(findings, "AgentlessReportsReady");
            Assert.True(f.Status == ReadinessStatus.Pass, f.Message);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "ProvisioningAgent").Status);
        }
    }
}
