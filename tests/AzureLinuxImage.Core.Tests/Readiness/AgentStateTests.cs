using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>
    /// Issue 27 items 2 and 3: WALinuxAgent's deprovision list, read from its source, on the real Debian 12 root;
    /// /var/lib/dbus/machine-id.
    /// </summary>
    public sealed class AgentStateTests : IClassFixture<DebianRoots>
    {
        private const string AgentModules = "/opt/waagent-oracle/usr/lib/python3/dist-packages/azurelinuxagent";
        private readonly DebianRoots roots;

        public AgentStateTests(DebianRoots roots)
        {
            this.roots = roots;
        }

        private static string RequireAgentSource()
        {
            string root = Environment.GetEnvironmentVariable("WAAGENT_ORACLE_PYTHONPATH") is string p && p.Length > 0 ? Path.Combine(p, "azurelinuxagent") : AgentModules;
            if (File.Exists(Path.Combine(root, "pa", "deprovision", "default.py")))
            {
                return root;
            }
            string reason = "WALinuxAgent's source is not unpacked (apt-get download waagent; dpkg-deb -x waagent_*.deb /opt/waagent-oracle).";
            ExternalTool.Unavailable(reason);
            return string.Empty;
        }

        [Fact]
        public void The_list_is_the_agents_own_with_every_citation_true()
        {
            string src = RequireAgentSource();
            Assert.Contains("AGENT_VERSION = '2.7.3.0'", File.ReadAllText(Path.Combine(src, "common", "version.py")));
            string[] deprovision = File.ReadAllLines(Path.Combine(src, "pa", "deprovision", "default.py"));
            // del_lib_dir_files: every name of known_files and known_files_glob is an item citing its line.
            int start = Array.FindIndex(deprovision, l => l.Contains("def del_lib_dir_files"));
            int end = Array.FindIndex(deprovision, start, l => l.Contains("lib_dir = conf.get_lib_dir()"));
            int named = 0;
            for (int i = start; i < end; i++)
            {
                Match m = Regex.Match(deprovision[i], @"^\s*'([^']+)',?\s*$");
                if (!m.Success)
                {
                    continue;
                }
                named++;
                AgentStateItem item = Assert.Single(WaagentDeprovision.LibDirItems, x => x.Pattern == m.Groups[1].Value);
                Assert.Contains($"pa/deprovision/default.py:{i + 1}", item.Source);
                Assert.Equal(AgentStateEffect.ProvisioningState, item.Effect);
            }
            Assert.Equal(9, named);
            // del_dhcp_lease's folders, del_files and del_resolv are in the other items with their lines.
            foreach (string path in new[] { "/var/lib/dhclient", "/var/lib/dhcpcd", "/var/lib/dhcp", "/root/.bash_history", "/etc/resolv.conf", "/var/lib/NetworkManager/dhclient-*.lease" })
            {
                int line = Array.FindIndex(deprovision, l => l.Contains("\"" + path + "\"") || l.Contains("'" + path + "'")) + 1;
                Assert.True(line > 0, path);
                Assert.Contains($"pa/deprovision/default.py:{line}", Assert.Single(WaagentDeprovision.OtherItems, x => x.Pattern == path).Source);
            }
            Assert.Contains("dirs = [conf.get_lib_dir(), conf.get_ext_log_dir()]", deprovision[97]);
            // Every item names the file and line where the agent writes it: one of its citations shows the name.
            foreach (AgentStateItem item in WaagentDeprovision.LibDirItems.Concat(WaagentDeprovision.OtherItems))
            {
                string last = item.Pattern.Substring(item.Pattern.LastIndexOf('/') + 1);
                string literal = last.Split('*').OrderByDescending(s => s.Length).First().Trim('.');
                var cited = new List<string>();
                foreach (Match c in Regex.Matches(item.Source, @"([a-z_/]+\.py):(\d+)(?:-(\d+))?"))
                {
                    string[] lines = File.ReadAllLines(Path.Combine(src, c.Groups[1].Value));
                    int from = int.Parse(c.Groups[2].Value), to = c.Groups[3].Success ? int.Parse(c.Groups[3].Value) : from;
                    Assert.True(to <= lines.Length, item.Source);
                    cited.AddRange(lines.Skip(from - 1).Take(to - from + 1));
                }
                Assert.NotEmpty(cited);
                if (literal.Length > 0)
                {
                    string templated = Regex.Replace(literal, "^(walinuxagent|waagent)-network", "{0}-network");
                    Assert.True(cited.Any(l => l.Contains(literal) || l.Contains(templated)), $"{item.Pattern}: {item.Source} does not show '{literal}'");
                }
            }
        }

        [Fact]
        public void Every_agent_state_file_is_found_on_the_Debian_root_with_its_citation()
        {
            LinuxRoot root = roots.AzureReady;
            using IDisposable change = root.Change();
            var planted = new List<string>();
            foreach (AgentStateItem item in WaagentDeprovision.LibDirItems.Where(i => i.Pattern != "*"))
            {
                string name = item.Pattern.Replace("*", "1");
                if (item.Directory)
                {
                    root.Write($"var/lib/waagent/{name}/1.zip", "x");
                }
                else
                {
                    root.Write($"var/lib/waagent/{name}", "x");
                }
                planted.Add("/var/lib/waagent/" + name);
            }
            // Names of newer agents (the issue's list) are state too: deprovisioning removes the whole Lib.Dir.
            root.Write("var/lib/waagent/GoalStateSource", "Fabric");
            root.Write("var/lib/waagent/SequenceNumber", "1");
            root.Write("var/log/waagent.log", "2026-12-07T00:00:00Z INFO Daemon\n");
            root.Write("var/lib/dhcp/dhclient.eth0.leases", "lease { }\n");

            var facts = new LinuxFacts(new HostDirectoryFileSystem(root.Path));
            ProvisioningAgents p = facts.Provisioning.Value!;
            foreach (string path in planted.Concat(new[] { "/var/lib/waagent/GoalStateSource", "/var/lib/waagent/SequenceNumber", "/var/log/waagent.log" }))
            {
                Assert.Contains(p.WaagentState, f => f.Path == path);
            }
            Assert.Equal("events", p.WaagentState.Single(f => f.Path == "/var/lib/waagent/events").Item.Pattern);
            Assert.Equal("*", p.WaagentState.Single(f => f.Path == "/var/lib/waagent/SequenceNumber").Item.Pattern);

            IReadOnlyList<ReadinessFinding> findings = DebianReadinessTests.Check(root.Path);
            ReadinessFinding stale = DebianReadinessTests.Rule(findings, "NoStaleProvisioningState");
            Assert.Equal(ReadinessStatus.Fail, stale.Status);
            foreach (AgentStateItem item in WaagentDeprovision.LibDirItems.Where(i => i.Effect == AgentStateEffect.ProvisioningState && i.Pattern != "*"))
            {
                string path = "/var/lib/waagent/" + item.Pattern.Replace("*", "1");
                Assert.Contains($"{path} ({item.Meaning}; WALinuxAgent 2.7.3.0 {item.Source})", stale.Message);
                Assert.Contains(path, stale.Remediation);
            }
            Assert.Contains("/var/lib/waagent/GoalStateSource (other state of the previous VM; WALinuxAgent 2.7.3.0 pa/deprovision/default.py:98", stale.Message);
            // Logs and leases belong to other rules, not to this one.
            Assert.DoesNotContain("/var/lib/waagent/history", stale.Message);
            Assert.DoesNotContain("waagent.log", stale.Message);
            Assert.DoesNotContain("dhclient.eth0.leases", stale.Message);
            Assert.Equal(ReadinessStatus.Warning, DebianReadinessTests.Rule(findings, "NoDhcpLeases").Status);
        }

        [Fact]
        public void The_Debian_root_keeps_its_id_in_var_lib_dbus_until_it_is_relinked()
        {
            LinuxRoot root = roots.Stock;
            using IDisposable change = root.Change();
            // Debian 12's dbus leaves a regular file holding the same id as /etc/machine-id.
            string id = root.Read("etc/machine-id").Trim();
            Assert.Matches("^[0-9a-f]{32}$", id);
            ReadinessFinding f = DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "DbusMachineIdBlank");
            Assert.Equal(ReadinessStatus.Warning, f.Status);
            Assert.Equal("/var/lib/dbus/machine-id", f.EvidenceFile);
            Assert.Contains(id + " (the same id as /etc/machine-id)", f.Message);
            Assert.Contains("ln -s /etc/machine-id /var/lib/dbus/machine-id", f.Remediation);

            root.Write("var/lib/dbus/machine-id", string.Empty);
            Assert.Equal(ReadinessStatus.Warning, DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "DbusMachineIdBlank").Status);
            root.Symlink("var/lib/dbus/machine-id", "/etc/machine-id");
            Assert.Equal(ReadinessStatus.Pass, DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "DbusMachineIdBlank").Status);
            root.Delete("var/lib/dbus/machine-id");
            Assert.Equal(ReadinessStatus.Pass, DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "DbusMachineIdBlank").Status);
        }
    }
}
