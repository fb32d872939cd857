using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>What systemd (or SysV init) would do with one unit at boot.</summary>
    internal sealed record UnitState(string Name, string? FilePath, bool Masked, bool Enabled, IReadOnlyList<string> EnabledBy, SourceLine? MaskLink)
    {
        public bool Exists => FilePath != null;

        /// <summary>Installed, not masked, and pulled in by a target (a .wants/.requires link or an rc3.d S link).</summary>
        public bool Active => Exists && !Masked && Enabled;
    }

    /// <summary>
    /// systemd units and their enablement read offline (systemd.unit(5): unit search path, .wants/.requires
    /// symlinks, aliases, masks to /dev/null), plus SysV rc links for systems without systemd.
    /// </summary>
    internal sealed class SystemdUnits
    {
        /// <summary>Unit search path of the system manager, highest priority first (systemd.unit(5)).</summary>
        internal static readonly string[] SearchPath =
        {
            "/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system",
        };

        private readonly IFileSystem fs;
        private readonly Dictionary<string, List<string>> enablement = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        private readonly Dictionary<string, UnitState> cache = new Dictionary<string, UnitState>(StringComparer.Ordinal);

        private SystemdUnits(IFileSystem fs)
        {
            this.fs = fs;
        }

        public bool HasSystemd { get; private set; }

        public static SystemdUnits Read(IFileSystem fs)
        {
            var units = new SystemdUnits(fs);
            units.HasSystemd = SearchPath.Any(fs.IsDirectory);
            foreach (string dir in SearchPath)
            {
                foreach (FileEntry e in fs.ListOrEmpty(dir))
                {
                    if (e.Type != FileEntryType.Directory || !(e.Name.EndsWith(".wants", StringComparison.Ordinal) || e.Name.EndsWith(".requires", StringComparison.Ordinal)))
                    {
                        continue;
                    }
                    foreach (FileEntry link in fs.ListOrEmpty(e.Path))
                    {
                        units.AddEnablement(link.Name, e.Path + "/" + link.Name);
                        if (link.LinkTarget != null)
                        {
                            units.AddEnablement(link.LinkTarget.Substring(link.LinkTarget.LastIndexOf('/') + 1), e.Path + "/" + link.Name);
                        }
                    }
                }
            }
            return units;
        }

        private void AddEnablement(string unit, string path)
        {
            if (!enablement.TryGetValue(unit, out List<string>? list))
            {
                enablement[unit] = list = new List<string>();
            }
            if (!list.Contains(path))
            {
                list.Add(path);
            }
        }

        /// <summary>The state of <paramref name="name"/> (ssh.service, cloud-init.target ...), following aliases.</summary>
        public UnitState Get(string name)
        {
            if (cache.TryGetValue(name, out UnitState? cached))
            {
                return cached;
            }
            string? file = null;
            bool masked = false;
            SourceLine? maskLink = null;
            string realName = name;
            string lookupName = name;
            int at = name.IndexOf('@');
            foreach (string dir in SearchPath)
            {
                string path = dir + "/" + lookupName;
                FileEntry? entry = fs.GetEntry(path, followLastLink: false);
                if (entry == null && at > 0 && lookupName == name)
                {
                    // An instance (getty@tty1.service) comes from its template (getty@.service).
                    path = dir + "/" + name.Substring(0, at + 1) + name.Substring(name.LastIndexOf('.'));
                    entry = fs.GetEntry(path, followLastLink: false);
                }
                if (entry == null)
                {
                    continue;
                }
                if (entry.Type == FileEntryType.Symlink)
                {
                    string target = entry.LinkTarget ?? string.Empty;
                    if (target == "/dev/null" || target == "../../../dev/null")
                    {
                        masked = true;
                        maskLink = new SourceLine(path, 0);
                        break;
                    }
                    FileEntry? resolved = fs.GetEntry(path);
                    if (resolved == null)
                    {
                        continue; // dangling link: systemd ignores it
                    }
                    if (resolved.Name != name && lookupName == name && resolved.Name.IndexOf('@') < 0)
                    {
                        // An alias (sshd.service -> ssh.service): the real unit's mask and enablement apply.
                        UnitState real = Get(resolved.Name);
                        UnitState alias = real with { Name = name, EnabledBy = real.EnabledBy.Concat(EnabledByName(name)).Distinct().ToList() };
                        alias = alias with { Enabled = alias.EnabledBy.Count > 0 };
                        cache[name] = alias;
                        return alias;
                    }
                    file = resolved.Path;
                    realName = resolved.Name;
                    break;
                }
                if (entry.Type == FileEntryType.File)
                {
                    file = entry.Path;
                    break;
                }
            }
            var by = new List<string>();
            foreach (string n in new[] { name, realName }.Distinct())
            {
                if (enablement.TryGetValue(n, out List<string>? list))
                {
                    by.AddRange(list);
                }
            }
            if (file == null && !masked)
            {
                // SysV init script enabled in runlevel 3 (RHEL 6, old SUSE): /etc/rc3.d/S..name.
                string sysv = name.EndsWith(".service", StringComparison.Ordinal) ? name.Substring(0, name.Length - 8) : name;
                if (fs.IsFile("/etc/init.d/" + sysv) || fs.IsFile("/etc/rc.d/init.d/" + sysv))
                {
                    file = fs.IsFile("/etc/init.d/" + sysv) ? "/etc/init.d/" + sysv : "/etc/rc.d/init.d/" + sysv;
                    foreach (string rc in new[] { "/etc/rc3.d", "/etc/rc.d/rc3.d", "/etc/rc2.d" })
                    {
                        by.AddRange(fs.ListOrEmpty(rc).Where(e => e.Name.StartsWith("S", StringComparison.Ordinal) && e.Name.Length > 3 && e.Name.Substring(3) == sysv).Select(e => e.Path));
                    }
                }
            }
            var state = new UnitState(name, file, masked, by.Count > 0, by.Distinct().ToList(), maskLink);
            cache[name] = state;
            return state;
        }

        private IEnumerable<string> EnabledByName(string name) =>
            enablement.TryGetValue(name, out List<string>? list) ? list : Enumerable.Empty<string>();

        /// <summary>The first of <paramref name="names"/> that exists (or the first name when none does).</summary>
        public UnitState First(params string[] names) => names.Select(Get).FirstOrDefault(u => u.Exists || u.Masked) ?? Get(names[0]);

        /// <summary>Every unit file name installed under the search path (first occurrence wins), bounded.</summary>
        public IEnumerable<FileEntry> AllUnitFiles()
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (string dir in SearchPath)
            {
                foreach (FileEntry e in fs.ListOrEmpty(dir))
                {
                    if ((e.Type == FileEntryType.File || e.Type == FileEntryType.Symlink) && e.Name.EndsWith(".service", StringComparison.Ordinal) && seen.Add(e.Name))
                    {
                        yield return e;
                    }
                }
            }
        }

        /// <summary>The [Service]/[Install] settings of a unit file: key → values in order, with line numbers.</summary>
        public static IReadOnlyList<UnitSetting> ReadUnitFile(IFileSystem fs, string path)
        {
            var result = new List<UnitSetting>();
            string? text = fs.TryReadText(path, 256 * 1024);
            if (text == null)
            {
                return result;
            }
            string section = string.Empty;
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string l = line.Value.Trim();
                if (l.Length == 0 || l[0] == '#' || l[0] == ';')
                {
                    continue;
                }
                if (l[0] == '[' && l.EndsWith("]", StringComparison.Ordinal))
                {
                    section = l.Substring(1, l.Length - 2);
                    continue;
                }
                int eq = l.IndexOf('=');
                if (eq > 0)
                {
                    result.Add(new UnitSetting(section, l.Substring(0, eq).Trim(), l.Substring(eq + 1).Trim(), new SourceLine(path, line.Key)));
                }
            }
            return result;
        }
    }

    /// <summary>One Key=Value of a unit file.</summary>
    internal sealed record UnitSetting(string Section, string Key, string Value, SourceLine Source);
}
