using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>
    /// Issue 7's proof on real disk images, read through partitions and file systems (not a folder):
    /// Debian 12 from tests/fixtures/build-debian-image.sh, stock and --azure-ready, on ext4/GPT and
    /// XFS/MBR, in VHD and VHDX containers made by qemu-img.
    /// </summary>
    public class DebianImageReadinessTests
    {
        private static readonly string[] SeedRules = { "SerialConsole", "WaagentResourceDiskSwap", "ProvisioningAgentConflict" };

        [Theory]
        [InlineData("ext4", "gpt", false, "vpc")]
        [InlineData("xfs", "mbr", false, "vhdx")]
        [InlineData("ext4", "gpt", true, "vhdx")]
        [InlineData("xfs", "mbr", true, "vpc")]
        public void Stock_images_fail_the_seed_rules_and_azure_ready_ones_pass_them(string fs, string table, bool azureReady, string container)
        {
            LinuxRoot.RequireDebianCache();
            using var dir = new TempDirectory();
            string raw = dir.File("debian.raw");
            var args = new List<string> { Repository.File("tests/fixtures/build-debian-image.sh"), raw, "--fs", fs, "--table", table, "--size-mib", "1536" };
            if (azureReady)
            {
                args.Add("--azure-ready");
            }
            ExternalTool.Run("/bin/bash", args.ToArray(), timeoutSeconds: 900);
            string image = dir.File(container == "vpc" ? "debian.vhd" : "debian.vhdx");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", container, "-o", "subformat=dynamic", raw, image);
            System.IO.File.Delete(raw);

            IReadOnlyList<ReadinessFinding> findings = TestLinuxImageReadiness.Run(new LinuxImageReadinessOptions { ImagePath = image }, new SilentContext());
            ReadinessStatus StatusOf(string rule) => findings.Single(f => f.RuleId == rule).Status;

            foreach (string rule in SeedRules)
            {
                Assert.True(StatusOf(rule) == (azureReady ? ReadinessStatus.Pass : ReadinessStatus.Fail), $"{rule}: {findings.Single(f => f.RuleId == rule)}");
            }
            Assert.Equal(azureReady ? ReadinessStatus.Pass : ReadinessStatus.Warning, StatusOf("QuietBoot"));
            // Issue 27: the stock image brings no NIC up and is never provisioned; the ready one has Debian's eth0 stanza
            // and net.ifnames=0, and eject for waagent (stock: waagent is set to cloud-init, so eject does not matter).
            Assert.True(StatusOf("DhcpPrimaryNic") == (azureReady ? ReadinessStatus.Pass : ReadinessStatus.Fail), findings.Single(f => f.RuleId == "DhcpPrimaryNic").ToString());
            Assert.Equal(azureReady ? ReadinessStatus.Pass : ReadinessStatus.NotApplicable, StatusOf("WaagentEject"));
            // Issue 24: neither image sleeps for rootdelay (the ready one no longer sets it); the kernel has CONFIG_EARLY_PRINTK.
            Assert.Equal(ReadinessStatus.Pass, StatusOf("RootDelay"));
            Assert.Equal(azureReady ? ReadinessStatus.Pass : ReadinessStatus.Warning, StatusOf("EarlyPrintk"));
            Assert.DoesNotContain(findings, f => f.Remediation != null && f.Remediation.Contains("rootdelay"));
            // The zstd initramfs is found on the image's /boot and listed (hv_vmbus, hv_storvsc, hv_netvsc are modules in it).
            Assert.Equal(ReadinessStatus.Pass, StatusOf("InitrdHyperVDrivers"));
            // The container is what Azure refuses until ConvertTo-FixedVhd: a dynamic VHD or a VHDX.
            Assert.Equal(ReadinessStatus.Fail, StatusOf("FixedVhd"));
        }
    }
}
