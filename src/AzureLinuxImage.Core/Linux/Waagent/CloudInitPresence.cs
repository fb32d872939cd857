using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux.Waagent
{
    /// <summary>
    /// What a Linux root shows about cloud-init, for waagent's conflict warnings (AZURE-LINUX.md, "agent"
    /// and "swap" rows): installed = /usr/bin/cloud-init (or /bin) or one of its systemd units; disabled =
    /// /etc/cloud/cloud-init.disabled; swap = a cloud config (cloud.cfg, cloud.cfg.d/*.cfg) with a top-level
    /// swap: key, or mounts: naming swap or the resource disk (ephemeral0), as Azure's 00-azure-swap.cfg does.
    /// </summary>
    internal sealed class CloudInitPresence
    {
        private const int MaxConfigBytes = 256 * 1024;
        private const int MaxConfigFiles = 256;

        private static readonly string[] Binaries = { "/usr/bin/cloud-init", "/bin/cloud-init" };

        private static readonly string[] UnitFolders = { "/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system" };

        private static readonly string[] Units = { "cloud-init-local.service", "cloud-init.service", "cloud-init-network.service", "cloud-config.service", "cloud-final.service" };

        public bool Installed { get; private set; }

        /// <summary>What shows it is installed, for messages.</summary>
        public string? InstalledEvidence { get; private set; }

        public bool DisabledByFile { get; private set; }

        public bool Enabled => Installed && !DisabledByFile;

        /// <summary>The cloud config file that sets up swap or the resource disk's mounts, or null.</summary>
        public string? SwapConfigFile { get; private set; }

        public static CloudInitPresence Inspect(IFileSystem fs)
        {
            var p = new CloudInitPresence();
            foreach (string b in Binaries)
            {
                if (Exists(fs, b))
                {
                    p.Installed = true;
                    p.InstalledEvidence = b;
                    break;
                }
            }
            if (!p.Installed)
            {
                foreach (string dir in UnitFolders)
                {
                    foreach (string unit in Units)
                    {
                        string path = dir + "/" + unit;
                        if (!p.Installed && Exists(fs, path))
                        {
                            p.Installed = true;
                            p.InstalledEvidence = path;
                        }
                    }
                }
            }
            p.DisabledByFile = Exists(fs, "/etc/cloud/cloud-init.disabled");
            var configs = new List<string> { "/etc/cloud/cloud.cfg" };
            configs.AddRange(ConfigDropIns(fs));
            foreach (string path in configs)
            {
                string? text = ReadSmallText(fs, path);
                if (text != null && ConfiguresSwap(text))
                {
                    p.SwapConfigFile = path;
                    break;
                }
            }
            return p;
        }

        /// <summary>
        /// A top-level "swap:" mapping, or a top-level "mounts:" list whose entries name swap or ephemeral0
        /// (the resource disk). A line scan, not a YAML parser: enough for the files cloud-init ships and Azure
        /// documents.
        /// </summary>
        internal static bool ConfiguresSwap(string yaml)
        {
            bool inMounts = false;
            foreach (string raw in yaml.Split('\n'))
            {
                string line = raw.TrimEnd('\r');
                string content = StripComment(line);
                if (content.Trim().Length == 0)
                {
                    continue;
                }
                bool topLevel = content[0] != ' ' && content[0] != '\t' && content[0] != '-';
                if (topLevel)
                {
                    string key = content.Split(':')[0].Trim();
                    if (key == "swap" && content.Contains(":"))
                    {
                        return true;
                    }
                    inMounts = key == "mounts" && content.Contains(":");
                    if (inMounts && (content.Contains("swap") || content.Contains("ephemeral0")))
                    {
                        return true;
                    }
                    continue;
                }
                if (inMounts && (content.Contains("swap") || content.Contains("ephemeral0")))
                {
                    return true;
                }
            }
            return false;
        }

        private static string StripComment(string line)
        {
            int hash = line.IndexOf('#');
            return hash < 0 ? line : line.Substring(0, hash);
        }

        private static IEnumerable<string> ConfigDropIns(IFileSystem fs)
        {
            var names = new List<string>();
            FileEntry? dir = SafeEntry(fs, "/etc/cloud/cloud.cfg.d");
            if (dir == null || dir.Type != FileEntryType.Directory)
            {
                return names;
            }
            try
            {
                foreach (FileEntry e in fs.List("/etc/cloud/cloud.cfg.d"))
                {
                    if (e.Name.EndsWith(".cfg", StringComparison.Ordinal) && names.Count < MaxConfigFiles)
                    {
                        names.Add("/etc/cloud/cloud.cfg.d/" + e.Name);
                    }
                }
            }
            catch (AzureLinuxImageException)
            {
                return new string[0];
            }
            // cloud-init merges drop-ins in lexical order.
            names.Sort(StringComparer.Ordinal);
            return names;
        }

        private static bool Exists(IFileSystem fs, string path) => SafeEntry(fs, path) != null;

        private static FileEntry? SafeEntry(IFileSystem fs, string path)
        {
            try
            {
                return fs.GetEntry(path);
            }
            catch (AzureLinuxImageException)
            {
                return null;
            }
        }

        private static string? ReadSmallText(IFileSystem fs, string path)
        {
            FileEntry? e = SafeEntry(fs, path);
            if (e == null || e.Type != FileEntryType.File || e.Size > MaxConfigBytes)
            {
                return null;
            }
            try
            {
                using Stream s = fs.OpenRead(path);
                using var r = new StreamReader(s, new UTF8Encoding(false, false));
                var buffer = new char[MaxConfigBytes];
                int n = r.ReadBlock(buffer, 0, buffer.Length);
                return new string(buffer, 0, n);
            }
            catch (AzureLinuxImageException)
            {
                return null;
            }
            catch (IOException)
            {
                return null;
            }
        }
    }
}
