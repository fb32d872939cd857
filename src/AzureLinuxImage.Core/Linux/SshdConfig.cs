using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>One effective sshd setting and where it was read.</summary>
    internal sealed record SshdSetting(string Value, SourceLine Source);

    /// <summary>
    /// The SSH server: installed binary, its host keys, and the global settings of sshd_config with its
    /// Include files expanded in place (sshd_config(5): the first value obtained wins; Match blocks end the
    /// global section).
    /// </summary>
    internal sealed class SshdConfig
    {
        private const int MaxIncludeDepth = 16;

        public bool Installed { get; private set; }

        public string? BinaryPath { get; private set; }

        public bool ConfigFound { get; private set; }

        /// <summary>Keyword (lower case) → first value.</summary>
        public IReadOnlyDictionary<string, SshdSetting> Settings => settings;

        public IReadOnlyList<string> HostKeys { get; private set; } = Array.Empty<string>();

        private readonly Dictionary<string, SshdSetting> settings = new Dictionary<string, SshdSetting>(StringComparer.Ordinal);

        public SshdSetting? Get(string keyword) => settings.TryGetValue(keyword.ToLowerInvariant(), out SshdSetting? s) ? s : null;

        public static SshdConfig Read(IFileSystem fs)
        {
            var c = new SshdConfig();
            c.BinaryPath = new[] { "/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd" }.FirstOrDefault(fs.IsFile);
            c.Installed = c.BinaryPath != null;
            if (fs.IsFile("/etc/ssh/sshd_config"))
            {
                c.ConfigFound = true;
                bool inMatch = false;
                c.ReadFile(fs, "/etc/ssh/sshd_config", 0, ref inMatch);
            }
            c.HostKeys = fs.ListOrEmpty("/etc/ssh").Where(e => e.Name.StartsWith("ssh_host_", StringComparison.Ordinal) && e.Name.EndsWith("_key", StringComparison.Ordinal))
                .Select(e => e.Path).ToList();
            return c;
        }

        private void ReadFile(IFileSystem fs, string path, int depth, ref bool inMatch)
        {
            string? text = fs.TryReadText(path, 1 << 20);
            if (text == null || depth > MaxIncludeDepth)
            {
                return;
            }
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string l = line.Value.Trim();
                if (l.Length == 0 || l[0] == '#')
                {
                    continue;
                }
                int sep = l.IndexOfAny(new[] { ' ', '\t', '=' });
                string key = (sep < 0 ? l : l.Substring(0, sep)).ToLowerInvariant();
                string value = sep < 0 ? string.Empty : l.Substring(sep + 1).Trim().TrimStart('=').Trim();
                if (key == "include")
                {
                    // Include patterns are relative to /etc/ssh; sshd expands the glob in lexical order.
                    foreach (string pattern in RootFiles.Words(value))
                    {
                        foreach (string file in Glob(fs, pattern.StartsWith("/", StringComparison.Ordinal) ? pattern : "/etc/ssh/" + pattern))
                        {
                            ReadFile(fs, file, depth + 1, ref inMatch);
                        }
                    }
                    continue;
                }
                if (key == "match")
                {
                    inMatch = true;
                }
                if (inMatch || settings.ContainsKey(key))
                {
                    continue;
                }
                settings[key] = new SshdSetting(RootFiles.Unquote(value), new SourceLine(path, line.Key));
            }
        }

        /// <summary>A glob with '*' and '?' in the last component only (what sshd_config.d uses).</summary>
        internal static IEnumerable<string> Glob(IFileSystem fs, string pattern)
        {
            int slash = pattern.LastIndexOf('/');
            string dir = slash <= 0 ? "/" : pattern.Substring(0, slash);
            string name = pattern.Substring(slash + 1);
            if (name.IndexOfAny(new[] { '*', '?', '[' }) < 0)
            {
                return fs.IsFile(pattern) ? new[] { pattern } : Array.Empty<string>();
            }
            var regex = new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(name).Replace(@"\*", ".*").Replace(@"\?", ".") + "$");
            return fs.ListOrEmpty(dir).Where(e => !e.Name.StartsWith(".", StringComparison.Ordinal) && regex.IsMatch(e.Name) && (e.Type == FileEntryType.File || e.Type == FileEntryType.Symlink))
                .Select(e => e.Path).ToList();
        }
    }
}
