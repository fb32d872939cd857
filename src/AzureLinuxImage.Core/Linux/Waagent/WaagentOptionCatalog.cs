using System;
using System.Collections.Generic;

namespace AzureLinuxImage.Linux.Waagent
{
    /// <summary>
    /// The documented options of /etc/waagent.conf. Defaults are what the agent uses when a key is absent
    /// (AZURE-LINUX.md, "WALinuxAgent configuration defaults"; WALinuxAgent's README and its configuration
    /// module as shipped in Debian 12's waagent 2.7.3), which often differ from the values in the file the
    /// agent ships. Facts restated, nothing copied.
    /// </summary>
    internal static class WaagentOptionCatalog
    {
        /// <summary>The agent reads the value "None" as "not set" and falls back to the default.</summary>
        public const string NoneValue = "None";

        /// <summary>R-AGENT-5's swap size when the caller gives none.</summary>
        public const int RecommendedSwapSizeMB = 2048;

        private static readonly string[] ProvisioningAgents = { "auto", "waagent", "cloud-init", "disabled" };

        // R-AGENT-5 asks for ext4; ext3 is the agent's default; xfs is what RHEL-family images use.
        private static readonly string[] ResourceDiskFilesystems = { "ext3", "ext4", "xfs" };

        private static readonly string[] SshKeyTypes = { "rsa", "dsa", "ecdsa", "ed25519", "auto" };

        // crypt(3) ids: 1 MD5, 2a Blowfish, 5 SHA-256, 6 SHA-512 (the agent's README).
        private static readonly string[] CryptIds = { "1", "2a", "5", "6" };

