using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Readiness;
using Xunit;

namespace AzureLinuxImage.Tests.Repair
{
    /// <summary>Clear-LinuxImageState and Install-AgentlessProvisioning on the real Debian 12 root (issue 18's proof).</summary>
    public sealed class GeneralizeAndAgentlessTests
    {
        private static IReadOnlyList<ReadinessFinding> Test(string root, ProvisioningAgentChoice agent, params string[] rules) =>
            TestLinuxImageReadiness.Run(new LinuxImageReadinessOptions { RootPath = root, Rules = rules.ToList(), ProvisioningAgent = agent }, new SilentContext());

        private static void Plant(LinuxRoot r)
        {
            r.Write("var/lib/waagent/Incarnation", "3");
            r.Write("var/lib/waagent/GoalState.3.xml", "<GoalState/>");
            r.Write("var/lib/waagent/ovf-env.xml", "<Environment/>");
            r.Write("var/lib/waagent/provisioned", "");
            r.Write("var/lib/waagent/history/2024-01-01/GoalState.xml", "x");
            r.Write("var/log/azure/Microsoft.Azure.Extensions/CommandExecution.log", "x");
            r.Write("var/log/waagent.log", "agent log");
            r.Write("var/lib/dhcp/dhclient.eth0.leases", "lease {\n  option unknown-245 a8:3f:81:10;\n}\n");
            r.Write("var/lib/cloud/instances/iid-1/obj.pkl", "x");
            r.Symlink("var/lib/cloud/instance", "/var/lib/cloud/instances/iid-1");
            r.Write("root/.bash_history", string.Concat(Enumerable.Repeat("sudo apt-get install something\n", 100)));
            r.Write("etc/ssh/ssh_host_ed25519_key", "PRIVATE");
            r.Write("etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA root@build");
            r.Edit("etc/passwd", t => t + "builder:x:1000:1000:Builder:/home/builder:/bin/bash\n");
            r.Edit("etc/shadow", t => t + "builder:$6$salt$hash:19700:0:99999:7:::\n");
            r.Edit("etc/group", t => t.Replace("sudo:x:27:", "sudo:x:27:builder") + "builder:x:1000:\n");
            r.Write("home/builder/.ssh/authorized_keys", "ssh-ed25519 AAAA builder@laptop\n");
            r.Write("home/builder/.bash_history", string.Concat(Enumerable.Repeat("ls\n", 600)));
        }

