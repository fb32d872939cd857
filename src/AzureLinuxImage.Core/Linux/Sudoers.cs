using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>The sudoers policy with its includes (sudoers(5): #include/@include, #includedir/@includedir).</summary>
    internal sealed class Sudoers
    {
        private const int MaxIncludeDepth = 8;

        private static readonly Regex TargetPw = new Regex(@"^Defaults\S*\s+(.*,\s*)?targetpw\s*(,.*)?$", RegexOptions.CultureInvariant);

        private static readonly Regex AllAll = new Regex(@"^ALL\s+ALL\s*=\s*\(\s*ALL\s*(:\s*ALL\s*)?\)\s*(NOPASSWD\s*:\s*)?ALL$", RegexOptions.CultureInvariant);

        public bool Found { get; private set; }

        public IReadOnlyList<string> Files => files;

        /// <summary>Lines with `Defaults targetpw` (R-SYS-2): sudo then asks for the target user's (root's) password.</summary>
        public IReadOnlyList<SourceLine> TargetPwLines => targetPw;

        /// <summary>Lines granting every user every command (`ALL ALL=(ALL) ALL`, R-SYS-2).</summary>
        public IReadOnlyList<SourceLine> AllUsersAllCommandsLines => allAll;

        private readonly List<string> files = new List<string>();
        private readonly List<SourceLine> targetPw = new List<SourceLine>();
        private readonly List<SourceLine> allAll = new List<SourceLine>();

        public static Sudoers Read(IFileSystem fs)
        {
            var s = new Sudoers();
            if (fs.IsFile("/etc/sudoers"))
            {
                s.Found = true;
                s.ReadFile(fs, "/etc/sudoers", 0);
            }
            return s;
        }

        private void ReadFile(IFileSystem fs, string path, int depth)
        {
            if (depth > MaxIncludeDepth || files.Contains(path))
            {
                return;
            }
            string? text = fs.TryReadText(path, 1 << 20);
            if (text == null)
            {
                return;
            }
            files.Add(path);
            string dir = path.Substring(0, Math.Max(1, path.LastIndexOf('/')));
            string pending = string.Empty;
            int startLine = 0;
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string raw = line.Value;
                string l = raw.Trim();
                Match inc = Regex.Match(l, @"^[#@](include|includedir)\s+(.+)$", RegexOptions.CultureInvariant);
                if (inc.Success && pending.Length == 0)
                {
                    string target = inc.Groups[2].Value.Trim().Replace("%h", string.Empty);
                    target = RootFiles.Unquote(target);
                    if (!target.StartsWith("/", StringComparison.Ordinal))
                    {
                        target = dir + "/" + target; // sudo 1.9: relative to the including file
                    }
                    if (inc.Groups[1].Value == "include")
                    {
                        ReadFile(fs, target, depth + 1);
                    }
                    else
                    {
                        // sudoers(5): files ending in '~' or containing '.' are skipped, in lexical order.
                        foreach (FileEntry e in fs.ListOrEmpty(target))
                        {
                            if (!e.Name.EndsWith("~", StringComparison.Ordinal) && !e.Name.Contains("."))
                            {
                                ReadFile(fs, e.Path, depth + 1);
                            }
                        }
                    }
                    continue;
                }
                string content = l.StartsWith("#", StringComparison.Ordinal) ? string.Empty : RootFiles.StripComment(l);
                if (pending.Length == 0)
                {
                    startLine = line.Key;
                }
                if (content.EndsWith("\\", StringComparison.Ordinal))
                {
                    pending += content.Substring(0, content.Length - 1) + " ";
                    continue;
                }
                string statement = Regex.Replace((pending + content).Trim(), @"\s+", " ");
                pending = string.Empty;
                if (statement.Length == 0)
                {
                    continue;
                }
                if (TargetPw.IsMatch(statement))
                {
                    targetPw.Add(new SourceLine(path, startLine));
                }
                if (AllAll.IsMatch(statement))
                {
                    allAll.Add(new SourceLine(path, startLine));
                }
            }
        }
    }
}
