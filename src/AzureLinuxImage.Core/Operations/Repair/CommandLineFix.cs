using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// Edits the kernel command line everywhere it is decided, so that the change takes effect at the next boot
    /// without update-grub or grubby (issue 18): the GRUB_CMDLINE_LINUX assignment that wins in /etc/default/grub
    /// and /etc/default/grub.d/*.cfg (grub-mkconfig sources them in that order, the last assignment wins: issue 27),
    /// every linux line of grub.cfg, BLS entries' options, grubenv's kernelopts (a 1024-byte block that must keep
    /// its size) and /etc/kernel/cmdline.
    /// </summary>
    internal static class CommandLineFix
    {
        private static readonly string[] GrubConfigs =
        {
            "/boot/grub/grub.cfg", "/boot/grub2/grub.cfg", "/boot/efi/EFI/debian/grub.cfg", "/boot/efi/EFI/ubuntu/grub.cfg",
            "/boot/efi/EFI/redhat/grub.cfg", "/boot/efi/EFI/centos/grub.cfg", "/boot/efi/EFI/fedora/grub.cfg",
            "/boot/efi/EFI/rocky/grub.cfg", "/boot/efi/EFI/almalinux/grub.cfg", "/boot/efi/EFI/opensuse/grub.cfg",
            "/boot/grub/menu.lst",
        };

        private static readonly string[] GrubEnvs = { "/boot/grub2/grubenv", "/boot/grub/grubenv", "/boot/efi/EFI/redhat/grubenv", "/boot/efi/EFI/fedora/grubenv" };

        /// <summary>grubenv is read by GRUB as exactly one 1024-byte block.</summary>
        private const int GrubEnvSize = 1024;

        /// <summary>Which initramfs generator the image uses: "initramfs-tools", "dracut" or null.</summary>
        public static string? InitramfsGenerator(IFileSystem fs)
        {
            if (fs.Exists("/usr/share/initramfs-tools") || fs.Exists("/etc/initramfs-tools/initramfs.conf"))
            {
                return "initramfs-tools";
            }
            return fs.Exists("/usr/lib/dracut") || fs.Exists("/etc/dracut.conf") ? "dracut" : null;
        }

        /// <summary>
        /// Adds <paramref name="add"/> (an argument already present as given is left alone; <paramref name="remove"/>
        /// is applied first, so a key to be replaced is listed there) and removes what <paramref name="remove"/>
        /// matches, in every place that decides the command line. Returns the files that could not take the edit.
        /// </summary>
        public static IReadOnlyList<string> Apply(ImageEditor ed, string ruleId, IReadOnlyList<string> add, Func<string, bool> remove, string description)
        {
            var refused = new List<string>();
            EditDefaultGrub(ed, ruleId, add, remove, description);
            foreach (string cfg in GrubConfigs)
            {
                if (ed.Writer.IsFile(cfg))
                {
                    TextFileEdit edit = ed.Open(cfg);
                    foreach ((int index, int _, string text) in edit.Lines.ToList())
                    {
                        string trimmed = text.TrimStart();
                        string[] words = RootFiles.Words(trimmed);
                        if (words.Length >= 2 && (words[0] == "linux" || words[0] == "linux16" || words[0] == "linuxefi" || words[0] == "kernel"))
                        {
                            string indent = text.Substring(0, text.Length - trimmed.Length);
                            List<string> args = EditTokens(words.Skip(2).ToList(), add, remove);
                            edit.Replace(index, indent + string.Join(" ", new[] { words[0], words[1] }.Concat(args)));
                        }
                    }
                    ed.Save(edit, ruleId, description + $" ({cfg}, so that it applies without running update-grub)");
                }
            }
            bool kernelopts = false;
            foreach (FileEntry entry in ed.Writer.ListOrEmpty("/boot/loader/entries").Where(e => e.Name.EndsWith(".conf", StringComparison.Ordinal)))
            {
                TextFileEdit edit = ed.Open(entry.Path);
                foreach ((int index, int _, string text) in edit.Lines.ToList())
                {
                    string trimmed = text.TrimStart();
                    if (!trimmed.StartsWith("options", StringComparison.Ordinal) || (trimmed.Length > 7 && !char.IsWhiteSpace(trimmed[7])))
                    {
                        continue;
                    }
                    List<string> words = RootFiles.Words(trimmed).Skip(1).ToList();
                    if (words.Contains("$kernelopts"))
                    {
                        kernelopts = true;
                    }
                    edit.Replace(index, "options " + string.Join(" ", EditTokens(words, add, remove)));
                }
                ed.Save(edit, ruleId, description + " (BLS entry)");
            }
            foreach (string env in GrubEnvs)
            {
                if (ed.Writer.IsFile(env) && !EditGrubEnv(ed, env, ruleId, add, remove, description) && kernelopts)
                {
                    refused.Add(env);
                }
            }
            if (ed.Writer.IsFile("/etc/kernel/cmdline"))
            {
                TextFileEdit edit = ed.Open("/etc/kernel/cmdline");
                if (edit.Count > 0)
                {
                    edit.Replace(0, string.Join(" ", EditTokens(RootFiles.Words(edit[0]).ToList(), add, remove)));
                    ed.Save(edit, ruleId, description + " (/etc/kernel/cmdline, read by kernel-install)");
                }
            }
            return refused;
        }

        /// <summary>Removes matching arguments, then appends those to add that are not there yet. Shell variables ($X) stay.</summary>
        internal static List<string> EditTokens(List<string> tokens, IReadOnlyList<string> add, Func<string, bool> remove)
        {
            var result = tokens.Where(t => t.StartsWith("$", StringComparison.Ordinal) || add.Contains(t) || !remove(t)).ToList();
            foreach (string a in add)
            {
                if (!result.Contains(a))
                {
                    result.Add(a);
                }
            }
            return result;
        }

        /// <summary>The files grub-mkconfig sources for its defaults, in order.</summary>
        internal static List<string> DefaultGrubFiles(IFileSystem fs)
        {
            var files = new List<string>();
            if (fs.IsFile("/etc/default/grub"))
            {
                files.Add("/etc/default/grub");
            }
            files.AddRange(fs.ListOrEmpty("/etc/default/grub.d").Where(e => e.Name.EndsWith(".cfg", StringComparison.Ordinal) && e.Type != FileEntryType.Directory)
                .Select(e => e.Path).OrderBy(p => p, StringComparer.Ordinal));
            return files;
        }

        private static void EditDefaultGrub(ImageEditor ed, string ruleId, IReadOnlyList<string> add, Func<string, bool> remove, string description)
        {
            List<string> files = DefaultGrubFiles(ed.Writer);
            if (files.Count == 0)
            {
                return;
            }
            var edits = files.Select(ed.Open).ToList();
            // The assignment of GRUB_CMDLINE_LINUX that wins is the last one grub-mkconfig reads.
            (TextFileEdit? File, int Index) last = (null, -1);
            foreach (TextFileEdit edit in edits)
            {
                foreach ((int index, int _, string text) in edit.Lines)
                {
                    if (ShellAssignment.Parse(text) is ShellAssignment a && a.Key == "GRUB_CMDLINE_LINUX")
                    {
                        last = (edit, index);
                    }
                }
            }
            foreach (TextFileEdit edit in edits)
            {
                foreach ((int index, int _, string text) in edit.Lines.ToList())
                {
                    if (ShellAssignment.Parse(text) is ShellAssignment a && (a.Key == "GRUB_CMDLINE_LINUX" || a.Key == "GRUB_CMDLINE_LINUX_DEFAULT"))
                    {
                        bool adds = edit == last.File && index == last.Index;
                        List<string> tokens = RootFiles.Words(a.Value).ToList();
                        List<string> edited = EditTokens(tokens, adds ? add : Array.Empty<string>(), remove);
                        if (!edited.SequenceEqual(tokens))
                        {
                            edit.Replace(index, a.With(string.Join(" ", edited)));
                        }
                    }
                }
            }
            if (last.File == null && add.Count > 0)
            {
                edits[0].Append($"GRUB_CMDLINE_LINUX=\"{string.Join(" ", add)}\"");
            }
            foreach (TextFileEdit edit in edits)
            {
                ed.Save(edit, ruleId, description + (edit.Path == "/etc/default/grub" ? string.Empty : " (this grub.d file decides it)"));
            }
        }

        /// <summary>Edits kernelopts in grubenv keeping the block at 1024 bytes; false when it would not fit.</summary>
        private static bool EditGrubEnv(ImageEditor ed, string path, string ruleId, IReadOnlyList<string> add, Func<string, bool> remove, string description)
        {
            byte[]? bytes = ed.Writer.TryReadBytes(path, 64 * 1024);
            if (bytes == null)
            {
                return true;
            }
            string text = Encoding.UTF8.GetString(bytes);
            string body = text.TrimEnd('#');
            var lines = body.Split('\n').ToList();
            int k = lines.FindIndex(l => l.StartsWith("kernelopts=", StringComparison.Ordinal));
            if (k < 0)
            {
                return true;
            }
            string before = lines[k];
            List<string> tokens = RootFiles.Words(before.Substring("kernelopts=".Length)).ToList();
            List<string> edited = EditTokens(tokens, add, remove);
            if (edited.SequenceEqual(tokens))
            {
                return true;
            }
            lines[k] = "kernelopts=" + string.Join(" ", edited);
            string newBody = string.Join("\n", lines);
            int size = Math.Max(GrubEnvSize, bytes.Length);
            if (Encoding.UTF8.GetByteCount(newBody) > size)
            {
                ed.NotFixed(ruleId, path, k + 1, $"{path}: the new kernelopts does not fit in GRUB's {size}-byte environment block.", "grub2-editenv - set kernelopts=\"...\" inside the VM");
                return false;
            }
            string padded = newBody + new string('#', size - Encoding.UTF8.GetByteCount(newBody));
            // grubenv is one block: report the kernelopts line, write the whole padded block.
            if (!ed.Stage(ruleId, path, () => ed.Writer.WriteFile(path, new System.IO.MemoryStream(Encoding.UTF8.GetBytes(padded), false))))
            {
                return false;
            }
            ed.Changes.Add(ed.Change(ruleId, LinuxImageChangeAction.Edited, path, k + 1, before, lines[k], description + " (grubenv kernelopts, used by BLS entries)"));
            return true;
        }
    }

    /// <summary>A shell assignment line KEY=value / export KEY="value" as /etc/default/grub holds them.</summary>
    internal sealed class ShellAssignment
    {
        private ShellAssignment(string prefix, string key, char quote, string value, string rest)
        {
            Prefix = prefix;
            Key = key;
            Quote = quote;
            Value = value;
            Rest = rest;
        }

        public string Prefix { get; }

        public string Key { get; }

        /// <summary>'"', '\'' or '\0' for a bare word.</summary>
        public char Quote { get; }

        /// <summary>The value without its quotes (escapes left as written).</summary>
        public string Value { get; }

        /// <summary>What follows the value on the line (a comment).</summary>
        public string Rest { get; }

        public static ShellAssignment? Parse(string line)
        {
            string trimmed = line.TrimStart();
            string prefix = line.Substring(0, line.Length - trimmed.Length);
            if (trimmed.StartsWith("export ", StringComparison.Ordinal))
            {
                prefix += "export ";
                trimmed = trimmed.Substring(7).TrimStart();
            }
            int eq = trimmed.IndexOf('=');
            if (eq <= 0 || trimmed.StartsWith("#", StringComparison.Ordinal))
            {
                return null;
            }
            string key = trimmed.Substring(0, eq);
            if (!key.All(c => char.IsLetterOrDigit(c) || c == '_'))
            {
                return null;
            }
            string v = trimmed.Substring(eq + 1);
            if (v.Length > 0 && (v[0] == '"' || v[0] == '\''))
            {
                char q = v[0];
                int end = 1;
                while (end < v.Length && v[end] != q)
                {
                    end += q == '"' && v[end] == '\\' ? 2 : 1;
                }
                if (end >= v.Length)
                {
                    return null;
                }
                return new ShellAssignment(prefix, key, q, v.Substring(1, end - 1), v.Substring(end + 1));
            }
            int stop = 0;
            while (stop < v.Length && !char.IsWhiteSpace(v[stop]))
            {
                stop++;
            }
            return new ShellAssignment(prefix, key, '\0', v.Substring(0, stop), v.Substring(stop));
        }

        /// <summary>The line with another value, quoted as before (a bare word gains double quotes when it needs them).</summary>
        public string With(string value)
        {
            char q = Quote == '\0' && value.IndexOf(' ') >= 0 ? '"' : Quote;
            string quoted = q == '\0' ? value : q + value + q;
            return Prefix + Key + "=" + quoted + Rest;
        }
    }
}