        [Fact]
        public void Generalize_removes_the_planted_state_and_changes_nothing_else()
        {
            using LinuxRoot r = RepairRoots.Debian(azureReady: true);
            Plant(r);
            var machineId = r.Read("etc/machine-id").Trim();
            Assert.Matches("^[0-9a-f]{32}$", machineId);
            Assert.Equal(machineId, r.Read("var/lib/dbus/machine-id").Trim());
            foreach (string rule in new[] { "NoStaleProvisioningState", "NoDhcpLeases", "NoShellHistory", "MachineIdBlank", "NoAuthorizedKeys", "NoPasswordHashes" })
            {
                Assert.NotEqual(ReadinessStatus.Pass, Test(r.Path, ProvisioningAgentChoice.Auto, rule).Single().Status);
            }
            var before = RepairRoots.Snapshot(r.Path);
            IReadOnlyList<LinuxImageChange> changes = ClearLinuxImageState.Run(
                new ClearLinuxImageStateOptions { RootPath = r.Path, RemoveUsers = new List<string> { "builder" }, LockPasswords = true }, new SilentContext());
            var after = RepairRoots.Snapshot(r.Path);

            foreach (string rule in new[] { "NoStaleProvisioningState", "NoDhcpLeases", "NoShellHistory", "MachineIdBlank", "NoAuthorizedKeys", "NoPasswordHashes", "SshHostKeysRegenerated" })
            {
                ReadinessFinding f = Test(r.Path, ProvisioningAgentChoice.Auto, rule).Single();
                Assert.True(f.Status == ReadinessStatus.Pass, $"{rule}: {f.Message}");
            }
            Assert.Equal(string.Empty, r.Read("etc/machine-id"));
            // D-Bus: the link Debian's own tmpfiles.d/dbus.conf makes.
            Assert.Equal("/etc/machine-id", UnixFileApi.ReadLink(r.Full("var/lib/dbus/machine-id")));
            Assert.Empty(Directory.GetFileSystemEntries(r.Full("var/lib/waagent")));
            Assert.True(Directory.Exists(r.Full("var/lib/dhcp")), "the package's lease folder stays");
            Assert.False(Directory.Exists(r.Full("home/builder")));
            Assert.DoesNotContain("builder", r.Read("etc/passwd") + r.Read("etc/shadow") + r.Read("etc/group"));
            Assert.Contains("sudo:x:27:\n", r.Read("etc/group"));
            Assert.DoesNotContain(changes, c => (c.Before ?? string.Empty).Contains("$6$salt") || (c.After ?? string.Empty).Contains("$6$salt"));

            // Tree compare: every path that differs is one the report names (or lies under one it removed).
            var reported = changes.Where(c => c.Action != LinuxImageChangeAction.NotFixed).Select(c => c.ItemPath!).ToList();
            foreach (string changed in RepairRoots.Diff(before, after))
            {
                Assert.True(reported.Any(p => changed == p || changed.StartsWith(p + "/", StringComparison.Ordinal)), $"{changed} changed but was not reported");
            }
            foreach (string p in reported.Distinct())
            {
                Assert.Contains(p, RepairRoots.Diff(before, after));
            }
            Assert.All(changes, c => Assert.True(c.Applied || c.Action == LinuxImageChangeAction.NotFixed));
        }

        [Fact]
        public void Generalize_installs_a_keygen_unit_when_nothing_would_make_host_keys()
        {
            using LinuxRoot r = RepairRoots.Debian(azureReady: true);
            r.SetKey("etc/waagent.conf", "Provisioning.RegenerateSshHostKeyPair", "n");
            IReadOnlyList<LinuxImageChange> changes = ClearLinuxImageState.Run(new ClearLinuxImageStateOptions { RootPath = r.Path }, new SilentContext());
            Assert.Contains(changes, c => c.ItemPath == "/etc/systemd/system/" + ClearLinuxImageState.KeygenUnit);
            Assert.Empty(Directory.GetFiles(r.Full("etc/ssh"), "ssh_host_*"));
            Assert.Equal("/etc/systemd/system/" + ClearLinuxImageState.KeygenUnit, UnixFileApi.ReadLink(r.Full("etc/systemd/system/multi-user.target.wants/" + ClearLinuxImageState.KeygenUnit)));
            Assert.Contains("ExecStart=/usr/bin/ssh-keygen -A", r.Read("etc/systemd/system/" + ClearLinuxImageState.KeygenUnit));
        }

