using System.IO;
using System.Linq;
using System.Text.Json;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Readiness;
using Xunit;

namespace AzureLinuxImage.Tests.Repair
{
    /// <summary>azlinux fix, generalize and agentless through the built CLI.</summary>
    public sealed class RepairCliTests
    {
        [Fact]
        public void Fix_dry_run_then_fix_then_test_passes()
        {
            using LinuxRoot r = RepairRoots.Debian();
            var before = RepairRoots.Snapshot(r.Path);
            ToolResult dry = AzLinux.Run("fix", "--root", r.Path, "--dry-run");
            Assert.True(dry.ExitCode == 0, dry.StdErr);
            Assert.Contains("dry run:", dry.StdOut);
            Assert.Contains("+ ResourceDisk.EnableSwap=y", dry.StdOut);
            Assert.Empty(RepairRoots.Diff(before, RepairRoots.Snapshot(r.Path)));
            Assert.Equal(1, AzLinux.Run("test", "--root", r.Path).ExitCode);

            ToolResult fix = AzLinux.Run("fix", "--root", r.Path, "--json");
            Assert.True(fix.ExitCode == 0, fix.StdErr);
            using JsonDocument doc = JsonDocument.Parse(fix.StdOut);
            Assert.True(doc.RootElement.GetArrayLength() > 3);
            ToolResult test = AzLinux.Run("test", "--root", r.Path);
            // Only a package is missing afterwards (eject, listed by fix as not fixed offline).
            Assert.Equal(new[] { "WaagentEject" }, test.StdOut.Split('\n').Where(l => l.TrimStart().StartsWith("FAIL", System.StringComparison.Ordinal))
                .Select(l => l.Split(' ', System.StringSplitOptions.RemoveEmptyEntries)[1]).ToArray());
            Assert.Contains("WaagentEject", fix.StdOut);
        }

        [Fact]
        public void Generalize_lists_what_it_removed()
        {
            using LinuxRoot r = RepairRoots.Debian(azureReady: true);
            r.Write("var/lib/dhcp/dhclient.eth0.leases", "lease {}\n");
            ToolResult g = AzLinux.Run("generalize", "--root", r.Path);
            Assert.True(g.ExitCode == 0, g.StdErr);
            Assert.Contains("removed   /var/lib/dhcp/dhclient.eth0.leases", g.StdOut);
            Assert.Contains("truncated /etc/machine-id", g.StdOut);
            Assert.False(File.Exists(r.Full("var/lib/dhcp/dhclient.eth0.leases")));
        }

        [Fact]
        public void Agentless_refusal_is_an_error_with_its_id()
        {
            using LinuxRoot r = LinuxRoot.Synthetic();
            Directory.CreateDirectory(r.Full("etc/systemd/system"));
            r.Write("usr/bin/systemctl", "");
            ToolResult a = AzLinux.Run("agentless", "--root", r.Path);
            Assert.NotEqual(0, a.ExitCode);
            Assert.Contains("NoHttpClient", a.StdErr);
            Assert.False(File.Exists(r.Full("etc/systemd/system/azure-provisioning.service")));
        }
    }
}
