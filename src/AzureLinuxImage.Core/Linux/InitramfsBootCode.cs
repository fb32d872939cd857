using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace AzureLinuxImage.Linux
{
    /// <summary>What an initramfs's own boot code does with the rootdelay= kernel parameter.</summary>
    internal enum RootDelayHandling
    {
        /// <summary>No boot script reads it: the parameter does nothing (the kernel only honours it when it mounts the root itself).</summary>
        Ignored,
        /// <summary>Read only as a maximum wait for the root device (a loop bound, a timeout).</summary>
        Bounded,
        /// <summary>Slept for whatever happens: initramfs-tools' /init runs sleep "$ROOTDELAY" before it looks for the root.</summary>
        Unconditional,
    }

    /// <summary>The fact with its evidence: the script inside the initramfs and the line (issue 24).</summary>
    internal sealed record RootDelayFact(RootDelayHandling Handling, string Generator, string? Script, int Line, string? Text)
    {
        public override string ToString() => Script == null ? $"{Handling} ({Generator})" : $"{Handling} ({Generator}, {Script}:{Line}: {Text})";
    }

    /// <summary>
    /// Reads an initramfs's shell boot code (its /init and the scripts it sources: initramfs-tools' scripts/,
    /// dracut's modules and hooks) for what it does with rootdelay=, instead of assuming what the articles say.
    /// A variable is a rootdelay variable when it is assigned from the parameter (initramfs-tools:
    /// ROOTDELAY="${x#rootdelay=}"; dracut: $(getarg rootdelay)); a `sleep $VAR` outside any loop is an
    /// unconditional sleep; any other use (a loop bound, max(30, rootdelay), a timeout) bounds a wait.
    /// </summary>
    internal static class InitramfsBootCode
    {
        public const int MaxScriptBytes = 512 * 1024;

        /// <summary>All script text kept from one initramfs; the rest is listed, not read.</summary>
        public const long MaxScriptBytesTotal = 16L << 20;

        private static readonly Regex FromParameter = new Regex(
            @"\b([A-Za-z_][A-Za-z0-9_]*)=[""']?\$(?:\{x#rootdelay=\}|\(\s*getarg\s+['""]?rootdelay\b)", RegexOptions.CultureInvariant);

        /// <summary>An initramfs name ("./init", "usr/lib/x") as an absolute path.</summary>
        public static string PathOf(string name)
        {
            while (name.StartsWith("./", StringComparison.Ordinal))
            {
                name = name.Substring(2);
            }
            name = name.TrimStart('/');
            return name == "." || name.Length == 0 ? "/" : "/" + name;
        }

        /// <summary>Files whose text is kept: /init, initramfs-tools' /scripts, dracut's library, hooks and modules, *.sh.</summary>
        public static bool IsScriptPath(string path) =>
            path == "/init" || path.StartsWith("/scripts/", StringComparison.Ordinal) || path.EndsWith(".sh", StringComparison.Ordinal)
            || path.Contains("/dracut") || path == "/sbin/initqueue" || path == "/bin/initqueue" || path == "/sbin/init" || path == "/usr/sbin/initqueue";

        /// <summary>An ELF or other binary (a NUL in the first KiB), not a script.</summary>
        public static bool IsBinary(byte[] data) =>
            (data.Length >= 4 && data[0] == 0x7F && data[1] == (byte)'E' && data[2] == (byte)'L' && data[3] == (byte)'F')
            || Array.IndexOf(data, (byte)0, 0, Math.Min(data.Length, 1024)) >= 0;

        /// <summary>Which tool made the initramfs, from the files it holds.</summary>
        public static string Generator(IEnumerable<string> paths)
        {
            var set = new HashSet<string>(paths, StringComparer.Ordinal);
            if (set.Contains("/scripts/functions") && (set.Contains("/conf/initramfs.conf") || set.Contains("/scripts/local")))
            {
                return "initramfs-tools";
            }
            if (set.Any(p => p.EndsWith("/dracut-lib.sh", StringComparison.Ordinal) || p.StartsWith("/usr/lib/dracut/", StringComparison.Ordinal) || p.StartsWith("/lib/dracut/", StringComparison.Ordinal)))
            {
                return "dracut";
            }
            return "unknown";
        }

        public static RootDelayFact AnalyzeRootDelay(IEnumerable<string> paths, IReadOnlyDictionary<string, string> scripts)
        {
            string generator = Generator(paths);
            // /init first, then the rest by name, so that evidence is stable.
            var ordered = scripts.OrderBy(s => s.Key == "/init" ? 0 : 1).ThenBy(s => s.Key, StringComparer.Ordinal).ToList();
            var variables = new HashSet<string>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, string> script in ordered)
            {
                foreach (Match m in FromParameter.Matches(script.Value))
                {
                    variables.Add(m.Groups[1].Value);
                }
            }
            if (variables.Count == 0)
            {
                return new RootDelayFact(RootDelayHandling.Ignored, generator, null, 0, null);
            }
            string names = string.Join("|", variables.Select(Regex.Escape));
            var use = new Regex(@"\$\{?(" + names + @")\b", RegexOptions.CultureInvariant);
            var sleep = new Regex(@"^\s*sleep\s+[""']?\$\{?(" + names + @")\}?[""']?\s*(;.*)?$", RegexOptions.CultureInvariant);
            var assignment = new Regex(@"^\s*(export\s+|local\s+|unset\s+)?(" + names + @")(=|\s*$)", RegexOptions.CultureInvariant);
            RootDelayFact? bounded = null;
            foreach (KeyValuePair<string, string> script in ordered)
            {
                int depth = 0, number = 0;
                foreach (string raw in script.Value.Replace("\r\n", "\n").Split('\n'))
                {
                    number++;
                    string line = StripComment(raw);
                    string trimmed = line.Trim();
                    if (trimmed.Length == 0)
                    {
                        continue;
                    }
                    bool opens = Regex.IsMatch(trimmed, @"^(while|until|for)\b");
                    bool closes = Regex.IsMatch(trimmed, @"(^|;\s*)done\b");
                    if (opens)
                    {
                        depth++;
                    }
                    if (sleep.IsMatch(line) && depth == 0)
                    {
                        return new RootDelayFact(RootDelayHandling.Unconditional, generator, script.Key, number, trimmed);
                    }
                    if (bounded == null && use.IsMatch(line) && !assignment.IsMatch(line) && !FromParameter.IsMatch(line) && !IsPresenceTest(trimmed, names))
                    {
                        bounded = new RootDelayFact(RootDelayHandling.Bounded, generator, script.Key, number, trimmed);
                    }
                    if (closes)
                    {
                        depth = Math.Max(0, depth - 1);
                    }
                }
            }
            return bounded ?? new RootDelayFact(RootDelayHandling.Ignored, generator, null, 0, null);
        }

        /// <summary>`if [ "$ROOTDELAY" ]; then` only tests that it is set, `case ${ROOTDELAY} in` validates it: neither a sleep nor a bound.</summary>
        private static bool IsPresenceTest(string line, string names) =>
            Regex.IsMatch(line, @"^(if|elif)\s+\[\s+(-n\s+)?[""']?\$\{?(" + names + @")\}?[""']?\s+\]\s*;?\s*(then)?$", RegexOptions.CultureInvariant)
            || Regex.IsMatch(line, @"^case\s+[""']?\$\{?(" + names + @")\}?[""']?\s+in\b", RegexOptions.CultureInvariant);

        private static string StripComment(string line)
        {
            bool single = false, dbl = false;
            for (int i = 0; i < line.Length; i++)
            {
                char c = line[i];
                if (c == '\\' && !single)
                {
                    i++;
                }
                else if (c == '\'' && !dbl)
                {
                    single = !single;
                }
                else if (c == '"' && !single)
                {
                    dbl = !dbl;
                }
                else if (c == '#' && !single && !dbl && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t'))
                {
                    return line.Substring(0, i);
                }
            }
            return line;
        }
    }
}
