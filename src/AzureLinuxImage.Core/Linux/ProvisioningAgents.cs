using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>The Azure Linux Agent as installed: binary, unit, version, configuration (R-AGENT).</summary>
    internal sealed record WaagentFacts(bool Installed, string? BinaryPath, UnitState Unit, string? Version, string? VersionSource, WaagentSettings? Settings, string? PythonPath);

    /// <summary>cloud-init as installed: units, disable markers, merged configuration.</summary>
    internal sealed record CloudInitFacts(bool Installed, string? BinaryPath, IReadOnlyList<UnitState> Units, string? DisabledMarker, CloudConfig Config,
        IReadOnlyList<string> InstallerLeftovers, string? DsIdentifyConfig)
    {
        /// <summary>cloud-init-local is the unit that decides whether cloud-init runs (and what waagent's "auto" looks at).</summary>
        public UnitState? LocalUnit => Units.FirstOrDefault(u => u.Name == "cloud-init-local.service");

        /// <summary>Installed, not disabled by a marker file, and its first stage enabled.</summary>
        public bool Enabled => Installed && DisabledMarker == null && (LocalUnit?.Active ?? false);
    }

    /// <summary>azure-init (the Rust provisioning agent) as installed.</summary>
    internal sealed record AzureInitFacts(bool Installed, string? BinaryPath, UnitState Unit, string? ConfigPath);

    /// <summary>A unit that provisions without an agent (R-NOAGENT-3..5): what its program does, as far as files show.</summary>
    internal sealed record AgentlessUnit(string UnitName, string UnitPath, string? ProgramPath, bool Enabled, bool ReportsReady, bool ReadsGoalState,
        bool SetsHostname, bool DisablesItself, bool WantedByMultiUser)
    {
        /// <summary>A ConditionPathExists=!path whose path exists in the image: systemd skips the unit at boot.</summary>
        public SourceLine? SkippedBy { get; init; }
    }

    /// <summary>Provisioning state left by a previous boot in Azure or elsewhere; <paramref name="Item"/> is waagent's deprovision item naming it.</summary>
    internal sealed record LeftoverFile(string Path, string Kind, AgentStateItem? Item = null);

    /// <summary>
    /// Provisioning: waagent, cloud-init, azure-init, agent-less first-boot units, and state left behind
    /// (AZURE-LINUX.md, "agent" and "hygiene" rows).
    /// </summary>
    internal sealed class ProvisioningAgents
    {
        private static readonly string[] PythonLibraryDirs = { "/usr/lib/python3/dist-packages", "/usr/local/lib/python3/dist-packages", "/usr/lib/python2.7/site-packages", "/usr/lib/python2.7/dist-packages" };

        private static readonly string[] InstallerLeftoverNames = { "99-installer.cfg", "subiquity-disable-cloudinit-networking.cfg", "50-curtin-networking.cfg", "99-disable-network-config.cfg" };

        public WaagentFacts Waagent { get; private set; } = null!;

        public CloudInitFacts CloudInit { get; private set; } = null!;

        public AzureInitFacts AzureInit { get; private set; } = null!;

        public IReadOnlyList<AgentlessUnit> AgentlessUnits { get; private set; } = Array.Empty<AgentlessUnit>();

        public IReadOnlyList<LeftoverFile> Leftovers { get; private set; } = Array.Empty<LeftoverFile>();

        /// <summary>Everything of WALinuxAgent's deprovision list present in the image (what generalizing removes), each with its item.</summary>
        public IReadOnlyList<AgentStateFile> WaagentState { get; private set; } = Array.Empty<AgentStateFile>();

        public static ProvisioningAgents Read(IFileSystem fs, SystemdUnits units)
        {
            var p = new ProvisioningAgents();
            p.Waagent = ReadWaagent(fs, units);
            p.CloudInit = ReadCloudInit(fs, units);
            string? azureInit = new[] { "/usr/bin/azure-init", "/usr/sbin/azure-init", "/usr/local/bin/azure-init" }.FirstOrDefault(fs.IsFile);
            UnitState azureInitUnit = units.Get("azure-init.service");
            p.AzureInit = new AzureInitFacts(azureInit != null || azureInitUnit.Exists, azureInit, azureInitUnit,
                fs.IsFile("/etc/azure-init/azure-init.toml") ? "/etc/azure-init/azure-init.toml" : null);
            p.AgentlessUnits = FindAgentlessUnits(fs, units);
            p.WaagentState = WaagentDeprovision.Find(fs, p.Waagent.Settings?.Get("Lib.Dir") ?? "/var/lib/waagent");
            p.Leftovers = FindLeftovers(fs, p.WaagentState);
            return p;
        }

        private static WaagentFacts ReadWaagent(IFileSystem fs, SystemdUnits units)
        {
            string? binary = new[] { "/usr/sbin/waagent", "/usr/bin/waagent", "/usr/local/sbin/waagent" }.FirstOrDefault(fs.IsFile);
            UnitState unit = units.First("walinuxagent.service", "waagent.service");
            string? version = null, versionSource = null;
            var libDirs = PythonLibraryDirs.Concat(
                fs.ListOrEmpty("/usr/lib").Where(e => e.Name.StartsWith("python3.", StringComparison.Ordinal)).Select(e => e.Path + "/site-packages"))
                .Concat(fs.ListOrEmpty("/usr/lib").Where(e => e.Name.StartsWith("python3.", StringComparison.Ordinal)).Select(e => e.Path + "/dist-packages"));
            foreach (string dir in libDirs)
            {
                string path = dir + "/azurelinuxagent/common/version.py";
                string? text = fs.TryReadText(path, 256 * 1024);
                if (text == null)
                {
                    continue;
                }
                // AGENT_VERSION = '2.7.3.0'
                Match m = Regex.Match(text, @"^AGENT_VERSION\s*=\s*['""]([0-9.]+)['""]", RegexOptions.Multiline);
                if (m.Success)
                {
                    version = m.Groups[1].Value;
                    versionSource = path;
                    break;
                }
            }
            byte[]? conf = fs.TryReadBytes("/etc/waagent.conf", AzureLinuxImage.Linux.Waagent.WaagentConfig.MaxFileBytes);
            WaagentSettings? settings = conf == null ? null : new WaagentSettings("/etc/waagent.conf", conf);
            string? python = new[] { "/usr/bin/python3", "/usr/bin/python", "/usr/bin/python2" }.FirstOrDefault(fs.Exists);
            return new WaagentFacts(binary != null || unit.Exists, binary, unit, version, versionSource, settings, python);
        }

        private static CloudInitFacts ReadCloudInit(IFileSystem fs, SystemdUnits units)
        {
            string? binary = new[] { "/usr/bin/cloud-init", "/usr/local/bin/cloud-init" }.FirstOrDefault(fs.IsFile);
            var unitNames = new[] { "cloud-init-local.service", "cloud-init.service", "cloud-init-network.service", "cloud-config.service", "cloud-final.service" };
            var list = unitNames.Select(units.Get).Where(u => u.Exists || u.Masked).ToList();
            string? marker = fs.IsFile("/etc/cloud/cloud-init.disabled") ? "/etc/cloud/cloud-init.disabled" : null;
            CloudConfig config = CloudConfig.Read(fs);
            var leftovers = fs.ListOrEmpty("/etc/cloud/cloud.cfg.d").Where(e => InstallerLeftoverNames.Contains(e.Name)).Select(e => e.Path).ToList();
            string? dsIdentify = fs.IsFile("/etc/cloud/ds-identify.cfg") ? "/etc/cloud/ds-identify.cfg" : null;
            bool installed = binary != null || list.Any(u => u.Exists);
            return new CloudInitFacts(installed, binary, list, marker, config, leftovers, dsIdentify);
        }

        /// <summary>
        /// Units written for R-NOAGENT: admin units (in /etc/systemd/system) whose program talks to the wire
        /// server. Reading the program (a script) is the only offline evidence of what it does.
        /// </summary>
        private static IReadOnlyList<AgentlessUnit> FindAgentlessUnits(IFileSystem fs, SystemdUnits units)
        {
            var result = new List<AgentlessUnit>();
            string[] known = { "walinuxagent.service", "waagent.service", "azure-init.service" };
            foreach (FileEntry e in fs.ListOrEmpty("/etc/systemd/system").Concat(fs.ListOrEmpty("/usr/local/lib/systemd/system")))
            {
                if (e.Type != FileEntryType.File || !e.Name.EndsWith(".service", StringComparison.Ordinal) || known.Contains(e.Name) || e.Name.StartsWith("cloud-", StringComparison.Ordinal))
                {
                    continue;
                }
                IReadOnlyList<UnitSetting> settings = SystemdUnits.ReadUnitFile(fs, e.Path);
                string unitText = fs.TryReadText(e.Path, 256 * 1024) ?? string.Empty;
                var programs = settings.Where(s => s.Section == "Service" && (s.Key == "ExecStart" || s.Key == "ExecStartPre" || s.Key == "ExecStartPost"))
                    .Select(s => RootFiles.Words(s.Value.TrimStart('-', '@', '+', '!', ':')).FirstOrDefault())
                    .Where(p => p != null && p.StartsWith("/", StringComparison.Ordinal)).Cast<string>().ToList();
                string text = unitText;
                string? program = null;
                foreach (string prog in programs)
                {
                    byte[]? bytes = fs.TryReadBytes(prog, 256 * 1024);
                    if (bytes != null && !IsElf(bytes))
                    {
                        text += "\n" + System.Text.Encoding.UTF8.GetString(bytes);
                        program ??= prog;
                    }
                }
                // This module's own reporter (samples/azure-provisioning.service): `azlinux ready` or Send-WireServerReady
                // fetch the goal state and post Ready themselves, --hostname / -Hostname set the name from IMDS.
                var execs = settings.Where(s => s.Section == "Service" && s.Key.StartsWith("ExecStart", StringComparison.Ordinal)).Select(s => s.Value).ToList();
                bool ownReporter = execs.Any(v => Regex.IsMatch(v, @"(^|/|\s)azlinux(\.exe)?\s+ready(\s|$)") || v.Contains("Send-WireServerReady"));
                if (!text.Contains("168.63.129.16") && !ownReporter)
                {
                    continue;
                }
                UnitState state = units.Get(e.Name);
                bool wantedByMultiUser = settings.Any(s => s.Section == "Install" && s.Key == "WantedBy" && s.Value.Contains("multi-user.target"));
                SourceLine? skipped = settings.Where(s => s.Section == "Unit" && s.Key == "ConditionPathExists" && s.Value.StartsWith("!", StringComparison.Ordinal)
                        && fs.Exists(s.Value.Substring(1).Trim()))
                    .Select(s => (SourceLine?)s.Source).FirstOrDefault();
                result.Add(new AgentlessUnit(e.Name, e.Path, program, state.Active,
                    ReportsReady: ownReporter || (text.Contains("comp=health") && text.Contains("Ready")),
                    ReadsGoalState: ownReporter || text.Contains("comp=goalstate"),
                    SetsHostname: text.Contains("hostnamectl") || text.Contains("/etc/hostname") || text.Contains("compute/name")
                        || execs.Any(v => v.Contains("--hostname") || v.Contains("-Hostname")),
                    DisablesItself: Regex.IsMatch(text, @"systemctl\s+disable"),
                    WantedByMultiUser: wantedByMultiUser)
                { SkippedBy = skipped });
            }
            return result;
        }

        private static bool IsElf(byte[] b) => b.Length >= 4 && b[0] == 0x7F && b[1] == (byte)'E' && b[2] == (byte)'L' && b[3] == (byte)'F';

        private static IReadOnlyList<LeftoverFile> FindLeftovers(IFileSystem fs, IReadOnlyList<AgentStateFile> waagentState)
        {
            var result = new List<LeftoverFile>();
            foreach (AgentStateFile f in waagentState.Where(f => f.Item.Effect == AgentStateEffect.ProvisioningState))
            {
                result.Add(new LeftoverFile(f.Path, "waagent", f.Item));
            }
            if (fs.Exists("/var/lib/cloud/instance"))
            {
                result.Add(new LeftoverFile("/var/lib/cloud/instance", "cloud-init"));
            }
            foreach (FileEntry e in fs.ListOrEmpty("/var/lib/cloud/instances"))
            {
                result.Add(new LeftoverFile(e.Path, "cloud-init"));
            }
            foreach (FileEntry e in fs.ListOrEmpty("/var/lib/azure-init"))
            {
                if (e.Name.EndsWith(".provisioned", StringComparison.Ordinal))
                {
                    result.Add(new LeftoverFile(e.Path, "azure-init"));
                }
            }
            foreach (string dir in new[] { "/var/lib/dhcp", "/var/lib/dhclient", "/var/lib/NetworkManager", "/var/lib/dhcpcd", "/var/lib/wicked" })
            {
                foreach (FileEntry e in fs.ListOrEmpty(dir))
                {
                    if (e.Type == FileEntryType.File && e.Size > 0 && (e.Name.EndsWith(".lease", StringComparison.Ordinal) || e.Name.EndsWith(".leases", StringComparison.Ordinal)))
                    {
                        result.Add(new LeftoverFile(e.Path, "dhcp-lease"));
                    }
                }
            }
            return result;
        }
    }
}
