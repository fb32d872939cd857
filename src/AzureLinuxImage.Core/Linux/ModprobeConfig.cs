using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>
    /// Modules kept from loading by modprobe.d(5): `blacklist name` and `install name /bin/true` (or /bin/false).
    /// A file in /etc overrides the same name in /run or /usr/lib (modprobe.d(5), configuration directories).
    /// </summary>
    internal sealed class ModprobeConfig
    {
        private static readonly string[] Directories = { "/lib/modprobe.d", "/usr/lib/modprobe.d", "/usr/local/lib/modprobe.d", "/run/modprobe.d", "/etc/modprobe.d" };

        private readonly Dictionary<string, List<SourceLine>> blocked = new Dictionary<string, List<SourceLine>>(StringComparer.Ordinal);

        /// <summary>Where <paramref name="module"/> is blacklisted or its install replaced by a no-op; empty when it is not.</summary>
        public IReadOnlyList<SourceLine> BlockedBy(string module) =>
            blocked.TryGetValue(KernelInfo.ModuleName(module), out List<SourceLine>? l) ? l : (IReadOnlyList<SourceLine>)Array.Empty<SourceLine>();

        public static ModprobeConfig Read(IFileSystem fs)
        {
            var c = new ModprobeConfig();
            var byName = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (string dir in Directories)
            {
                foreach (FileEntry e in fs.ListOrEmpty(dir))
                {
                    if (e.Name.EndsWith(".conf", StringComparison.Ordinal))
                    {
                        byName[e.Name] = e.Path;
                    }
                }
            }
            var files = byName.Values.ToList();
            if (fs.IsFile("/etc/modprobe.conf"))
            {
                files.Add("/etc/modprobe.conf");
            }
            foreach (string path in files)
            {
                string? text = fs.TryReadText(path, 1 << 20);
                foreach (KeyValuePair<int, string> line in RootFiles.Lines(text ?? string.Empty))
                {
                    string[] w = RootFiles.Words(RootFiles.StripComment(line.Value));
                    if (w.Length >= 2 && w[0] == "blacklist")
                    {
                        c.Add(w[1], new SourceLine(path, line.Key));
                    }
                    else if (w.Length >= 3 && w[0] == "install")
                    {
                        string cmd = w[2].Substring(w[2].LastIndexOf('/') + 1);
                        if (cmd == "true" || cmd == "false" || (w.Length == 3 && w[2] == "/dev/null"))
                        {
                            c.Add(w[1], new SourceLine(path, line.Key));
                        }
                    }
                }
            }
            return c;
        }

        private void Add(string module, SourceLine where)
        {
            string name = KernelInfo.ModuleName(module);
            if (!blocked.TryGetValue(name, out List<SourceLine>? list))
            {
                blocked[name] = list = new List<SourceLine>();
            }
            list.Add(where);
        }
    }
}
