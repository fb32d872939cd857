using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>Which distribution a root holds (os-release(5), then lsb-release, then release files).</summary>
    internal sealed record OsIdentity(string Id, string? VersionId, string PrettyName, IReadOnlyList<string> IdLike, string Source)
    {
        /// <summary>True for the distribution family (ID or ID_LIKE) named.</summary>
        public bool IsLike(string id) =>
            string.Equals(Id, id, StringComparison.OrdinalIgnoreCase) || IdLike.Contains(id, StringComparer.OrdinalIgnoreCase);

        public static OsIdentity? Read(IFileSystem fs)
        {
            // os-release(5): /etc/os-release first, /usr/lib/os-release as the fallback.
            foreach (string path in new[] { "/etc/os-release", "/usr/lib/os-release" })
            {
                string? text = fs.TryReadText(path, 64 * 1024);
                if (text == null)
                {
                    continue;
                }
                Dictionary<string, string> kv = ParseShellAssignments(text);
                kv.TryGetValue("ID", out string? id);
                kv.TryGetValue("VERSION_ID", out string? version);
                kv.TryGetValue("PRETTY_NAME", out string? pretty);
                kv.TryGetValue("ID_LIKE", out string? like);
                id = string.IsNullOrEmpty(id) ? "linux" : id!.ToLowerInvariant();
                return new OsIdentity(id, version, pretty ?? kv.Get("NAME") ?? id, RootFiles.Words(like ?? string.Empty), path);
            }
            string? lsb = fs.TryReadText("/etc/lsb-release", 64 * 1024);
            if (lsb != null)
            {
                Dictionary<string, string> kv = ParseShellAssignments(lsb);
                string id = (kv.Get("DISTRIB_ID") ?? "linux").ToLowerInvariant();
                return new OsIdentity(id, kv.Get("DISTRIB_RELEASE"), kv.Get("DISTRIB_DESCRIPTION") ?? id, Array.Empty<string>(), "/etc/lsb-release");
            }
            // Release files of distributions older than os-release (RHEL/CentOS 6, SLES 11, Debian).
            var files = new (string Path, string Id, string[] Like)[]
            {
                ("/etc/redhat-release", "rhel", new[] { "fedora" }),
                ("/etc/centos-release", "centos", new[] { "rhel", "fedora" }),
                ("/etc/SuSE-release", "sles", new[] { "suse" }),
                ("/etc/debian_version", "debian", Array.Empty<string>()),
            };
            foreach (var f in files)
            {
                string? text = fs.TryReadText(f.Path, 4096);
                if (text == null)
                {
                    continue;
                }
                string first = text.Split('\n')[0].Trim();
                System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(first, @"(\d+(\.\d+)*)");
                return new OsIdentity(f.Id, m.Success ? m.Groups[1].Value : null, first, f.Like, f.Path);
            }
            return null;
        }

        /// <summary>KEY=value lines with shell quoting, as os-release(5) and lsb-release use.</summary>
        internal static Dictionary<string, string> ParseShellAssignments(string text)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string l = line.Value.Trim();
                if (l.Length == 0 || l[0] == '#')
                {
                    continue;
                }
                int eq = l.IndexOf('=');
                if (eq <= 0)
                {
                    continue;
                }
                string key = l.Substring(0, eq).Trim();
                if (key.StartsWith("export ", StringComparison.Ordinal))
                {
                    key = key.Substring(7).Trim();
                }
                result[key] = RootFiles.Unquote(RootFiles.StripComment(l.Substring(eq + 1)));
            }
            return result;
        }
    }
}
