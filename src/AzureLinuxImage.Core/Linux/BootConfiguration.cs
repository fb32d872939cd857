using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>One boot entry: a grub menuentry, a grub legacy title, or a BLS snippet.</summary>
    internal sealed record BootEntry(string Title, string? Id, string? KernelPath, string? InitrdPath, KernelCommandLine? CommandLine, SourceLine Source);

    /// <summary>
    /// What the boot loader will do: grub.cfg (grub2 paths, submenus), grub legacy menu.lst, BLS entries
    /// with $kernelopts from grubenv, /etc/default/grub with /etc/default/grub.d/*.cfg, and /etc/kernel/cmdline. The effective command line is
    /// the default entry's; <see cref="Disagreements"/> lists arguments of /etc/default/grub that the generated
    /// configuration lacks (grub-mkconfig not rerun) or has in excess.
    /// </summary>
    internal sealed class BootConfiguration
    {
        private static readonly string[] GrubConfigPaths =
        {
            "/boot/grub/grub.cfg", "/boot/grub2/grub.cfg", "/boot/efi/EFI/debian/grub.cfg", "/boot/efi/EFI/ubuntu/grub.cfg",
            "/boot/efi/EFI/redhat/grub.cfg", "/boot/efi/EFI/centos/grub.cfg", "/boot/efi/EFI/fedora/grub.cfg",
            "/boot/efi/EFI/rocky/grub.cfg", "/boot/efi/EFI/almalinux/grub.cfg", "/boot/efi/EFI/opensuse/grub.cfg",
        };

        private static readonly string[] GrubLegacyPaths = { "/boot/grub/menu.lst", "/boot/grub/grub.conf", "/etc/grub.conf" };

        /// <summary>Arguments grub-mkconfig adds itself or that do not come from /etc/default/grub.</summary>
        private static readonly string[] GeneratedArguments = { "root", "ro", "rw", "BOOT_IMAGE", "initrd", "rootflags", "rd.lvm.lv", "resume" };

        public string? GrubConfigPath { get; private set; }

        public IReadOnlyList<BootEntry> Entries { get; private set; } = Array.Empty<BootEntry>();

        public BootEntry? DefaultEntry { get; private set; }

        /// <summary>The command line the default entry boots with; null when no boot configuration was found.</summary>
        public KernelCommandLine? EffectiveCommandLine { get; private set; }

        /// <summary>The effective GRUB_* values of /etc/default/grub and /etc/default/grub.d/*.cfg (shell quoting removed, $VAR expanded).</summary>
        public IReadOnlyDictionary<string, string> DefaultGrub { get; private set; } = new Dictionary<string, string>();

        /// <summary>Every assignment with its file and line: which file decides each value (issue 27 item 1).</summary>
        public GrubDefaults Defaults { get; private set; } = new GrubDefaults();

        /// <summary>GRUB_CMDLINE_LINUX + GRUB_CMDLINE_LINUX_DEFAULT, what grub-mkconfig would put on the linux line; its source is the assignment that decides GRUB_CMDLINE_LINUX.</summary>
        public KernelCommandLine? DefaultGrubCommandLine { get; private set; }

        /// <summary>grubenv variables (saved_entry, kernelopts ...).</summary>
        public IReadOnlyDictionary<string, string> GrubEnvironment { get; private set; } = new Dictionary<string, string>();

        public KernelCommandLine? KernelCmdlineFile { get; private set; }

        /// <summary>"+arg" in /etc/default/grub only, "-arg" in the generated configuration only.</summary>
        public IReadOnlyList<string> Disagreements { get; private set; } = Array.Empty<string>();

        public bool UsesBls { get; private set; }

        public static BootConfiguration Read(IFileSystem fs)
        {
            var boot = new BootConfiguration();
            boot.ReadDefaultGrub(fs);
            boot.ReadGrubEnvironment(fs);
            string? kernelCmdline = fs.TryReadText("/etc/kernel/cmdline", 64 * 1024);
            if (kernelCmdline != null)
            {
                boot.KernelCmdlineFile = new KernelCommandLine(kernelCmdline.Replace('\n', ' '), new SourceLine("/etc/kernel/cmdline", 1));
            }
            foreach (string path in GrubConfigPaths)
            {
                string? text = fs.TryReadText(path);
                if (text == null)
                {
                    continue;
                }
                boot.GrubConfigPath = path;
                boot.ParseGrub2(fs, path, text);
                if (boot.Entries.Count > 0)
                {
                    break;
                }
            }
            if (boot.Entries.Count == 0)
            {
                foreach (string path in GrubLegacyPaths)
                {
                    string? text = fs.TryReadText(path);
                    if (text != null)
                    {
                        boot.GrubConfigPath = path;
                        boot.ParseGrubLegacy(path, text);
                        break;
                    }
                }
            }
            if (boot.Entries.Count == 0 && fs.IsDirectory("/boot/loader/entries"))
            {
                boot.Entries = ReadBls(fs, boot.GrubEnvironment);
                boot.UsesBls = boot.Entries.Count > 0;
                boot.DefaultEntry = boot.PickBlsDefault();
            }
            boot.EffectiveCommandLine = boot.DefaultEntry?.CommandLine ?? boot.KernelCmdlineFile ?? boot.DefaultGrubCommandLine;
            boot.Disagreements = boot.ComputeDisagreements();
            return boot;
        }

        private void ReadDefaultGrub(IFileSystem fs)
        {
            GrubDefaults d = GrubDefaults.Read(fs);
            Defaults = d;
            DefaultGrub = d.Values;
            if (d.Found)
            {
                string cmd = (d.Values.Get("GRUB_CMDLINE_LINUX") ?? string.Empty) + " " + (d.Values.Get("GRUB_CMDLINE_LINUX_DEFAULT") ?? string.Empty);
                GrubAssignment? at = d.Last("GRUB_CMDLINE_LINUX") ?? d.Last("GRUB_CMDLINE_LINUX_DEFAULT");
                DefaultGrubCommandLine = new KernelCommandLine(cmd, at?.Source ?? new SourceLine(GrubDefaults.MainFile, 0));
            }
        }

        private void ReadGrubEnvironment(IFileSystem fs)
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string path in new[] { "/boot/grub2/grubenv", "/boot/grub/grubenv", "/boot/efi/EFI/redhat/grubenv" })
            {
                string? text = fs.TryReadText(path, 64 * 1024);
                if (text == null)
                {
                    continue;
                }
                foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
                {
                    int eq = line.Value.IndexOf('=');
                    if (!line.Value.StartsWith("#", StringComparison.Ordinal) && eq > 0)
                    {
                        env[line.Value.Substring(0, eq)] = line.Value.Substring(eq + 1);
                    }
                }
                break;
            }
            GrubEnvironment = env;
        }

        private sealed class MenuNode
        {
            public string Title = string.Empty;
            public string? Id;
            public bool IsSubmenu;
            public int Line;
            public string? Kernel;
            public string? Initrd;
            public string? Args;
            public int ArgsLine;
            public readonly List<MenuNode> Children = new List<MenuNode>();
        }

        private void ParseGrub2(IFileSystem fs, string path, string text)
        {
            var top = new MenuNode { IsSubmenu = true };
            var stack = new Stack<MenuNode>();
            stack.Push(top);
            string? defaultValue = null;
            bool bls = false;
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string l = line.Value.Trim();
                if (l.Length == 0 || l[0] == '#')
                {
                    continue;
                }
                string[] w = RootFiles.Words(l);
                if (w[0] == "menuentry" || w[0] == "submenu")
                {
                    var node = new MenuNode { IsSubmenu = w[0] == "submenu", Line = line.Key, Title = FirstQuoted(l.Substring(w[0].Length)) };
                    int idAt = Array.FindIndex(w, x => x == "--id" || x == "$menuentry_id_option");
                    if (idAt >= 0 && idAt + 1 < w.Length)
                    {
                        node.Id = RootFiles.Unquote(w[idAt + 1]);
                    }
                    stack.Peek().Children.Add(node);
                    if (l.EndsWith("{", StringComparison.Ordinal))
                    {
                        stack.Push(node);
                    }
                    continue;
                }
                if (l == "}")
                {
                    if (stack.Count > 1)
                    {
                        stack.Pop();
                    }
                    continue;
                }
                MenuNode current = stack.Peek();
                if (stack.Count == 1 && w[0] == "set" && w.Length > 1 && w[1].StartsWith("default=", StringComparison.Ordinal))
                {
                    defaultValue = RootFiles.Unquote(w[1].Substring(8));
                }
                else if (w[0] == "blscfg")
                {
                    bls = true;
                }
                else if (!current.IsSubmenu && (w[0] == "linux" || w[0] == "linuxefi" || w[0] == "linux16" || w[0] == "kernel") && w.Length > 1)
                {
                    current.Kernel = w[1];
                    current.Args = string.Join(" ", w.Skip(2));
                    current.ArgsLine = line.Key;
                }
                else if (!current.IsSubmenu && (w[0] == "initrd" || w[0] == "initrdefi" || w[0] == "initrd16") && w.Length > 1)
                {
                    current.Initrd = w[w.Length - 1];
                }
            }
            var entries = new List<BootEntry>();
            void Flatten(MenuNode n)
            {
                foreach (MenuNode c in n.Children)
                {
                    if (c.IsSubmenu)
                    {
                        Flatten(c);
                    }
                    else
                    {
                        entries.Add(ToEntry(c, path));
                    }
                }
            }
            Flatten(top);
            if (bls && entries.Count == 0)
            {
                // RHEL 8+/Fedora: grub.cfg runs blscfg, the entries are BLS snippets.
                UsesBls = true;
                Entries = ReadBls(fs, GrubEnvironment);
                DefaultEntry = PickBlsDefault();
                return;
            }
            Entries = entries;
            if (defaultValue != null && defaultValue.Contains("saved_entry"))
            {
                defaultValue = GrubEnvironment.Get("saved_entry") ?? "0";
            }
            DefaultEntry = Pick(top, defaultValue ?? "0", path) ?? entries.FirstOrDefault();
        }

        private static BootEntry ToEntry(MenuNode n, string path) =>
            new BootEntry(n.Title, n.Id, n.Kernel, n.Initrd, n.Args == null ? null : new KernelCommandLine(n.Args, new SourceLine(path, n.ArgsLine)),
                new SourceLine(path, n.Line));

        /// <summary>GRUB_DEFAULT semantics: an index, a title or id, or "a>b" through submenus.</summary>
        private static BootEntry? Pick(MenuNode top, string value, string path)
        {
            MenuNode node = top;
            foreach (string part in value.Split('>'))
            {
                MenuNode? next = int.TryParse(part, out int index)
                    ? (index >= 0 && index < node.Children.Count ? node.Children[index] : null)
                    : node.Children.FirstOrDefault(c => c.Title == part || c.Id == part);
                if (next == null)
                {
                    return null;
                }
                node = next;
            }
            while (node.IsSubmenu)
            {
                if (node.Children.Count == 0)
                {
                    return null;
                }
                node = node.Children[0];
            }
            return ToEntry(node, path);
        }

        private void ParseGrubLegacy(string path, string text)
        {
            var entries = new List<BootEntry>();
            int defaultIndex = 0;
            string? title = null, kernel = null, args = null, initrd = null;
            int titleLine = 0, argsLine = 0;
            void Flush()
            {
                if (title != null)
                {
                    entries.Add(new BootEntry(title, null, kernel, initrd, args == null ? null : new KernelCommandLine(args, new SourceLine(path, argsLine)), new SourceLine(path, titleLine)));
                }
            }
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string l = line.Value.Trim();
                string[] w = RootFiles.Words(l.Replace('=', ' '));
                if (l.Length == 0 || l[0] == '#' || w.Length == 0)
                {
                    continue;
                }
                if (w[0] == "default" && title == null && w.Length > 1)
                {
                    int.TryParse(w[1], out defaultIndex);
                }
                else if (w[0] == "title")
                {
                    Flush();
                    title = l.Substring(5).Trim();
                    titleLine = line.Key;
                    kernel = args = initrd = null;
                }
                else if (w[0] == "kernel" && title != null)
                {
                    string[] kw = RootFiles.Words(l);
                    kernel = kw.Length > 1 ? kw[1] : null;
                    args = string.Join(" ", kw.Skip(2));
                    argsLine = line.Key;
                }
                else if (w[0] == "initrd" && title != null)
                {
                    string[] kw = RootFiles.Words(l);
                    initrd = kw.Length > 1 ? kw[1] : null;
                }
            }
            Flush();
            Entries = entries;
            DefaultEntry = defaultIndex >= 0 && defaultIndex < entries.Count ? entries[defaultIndex] : entries.FirstOrDefault();
        }

        private static IReadOnlyList<BootEntry> ReadBls(IFileSystem fs, IReadOnlyDictionary<string, string> env)
        {
            var entries = new List<BootEntry>();
            foreach (FileEntry e in fs.ListOrEmpty("/boot/loader/entries").Reverse())
            {
                if (!e.Name.EndsWith(".conf", StringComparison.Ordinal))
                {
                    continue;
                }
                string? text = fs.TryReadText(e.Path, 64 * 1024);
                if (text == null)
                {
                    continue;
                }
                string? title = null, linux = null, initrd = null, options = null;
                int optionsLine = 0;
                foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
                {
                    string l = line.Value.Trim();
                    int sp = l.IndexOfAny(new[] { ' ', '\t' });
                    if (l.StartsWith("#", StringComparison.Ordinal) || sp <= 0)
                    {
                        continue;
                    }
                    string key = l.Substring(0, sp), value = l.Substring(sp + 1).Trim();
                    switch (key)
                    {
                        case "title": title = value; break;
                        case "linux": linux = value; break;
                        case "initrd": initrd ??= value; break;
                        case "options": options = options == null ? value : options + " " + value; optionsLine = line.Key; break;
                    }
                }
                string id = e.Name.Substring(0, e.Name.Length - 5);
                KernelCommandLine? cmd = null;
                if (options != null)
                {
                    string expanded = ExpandGrubVariables(options, env);
                    cmd = new KernelCommandLine(expanded, new SourceLine(e.Path, optionsLine));
                }
                entries.Add(new BootEntry(title ?? id, id, linux, initrd, cmd, new SourceLine(e.Path, 1)));
            }
            return entries;
        }

        /// <summary>$kernelopts and friends come from grubenv (RHEL 8); unknown variables expand to nothing, as in grub.</summary>
        private static string ExpandGrubVariables(string options, IReadOnlyDictionary<string, string> env)
        {
            return System.Text.RegularExpressions.Regex.Replace(options, @"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                m => env.Get(m.Groups[1].Value) ?? string.Empty);
        }

        private BootEntry? PickBlsDefault()
        {
            string? saved = GrubEnvironment.Get("saved_entry");
            return Entries.FirstOrDefault(e => saved != null && e.Id == saved) ?? Entries.FirstOrDefault();
        }

        private IReadOnlyList<string> ComputeDisagreements()
        {
            if (DefaultGrubCommandLine == null || DefaultEntry?.CommandLine == null || UsesBls)
            {
                return Array.Empty<string>();
            }
            var effective = new HashSet<string>(DefaultEntry.CommandLine.Arguments.Where(a => !IsGenerated(a)), StringComparer.Ordinal);
            var configured = new HashSet<string>(DefaultGrubCommandLine.Arguments.Where(a => !IsGenerated(a)), StringComparer.Ordinal);
            return configured.Except(effective).Select(a => "+" + a).Concat(effective.Except(configured).Select(a => "-" + a)).ToList();
        }

        private static bool IsGenerated(string argument)
        {
            int eq = argument.IndexOf('=');
            string key = eq < 0 ? argument : argument.Substring(0, eq);
            return GeneratedArguments.Contains(key);
        }

        private static string FirstQuoted(string text)
        {
            text = text.Trim();
            if (text.Length > 0 && (text[0] == '\'' || text[0] == '"'))
            {
                int end = text.IndexOf(text[0], 1);
                return end > 0 ? text.Substring(1, end - 1) : text.Substring(1);
            }
            string[] w = RootFiles.Words(text);
            return w.Length > 0 ? w[0] : string.Empty;
        }
    }
}
