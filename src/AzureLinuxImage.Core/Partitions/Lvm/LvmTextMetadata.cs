using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace AzureLinuxImage.Partitions.Lvm
{
    /// <summary>A section of LVM2's text metadata: <c>name { key = value ... child { ... } }</c>.</summary>
    internal sealed class LvmSection
    {
        public LvmSection(string name)
        {
            Name = name;
        }

        public string Name { get; }

        /// <summary>Values: string, long, or List&lt;object&gt; of those.</summary>
        public Dictionary<string, object> Values { get; } = new Dictionary<string, object>(StringComparer.Ordinal);

        /// <summary>Child sections in file order.</summary>
        public List<LvmSection> Sections { get; } = new List<LvmSection>();

        public LvmSection? Section(string name) => Sections.Find(s => s.Name == name);

        public string? String(string key) => Values.TryGetValue(key, out object? v) ? v as string : null;

        public long? Number(string key) => Values.TryGetValue(key, out object? v) && v is long l ? l : (long?)null;

        public List<object>? Array(string key) => Values.TryGetValue(key, out object? v) ? v as List<object> : null;
    }

    /// <summary>
    /// Parser for the text format lvm2 writes into metadata areas (lib/format_text/export.c writes it,
    /// lib/config parses it): sections, key = value, quoted strings, integers, [arrays], # comments.
    /// Depth and item counts are bounded.
    /// </summary>
    internal sealed class LvmTextMetadata
    {
        private const int MaxDepth = 16;
        private const int MaxItems = 200_000;

        private readonly string text;
        private readonly string where;
        private int pos;
        private int items;

        private LvmTextMetadata(string text, string where)
        {
            this.text = text;
            this.where = where;
        }

        public static LvmSection Parse(string text, string where)
        {
            var p = new LvmTextMetadata(text, where);
            var root = new LvmSection(string.Empty);
            p.ParseBody(root, 0, topLevel: true);
            return root;
        }

        private void ParseBody(LvmSection section, int depth, bool topLevel)
        {
            while (true)
            {
                SkipSpace();
                if (pos >= text.Length)
                {
                    if (!topLevel)
                    {
                        throw Error("a section is not closed");
                    }
                    return;
                }
                if (text[pos] == '}')
                {
                    if (topLevel)
                    {
                        throw Error("'}' without a section");
                    }
                    pos++;
                    return;
                }
                if (++items > MaxItems)
                {
                    throw Error($"more than {MaxItems} items");
                }
                string name = Identifier();
                SkipSpace();
                if (pos < text.Length && text[pos] == '{')
                {
                    pos++;
                    if (depth + 1 > MaxDepth)
                    {
                        throw Error($"sections nested deeper than {MaxDepth}");
                    }
                    var child = new LvmSection(name);
                    ParseBody(child, depth + 1, topLevel: false);
                    section.Sections.Add(child);
                }
                else if (pos < text.Length && text[pos] == '=')
                {
                    pos++;
                    section.Values[name] = Value(allowArray: true);
                }
                else
                {
                    throw Error($"'{name}' is followed by neither '{{' nor '='");
                }
            }
        }

        private object Value(bool allowArray)
        {
            SkipSpace();
            if (pos >= text.Length)
            {
                throw Error("a value is missing");
            }
            char c = text[pos];
            if (c == '"')
            {
                return QuotedString();
            }
            if (c == '[' && allowArray)
            {
                pos++;
                var list = new List<object>();
                while (true)
                {
                    SkipSpace();
                    if (pos < text.Length && text[pos] == ']')
                    {
                        pos++;
                        return list;
                    }
                    if (++items > MaxItems)
                    {
                        throw Error($"more than {MaxItems} items");
                    }
                    list.Add(Value(allowArray: false));
                    SkipSpace();
                    if (pos < text.Length && text[pos] == ',')
                    {
                        pos++;
                    }
                }
            }
            int start = pos;
            while (pos < text.Length && (char.IsDigit(text[pos]) || text[pos] == '-' || text[pos] == '.' || text[pos] == '+'))
            {
                pos++;
            }
            string token = text.Substring(start, pos - start);
            if (long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
            {
                return l;
            }
            if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double d))
            {
                return (long)Math.Max(Math.Min(d, long.MaxValue), long.MinValue);
            }
            throw Error("a value is neither a string, a number nor an array");
        }

        private string QuotedString()
        {
            pos++;
            var sb = new StringBuilder();
            while (pos < text.Length && text[pos] != '"')
            {
                if (text[pos] == '\\' && pos + 1 < text.Length)
                {
                    pos++;
                }
                sb.Append(text[pos]);
                pos++;
            }
            if (pos >= text.Length)
            {
                throw Error("a string is not closed");
            }
            pos++;
            return sb.ToString();
        }

        private string Identifier()
        {
            int start = pos;
            while (pos < text.Length && (char.IsLetterOrDigit(text[pos]) || text[pos] == '_' || text[pos] == '.' || text[pos] == '+' || text[pos] == '-'))
            {
                pos++;
            }
            if (pos == start)
            {
                throw Error($"unexpected '{text[pos]}'");
            }
            return text.Substring(start, pos - start);
        }

        private void SkipSpace()
        {
            while (pos < text.Length)
            {
                char c = text[pos];
                if (c == '#')
                {
                    while (pos < text.Length && text[pos] != '\n')
                    {
                        pos++;
                    }
                }
                else if (char.IsWhiteSpace(c))
                {
                    pos++;
                }
                else
                {
                    return;
                }
            }
        }

        private Errors.InvalidImageException Error(string problem) =>
            new Errors.InvalidImageException(where, "LVM2 metadata text", $"{problem} (at character {pos}).");
    }
}
