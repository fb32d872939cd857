using System.Collections.Generic;

namespace AzureLinuxImage.Linux.Waagent
{
    /// <summary>One item `waagent -deprovision` removes.</summary>
    internal sealed record DeprovisionItem(string Pattern, bool IsDirectory, string Citation);

    /// <summary>
    /// What WALinuxAgent's own deprovision removes, read from its source as a fact (issue 27, item 2):
    /// azurelinuxagent/pa/deprovision/default.py (WALinuxAgent 2.x, as Debian 12 ships it). Paths under the
    /// agent's Lib.Dir and Extension.LogDir are relative to those settings (conf.get_lib_dir,
    /// conf.get_ext_log_dir; defaults /var/lib/waagent and /var/log/azure in common/conf.py).
    /// Not taken over: del_resolv (removing /etc/resolv.conf breaks a systemd-resolved link and is not
    /// provisioning state) and the BSD-only paths (/var/db/...). The hostname reset is left to provisioning.
    /// </summary>
    internal static class WaagentDeprovisionList
    {
        public const string Source = "WALinuxAgent azurelinuxagent/pa/deprovision/default.py";

        /// <summary>Files under Lib.Dir the agent removes when the VM's unique id changes (del_lib_dir_files).</summary>
        public static readonly IReadOnlyList<string> LibDirFiles = new[]
        {
            "HostingEnvironmentConfig.xml", "Incarnation", "partition", "Protocol", "SharedConfig.xml", "WireServerEndpoint",
            "Extensions.*.xml", "ExtensionsConfig.*.xml", "GoalState.*.xml",
        };

        /// <summary>The full deprovision list, in the order the agent applies it (DeprovisionHandler.setup).</summary>
        public static IReadOnlyList<DeprovisionItem> Items(string libDir, string extLogDir, string sshDir) => new[]
        {
            new DeprovisionItem(sshDir.TrimEnd('/') + "/ssh_host_*key*", false, Source + ": regen_ssh_host_key (conf.get_ssh_key_glob)"),
            new DeprovisionItem("/var/lib/dhclient", true, Source + ": del_dhcp_lease"),
            new DeprovisionItem("/var/lib/dhcpcd", true, Source + ": del_dhcp_lease"),
            new DeprovisionItem("/var/lib/dhcp", true, Source + ": del_dhcp_lease"),
            new DeprovisionItem("/var/lib/NetworkManager/dhclient-*.lease", false, Source + ": del_dhcp_lease"),
            new DeprovisionItem(libDir, true, Source + ": del_dirs (conf.get_lib_dir: every file of the agent's state, Incarnation, GoalState.*.xml, Certificates, ovf-env.xml, provisioned, history, events)"),
            new DeprovisionItem(extLogDir, true, Source + ": del_dirs (conf.get_ext_log_dir)"),
            new DeprovisionItem("/root/.bash_history", false, Source + ": del_files"),
            new DeprovisionItem("/var/log/waagent.log", false, Source + ": del_files (conf.get_agent_log_file)"),
        };
    }
}
