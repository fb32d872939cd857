using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>What a leftover of a previous boot does to a new VM, which decides the rule that reports it.</summary>
    internal enum AgentStateEffect
    {
        /// <summary>The agent takes it for its own VM's state (skips provisioning, reuses the goal state): NoStaleProvisioningState.</summary>
        ProvisioningState,
        /// <summary>A DHCP lease of the build network: NoDhcpLeases.</summary>
        Lease,
        /// <summary>Logs and traces of the build VM: removed when generalizing, reported by no rule.</summary>
        Log,
        /// <summary>Other files deprovisioning removes or resets (resolv.conf, the firewall unit): removed when generalizing.</summary>
        Other,
    }

    /// <summary>
    /// One item of WALinuxAgent's deprovision list. <see cref="Pattern"/> is a glob (*, ?) of a name inside
    /// Lib.Dir (when <see cref="InLibDir"/>) or an absolute path; <see cref="Source"/> cites the agent's source
    /// (WALinuxAgent 2.7.3.0, Debian 12's waagent, as unpacked under /opt/waagent-oracle) where it is written
    /// and where deprovisioning removes it.
    /// </summary>
    internal sealed record AgentStateItem(string Pattern, bool InLibDir, bool Directory, AgentStateEffect Effect, string Meaning, string Source)
    {
        public bool Matches(string name) => Regex.IsMatch(name, "^" + Regex.Escape(Pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant);
    }

    /// <summary>A file or folder of the image that one <see cref="AgentStateItem"/> names.</summary>
    internal sealed record AgentStateFile(string Path, AgentStateItem Item);

    /// <summary>
    /// What `waagent -deprovision` removes, read as facts from its source (azurelinuxagent/pa/deprovision/default.py,
    /// DeprovisionHandler.setup and del_lib_dir_files), one list for the stale-state rules and for generalizing.
    /// setup() removes the whole Lib.Dir (del_dirs, default.py:98), so every entry of it is state; the named
    /// items say what each is and where the agent writes it.
    /// </summary>
    internal static class WaagentDeprovision
    {
        /// <summary>The agent version whose source the list was read from.</summary>
        public const string SourceVersion = "WALinuxAgent 2.7.3.0";

        private const string Deprovision = "pa/deprovision/default.py";

        /// <summary>Names inside Lib.Dir (default /var/lib/waagent, common/conf.py:274).</summary>
        public static readonly IReadOnlyList<AgentStateItem> LibDirItems = new[]
        {
            Lib("provisioned", AgentStateEffect.ProvisioningState, "marks the VM provisioned: a new VM from the image is never provisioned", "pa/provision/default.py:49 PROVISIONED_FILE"),
            Lib("ovf-env.xml", AgentStateEffect.ProvisioningState, "the previous VM's provisioning settings (user, host name, custom data)", "common/protocol/util.py:43 OVF_FILE_NAME"),
            Lib("CustomData", AgentStateEffect.ProvisioningState, "the previous VM's custom data", "pa/provision/default.py:45 CUSTOM_DATA_FILE"),
            Lib("Incarnation", AgentStateEffect.ProvisioningState, "the previous goal state's incarnation", "common/protocol/wire.py:59; " + Deprovision + ":151"),
            Lib("partition", AgentStateEffect.ProvisioningState, "the agent's update partition", "ga/update.py:72; " + Deprovision + ":152"),
            Lib("Protocol", AgentStateEffect.ProvisioningState, "the protocol detected on the previous VM", "common/protocol/util.py:44; " + Deprovision + ":153"),
            Lib("WireServerEndpoint", AgentStateEffect.ProvisioningState, "the previous VM's wire server address", "common/protocol/util.py:47; " + Deprovision + ":155"),
            Lib("WireServer", AgentStateEffect.ProvisioningState, "the previous VM's wire server address (older name)", "common/protocol/wire.py:58"),
            Lib("HostingEnvironmentConfig.xml", AgentStateEffect.ProvisioningState, "the previous VM's hosting environment", "common/protocol/wire.py:62; " + Deprovision + ":150"),
            Lib("SharedConfig.xml", AgentStateEffect.ProvisioningState, "the previous VM's shared configuration", "common/protocol/wire.py:63; " + Deprovision + ":154"),
            Lib("GoalState.*.xml", AgentStateEffect.ProvisioningState, "the previous VM's goal states", "common/protocol/wire.py:60; " + Deprovision + ":160"),
            Lib("ExtensionsConfig.*.xml", AgentStateEffect.ProvisioningState, "the previous VM's extension settings", "common/protocol/wire.py:65; " + Deprovision + ":159"),
            Lib("Extensions.*.xml", AgentStateEffect.ProvisioningState, "the previous VM's extension settings (older name)", Deprovision + ":158"),
            Lib("VmSettings.*.json", AgentStateEffect.ProvisioningState, "the previous VM's HostGAPlugin settings", "common/protocol/wire.py:61"),
            Lib("RemoteAccess.*.xml", AgentStateEffect.ProvisioningState, "the previous VM's remote access users", "common/protocol/wire.py:64"),
            Lib("*.manifest.xml", AgentStateEffect.ProvisioningState, "extension manifests of the previous VM", "common/protocol/wire.py:66"),
            Lib("Certificates*", AgentStateEffect.ProvisioningState, "the previous VM's certificates (Certificates.xml, .p7m, .pem)", "common/protocol/goal_state.py:37-39"),
            Lib("TransportCert.pem", AgentStateEffect.ProvisioningState, "the previous VM's transport certificate", "common/protocol/goal_state.py:40"),
            Lib("TransportPrivate.pem", AgentStateEffect.ProvisioningState, "the previous VM's transport private key", "common/protocol/goal_state.py:41"),
            Lib("*.crt", AgentStateEffect.ProvisioningState, "certificates of the previous VM", "common/protocol/goal_state.py:202; ga/update.py:94"),
            Lib("*.prv", AgentStateEffect.ProvisioningState, "private keys of the previous VM", "common/protocol/goal_state.py:195; ga/update.py:97"),
            Lib("published_hostname", AgentStateEffect.ProvisioningState, "the host name published by the previous VM", "common/conf.py:279"),
            Lib("initial_goal_state", AgentStateEffect.ProvisioningState, "marks the first goal state done", "ga/update.py:91"),
            Lib("waagent_status.*.json", AgentStateEffect.ProvisioningState, "the previous VM's status reports", "ga/exthandlers.py:70"),
            Lib("history", AgentStateEffect.Log, "archived goal states of the previous VM", "common/utils/archive.py:39", directory: true),
            Lib("events", AgentStateEffect.Log, "telemetry events not yet sent", "common/event.py:43", directory: true),
            Lib("waagent-network-setup.py", AgentStateEffect.Other, "the previous VM's firewall script", "common/persist_firewall_rules.py:66; " + Deprovision + ":268"),
            // Anything else in Lib.Dir (downloaded agents, extension folders, names of other agent versions such as
            // GoalStateSource or SequenceNumber): deprovisioning removes the whole folder.
            Lib("*", AgentStateEffect.ProvisioningState, "other state of the previous VM", Deprovision + ":98 (del_dirs removes Lib.Dir)"),
        };

        /// <summary>Absolute paths deprovisioning removes besides Lib.Dir.</summary>
        public static readonly IReadOnlyList<AgentStateItem> OtherItems = new[]
        {
            new AgentStateItem("/var/log/azure", false, true, AgentStateEffect.Log, "extension logs (Extension.LogDir)", Deprovision + ":98; common/conf.py:291"),
            new AgentStateItem("/var/log/waagent.log", false, false, AgentStateEffect.Log, "the agent's log", Deprovision + ":102; common/conf.py:295"),
            new AgentStateItem("/root/.bash_history", false, false, AgentStateEffect.Log, "root's shell history", Deprovision + ":102"),
            new AgentStateItem("/etc/resolv.conf", false, false, AgentStateEffect.Other, "the build network's resolver", Deprovision + ":116"),
            new AgentStateItem("/var/lib/dhclient", false, true, AgentStateEffect.Lease, "DHCP leases", Deprovision + ":121"),
            new AgentStateItem("/var/lib/dhcpcd", false, true, AgentStateEffect.Lease, "DHCP leases", Deprovision + ":121"),
            new AgentStateItem("/var/lib/dhcp", false, true, AgentStateEffect.Lease, "DHCP leases", Deprovision + ":121"),
            new AgentStateItem("/var/lib/NetworkManager/dhclient-*.lease", false, false, AgentStateEffect.Lease, "DHCP leases of NetworkManager's dhclient", Deprovision + ":130"),
            new AgentStateItem("/lib/systemd/system/waagent-network-setup.service", false, false, AgentStateEffect.Other, "the previous VM's firewall unit", Deprovision + ":267; common/persist_firewall_rules.py:65"),
            new AgentStateItem("/lib/systemd/system/walinuxagent-network-setup.service", false, false, AgentStateEffect.Other, "the previous VM's firewall unit (Debian's service name)", Deprovision + ":267; common/persist_firewall_rules.py:65"),
        };

        private static AgentStateItem Lib(string pattern, AgentStateEffect effect, string meaning, string source, bool directory = false) =>
            new AgentStateItem(pattern, true, directory, effect, meaning, source);

        /// <summary>The item naming an entry of Lib.Dir: the first that matches (the catch-all last).</summary>
        public static AgentStateItem ClassifyLibDirEntry(string name) => LibDirItems.First(i => i.Matches(name));

        /// <summary>
        /// Every path of the list present in the image: each entry of <paramref name="libDir"/> and each other path
        /// (a folder counts only when it holds something; DHCP lease folders only for non-empty lease files).
        /// </summary>
        public static IReadOnlyList<AgentStateFile> Find(IFileSystem fs, string libDir)
        {
            var result = new List<AgentStateFile>();
            foreach (FileEntry e in fs.ListOrEmpty(libDir))
            {
                result.Add(new AgentStateFile(e.Path, ClassifyLibDirEntry(e.Name)));
            }
            foreach (AgentStateItem item in OtherItems)
            {
                if (item.Effect == AgentStateEffect.Lease)
                {
                    continue; // leases are found with the other DHCP clients' (ProvisioningAgents.FindLeftovers)
                }
                if (item.Pattern.Contains("*"))
                {
                    string dir = item.Pattern.Substring(0, item.Pattern.LastIndexOf('/'));
                    string name = item.Pattern.Substring(dir.Length + 1);
                    var glob = new AgentStateItem(name, false, false, item.Effect, item.Meaning, item.Source);
                    result.AddRange(fs.ListOrEmpty(dir).Where(e => glob.Matches(e.Name)).Select(e => new AgentStateFile(e.Path, item)));
                    continue;
                }
                FileEntry? entry = fs.GetEntry(item.Pattern, followLastLink: false);
                if (entry != null && (!item.Directory || fs.ListOrEmpty(item.Pattern).Count > 0))
                {
                    result.Add(new AgentStateFile(entry.Path, item));
                }
            }
            return result;
        }
    }

    /// <summary>
    /// The D-Bus machine id (/var/lib/dbus/machine-id): libdbus reads it before /etc/machine-id, so a regular file
    /// left with the build VM's id keeps that id in D-Bus after /etc/machine-id is blanked (issue 27 item 3).
    /// Absent, or a link to /etc/machine-id (machine-id(5)), it follows the id systemd makes at first boot.
    /// </summary>
    internal sealed record DbusMachineId(bool Exists, string? LinkTarget, string? Content)
    {
        public const string Path = "/var/lib/dbus/machine-id";

        public bool IsLink => LinkTarget != null;

        /// <summary>A link that resolves to /etc/machine-id.</summary>
        public bool FollowsEtc => LinkTarget != null && (LinkTarget == "/etc/machine-id" || LinkTarget.TrimStart('.', '/') == "etc/machine-id" || LinkTarget == "../../../etc/machine-id");

        public static DbusMachineId Read(IFileSystem fs)
        {
            FileEntry? e = fs.GetEntry(Path, followLastLink: false);
            if (e == null)
            {
                return new DbusMachineId(false, null, null);
            }
            if (e.Type == FileEntryType.Symlink)
            {
                return new DbusMachineId(true, e.LinkTarget ?? string.Empty, null);
            }
            return new DbusMachineId(true, null, e.Type == FileEntryType.File ? fs.TryReadText(Path, 4096)?.Trim() : null);
        }
    }
}
