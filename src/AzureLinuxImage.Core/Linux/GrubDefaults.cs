using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>One shell assignment of a GRUB_* variable: its expanded value, its text as written, where it is.</summary>
    internal sealed record GrubAssignment(string Key, string Value, string RawValue, SourceLine Source)
    {
        /// <summary>The value refers to the variable's earlier value (GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX x"): it appends.</summary>
        public bool Appends => RawValue.Contains("$" + Key) || RawValue.Contains("${" + Key + "}");
    }

    /// <summary>
    /// The variables grub-mkconfig sees: it sources /etc/default/grub, then every /etc/default/grub.d/*.cfg in
    /// glob order (Debian's and Ubuntu's grub-mkconfig; Ubuntu's cloud images put their console settings in
    /// 50-cloudimg-settings.cfg), so the last assignment wins. Values are read as the shell does: single quotes
    /// literal, double quotes and bare words with $VAR/${VAR} expanded from earlier assignments, backslash escapes,
    /// quoted values spanning lines. Assignments under shell conditionals count as made (none of the shipped
    /// files have any).
    /// </summary>
    internal sealed class GrubDefaults
    {
        public const string MainFile = "/etc/default/grub";

        public const string DropInDirectory = "/etc/default/grub.d";

        private readonly Dictionary<string, string> values = new Dictionary<string, string>(StringComparer.Ordinal);
        private readonly Dictionary<string, List<GrubAssignment>> history = new Dictionary<string, List<GrubAssignment>>(StringComparer.Ordinal);
        private readonly List<string> files = new List<string>();

        /// <summary>Files read, in the order grub-mkconfig sources them.</summary>
        public IReadOnlyList<string> Files => files;

        /// <summary>Effective values (what grub-mkconfig sees after sourcing every file).</summary>
        public IReadOnlyDictionary<string, string> Values => values;

        /// <summary>True when /etc/default/grub or a drop-in was found.</summary>
        public bool Found => files.Count > 0;

        /// <summary>The assignment that decides <paramref name="key"/> (the last one), or null.</summary>
        public GrubAssignment? Last(string key) => history.TryGetValue(key, out List<GrubAssignment>? list) ? list[list.Count - 1] : null;

        /// <summary>Every assignment of <paramref name="key"/>, in sourcing order.</summary>
        public IReadOnlyList<GrubAssignment> History(string key) =>
            history.TryGetValue(key, out List<GrubAssignment>? list) ? list : (IReadOnlyList<GrubAssignment>)Array.Empty<GrubAssignment>();

        /// <summary>
        /// The assignments of GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT that put <paramref name="argument"/>
        /// (a word, or a key= prefix) on the command line and still count: those after the last one that does not append.
        /// </summary>
        public IReadOnlyList<GrubAssignment> Contributing(string argument)
        {
            var result = new List<GrubAssignment>();
            foreach (string key in new[] { "GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT" })
            {
                IReadOnlyList<GrubAssignment> all = History(key);
                int start = 0;
                for (int i = all.Count - 1; i >= 0; i--)
                {
                    if (!all[i].Appends)
                    {
                        start = i;
                        break;
                    }
                }
                for (int i = start; i < all.Count; i++)
                {
                    // Only the words this assignment wrote itself, not those it expanded from an earlier one.
                    string own = all[i].RawValue.Replace("${" + key + "}", " ").Replace("$" + key, " ");
                    if (KernelCommandLine.Split(ExpandWord(own, new Dictionary<string, string>())).Any(a => a == argument || a.StartsWith(argument.TrimEnd('=') + "=", StringComparison.Ordinal)))
                    {
                        result.Add(all[i]);
                    }
                }
            }
            return result;
        }

        public static GrubDefaults Read(IFileSystem fs)
        {
            var d = new GrubDefaults();
            d.ReadFile(fs, MainFile);
            foreach (FileEntry e in fs.ListOrEmpty(DropInDirectory))
            {
                // grub-mkconfig: for x in ${sysconfdir}/default/grub.d/*.cfg; do if [ -e "${x}" ]; then . "${x}"; fi; done
                if (e.Name.EndsWith(".cfg", StringComparison.Ordinal) && !e.Name.StartsWith(".", StringComparison.Ordinal))
                {
                    d.ReadFile(fs, e.Path);
                }
            }
            return d;
        }

        /// <summary>Parses one file's assignments into this state (exposed for tests).</summary>
        internal void ReadText(string path, string text)
        {
            files.Add(path);
            string[] lines = text.Replace("\r\n", "\n").Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                int first = i;
                string statement = lines[i];
                // A quote left open continues on the next line (GRUB_CMDLINE_LINUX="a\n b").
                while (OpenQuote(statement) && i + 1 < lines.Length)
                {
                    statement += "\n" + lines[++i];
                }
                Assign(statement, new SourceLine(path, first + 1));
            }
        }

        private void ReadFile(IFileSystem fs, string path)
        {
            string? text = fs.TryReadText(path, 256 * 1024);
            if (text != null)
            {
                ReadText(path, text);
            }
        }

        private void Assign(string statement, SourceLine source)
        {
            string s = statement.TrimStart();
            if (s.StartsWith("export ", StringComparison.Ordinal))
            {
                s = s.Substring(7).TrimStart();
            }
            int n = 0;
            while (n < s.Length && (char.IsLetterOrDigit(s[n]) || s[n] == '_') && s[n] < 128)
            {
                n++;
            }
            if (n == 0 || n >= s.Length || s[n] != '=' || char.IsDigit(s[0]))
            {
                return;
            }
            string key = s.Substring(0, n);
            string raw = RawWord(s.Substring(n + 1));
            string value = ExpandWord(raw, values);
            values[key] = value;
            if (!history.TryGetValue(key, out List<GrubAssignment>? list))
            {
                history[key] = list = new List<GrubAssignment>();
            }
            list.Add(new GrubAssignment(key, value, raw, source));
        }

        /// <summary>The assignment's word as written: up to the first unquoted blank, ';' or '#'.</summary>
        private static string RawWord(string text)
        {
            char quote = '\0';
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (quote == '\0' && c == '\\' && i + 1 < text.Length)
                {
                    i++;
                }
                else if (quote == '"' && c == '\\' && i + 1 < text.Length)
                {
                    i++;
                }
                else if (quote == '\0' && (c == '\'' || c == '"'))
                {
                    quote = c;
                }
                else if (quote != '\0' && c == quote)
                {
                    quote = '\0';
                }
                else if (quote == '\0' && (c == ' ' || c == '\t' || c == ';' || c == '\n'))
                {
                    return text.Substring(0, i);
                }
            }
            return text;
        }

        /// <summary>Removes quotes and expands $VAR and ${VAR} outside single quotes (POSIX sh 2.2, 2.6.2).</summary>
        internal static string ExpandWord(string word, IReadOnlyDictionary<string, string> variables)
        {
            var sb = new StringBuilder();
            char quote = '\0';
            for (int i = 0; i < word.Length; i++)
            {
                char c = word[i];
                if (quote == '\'')
                {
                    if (c == '\'')
                    {
                        quote = '\0';
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    continue;
                }
                if (c == '\\' && i + 1 < word.Length)
                {
                    char next = word[i + 1];
                    // Inside double quotes a backslash escapes only $ ` " \ and newline.
                    if (quote == '"' && next != '$' && next != '`' && next != '"' && next != '\\' && next != '\n')
                    {
                        sb.Append(c);
                        continue;
                    }
                    i++;
                    if (next != '\n')
                    {
                        sb.Append(next);
                    }
                    continue;
                }
                if (quote == '\0' && (c == '\'' || c == '"'))
                {
                    quote = c;
                    continue;
                }
                if (quote == '"' && c == '"')
                {
                    quote = '\0';
                    continue;
                }
                if (c == '$' && i + 1 < word.Length)
                {
                    int start = i + 1;
                    bool braced = word[start] == '{';
                    int j = braced ? start + 1 : start;
                    while (j < word.Length && (char.IsLetterOrDigit(word[j]) || word[j] == '_') && word[j] < 128)
                    {
                        j++;
                    }
                    string name = word.Substring(braced ? start + 1 : start, j - (braced ? start + 1 : start));
                    if (name.Length > 0 && (!braced || (j < word.Length && word[j] == '}')))
                    {
                        sb.Append(variables.TryGetValue(name, out string? v) ? v : string.Empty);
                        i = braced ? j : j - 1;
                        continue;
                    }
                }
                sb.Append(c);
            }
            return sb.ToString();
        }

        private static bool OpenQuote(string text)
        {
            char quote = '\0';
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (quote != '\'' && c == '\\')
                {
                    i++;
                }
                else if (quote == '\0' && c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t'))
                {
                    return false;
                }
                else if (quote == '\0' && (c == '\'' || c == '"'))
                {
                    quote = c;
                }
                else if (c == quote)
                {
                    quote = '\0';
                }
            }
            return quote != '\0';
        }
    }
}