        private static readonly WaagentOption[] All =
        {
            Switch("Extensions.Enabled", "y", "Extension handling (password reset, backup, monitoring ...)."),
            Int("Extensions.GoalStatePeriod", "6", "Seconds between goal state polls.", 1),
            Int("Extensions.InitialGoalStatePeriod", "6", "Seconds between goal state polls right after start.", 1),
            Int("Extensions.GoalStateHistoryCleanupPeriod", "1800", "Seconds between cleanups of the goal state history.", 1),
            Switch("Extensions.WaitForCloudInit", "n", "Wait for cloud-init to finish before handling extensions (agent 2.10+)."),
            Int("Extensions.WaitForCloudInitTimeout", "3600", "Seconds to wait for cloud-init (agent 2.10+).", 1),

            new WaagentOption("Provisioning.Agent", WaagentOptionType.String, "auto",
                "Which agent provisions the VM: auto (cloud-init when it is enabled, else waagent), waagent, cloud-init or disabled.")
            { AllowedValues = ProvisioningAgents },
            new WaagentOption("Provisioning.Enabled", WaagentOptionType.Switch, null, "Removed: provisioning on or off.")
            { RemovedIn = "2.2.45", ReplacedBy = "Provisioning.Agent" },
            new WaagentOption("Provisioning.UseCloudInit", WaagentOptionType.Switch, null, "Removed: provision through cloud-init.")
            { RemovedIn = "2.2.45", ReplacedBy = "Provisioning.Agent=cloud-init" },
            Switch("Provisioning.RegenerateSshHostKeyPair", "n", "Delete the SSH host keys at provisioning (and at deprovisioning) and make a fresh pair."),
            new WaagentOption("Provisioning.SshHostKeyPairType", WaagentOptionType.String, "rsa", "Type of the fresh SSH host key pair.")
            { AllowedValues = SshKeyTypes },
            Switch("Provisioning.DeleteRootPassword", "n", "Erase root's password in /etc/shadow at provisioning (and at deprovisioning)."),
            Switch("Provisioning.MonitorHostName", "n", "Publish host name changes through DHCP."),
            Int("Provisioning.MonitorHostNamePeriod", "30", "Seconds between host name checks.", 1),
            Switch("Provisioning.DecodeCustomData", "n", "Decode CustomData from Base64."),
            Switch("Provisioning.ExecuteCustomData", "n", "Run CustomData after provisioning."),
            new WaagentOption("Provisioning.PasswordCryptId", WaagentOptionType.String, "6", "crypt(3) algorithm id for password hashes.")
            { AllowedValues = CryptIds },
            Int("Provisioning.PasswordCryptSaltLength", "10", "Length of the random salt of password hashes.", 1),
            Switch("Provisioning.AllowResetSysUser", "n", "Allow resetting the password of a system user."),

            Switch("ResourceDisk.Format", "n", "Format and mount the resource disk (R-AGENT-5: y); with n it is not mounted."),
            new WaagentOption("ResourceDisk.Filesystem", WaagentOptionType.String, "ext3", "File system made on the resource disk (R-AGENT-5: ext4).")
            { AllowedValues = ResourceDiskFilesystems },
            new WaagentOption("ResourceDisk.MountPoint", WaagentOptionType.String, "/mnt/resource", "Where the resource disk is mounted (R-AGENT-5: /mnt/resource).")
            { AbsolutePath = true },
            new WaagentOption("ResourceDisk.MountOptions", WaagentOptionType.String, null, "mount -o options for the resource disk; None for none.")
            { NoneMeansUnset = true },
            Switch("ResourceDisk.EnableSwap", "n", "Make a swap file on the resource disk (R-AGENT-5: y)."),
            Switch("ResourceDisk.EnableSwapEncryption", "n", "Encrypt the swap file (FreeBSD only)."),
            Int("ResourceDisk.SwapSizeMB", "0", "Size of the swap file in MiB (R-AGENT-5: the size needed, 2048 by default here).", 0),

            Switch("Logs.Verbose", "n", "Verbose logging to /var/log/waagent.log."),
            Switch("Logs.Console", "y", "Also log to the console."),
            Switch("Logs.Collect", "y", "Collect and upload agent logs periodically."),
            Int("Logs.CollectPeriod", "3600", "Seconds between log collections.", 1),

            Switch("OS.AllowHTTP", "n", "Fall back to HTTP when HTTPS is unavailable (insecure)."),
            Switch("OS.EnableFirewall", "n", "Firewall rules that protect the host node's endpoints."),
            Int("OS.EnableFirewallPeriod", "30", "Seconds between firewall rule checks.", 1),
            Switch("OS.EnableFIPS", "n", "Run OpenSSL with OPENSSL_FIPS=1."),
            Switch("OS.EnableRDMA", "n", "Set up RDMA (HPC images only)."),
            Switch("OS.UpdateRdmaDriver", "n", "Update the RDMA driver."),
            Switch("OS.CheckRdmaDriver", "n", "Check the RDMA driver version."),
            new WaagentOption("OS.RootDeviceScsiTimeout", WaagentOptionType.Integer, null, "SCSI timeout of the root device in seconds; unset leaves the kernel's.")
            { Minimum = 1, NoneMeansUnset = true },
            Int("OS.RootDeviceScsiTimeoutPeriod", "30", "Seconds between settings of the root device timeout.", 1),
            Int("OS.RemovePersistentNetRulesPeriod", "30", "Seconds between removals of persistent network udev rules.", 1),
            Int("OS.MonitorDhcpClientRestartPeriod", "30", "Seconds between checks for DHCP client restarts.", 1),
            new WaagentOption("OS.OpensslPath", WaagentOptionType.String, "/usr/bin/openssl", "Path of the openssl binary; None for the system's.")
            { AbsolutePath = true, NoneMeansUnset = true },
            Int("OS.SshClientAliveInterval", "180", "ClientAliveInterval the agent writes to sshd_config.", 1),
            Path("OS.SshDir", "/etc/ssh", "SSH host keys and configuration folder."),
            Path("OS.HomeDir", "/home", "Where user home folders are made."),
            Path("OS.PasswordPath", "/etc/shadow", "The password file."),
            Path("OS.SudoersDir", "/etc/sudoers.d", "The sudoers drop-in folder."),

            Switch("AutoUpdate.Enabled", "y", "Update the extension handler automatically."),
            Switch("AutoUpdate.UpdateToLatestVersion", "y", "Update the agent to its latest version (agent 2.10+)."),
            new WaagentOption("AutoUpdate.GAFamily", WaagentOptionType.String, "Prod", "Update family; should not be changed."),
            Int("Autoupdate.Frequency", "3600", "Seconds between update checks.", 1),
            Switch("EnableOverProvisioning", "y", "Hold extension handling while the platform marks the VM on hold."),
            Switch("DetectScvmmEnv", "n", "Detect and bootstrap System Center VMM."),

            new WaagentOption("HttpProxy.Host", WaagentOptionType.String, null, "Proxy host for the agent's internet access; None for none.")
            { NoneMeansUnset = true },
            new WaagentOption("HttpProxy.Port", WaagentOptionType.Integer, null, "Proxy port.")
            { Minimum = 1, Maximum = 65535, NoneMeansUnset = true },

            Path("Lib.Dir", "/var/lib/waagent", "The agent's state folder."),
            Path("DVD.MountPoint", "/mnt/cdrom/secure", "Where the provisioning media is mounted."),
            Path("Pid.File", "/var/run/waagent.pid", "The agent's pid file."),
            Path("Extension.LogDir", "/var/log/azure", "Extension logs folder."),
            new WaagentOption("Protocol.EndpointDiscovery", WaagentOptionType.String, "dhcp", "How the wire server is found (newer agents): dhcp or static.")
            { AllowedValues = new[] { "dhcp", "static" } },
            new WaagentOption("CGroups.Enabled", WaagentOptionType.Switch, "y", "Put the agent and extensions in cgroups."),
            new WaagentOption("CGroups.EnforceLimits", WaagentOptionType.Switch, "n", "Enforce cgroup limits (older agents)."),
            new WaagentOption("CGroups.Excluded", WaagentOptionType.String, "customscript,runcommand", "Extensions excluded from limits (older agents)."),
            Switch("Monitor.NetworkConfigurationChanges", "n", "Watch network configuration changes."),
        };

