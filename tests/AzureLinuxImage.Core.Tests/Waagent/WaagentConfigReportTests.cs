using System.Linq;
using AzureLinuxImage.Linux.Waagent;
using AzureLinuxImage.Operations;
using Xunit;

namespace AzureLinuxImage.Tests.Waagent
{
    /// <summary>Get: every option set or defaulted with its line, and the problems a careful reader would raise.</summary>
    public class WaagentConfigReportTests
    {
        [Fact]
        public void Debian12_file_reports_set_and_defaulted_options_with_line_numbers()
        {
            byte[] bytes = WaagentFixtures.Bytes(WaagentFixtures.Debian12);
            WaagentConfigInfo info = GetWaagentConfig.FromFile(WaagentFixtures.Path(WaagentFixtures.Debian12));

            WaagentSetting agent = info.Settings.Single(s => s.Key == "Provisioning.Agent");
            Assert.True(agent.IsSet);
            Assert.Equal(WaagentFixtures.LineOf(bytes, "Provisioning.Agent="), agent.LineNumber);
            Assert.Equal("cloud-init", agent.Value);
            Assert.Equal("auto", agent.DefaultValue);

            // Commented out in the file: defaulted by the agent (AZURE-LINUX.md: 180).
            WaagentSetting alive = info.Settings.Single(s => s.Key == "OS.SshClientAliveInterval");
            Assert.False(alive.IsSet);
            Assert.Null(alive.LineNumber);
            Assert.Equal("180", alive.EffectiveValue);

            // "None" means the default for the agent.
            WaagentSetting openssl = info.Settings.Single(s => s.Key == "OS.OpensslPath");
            Assert.True(openssl.IsSet);
            Assert.Equal("/usr/bin/openssl", openssl.EffectiveValue);

            Assert.Equal("cloud-init", info.ProvisioningAgent);
            Assert.True(info.ResourceDiskFormat);
            Assert.False(info.ResourceDiskEnableSwap);
            Assert.Equal(0, info.ResourceDiskSwapSizeMB);
            Assert.Equal("ext4", info.ResourceDiskFilesystem);
            Assert.Equal(300, info.OSRootDeviceScsiTimeout);
            Assert.False(info.AutoUpdateEnabled);
            Assert.False(info.MeetsAzureRecommendation);
            Assert.Equal("LF", info.LineEndings);
            Assert.DoesNotContain(info.Problems, p => p.Severity == WaagentProblemSeverity.Error);
            Assert.NotNull(info.Path);
            Assert.Null(info.RootPath);
            Assert.Null(info.ImagePath);
        }

        [Fact]
        public void Absent_keys_get_the_agent_s_defaults_not_the_shipped_file_s()
        {
            WaagentConfigInfo info = WaagentConfigAnalyzer.Analyze(WaagentConfig.Parse(new byte[] { (byte)'#', (byte)'\n' }, "empty"), null, "empty");
            // AZURE-LINUX.md, "WALinuxAgent configuration defaults".
            Assert.Equal("auto", info.ProvisioningAgent);
            Assert.False(info.RegenerateSshHostKeyPair);
            Assert.False(info.DeleteRootPassword);
            Assert.False(info.ResourceDiskFormat);
            Assert.Equal("ext3", info.ResourceDiskFilesystem);
            Assert.Equal("/mnt/resource", info.ResourceDiskMountPoint);
            Assert.False(info.ResourceDiskEnableSwap);
            Assert.Equal(0, info.ResourceDiskSwapSizeMB);
            Assert.True(info.ExtensionsEnabled);
            Assert.True(info.AutoUpdateEnabled);
            Assert.Null(info.OSRootDeviceScsiTimeout);
            Assert.All(info.Settings, s => Assert.False(s.IsSet));
            Assert.Equal("rsa", Effective(info, "Provisioning.SshHostKeyPairType"));
            Assert.Equal("n", Effective(info, "Logs.Verbose"));
            Assert.Equal("y", Effective(info, "Logs.Console"));
            Assert.Equal("y", Effective(info, "Logs.Collect"));
            Assert.Equal("n", Effective(info, "OS.EnableFirewall"));
            Assert.Equal("/etc/ssh", Effective(info, "OS.SshDir"));
            Assert.Equal("/var/lib/waagent", Effective(info, "Lib.Dir"));
            Assert.Equal("dhcp", Effective(info, "Protocol.EndpointDiscovery"));
        }

