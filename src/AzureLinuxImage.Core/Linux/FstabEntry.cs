using System;
using System.Collections.Generic;
using System.Text;

namespace AzureLinuxImage.Linux
{
    /// <summary>One line of /etc/fstab (fstab(5)): what to mount, where, as what, with which options.</summary>
    internal sealed class FstabEntry
    {
        public FstabEntry(string source, string mountPoint, string type, string options, int line)
        {
            Source = source;
            MountPoint = mountPoint;
            Type = type;
            Options = options;
            Line = line;
        }

        public string Source { get; }

        public string MountPoint { get; }

        public string Type { get; }

        public string Options { get; }

        /// <summary>1-based line number, for evidence in findings.</summary>
        public int Line { get; }

        /// <summary>Parses fstab text; blank lines and comments are skipped, \040-style octal escapes decoded.</summary>
        public static List<FstabEntry> Parse(string text)
        {
            var result = new List<FstabEntry>();
            string[] lines = text.Split('\n');
            for (int i = 0; i < lines.Length && result.Count < 10_000; i++)
            {
                string line = lines[i].Trim();
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }
                string[] f = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 2)
                {
                    continue;
                }
                result.Add(new FstabEntry(Unescape(f[0]), Unescape(f[1]), f.Length > 2 ? f[2] : "auto", f.Length > 3 ? f[3] : "defaults", i + 1));
            }
            return result;
        }

        private static string Unescape(string s)
        {
            if (s.IndexOf('\\') < 0)
            {
                return s;
            }
            var sb = new StringBuilder();
            for (int i = 0; i < s.Length; i++)
            {
                if (s[i] == '\\' && IsOctal(s, i + 1))
                {
                    sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                    i += 3;
                }
                else
                {
                    sb.Append(s[i]);
                }
            }
            return sb.ToString();
        }

        private static bool IsOctal(string s, int at)
        {
            if (at + 3 > s.Length)
            {
                return false;
            }
            for (int k = at; k < at + 3; k++)
            {
                if (s[k] < '0' || s[k] > '7')
                {
                    return false;
                }
            }
            return true;
        }
    }
}
