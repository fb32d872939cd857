using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Linux.Waagent
{
    /// <summary>
    /// /etc/waagent.conf as a lossless document: every line is kept with its bytes, order and ending
    /// (LF, CRLF, mixed, none at the end), and a UTF-8 byte order mark is kept, so that writing back an
    /// unchanged document gives the same bytes and an edit changes only the lines it means to (issue 9).
    /// Edits return a new document; the original stays as read, for the diff.
    /// </summary>
    internal sealed class WaagentConfig
    {
        /// <summary>waagent.conf is a few KiB; anything past this is not one (and is not read into memory).</summary>
        public const int MaxFileBytes = 1024 * 1024;

        private static readonly byte[] Bom = { 0xEF, 0xBB, 0xBF };

        private readonly List<WaagentConfigLine> lines;

        private WaagentConfig(List<WaagentConfigLine> lines, bool hasBom, bool validUtf8)
        {
            this.lines = lines;
            HasByteOrderMark = hasBom;
            IsValidUtf8 = validUtf8;
        }

        public IReadOnlyList<WaagentConfigLine> Lines => lines;

        /// <summary>The file starts with EF BB BF. The agent does not strip it: the first line's key gets U+FEFF in front.</summary>
        public bool HasByteOrderMark { get; }

        /// <summary>False when the bytes are not UTF-8: the agent cannot load such a file at all.</summary>
        public bool IsValidUtf8 { get; }

        /// <summary>Parses <paramref name="bytes"/>; <paramref name="source"/> names the file in errors.</summary>
        public static WaagentConfig Parse(byte[] bytes, string source)
        {
            if (bytes.Length > MaxFileBytes)
            {
                throw new AzureLinuxImageException("WaagentConfigTooLarge", ErrorKind.InvalidData,
                    $"{source}: {bytes.Length} bytes is not a waagent.conf (at most {MaxFileBytes} bytes are read).", source);
            }
            bool hasBom = bytes.Length >= 3 && bytes[0] == Bom[0] && bytes[1] == Bom[1] && bytes[2] == Bom[2];
            int start = hasBom ? 3 : 0;
            var strict = new UTF8Encoding(false, true);
            var lenient = new UTF8Encoding(false, false);
            bool valid = true;
            var list = new List<WaagentConfigLine>();
            int number = 1;
            while (start < bytes.Length)
            {
                int nl = Array.IndexOf(bytes, (byte)'\n', start);
                int contentEnd = nl < 0 ? bytes.Length : nl;
                string ending = "";
                if (nl >= 0)
                {
                    ending = "\n";
                    if (contentEnd > start && bytes[contentEnd - 1] == '\r')
                    {
                        contentEnd--;
                        ending = "\r\n";
                    }
                }
                var raw = new byte[contentEnd - start];
                Buffer.BlockCopy(bytes, start, raw, 0, raw.Length);
                string text;
                try
                {
                    text = strict.GetString(raw);
                }
                catch (DecoderFallbackException)
                {
                    valid = false;
                    text = lenient.GetString(raw);
                }
                list.Add(WaagentConfigLine.Read(raw, text, ending, number++));
                start = nl < 0 ? bytes.Length : nl + 1;
            }
            return new WaagentConfig(list, hasBom, valid);
        }

        /// <summary>The document's bytes: the original bytes of every untouched line.</summary>
        public byte[] ToBytes()
        {
            using var ms = new MemoryStream();
            if (HasByteOrderMark)
            {
                ms.Write(Bom, 0, Bom.Length);
            }
            foreach (WaagentConfigLine line in lines)
            {
                line.AppendTo(ms);
            }
            return ms.ToArray();
        }

        /// <summary>The last Key=Value line for <paramref name="key"/> (the agent takes the last), or null.</summary>
        public WaagentConfigLine? Find(string key)
        {
            for (int i = lines.Count - 1; i >= 0; i--)
            {
                if (lines[i].Kind == WaagentLineKind.Setting && lines[i].Key == key)
                {
                    return lines[i];
                }
            }
            return null;
        }

        /// <summary>
        /// The document with <paramref name="key"/> set to <paramref name="value"/>: the agent's effective line (the
        /// last one) gets the new value in place; a missing key is added after its section's last line
        /// (section = text before the first dot), else after its commented-out example, else at the end.
        /// </summary>
        public WaagentConfig With(string key, string value)
        {
            var copy = new List<WaagentConfigLine>(lines);
            int last = LastSettingIndex(key);
            if (last >= 0)
            {
                if (copy[last].AgentValue != value)
                {
                    copy[last] = copy[last].WithValue(value);
                }
                return new WaagentConfig(copy, HasByteOrderMark, IsValidUtf8);
            }
            int after = InsertionPoint(key);
            string newline = DominantEnding();
            if (after < 0)
            {
                // Nothing to sit next to and an empty file: the new line is the only one.
                copy.Insert(0, WaagentConfigLine.New(key + "=" + value, newline));
                return new WaagentConfig(copy, HasByteOrderMark, IsValidUtf8);
            }
            WaagentConfigLine anchor = copy[after];
            string ending = anchor.Ending;
            if (ending.Length == 0)
            {
                // The anchor was the last line and had no newline: it gets one, and the new last line keeps the file's "no final newline".
                copy[after] = anchor.WithEnding(newline);
            }
            copy.Insert(after + 1, WaagentConfigLine.New(key + "=" + value, ending.Length == 0 ? "" : ending));
            return new WaagentConfig(copy, HasByteOrderMark, IsValidUtf8);
        }

        /// <summary>The document without any Key=Value line for <paramref name="key"/>.</summary>
        public WaagentConfig Without(string key)
        {
            var copy = new List<WaagentConfigLine>(lines.Count);
            foreach (WaagentConfigLine l in lines)
            {
                if (!(l.Kind == WaagentLineKind.Setting && l.Key == key))
                {
                    copy.Add(l);
                }
            }
            return new WaagentConfig(copy, HasByteOrderMark, IsValidUtf8);
        }

        /// <summary>"LF", "CRLF", "Mixed" or "None" (a single line without newline, or an empty file).</summary>
        public string LineEndings
        {
            get
            {
                bool lf = false, crlf = false;
                foreach (WaagentConfigLine l in lines)
                {
                    lf |= l.Ending == "\n";
                    crlf |= l.Ending == "\r\n";
                }
                return lf && crlf ? "Mixed" : crlf ? "CRLF" : lf ? "LF" : "None";
            }
        }

        /// <summary>Whether the last line ends with a newline (an empty file counts as ending with one).</summary>
        public bool EndsWithNewline => lines.Count == 0 || lines[lines.Count - 1].Ending.Length > 0;

        private int LastSettingIndex(string key)
        {
            for (int i = lines.Count - 1; i >= 0; i--)
            {
                if (lines[i].Kind == WaagentLineKind.Setting && lines[i].Key == key)
                {
                    return i;
                }
            }
            return -1;
        }

        private int InsertionPoint(string key)
        {
            string section = WaagentOptionCatalog.SectionOf(key);
            int sectionSetting = -1, example = -1, sectionExample = -1;
            for (int i = 0; i < lines.Count; i++)
            {
                WaagentConfigLine l = lines[i];
                if (l.Kind == WaagentLineKind.Setting && SameSection(WaagentOptionCatalog.SectionOf(l.Key), section))
                {
                    sectionSetting = i;
                }
                else if (l.IsCommentedOut(key))
                {
                    example = i;
                }
                else if (l.CommentedOutKey() is string k && SameSection(WaagentOptionCatalog.SectionOf(k), section))
                {
                    sectionExample = i;
                }
            }
            if (sectionSetting >= 0)
            {
                return sectionSetting;
            }
            if (example >= 0)
            {
                return example;
            }
            if (sectionExample >= 0)
            {
                return sectionExample;
            }
            return lines.Count - 1;
        }

        // Sections are compared without case: the agent's own keys mix AutoUpdate.* and Autoupdate.Frequency.
        private static bool SameSection(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

        private string DominantEnding()
        {
            int lf = 0, crlf = 0;
            foreach (WaagentConfigLine l in lines)
            {
                if (l.Ending == "\n")
                {
                    lf++;
                }
                else if (l.Ending == "\r\n")
                {
                    crlf++;
                }
            }
            return crlf > lf ? "\r\n" : "\n";
        }
    }
}
