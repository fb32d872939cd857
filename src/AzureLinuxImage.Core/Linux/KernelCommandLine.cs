using System;
using System.Collections.Generic;
using System.Linq;

namespace AzureLinuxImage.Linux
{
    /// <summary>A kernel command line split into arguments (kernel-parameters.txt: blank-separated, double quotes group).</summary>
    internal sealed class KernelCommandLine
    {
        public KernelCommandLine(string text, SourceLine source)
        {
            Text = text.Trim();
            Source = source;
            Arguments = Split(Text);
        }

        public string Text { get; }

        /// <summary>Where this command line was read from (grub.cfg line, BLS entry, /etc/default/grub ...).</summary>
        public SourceLine Source { get; }

        public IReadOnlyList<string> Arguments { get; }

        /// <summary>True when a bare flag (quiet) or a key (console=...) is present.</summary>
        public bool Has(string name) => Arguments.Any(a => a == name || a.StartsWith(name + "=", StringComparison.Ordinal));

        /// <summary>Every value of key=value arguments named <paramref name="name"/>, in order.</summary>
        public IEnumerable<string> Values(string name) =>
            Arguments.Where(a => a.StartsWith(name + "=", StringComparison.Ordinal)).Select(a => a.Substring(name.Length + 1));

        /// <summary>The last value of <paramref name="name"/> (the kernel keeps the last for most parameters), or null.</summary>
        public string? Value(string name) => Values(name).LastOrDefault();

        internal static IReadOnlyList<string> Split(string text)
        {
            var result = new List<string>();
            var current = new System.Text.StringBuilder();
            bool quoted = false;
            foreach (char c in text)
            {
                if (c == '"')
                {
                    quoted = !quoted;
                    continue;
                }
                if ((c == ' ' || c == '\t' || c == '\n') && !quoted)
                {
                    if (current.Length > 0)
                    {
                        result.Add(current.ToString());
                        current.Clear();
                    }
                    continue;
                }
                current.Append(c);
            }
            if (current.Length > 0)
            {
                result.Add(current.ToString());
            }
            return result;
        }

        public override string ToString() => Text;
    }
}
