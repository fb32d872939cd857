using System;
using System.Collections.Generic;

namespace AzureLinuxImage.Linux
{
    /// <summary>
    /// Minimal reader of /etc/waagent.conf for the readiness rules: Key=Value lines, '#' comments, and
    /// WALinuxAgent's own defaults for absent keys (AZURE-LINUX.md, "WALinuxAgent configuration defaults").
    /// The full model is Core's WaagentConfig (branch waagent); the two are to be unified at merge.
    /// </summary>
    internal sealed class WaagentSettings
    {
        /// <summary>What the agent's code assumes when a key is absent (not what the shipped file says).</summary>
        internal static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Provisioning.Agent"] = "auto",
            ["Provisioning.RegenerateSshHostKeyPair"] = "n",
            ["Provisioning.DeleteRootPassword"] = "n",
            ["Provisioning.MonitorHostName"] = "n",
            ["Provisioning.SshHostKeyPairType"] = "rsa",
            ["ResourceDisk.Format"] = "n",
            ["ResourceDisk.Filesystem"] = "ext3",
            ["ResourceDisk.MountPoint"] = "/mnt/resource",
            ["ResourceDisk.EnableSwap"] = "n",
            ["ResourceDisk.SwapSizeMB"] = "0",
            ["Extensions.Enabled"] = "y",
            ["AutoUpdate.Enabled"] = "y",
            ["Logs.Verbose"] = "n",
            ["Logs.Console"] = "y",
            ["Logs.Collect"] = "y",
            ["OS.EnableFirewall"] = "n",
            ["OS.SshClientAliveInterval"] = "180",
            ["OS.SshDir"] = "/etc/ssh",
            ["Lib.Dir"] = "/var/lib/waagent",
            ["Protocol.EndpointDiscovery"] = "dhcp",
        };

        private readonly Dictionary<string, KeyValuePair<string, int>> values = new Dictionary<string, KeyValuePair<string, int>>(StringComparer.Ordinal);

        public WaagentSettings(string path, string text)
        {
            Path = path;
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string l = line.Value.Trim();
                int eq = l.IndexOf('=');
                if (l.Length == 0 || l[0] == '#' || eq <= 0)
                {
                    continue;
                }
                // The agent's parser: the value ends at the first '#' (an inline comment), quotes are not special.
                string value = l.Substring(eq + 1);
                int hash = value.IndexOf('#');
                if (hash >= 0)
                {
                    value = value.Substring(0, hash);
                }
                values[l.Substring(0, eq).Trim()] = new KeyValuePair<string, int>(value.Trim(), line.Key);
            }
        }

        public string Path { get; }

        /// <summary>The value the agent uses: the file's, else the agent's default, else null.</summary>
        public string? Get(string key) => values.TryGetValue(key, out KeyValuePair<string, int> v) ? v.Key : Defaults.Get(key);

        /// <summary>Where a key is set, or the whole file when it is absent (the default applies).</summary>
        public SourceLine Where(string key) => new SourceLine(Path, values.TryGetValue(key, out KeyValuePair<string, int> v) ? v.Value : 0);

        public bool IsSet(string key) => values.ContainsKey(key);

        /// <summary>y/yes/true as the agent reads booleans.</summary>
        public bool Flag(string key)
        {
            string? v = Get(key)?.ToLowerInvariant();
            return v == "y" || v == "yes" || v == "true";
        }
    }
}
