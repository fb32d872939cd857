using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>A value of the merged cloud-init configuration: a scalar or a list, and where it was set.</summary>
    internal sealed record CloudConfigValue(string? Scalar, IReadOnlyList<string>? Items, SourceLine Source);

    /// <summary>
    /// cloud-init's system configuration: /etc/cloud/cloud.cfg, then /etc/cloud/cloud.cfg.d/*.cfg in lexical order,
    /// later files winning key by key (nested mappings merge, lists are replaced). Only the YAML subset cloud
    /// configs use is read: block mappings, block and flow lists, scalars; values are flattened to dotted paths
    /// (datasource.Azure.apply_network_config).
    /// </summary>
    internal sealed class CloudConfig
    {
        private readonly Dictionary<string, CloudConfigValue> values = new Dictionary<string, CloudConfigValue>(StringComparer.Ordinal);

        public IReadOnlyList<string> Files { get; private set; } = Array.Empty<string>();

        public CloudConfigValue? Get(string path) => values.TryGetValue(path, out CloudConfigValue? v) ? v : null;

        /// <summary>Whether any key starts with <paramref name="prefix"/> (swap, mounts, disk_setup ...).</summary>
        public CloudConfigValue? FirstUnder(string prefix) =>
            values.Where(kv => kv.Key == prefix || kv.Key.StartsWith(prefix + ".", StringComparison.Ordinal)).Select(kv => kv.Value).FirstOrDefault();

        public static CloudConfig Read(IFileSystem fs)
        {
            var c = new CloudConfig();
            var files = new List<string>();
            if (fs.IsFile("/etc/cloud/cloud.cfg"))
            {
                files.Add("/etc/cloud/cloud.cfg");
            }
            files.AddRange(fs.ListOrEmpty("/etc/cloud/cloud.cfg.d").Where(e => e.Name.EndsWith(".cfg", StringComparison.Ordinal)).Select(e => e.Path));
            foreach (string f in files)
            {
                string? text = fs.TryReadText(f, 1 << 20);
                if (text != null)
                {
                    c.Merge(Parse(text, f));
                }
            }
            c.Files = files;
            return c;
        }

        private void Merge(Dictionary<string, CloudConfigValue> file)
        {
            foreach (KeyValuePair<string, CloudConfigValue> kv in file)
            {
                // A later list or scalar replaces everything under the same path.
                foreach (string stale in values.Keys.Where(k => k.StartsWith(kv.Key + ".", StringComparison.Ordinal)).ToList())
                {
                    values.Remove(stale);
                }
                values[kv.Key] = kv.Value;
            }
        }

        internal static Dictionary<string, CloudConfigValue> Parse(string text, string path)
        {
            var result = new Dictionary<string, CloudConfigValue>(StringComparer.Ordinal);
            var stack = new List<KeyValuePair<int, string>>(); // indent → key
            string? listPath = null;
            int listIndent = -1;
            List<string>? listItems = null;
            SourceLine listSource = default;
            void EndList()
            {
                if (listPath != null && listItems != null)
                {
                    result[listPath] = new CloudConfigValue(null, listItems, listSource);
                }
                listPath = null;
                listItems = null;
            }
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string raw = line.Value;
                string content = RootFiles.StripComment(raw);
                if (content.Length == 0 || content == "---" || content.StartsWith("#cloud-config", StringComparison.Ordinal))
                {
                    continue;
                }
                int indent = raw.Length - raw.TrimStart().Length;
                if (content.StartsWith("- ", StringComparison.Ordinal) || content == "-")
                {
                    if (listItems != null && indent >= listIndent)
                    {
                        if (listIndent < 0)
                        {
                            listIndent = indent;
                        }
                        if (indent == listIndent)
                        {
                            listItems.Add(RootFiles.Unquote(content.Substring(1).Trim()));
                        }
                    }
                    continue;
                }
                EndList();
                Match m = Regex.Match(content, @"^(""[^""]*""|'[^']*'|[^:\s][^:]*?)\s*:(\s+(.*))?$");
                if (!m.Success)
                {
                    continue;
                }
                while (stack.Count > 0 && stack[stack.Count - 1].Key >= indent)
                {
                    stack.RemoveAt(stack.Count - 1);
                }
                string key = RootFiles.Unquote(m.Groups[1].Value);
                string full = string.Join(".", stack.Select(s => s.Value).Concat(new[] { key }));
                string value = m.Groups[3].Success ? m.Groups[3].Value.Trim() : string.Empty;
                var source = new SourceLine(path, line.Key);
                if (value.Length == 0)
                {
                    stack.Add(new KeyValuePair<int, string>(indent, key));
                    listPath = full;
                    listItems = new List<string>();
                    listIndent = -1;
                    listSource = source;
                    continue;
                }
                if (value.StartsWith("[", StringComparison.Ordinal) && value.EndsWith("]", StringComparison.Ordinal))
                {
                    string inner = value.Substring(1, value.Length - 2);
                    result[full] = new CloudConfigValue(null, inner.Split(',').Select(s => RootFiles.Unquote(s.Trim())).Where(s => s.Length > 0).ToList(), source);
                    continue;
                }
                if (value.StartsWith("{", StringComparison.Ordinal) && value.EndsWith("}", StringComparison.Ordinal))
                {
                    foreach (string pair in value.Substring(1, value.Length - 2).Split(','))
                    {
                        int colon = pair.IndexOf(':');
                        if (colon > 0)
                        {
                            result[full + "." + RootFiles.Unquote(pair.Substring(0, colon).Trim())] = new CloudConfigValue(RootFiles.Unquote(pair.Substring(colon + 1).Trim()), null, source);
                        }
                    }
                    continue;
                }
                result[full] = new CloudConfigValue(RootFiles.Unquote(value), null, source);
            }
            EndList();
            // A key that only opened a mapping is not a list: drop empty lists that have children.
            foreach (string k in result.Where(kv => kv.Value.Items != null && kv.Value.Items.Count == 0 && result.Keys.Any(o => o.StartsWith(kv.Key + ".", StringComparison.Ordinal))).Select(kv => kv.Key).ToList())
            {
                result.Remove(k);
            }
            return result;
        }
    }
}