        private static readonly Dictionary<string, WaagentOption> ByKey = Index();

        public static IReadOnlyList<WaagentOption> Options => All;

        /// <summary>The documented option named exactly <paramref name="key"/> (keys are case-sensitive for the agent), or null.</summary>
        public static WaagentOption? Find(string key) => ByKey.TryGetValue(key, out WaagentOption? o) ? o : null;

        /// <summary>A documented key that differs from <paramref name="key"/> only in case, for "did you mean".</summary>
        public static string? SuggestFor(string key)
        {
            foreach (WaagentOption o in All)
            {
                if (string.Equals(o.Key, key, StringComparison.OrdinalIgnoreCase))
                {
                    return o.Key;
                }
            }
            return null;
        }

        /// <summary>The prefix before the first dot: ResourceDisk for ResourceDisk.Format; a key without a dot is its own section.</summary>
        public static string SectionOf(string key)
        {
            int dot = key.IndexOf('.');
            return dot < 0 ? key : key.Substring(0, dot);
        }

        /// <summary>A plain decimal integer, as this module writes them: optional '-', ASCII digits only, fits in a long.</summary>
        public static bool TryParsePlainInteger(string text, out long value)
        {
            value = 0;
            int i = 0;
            bool negative = text.Length > 0 && text[0] == '-';
            if (negative)
            {
                i = 1;
            }
            if (i >= text.Length || text.Length - i > 18)
            {
                return false;
            }
            for (; i < text.Length; i++)
            {
                char c = text[i];
                if (c < '0' || c > '9')
                {
                    return false;
                }
                value = value * 10 + (c - '0');
            }
            if (negative)
            {
                value = -value;
            }
            return true;
        }

        /// <summary>
        /// What the agent's int() makes of a value: surrounding white space, an optional sign, ASCII digits
        /// with single underscores between them. Null when the agent would fall back to the default.
        /// </summary>
        public static long? AgentInteger(string value)
        {
            string t = value.Trim();
            int i = 0;
            bool negative = false;
            if (t.Length > 0 && (t[0] == '+' || t[0] == '-'))
            {
                negative = t[0] == '-';
                i = 1;
            }
            long n = 0;
            int digits = 0;
            bool lastUnderscore = false;
            for (; i < t.Length; i++)
            {
                char c = t[i];
                if (c == '_' && digits > 0 && !lastUnderscore)
                {
                    lastUnderscore = true;
                    continue;
                }
                if (c < '0' || c > '9' || ++digits > 18)
                {
                    return null;
                }
                lastUnderscore = false;
                n = n * 10 + (c - '0');
            }
            if (digits == 0 || lastUnderscore)
            {
                return null;
            }
            return negative ? -n : n;
        }

        private static WaagentOption Switch(string key, string defaultValue, string description) =>
            new WaagentOption(key, WaagentOptionType.Switch, defaultValue, description);

        private static WaagentOption Int(string key, string defaultValue, string description, long minimum) =>
            new WaagentOption(key, WaagentOptionType.Integer, defaultValue, description) { Minimum = minimum };

        private static WaagentOption Path(string key, string defaultValue, string description) =>
            new WaagentOption(key, WaagentOptionType.String, defaultValue, description) { AbsolutePath = true };

        private static Dictionary<string, WaagentOption> Index()
        {
            var d = new Dictionary<string, WaagentOption>(StringComparer.Ordinal);
            foreach (WaagentOption o in All)
            {
                d.Add(o.Key, o);
            }
            return d;
        }
    }
}