        [Fact]
        public void Hand_written_file_problems_are_flagged_on_their_lines()
        {
            WaagentConfigInfo info = GetWaagentConfig.FromFile(WaagentFixtures.Path(WaagentFixtures.HandWritten));

            WaagentConfigProblem dup = info.Problems.Single(p => p.Code == "DuplicateKey");
            Assert.Equal("ResourceDisk.Filesystem", dup.Key);
            Assert.Equal(9, dup.LineNumber);
            Assert.Contains("6, 9", dup.Message);
            Assert.Equal("ext4", info.ResourceDiskFilesystem);

            WaagentConfigProblem removed = info.Problems.Single(p => p.Code == "RemovedOption");
            Assert.Equal("Provisioning.Enabled", removed.Key);
            Assert.Equal(4, removed.LineNumber);
            Assert.Contains("Provisioning.Agent", removed.Message);

            Assert.Contains(info.Problems, p => p.Code == "InvalidValue" && p.Key == "Logs.Verbose" && p.LineNumber == 11);
            Assert.Contains(info.Problems, p => p.Code == "InvalidValue" && p.Key == "ResourceDisk.MountPoint" && p.LineNumber == 15);
            // CRLF plus quotes: the agent reads 300" (its strip stops at the '\r'), not a number.
            Assert.Contains(info.Problems, p => p.Code == "InvalidValue" && p.Key == "OS.RootDeviceScsiTimeout" && p.LineNumber == 12);
            Assert.Null(info.OSRootDeviceScsiTimeout);
            Assert.Contains(info.Problems, p => p.Code == "ByteOrderMark");
            Assert.Contains(info.Problems, p => p.Code == "UnknownKey" && p.Key == "My.Custom.Key" && p.Severity == WaagentProblemSeverity.Information);

            // "yes" is not a switch value: the agent silently uses its default.
            Assert.Equal("n", Effective(info, "Logs.Verbose"));
            // "Y" is: the agent lowercases.
            Assert.True(info.ExtensionsEnabled);
            Assert.DoesNotContain(info.Problems, p => p.Key == "Extensions.Enabled");
            Assert.Equal("waagent", info.ProvisioningAgent);

            WaagentSetting unknown = info.Settings.Single(s => s.Key == "My.Custom.Key");
            Assert.False(unknown.IsDocumented);
            Assert.Equal("keep me = as is", unknown.Value);
            Assert.Equal("Mixed", info.LineEndings);
            Assert.False(info.EndsWithNewline);
        }

        [Fact]
        public void Indented_comments_and_case_typos_are_explained()
        {
            byte[] bytes = System.Text.Encoding.ASCII.GetBytes("  # Logs.Console=y\nresourcedisk.format=y\n");
            WaagentConfigInfo info = WaagentConfigAnalyzer.Analyze(WaagentConfig.Parse(bytes, "x"), null, "x");
            Assert.Contains(info.Problems, p => p.Code == "IndentedComment" && p.LineNumber == 1);
            WaagentConfigProblem typo = info.Problems.Single(p => p.Code == "UnknownKey");
            Assert.Equal(WaagentProblemSeverity.Warning, typo.Severity);
            Assert.Contains("ResourceDisk.Format", typo.Message);
            Assert.False(info.ResourceDiskFormat);
        }

        [Fact]
        public void Swap_without_a_mounted_resource_disk_is_flagged()
        {
            byte[] bytes = System.Text.Encoding.ASCII.GetBytes("ResourceDisk.Format=n\nResourceDisk.EnableSwap=y\n");
            WaagentConfigInfo info = WaagentConfigAnalyzer.Analyze(WaagentConfig.Parse(bytes, "x"), null, "x");
            Assert.Contains(info.Problems, p => p.Code == "SwapWithoutResourceDisk" && p.LineNumber == 2);
            Assert.Contains(info.Problems, p => p.Code == "SwapSizeZero" && p.LineNumber == null);
            Assert.False(info.SwapOnResourceDisk);
        }

        [Fact]
        public void Upstream_file_reads_with_its_shipped_values()
        {
            WaagentConfigInfo info = GetWaagentConfig.FromFile(WaagentFixtures.Path(WaagentFixtures.Upstream));
            Assert.Equal("auto", info.ProvisioningAgent);
            Assert.True(info.RegenerateSshHostKeyPair);
            Assert.True(info.DeleteRootPassword);
            Assert.Equal("y", Effective(info, "OS.EnableFirewall"));
            // Commented out: the agent's default, not the comment's.
            Assert.False(info.Settings.Single(s => s.Key == "AutoUpdate.Enabled").IsSet);
            Assert.True(info.AutoUpdateEnabled);
            Assert.Contains(info.Settings, s => s.Key == "CGroups.Excluded" && s.IsSet && s.Value == "customscript,runcommand");
        }

        private static string? Effective(WaagentConfigInfo info, string key) => info.Settings.Single(s => s.Key == key).EffectiveValue;
    }
}
