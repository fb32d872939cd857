using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Readiness
{
    /// <summary>Provisioning agents (R-AGENT, R-NOAGENT, AZURE-LINUX.md "agent" and "cloud-init").</summary>
    internal static class AgentRules
    {
        private const string Area = "Agent";

        public static IEnumerable<ReadinessRule> All()
        {
            yield return new ReadinessRule("ProvisioningAgent", Area, "Exactly one provisioning agent enabled", "R-AGENT-1, R-NOAGENT-1", ReadinessSeverity.Error,
                "One of waagent, cloud-init (waagent may stay for extensions with Provisioning.Agent=auto or cloud-init), azure-init or an agent-less first-boot unit is installed and enabled (.wants links, not masked, no cloud-init.disabled), and it is the one -ProvisioningAgent names.",
                Present);
            yield return new ReadinessRule("ProvisioningAgentConflict", Area, "waagent's Provisioning.Agent matches what is installed", "AZ-AGENT", ReadinessSeverity.Error,
                "Provisioning.Agent=cloud-init needs cloud-init installed and enabled (otherwise provisioning times out, as in Debian 12's stock image); waagent with cloud-init enabled provisions twice; auto picks cloud-init when cloud-init-local is enabled.",
                Conflict);
            yield return new ReadinessRule("WaagentResourceDiskSwap", Area, "waagent puts swap on the resource disk", "R-AGENT-5", ReadinessSeverity.Error,
                "When waagent handles the resource disk: ResourceDisk.Format=y, Filesystem=ext4, MountPoint=/mnt/resource, EnableSwap=y, SwapSizeMB>0 (absent keys take WALinuxAgent's defaults, not the shipped file's).",
                ResourceDisk);
            yield return new ReadinessRule("SwapSingleTool", Area, "Resource-disk swap made by exactly one tool", "AZ-SWAP", ReadinessSeverity.Warning,
                "Either waagent (ResourceDisk.EnableSwap=y) or cloud-init (a swap/mounts configuration with waagent's ResourceDisk.Format=n) makes the swap, not both.",
                SwapTool);
            yield return new ReadinessRule("WaagentPython", Area, "Python for the Azure Linux Agent", "R-AGENT-2", ReadinessSeverity.Error,
                "waagent needs a Python interpreter (2.6+ in the seed; LISA expects 3.9 or newer).",
                Python);
            yield return new ReadinessRule("WaagentEject", Area, "eject for waagent's provisioning DVD", "R-AGENT-1, AZ-AGENT", ReadinessSeverity.Error,
                "When waagent provisions (Provisioning.Agent=waagent, or auto without cloud-init), eject is on its PATH: after copying ovf-env.xml from the provisioning DVD it runs eject (WALinuxAgent 2.7.3.0 common/osutil/default.py:672, from common/protocol/util.py:111) and, eject missing, dies with FileNotFoundError and never reports Ready. Debian's waagent package does not depend on eject and a minimal root lacks it.",
                Eject);
            yield return new ReadinessRule("WaagentVersion", Area, "Azure Linux Agent recent enough", "AZ-AGENT", ReadinessSeverity.Warning,
                "The agent version (AGENT_VERSION in azurelinuxagent/common/version.py) is 2.2.53.1 or newer.",
                Version);
            yield return new ReadinessRule("WaagentNetworkManager", Area, "waagent and NetworkManager", "R-AGENT-3", ReadinessSeverity.Warning,
                "Agents older than 2.2 conflict with NetworkManager (distribution packages remove it).",
                NetworkManager);
            yield return new ReadinessRule("CloudInitAzureDatasource", Area, "cloud-init uses the Azure datasource", "AZ-CLOUDINIT", ReadinessSeverity.Error,
                "After merging /etc/cloud/cloud.cfg and cloud.cfg.d/*.cfg, datasource_list (when set) contains Azure, and /etc/cloud/ds-identify.cfg does not force another source.",
                Datasource);
            yield return new ReadinessRule("CloudInitInstallerLeftovers", Area, "No installer leftovers in cloud.cfg.d", "AZ-CLOUDINIT", ReadinessSeverity.Warning,
                "99-installer.cfg, subiquity-disable-cloudinit-networking.cfg, 50-curtin-networking.cfg (and network: {config: disabled}) keep cloud-init from configuring the network in Azure.",
                Leftovers);
            yield return new ReadinessRule("AgentlessReportsReady", "NoAgent", "Agent-less image reports ready at first boot", "R-NOAGENT-3, R-NOAGENT-4, R-NOAGENT-5", ReadinessSeverity.Error,
                "Without an agent, an enabled oneshot unit (WantedBy=multi-user.target) must fetch the goal state from 168.63.129.16, post Ready to comp=health, set the hostname from IMDS and disable itself; its script is read, and `azlinux ready` / Send-WireServerReady (samples/azure-provisioning.service) count as reporting. A ConditionPathExists=! that holds in the image means it never runs.",
                Agentless);
        }

        internal sealed class AgentState
        {
            public bool Waagent;
            public bool CloudInit;
            public bool AzureInit;
            public bool Agentless;
            public string WaagentMode = "auto";
            public bool CloudInitDisabledOnCmdline;
        }

        internal static AgentState State(ReadinessContext ctx)
        {
            ProvisioningAgents p = ctx.Facts.Provisioning.Value!;
            var s = new AgentState();
            s.CloudInitDisabledOnCmdline = ctx.Facts.Boot.Value?.EffectiveCommandLine?.Value("cloud-init") == "disabled";
            s.Waagent = p.Waagent.Installed && p.Waagent.Unit.Active;
            s.WaagentMode = (p.Waagent.Settings?.Get("Provisioning.Agent") ?? "auto").ToLowerInvariant();
            s.CloudInit = p.CloudInit.Enabled && !s.CloudInitDisabledOnCmdline;
            s.AzureInit = p.AzureInit.Installed && p.AzureInit.Unit.Active;
            s.Agentless = p.AgentlessUnits.Any(u => u.Enabled && u.ReportsReady && u.SkippedBy == null);
            return s;
        }

        private static RuleOutcome? UnknownProvisioning(ReadinessContext ctx) =>
            Outcome.UnknownIf(("systemd units", ctx.Facts.Units.Error), ("provisioning agents", ctx.Facts.Provisioning.Error));

        private static RuleOutcome Present(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx);
            if (unknown != null)
            {
                return unknown;
            }
            ProvisioningAgents p = ctx.Facts.Provisioning.Value!;
            AgentState s = State(ctx);
            var provisioners = new List<string>();
            if (s.CloudInit)
            {
                provisioners.Add("cloud-init");
            }
            // waagent alongside cloud-init only runs extensions when Provisioning.Agent is auto or cloud-init.
            if (s.Waagent && !(s.CloudInit && (s.WaagentMode == "auto" || s.WaagentMode == "cloud-init")) && s.WaagentMode != "disabled")
            {
                provisioners.Add("waagent");
            }
            if (s.AzureInit)
            {
                provisioners.Add("azure-init");
            }
            if (s.Agentless)
            {
                provisioners.Add("agent-less unit " + p.AgentlessUnits.First(u => u.Enabled && u.ReportsReady && u.SkippedBy == null).UnitName);
            }
            string installHint = ctx.PackageInstall("waagent cloud-init", "WALinuxAgent cloud-init");
            if (provisioners.Count == 0)
            {
                string why = p.Waagent.Installed && !p.Waagent.Unit.Active ? $" (waagent is installed but {p.Waagent.Unit.Name} is {(p.Waagent.Unit.Masked ? "masked" : "not enabled")})"
                    : p.CloudInit.Installed && !s.CloudInit ? $" (cloud-init is installed but disabled{(p.CloudInit.DisabledMarker != null ? " by " + p.CloudInit.DisabledMarker : string.Empty)})" : string.Empty;
                SourceLine? ev = p.Waagent.Unit.MaskLink ?? (p.CloudInit.DisabledMarker != null ? new SourceLine(p.CloudInit.DisabledMarker, 0) : (SourceLine?)null);
                return Outcome.Fail($"No provisioning agent is enabled{why}: Azure restarts the VM when nothing reports ready.", ev,
                    p.Waagent.Installed ? $"systemctl unmask {p.Waagent.Unit.Name}; systemctl enable {p.Waagent.Unit.Name}" : $"{installHint} (or add an agent-less unit, R-NOAGENT)");
            }
            if (provisioners.Count > 1)
            {
                return Outcome.Fail($"Several agents provision: {string.Join(", ", provisioners)}.", null,
                    "Keep one: disable the others (systemctl disable <unit>), or set Provisioning.Agent=auto in /etc/waagent.conf when cloud-init provisions.");
            }
            string actual = provisioners[0];
            string? expected = ctx.Agent switch
            {
                ProvisioningAgentChoice.Waagent => "waagent",
                ProvisioningAgentChoice.CloudInit => "cloud-init",
                ProvisioningAgentChoice.None => "agent-less unit",
                _ => null,
            };
            if (expected != null && !actual.StartsWith(expected, StringComparison.Ordinal))
            {
                return Outcome.Fail($"-ProvisioningAgent {ctx.Agent} was asked for, but the image provisions with {actual}.", null,
                    expected == "waagent" ? "systemctl enable walinuxagent.service; set Provisioning.Agent=waagent in /etc/waagent.conf"
                    : expected == "cloud-init" ? ctx.PackageInstall("cloud-init", "cloud-init") + "; set Provisioning.Agent=auto in /etc/waagent.conf"
                    : "Disable the agents (systemctl disable walinuxagent.service cloud-init-local.service) and enable a first-boot unit (R-NOAGENT-5).");
            }
            return Outcome.Pass($"{actual} provisions the VM.");
        }

        private static RuleOutcome Conflict(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx);
            if (unknown != null)
            {
                return unknown;
            }
            ProvisioningAgents p = ctx.Facts.Provisioning.Value!;
            AgentState s = State(ctx);
            if (!p.Waagent.Installed || p.Waagent.Settings == null)
            {
                return Outcome.NotApplicable(p.Waagent.Installed ? "waagent is installed without /etc/waagent.conf." : "waagent is not installed.");
            }
            WaagentSettings w = p.Waagent.Settings;
            SourceLine where = w.Where("Provisioning.Agent");
            string setTo(string v) => w.IsSet("Provisioning.Agent")
                ? $"sed -i 's/^Provisioning.Agent=.*/Provisioning.Agent={v}/' /etc/waagent.conf"
                : $"echo 'Provisioning.Agent={v}' >> /etc/waagent.conf";
            switch (s.WaagentMode)
            {
                case "cloud-init":
                    if (!p.CloudInit.Installed)
                    {
                        return Outcome.Fail("Provisioning.Agent=cloud-init but cloud-init is not installed: waagent waits for cloud-init and provisioning times out.", where,
                            setTo("waagent") + $" (or install cloud-init: {ctx.PackageInstall("cloud-init", "cloud-init")})");
                    }
                    if (!s.CloudInit)
                    {
                        return Outcome.Fail("Provisioning.Agent=cloud-init but cloud-init is disabled: provisioning times out.", where,
                            "systemctl enable cloud-init-local.service cloud-init.service cloud-config.service cloud-final.service; rm -f /etc/cloud/cloud-init.disabled");
                    }
                    return Outcome.Pass("Provisioning.Agent=cloud-init and cloud-init is enabled.", where);
                case "waagent":
                    if (s.CloudInit)
                    {
                        return Outcome.Fail("Provisioning.Agent=waagent while cloud-init is enabled: both provision the VM.", where, setTo("auto"));
                    }
                    return Outcome.Pass("Provisioning.Agent=waagent and cloud-init is not enabled.", where);
                case "auto":
                    return Outcome.Pass($"Provisioning.Agent=auto{(w.IsSet("Provisioning.Agent") ? string.Empty : " (absent: the agent's default)")}: {(s.CloudInit ? "cloud-init" : "waagent")} provisions.", where);
                case "disabled":
                    if (!s.CloudInit && !s.AzureInit && !s.Agentless)
                    {
                        return Outcome.Fail("Provisioning.Agent=disabled and nothing else provisions.", where, setTo("waagent"));
                    }
                    return Outcome.Pass("Provisioning.Agent=disabled; another tool provisions.", where);
                default:
                    return Outcome.Fail($"Provisioning.Agent={s.WaagentMode} is not a value the agent knows (auto, waagent, cloud-init, disabled).", where, setTo("auto"));
            }
        }

        /// <summary>cloud-init makes the resource-disk swap when its configuration names swap or mounts the ephemeral disk.</summary>
        internal static SourceLine? CloudInitSwap(ProvisioningAgents p)
        {
            CloudConfig c = p.CloudInit.Config;
            CloudConfigValue? swap = c.FirstUnder("swap");
            if (swap != null)
            {
                return swap.Source;
            }
            CloudConfigValue? mounts = c.Get("mounts");
            if (mounts?.Items != null && mounts.Items.Any(i => i.Contains("swap")))
            {
                return mounts.Source;
            }
            return c.Files.Any(f => f.EndsWith("/00-azure-swap.cfg", StringComparison.Ordinal)) ? new SourceLine("/etc/cloud/cloud.cfg.d/00-azure-swap.cfg", 0) : (SourceLine?)null;
        }

        private static RuleOutcome ResourceDisk(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx);
            if (unknown != null)
            {
                return unknown;
            }
            ProvisioningAgents p = ctx.Facts.Provisioning.Value!;
            AgentState s = State(ctx);
            if (!p.Waagent.Installed || p.Waagent.Settings == null)
            {
                return Outcome.NotApplicable("waagent is not installed (or has no /etc/waagent.conf).");
            }
            WaagentSettings w = p.Waagent.Settings;
            if (s.CloudInit && CloudInitSwap(p) is SourceLine cloudSwap && !w.Flag("ResourceDisk.Format"))
            {
                return Outcome.NotApplicable($"cloud-init makes the resource-disk swap ({cloudSwap}) and waagent leaves the resource disk alone.");
            }
            var wanted = new (string Key, string Value, bool Required)[]
            {
                ("ResourceDisk.Format", "y", true),
                ("ResourceDisk.Filesystem", "ext4", false),
                ("ResourceDisk.MountPoint", "/mnt/resource", false),
                ("ResourceDisk.EnableSwap", "y", true),
            };
            var wrong = new List<(string Key, string Value, bool Required)>();
            foreach (var want in wanted)
            {
                string actual = (w.Get(want.Key) ?? string.Empty).ToLowerInvariant();
                bool ok = want.Value == "y" ? w.Flag(want.Key) : actual == want.Value;
                if (!ok)
                {
                    wrong.Add(want);
                }
            }
            bool sizeOk = long.TryParse(w.Get("ResourceDisk.SwapSizeMB"), out long mb) && mb > 0;
            if (!sizeOk)
            {
                wrong.Add(("ResourceDisk.SwapSizeMB", "2048", true));
            }
            if (wrong.Count == 0)
            {
                return Outcome.Pass($"waagent formats the resource disk as ext4 at /mnt/resource with {mb} MB of swap.", w.Where("ResourceDisk.EnableSwap"));
            }
            string Describe((string Key, string Value, bool Required) x) =>
                $"{x.Key}={w.Get(x.Key) ?? string.Empty}{(w.IsSet(x.Key) ? string.Empty : " (absent: the agent's default)")}";
            var seds = wrong.Where(x => w.IsSet(x.Key)).Select(x => $"s|^{x.Key}=.*|{x.Key}={x.Value}|").ToList();
            var adds = wrong.Where(x => !w.IsSet(x.Key)).Select(x => $"{x.Key}={x.Value}").ToList();
            string fix = (seds.Count > 0 ? $"sed -i '{string.Join("; ", seds)}' /etc/waagent.conf" : string.Empty) +
                (seds.Count > 0 && adds.Count > 0 ? " && " : string.Empty) +
                (adds.Count > 0 ? $"printf '%s\\n' {string.Join(" ", adds)} >> /etc/waagent.conf" : string.Empty);
            SourceLine first = w.Where(wrong[0].Key);
            string msg = $"waagent.conf has {string.Join(", ", wrong.Select(Describe))}: " +
                (wrong.Any(x => x.Required) ? "no swap is made on the resource disk (and the OS disk must not hold swap, R-PART-2)." : "the resource disk differs from the seed article's layout.");
            return wrong.Any(x => x.Required) ? Outcome.Fail(msg, first, fix) : Outcome.Warn(msg, first, fix);
        }

        private static RuleOutcome SwapTool(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx);
            if (unknown != null)
            {
                return unknown;
            }
            ProvisioningAgents p = ctx.Facts.Provisioning.Value!;
            AgentState s = State(ctx);
            bool waagentSwap = s.Waagent && p.Waagent.Settings != null && p.Waagent.Settings.Flag("ResourceDisk.Format") && p.Waagent.Settings.Flag("ResourceDisk.EnableSwap");
            SourceLine? cloudSwap = s.CloudInit ? CloudInitSwap(p) : null;
            if (waagentSwap && cloudSwap != null)
            {
                return Outcome.Fail($"Both waagent (ResourceDisk.EnableSwap=y) and cloud-init ({cloudSwap}) set up the resource disk.", p.Waagent.Settings!.Where("ResourceDisk.EnableSwap"),
                    "sed -i 's/^ResourceDisk.Format=.*/ResourceDisk.Format=n/; s/^ResourceDisk.EnableSwap=.*/ResourceDisk.EnableSwap=n/' /etc/waagent.conf");
            }
            return waagentSwap ? Outcome.Pass("waagent alone makes the resource-disk swap.")
                : cloudSwap != null ? Outcome.Pass("cloud-init alone makes the resource-disk swap.", cloudSwap)
                : Outcome.Pass("Neither tool makes swap (no resource-disk swap; see WaagentResourceDiskSwap).");
        }

        private static RuleOutcome Python(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx);
            if (unknown != null)
            {
                return unknown;
            }
            ProvisioningAgents p = ctx.Facts.Provisioning.Value!;
            if (!p.Waagent.Installed)
            {
                return Outcome.NotApplicable("waagent is not installed.");
            }
            if (p.Waagent.PythonPath == null)
            {
                return Outcome.FailAt("waagent is installed but no Python interpreter is (/usr/bin/python3).", "/usr/bin", ctx.PackageInstall("python3", "python3"));
            }
            System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(
                string.Join(" ", ctx.Facts.Root.ListOrEmpty("/usr/bin").Select(e => e.Name).Where(n => n.StartsWith("python3.", StringComparison.Ordinal))), @"python3\.(\d+)\b");
            if (m.Success && int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < 9)
            {
                return Outcome.Warn($"Python 3.{m.Groups[1].Value} is older than 3.9, the oldest LISA accepts.", new SourceLine("/usr/bin/python3." + m.Groups[1].Value, 0),
                    ctx.PackageInstall("python3", "python39"));
            }
            return Outcome.Pass($"Python is present ({p.Waagent.PythonPath}{(m.Success ? ", 3." + m.Groups[1].Value : string.Empty)}).");
        }

        /// <summary>Where waagent's subprocess finds eject: the PATH of its systemd unit (the default PATH).</summary>
        internal static readonly string[] EjectPaths = { "/usr/local/sbin/eject", "/usr/local/bin/eject", "/usr/sbin/eject", "/usr/bin/eject", "/sbin/eject", "/bin/eject" };

        private static RuleOutcome Eject(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx);
            if (unknown != null)
            {
                return unknown;
            }
            ProvisioningAgents p = ctx.Facts.Provisioning.Value!;
            AgentState s = State(ctx);
            if (!s.Waagent || !SystemRules.WaagentProvisions(s))
            {
                return Outcome.NotApplicable(s.Waagent ? $"waagent does not provision (Provisioning.Agent={s.WaagentMode}{(s.CloudInit ? ", cloud-init enabled" : string.Empty)})." : "waagent is not enabled.");
            }
            string? eject = EjectPaths.FirstOrDefault(ctx.Facts.Root.IsFile);
            SourceLine? setting = p.Waagent.Settings?.Where("Provisioning.Agent");
            if (eject != null)
            {
                return Outcome.Pass($"waagent provisions and finds eject ({eject}).", new SourceLine(eject, 0));
            }
            return Outcome.Fail("waagent provisions but eject is not installed: after copying ovf-env.xml from the provisioning DVD it runs eject, dies with FileNotFoundError and never reports Ready, so the VM is never provisioned.",
                setting, ctx.PackageInstall("eject", "util-linux"));
        }

        internal static int[] ParseVersion(string v) =>
            v.Split('.').Select(x => int.TryParse(x, out int n) ? n : 0).Concat(new[] { 0, 0, 0, 0 }).Take(4).ToArray();

        internal static bool OlderThan(string version, string than)
        {
            int[] a = ParseVersion(version), b = ParseVersion(than);
            for (int i = 0; i < 4; i++)
            {
                if (a[i] != b[i])
                {
                    return a[i] < b[i];
                }
            }
            return false;
        }

        private static RuleOutcome Version(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx);
            if (unknown != null)
            {
                return unknown;
            }
            WaagentFacts w = ctx.Facts.Provisioning.Value!.Waagent;
            if (!w.Installed)
            {
                return Outcome.NotApplicable("waagent is not installed.");
            }
            if (w.Version == null)
            {
                return Outcome.Unknown("waagent is installed but azurelinuxagent/common/version.py was not found.");
            }
            var ev = new SourceLine(w.VersionSource!, 0);
            return OlderThan(w.Version, "2.2.53.1")
                ? Outcome.Fail($"waagent {w.Version} is older than 2.2.53.1.", ev, ctx.PackageInstall("waagent", "WALinuxAgent") + " (or enable AutoUpdate.Enabled=y)")
                : Outcome.Pass($"waagent {w.Version}.", ev);
        }

        private static RuleOutcome NetworkManager(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx) ?? Outcome.UnknownIf(("network configuration", ctx.Facts.Network.Error));
            if (unknown != null)
            {
                return unknown;
            }
            WaagentFacts w = ctx.Facts.Provisioning.Value!.Waagent;
            bool nm = ctx.Facts.Network.Value!.DhcpClients.Contains("NetworkManager");
            if (!w.Installed || !nm)
            {
                return Outcome.NotApplicable(!w.Installed ? "waagent is not installed." : "NetworkManager is not installed.");
            }
            if (w.Version != null && !OlderThan(w.Version, "2.2"))
            {
                return Outcome.Pass($"waagent {w.Version} works with NetworkManager.");
            }
            return Outcome.Fail($"waagent {w.Version ?? "(version unknown)"} and NetworkManager are both installed; agents before 2.2 conflict with it.", null,
                ctx.PackageInstall("waagent", "WALinuxAgent"));
        }

        private static RuleOutcome Datasource(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx);
            if (unknown != null)
            {
                return unknown;
            }
            CloudInitFacts c = ctx.Facts.Provisioning.Value!.CloudInit;
            if (!c.Installed)
            {
                return Outcome.NotApplicable("cloud-init is not installed.");
            }
            CloudConfigValue? list = c.Config.Get("datasource_list");
            if (list != null)
            {
                IReadOnlyList<string> items = list.Items ?? new[] { list.Scalar ?? string.Empty };
                if (!items.Any(i => i.Equals("Azure", StringComparison.OrdinalIgnoreCase)))
                {
                    return Outcome.Fail($"datasource_list is [{string.Join(", ", items)}]: cloud-init never reads Azure's provisioning data.", list.Source,
                        "echo 'datasource_list: [ Azure ]' > /etc/cloud/cloud.cfg.d/90-azure.cfg");
                }
            }
            if (c.DsIdentifyConfig != null)
            {
                string text = ctx.Facts.Root.TryReadText(c.DsIdentifyConfig, 64 * 1024) ?? string.Empty;
                if (text.Contains("datasource") && !text.Contains("Azure"))
                {
                    return Outcome.Fail("/etc/cloud/ds-identify.cfg forces a datasource other than Azure.", new SourceLine(c.DsIdentifyConfig, 0), $"rm {c.DsIdentifyConfig}");
                }
            }
            return list == null
                ? Outcome.Pass("datasource_list is not set: cloud-init's default list includes Azure and ds-identify finds it.")
                : Outcome.Pass($"datasource_list includes Azure.", list.Source);
        }

        private static RuleOutcome Leftovers(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx);
            if (unknown != null)
            {
                return unknown;
            }
            CloudInitFacts c = ctx.Facts.Provisioning.Value!.CloudInit;
            if (!c.Installed)
            {
                return Outcome.NotApplicable("cloud-init is not installed.");
            }
            CloudConfigValue? disabled = c.Config.Get("network.config");
            if (c.InstallerLeftovers.Count > 0)
            {
                return Outcome.Fail($"Installer configuration is left in cloud.cfg.d: {string.Join(", ", c.InstallerLeftovers)}.", new SourceLine(c.InstallerLeftovers[0], 0),
                    "rm -f " + string.Join(" ", c.InstallerLeftovers));
            }
            if (disabled?.Scalar == "disabled")
            {
                return Outcome.Fail("network: {config: disabled} keeps cloud-init from configuring the network in Azure.", disabled.Source, $"Delete that setting from {disabled.Source.File}.");
            }
            CloudConfigValue? apply = c.Config.Get("datasource.Azure.apply_network_config");
            if (apply?.Scalar != null && (apply.Scalar == "false" || apply.Scalar == "False"))
            {
                return Outcome.Fail("datasource.Azure.apply_network_config is false: only the primary NIC is configured.", apply.Source, $"Delete that setting from {apply.Source.File}.");
            }
            return Outcome.Pass("No installer leftovers disable cloud-init's networking.");
        }

        private static RuleOutcome Agentless(ReadinessContext ctx)
        {
            RuleOutcome? unknown = UnknownProvisioning(ctx);
            if (unknown != null)
            {
                return unknown;
            }
            ProvisioningAgents p = ctx.Facts.Provisioning.Value!;
            AgentState s = State(ctx);
            bool agentless = ctx.Agent == ProvisioningAgentChoice.None || (ctx.Agent == ProvisioningAgentChoice.Auto && !s.Waagent && !s.CloudInit && !s.AzureInit);
            if (!agentless)
            {
                return Outcome.NotApplicable("A provisioning agent is used.");
            }
            const string fix = "Add /etc/systemd/system/azure-provisioning.service (Type=oneshot, WantedBy=multi-user.target) running a script that GETs http://168.63.129.16/machine?comp=goalstate, POSTs Ready to ?comp=health, sets the hostname from IMDS and runs 'systemctl disable azure-provisioning.service'; then: systemctl enable azure-provisioning.service";
            AgentlessUnit? unit = p.AgentlessUnits.FirstOrDefault(u => u.Enabled && u.ReportsReady) ?? p.AgentlessUnits.FirstOrDefault();
            if (unit == null)
            {
                return Outcome.FailAt("No agent is enabled and no unit reports ready to the wire server (168.63.129.16): Azure restarts the VM and provisioning fails.",
                    "/etc/systemd/system", fix);
            }
            var ev = new SourceLine(unit.UnitPath, 0);
            if (!unit.Enabled)
            {
                return Outcome.Fail($"{unit.UnitName} reports to the wire server but is not enabled.", ev, $"systemctl enable {unit.UnitName}");
            }
            if (unit.SkippedBy is SourceLine skip)
            {
                string what = ctx.Facts.Root.TryReadText(skip.File)?.Split('\n').ElementAtOrDefault(skip.Line - 1)?.Trim() ?? "ConditionPathExists";
                return Outcome.Fail($"{unit.UnitName} never runs: {what} and that path exists in the image.", skip,
                    "Remove the agent the condition guards against (apt-get purge waagent / dnf remove WALinuxAgent, or cloud-init), or drop the condition.");
            }
            if (!unit.ReportsReady || !unit.ReadsGoalState)
            {
                return Outcome.Fail($"{unit.UnitName} talks to 168.63.129.16 but does not {(unit.ReadsGoalState ? "post Ready to comp=health" : "read the goal state (comp=goalstate)")}.", ev, fix);
            }
            var soft = new List<string>();
            if (!unit.DisablesItself)
            {
                soft.Add("it does not disable itself (it reports again at every boot)");
            }
            if (!unit.SetsHostname)
            {
                soft.Add("it does not set the hostname from IMDS");
            }
            if (soft.Count > 0)
            {
                return Outcome.Warn($"{unit.UnitName} reports ready, but {string.Join(" and ", soft)}.", ev, fix);
            }
            return Outcome.Pass($"{unit.UnitName} reports ready at first boot{(unit.ProgramPath != null ? " (" + unit.ProgramPath + ")" : string.Empty)}, sets the hostname and disables itself.", ev);
        }
    }
}