        [Fact]
        public void Generalize_refuses_an_unknown_user_before_changing_anything()
        {
            using LinuxRoot r = LinuxRoot.Synthetic();
            r.Write("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
            r.Write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
            var e = Assert.Throws<AzureLinuxImageException>(() =>
                ClearLinuxImageState.Run(new ClearLinuxImageStateOptions { RootPath = r.Path, RemoveUsers = new List<string> { "nobody-here" } }, new SilentContext()));
            Assert.Equal("UserNotFound", e.ErrorId);
            Assert.Equal("0123456789abcdef0123456789abcdef\n", r.Read("etc/machine-id"));
            e = Assert.Throws<AzureLinuxImageException>(() =>
                ClearLinuxImageState.Run(new ClearLinuxImageStateOptions { RootPath = r.Path, RemoveUsers = new List<string> { "root" } }, new SilentContext()));
            Assert.Equal("InvalidUserName", e.ErrorId);
        }

        /// <summary>The Debian root without walinuxagent: an agent-less image.</summary>
        private static LinuxRoot AgentlessDebian()
        {
            LinuxRoot r = RepairRoots.Debian(azureReady: true);
            foreach (string p in new[] { "usr/sbin/waagent", "etc/init.d/walinuxagent", "lib/systemd/system/walinuxagent.service", "etc/waagent.conf" }
                .Concat(Directory.GetFiles(r.Full("etc"), "*walinuxagent*", SearchOption.AllDirectories).Select(f => f.Substring(r.Path.Length + 1))))
            {
                string full = r.Full(p);
                if (File.Exists(full) || UnixFileApi.ReadLink(full) != null)
                {
                    File.Delete(full);
                }
            }
            return r;
        }

        [Fact]
        public void Agentless_install_makes_the_NOAGENT_rules_pass_and_the_script_uses_the_images_client()
        {
            using LinuxRoot r = AgentlessDebian();
            // Debian's minimal root has neither curl nor wget: refused with the reason, nothing written.
            var before = RepairRoots.Snapshot(r.Path);
            var e = Assert.Throws<AzureLinuxImageException>(() => InstallAgentlessProvisioning.Run(new InstallAgentlessProvisioningOptions { RootPath = r.Path }, new SilentContext()));
            Assert.Equal("NoHttpClient", e.ErrorId);
            Assert.Contains("neither curl nor wget", e.Message);
            Assert.Empty(RepairRoots.Diff(before, RepairRoots.Snapshot(r.Path)));
            Assert.Equal(ReadinessStatus.Fail, Test(r.Path, ProvisioningAgentChoice.None, "AgentlessReportsReady").Single().Status);

            File.Copy(ExternalTool.Require("curl", "curl"), r.Full("usr/bin/curl"));
            IReadOnlyList<LinuxImageChange> changes = InstallAgentlessProvisioning.Run(new InstallAgentlessProvisioningOptions { RootPath = r.Path }, new SilentContext());
            Assert.Contains(changes, c => c.ItemPath == InstallAgentlessProvisioning.ScriptPath && c.Description.Contains("curl"));
            foreach (ReadinessFinding f in Test(r.Path, ProvisioningAgentChoice.None, "ProvisioningAgent", "AgentlessReportsReady"))
            {
                Assert.True(f.Status == ReadinessStatus.Pass, $"{f.RuleId}: {f.Message}");
            }
            Assert.Equal(InstallAgentlessProvisioning.UnitPath, UnixFileApi.ReadLink(r.Full("etc/systemd/system/multi-user.target.wants/" + InstallAgentlessProvisioning.UnitName)));
            Assert.Equal(Convert.ToUInt32("755", 8), UnixFileApi.GetOwnership(r.Full(InstallAgentlessProvisioning.ScriptPath.TrimStart('/')))!.Value.Mode);
            Assert.Equal(InstallAgentlessProvisioning.ReporterScript(), r.Read(InstallAgentlessProvisioning.ScriptPath));
            // Installing again changes nothing but the files' content (identical): no second link.
            InstallAgentlessProvisioning.Run(new InstallAgentlessProvisioningOptions { RootPath = r.Path }, new SilentContext());
            Assert.Single(Directory.GetFileSystemEntries(r.Full("etc/systemd/system/multi-user.target.wants"), "azure-provisioning*"));
        }

        [Fact]
        public void Agentless_install_refuses_an_image_with_an_agent()
        {
            using LinuxRoot r = RepairRoots.Debian(azureReady: true);
            var e = Assert.Throws<AzureLinuxImageException>(() => InstallAgentlessProvisioning.Run(new InstallAgentlessProvisioningOptions { RootPath = r.Path }, new SilentContext()));
            Assert.Equal("ProvisioningAgentPresent", e.ErrorId);
            Assert.Contains("walinuxagent", e.Message);
        }
    }
}
