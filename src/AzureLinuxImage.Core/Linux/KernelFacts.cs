using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>A kernel release string parsed: 6.1.0-28-cloud-amd64, 2.6.32-504.el6.x86_64, 3.10.0-1160.el7.x86_64.</summary>
    internal sealed record KernelVersion(string Text, int Major, int Minor, int Patch, int Release, bool IsRhel) : IComparable<KernelVersion>
    {
        private static readonly Regex Pattern = new Regex(@"^(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?(?:-(\d{1,9}))?", RegexOptions.CultureInvariant);

        public static KernelVersion? Parse(string text)
        {
            Match m = Pattern.Match(text);
            if (!m.Success)
            {
                return null;
            }
            int Num(Group g) => g.Success && int.TryParse(g.Value, out int v) ? v : 0;
            bool rhel = Regex.IsMatch(text, @"\.el\d", RegexOptions.CultureInvariant);
            return new KernelVersion(text, Num(m.Groups[1]), Num(m.Groups[2]), Num(m.Groups[3]), Num(m.Groups[4]), rhel);
        }

        /// <summary>Compares major.minor.patch then the distribution release number.</summary>
        public int CompareTo(KernelVersion? other)
        {
            if (other == null)
            {
                return 1;
            }
            int c = Major.CompareTo(other.Major);
            c = c != 0 ? c : Minor.CompareTo(other.Minor);
            c = c != 0 ? c : Patch.CompareTo(other.Patch);
            return c != 0 ? c : Release.CompareTo(other.Release);
        }

        public bool IsOlderThan(int major, int minor, int patch, int release = 0) =>
            CompareTo(new KernelVersion(string.Empty, major, minor, patch, release, false)) < 0;

        public override string ToString() => Text;
    }

    /// <summary>How a driver is available to a kernel.</summary>
    internal enum DriverAvailability
    {
        /// <summary>Neither a module on disk, a built-in, nor a config entry names it.</summary>
        Missing,
        /// <summary>A loadable module (.ko, .ko.xz, .ko.zst, .ko.gz) or CONFIG_...=m.</summary>
        Module,
        /// <summary>Compiled into the kernel (modules.builtin or CONFIG_...=y).</summary>
        BuiltIn,
    }

    /// <summary>One installed kernel: its image, modules directory, modules, built-ins and config.</summary>
    internal sealed class KernelInfo
    {
        /// <summary>Kernel config symbols of the drivers the rules ask about (Kconfig names).</summary>
        internal static readonly IReadOnlyDictionary<string, string> ConfigSymbols = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["hv_vmbus"] = "CONFIG_HYPERV",
            ["hv_storvsc"] = "CONFIG_HYPERV_STORAGE",
            ["hv_netvsc"] = "CONFIG_HYPERV_NET",
            ["hv_utils"] = "CONFIG_HYPERV_UTILS",
            ["hyperv_keyboard"] = "CONFIG_HYPERV_KEYBOARD",
            ["nvme"] = "CONFIG_BLK_DEV_NVME",
            ["nvme_core"] = "CONFIG_NVME_CORE",
            ["udf"] = "CONFIG_UDF_FS",
            ["vfat"] = "CONFIG_VFAT_FS",
            ["isofs"] = "CONFIG_ISO9660_FS",
            ["mana"] = "CONFIG_MICROSOFT_MANA",
            ["mlx5_core"] = "CONFIG_MLX5_CORE",
            ["mlx4_en"] = "CONFIG_MLX4_EN",
        };

        public KernelInfo(KernelVersion version, string? imagePath, string? modulesDirectory, string? initrdPath,
            IReadOnlyCollection<string> modules, IReadOnlyCollection<string> builtins, IReadOnlyDictionary<string, string> config, string? configPath)
        {
            Version = version;
            ImagePath = imagePath;
            ModulesDirectory = modulesDirectory;
            InitrdPath = initrdPath;
            Modules = new HashSet<string>(modules, StringComparer.Ordinal);
            Builtins = new HashSet<string>(builtins, StringComparer.Ordinal);
            Config = config;
            ConfigPath = configPath;
        }

        public KernelVersion Version { get; }

        public string? ImagePath { get; }

        public string? ModulesDirectory { get; }

        public string? InitrdPath { get; }

        /// <summary>Loadable module names (normalized: '-' as '_', no extension).</summary>
        public HashSet<string> Modules { get; }

        /// <summary>Built-in module names from modules.builtin.</summary>
        public HashSet<string> Builtins { get; }

        /// <summary>CONFIG_ symbols from /boot/config-&lt;version&gt; (value y, m, or a string).</summary>
        public IReadOnlyDictionary<string, string> Config { get; }

        public string? ConfigPath { get; }

        public DriverAvailability Driver(string module)
        {
            string name = ModuleName(module);
            if (Builtins.Contains(name))
            {
                return DriverAvailability.BuiltIn;
            }
            if (Modules.Contains(name))
            {
                return DriverAvailability.Module;
            }
            if (ConfigSymbols.TryGetValue(name, out string? symbol) && Config.TryGetValue(symbol, out string? value))
            {
                return value == "y" ? DriverAvailability.BuiltIn : value == "m" ? DriverAvailability.Module : DriverAvailability.Missing;
            }
            return DriverAvailability.Missing;
        }

        /// <summary>Module name as the kernel knows it: file name without directory and .ko[.xz|.zst|.gz], '-' as '_'.</summary>
        public static string ModuleName(string fileOrName)
        {
            string n = fileOrName.Substring(fileOrName.LastIndexOf('/') + 1);
            foreach (string ext in new[] { ".ko.xz", ".ko.zst", ".ko.gz", ".ko.bz2", ".ko" })
            {
                if (n.EndsWith(ext, StringComparison.Ordinal))
                {
                    n = n.Substring(0, n.Length - ext.Length);
                    break;
                }
            }
            return n.Replace('-', '_');
        }

        public static bool IsModuleFile(string name) =>
            name.EndsWith(".ko", StringComparison.Ordinal) || name.EndsWith(".ko.xz", StringComparison.Ordinal) ||
            name.EndsWith(".ko.zst", StringComparison.Ordinal) || name.EndsWith(".ko.gz", StringComparison.Ordinal) ||
            name.EndsWith(".ko.bz2", StringComparison.Ordinal);
    }

    /// <summary>Kernels installed in a root: /boot/vmlinuz-* paired with /lib/modules/&lt;version&gt; (and /usr/lib/modules).</summary>
    internal static class KernelFacts
    {
        private const int MaxModuleFiles = 50000;

        public static IReadOnlyList<KernelInfo> Read(IFileSystem fs)
        {
            var versions = new SortedSet<string>(StringComparer.Ordinal);
            var images = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (FileEntry e in fs.ListOrEmpty("/boot"))
            {
                foreach (string prefix in new[] { "vmlinuz-", "vmlinux-", "Image-", "kernel-" })
                {
                    if (e.Name.StartsWith(prefix, StringComparison.Ordinal) && e.Name.Length > prefix.Length && !e.Name.EndsWith(".hmac", StringComparison.Ordinal))
                    {
                        string v = e.Name.Substring(prefix.Length);
                        versions.Add(v);
                        images[v] = e.Path;
                    }
                }
            }
            // BLS distributions (Fedora, RHEL 8+) keep the image at /usr/lib/modules/<version>/vmlinuz.
            foreach (string dir in new[] { "/usr/lib/modules", "/lib/modules" })
            {
                foreach (FileEntry e in fs.ListOrEmpty(dir))
                {
                    if (e.Type == FileEntryType.Directory && (images.ContainsKey(e.Name) || fs.IsFile(RootFiles.Combine(e.Path, "vmlinuz"))))
                    {
                        versions.Add(e.Name);
                        if (!images.ContainsKey(e.Name))
                        {
                            images[e.Name] = RootFiles.Combine(e.Path, "vmlinuz");
                        }
                    }
                }
            }
            var result = new List<KernelInfo>();
            foreach (string v in versions)
            {
                KernelVersion? kv = KernelVersion.Parse(v);
                if (kv == null)
                {
                    continue;
                }
                string? modulesDir = new[] { "/lib/modules/" + v, "/usr/lib/modules/" + v }.FirstOrDefault(fs.IsDirectory);
                var modules = new HashSet<string>(StringComparer.Ordinal);
                var builtins = new HashSet<string>(StringComparer.Ordinal);
                if (modulesDir != null)
                {
                    ReadModules(fs, modulesDir, modules);
                    string? builtin = fs.TryReadText(modulesDir + "/modules.builtin");
                    if (builtin != null)
                    {
                        foreach (KeyValuePair<int, string> line in RootFiles.Lines(builtin))
                        {
                            if (line.Value.Trim().Length > 0)
                            {
                                builtins.Add(KernelInfo.ModuleName(line.Value.Trim()));
                            }
                        }
                    }
                }
                string configPath = "/boot/config-" + v;
                string? configText = fs.TryReadText(configPath);
                if (configText == null && modulesDir != null)
                {
                    configPath = modulesDir + "/config";
                    configText = fs.TryReadText(configPath);
                }
                result.Add(new KernelInfo(kv, images.TryGetValue(v, out string? img) ? img : null, modulesDir, FindInitrd(fs, v),
                    modules, builtins, ParseConfig(configText), configText == null ? null : configPath));
            }
            result.Sort((a, b) => b.Version.CompareTo(a.Version));
            return result;
        }

        /// <summary>modules.dep lists every module of the kernel; without it the tree is walked (bounded).</summary>
        private static void ReadModules(IFileSystem fs, string modulesDir, HashSet<string> modules)
        {
            string? dep = fs.TryReadText(modulesDir + "/modules.dep");
            if (dep != null)
            {
                foreach (KeyValuePair<int, string> line in RootFiles.Lines(dep))
                {
                    int colon = line.Value.IndexOf(':');
                    if (colon > 0)
                    {
                        modules.Add(KernelInfo.ModuleName(line.Value.Substring(0, colon)));
                    }
                }
                return;
            }
            var pending = new Stack<string>();
            pending.Push(modulesDir);
            int seen = 0;
            while (pending.Count > 0 && seen < MaxModuleFiles)
            {
                foreach (FileEntry e in fs.ListOrEmpty(pending.Pop()))
                {
                    if (++seen > MaxModuleFiles)
                    {
                        break;
                    }
                    if (e.Type == FileEntryType.Directory)
                    {
                        pending.Push(e.Path);
                    }
                    else if (e.Type == FileEntryType.File && KernelInfo.IsModuleFile(e.Name))
                    {
                        modules.Add(KernelInfo.ModuleName(e.Name));
                    }
                }
            }
        }

        /// <summary>The initrd of a kernel: the shortest /boot name containing its version, ignoring kdump (libguestfs's rule).</summary>
        internal static string? FindInitrd(IFileSystem fs, string version)
        {
            return fs.ListOrEmpty("/boot")
                .Where(e => e.Type == FileEntryType.File || e.Type == FileEntryType.Symlink)
                .Where(e => (e.Name.StartsWith("initrd", StringComparison.Ordinal) || e.Name.StartsWith("initramfs", StringComparison.Ordinal))
                    && e.Name.Contains(version) && !e.Name.Contains("kdump"))
                .OrderBy(e => e.Name.Length).ThenBy(e => e.Name, StringComparer.Ordinal)
                .Select(e => e.Path)
                .FirstOrDefault();
        }

        internal static IReadOnlyDictionary<string, string> ParseConfig(string? text)
        {
            var config = new Dictionary<string, string>(StringComparer.Ordinal);
            if (text == null)
            {
                return config;
            }
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string l = line.Value.Trim();
                int eq = l.IndexOf('=');
                if (l.StartsWith("CONFIG_", StringComparison.Ordinal) && eq > 0)
                {
                    config[l.Substring(0, eq)] = RootFiles.Unquote(l.Substring(eq + 1));
                }
            }
            return config;
        }
    }
}
