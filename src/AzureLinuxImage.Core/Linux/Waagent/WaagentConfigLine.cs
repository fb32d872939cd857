using System;
using System.Text;

namespace AzureLinuxImage.Linux.Waagent
{
    /// <summary>What a line of waagent.conf is to the agent.</summary>
    internal enum WaagentLineKind
    {
        /// <summary>Empty or white space only.</summary>
        Blank,
        /// <summary>Starts with '#' in its very first column.</summary>
        Comment,
        /// <summary>Not a comment and holds '=': Key=Value.</summary>
        Setting,
        /// <summary>Anything else: the agent ignores it.</summary>
        Other,
    }

    /// <summary>
    /// One line of waagent.conf, kept byte for byte. The agent splits the file on '\n' only, treats a line
    /// whose first character is '#' as a comment, and otherwise reads Key=Value: the key is the text before
    /// the first '=' with white space trimmed, the value is the text after it cut at the first '#', with
    /// quotes and spaces then white space trimmed. The '\r' of a CRLF line is kept here as part of the line
    /// ending, but the agent sees it: <see cref="AgentValue"/> reproduces that.
    /// </summary>
    internal sealed class WaagentConfigLine
    {
        private WaagentConfigLine(byte[]? originalBytes, string text, string ending, int? originalNumber)
        {
            OriginalBytes = originalBytes;
            Text = text;
            Ending = ending;
            OriginalNumber = originalNumber;
            Parse();
        }

        /// <summary>The line's bytes as read (without the ending); null once the line is new or edited.</summary>
        public byte[]? OriginalBytes { get; }

        /// <summary>The line's text without its ending (invalid UTF-8 shows as U+FFFD; the bytes are kept).</summary>
        public string Text { get; }

        /// <summary>"\n", "\r\n", or "" for a last line without a newline.</summary>
        public string Ending { get; }

        /// <summary>1-based line number in the file as read; null for a line this module added.</summary>
        public int? OriginalNumber { get; }

        public WaagentLineKind Kind { get; private set; }

        /// <summary>The key as the agent reads it (Setting lines).</summary>
        public string Key { get; private set; } = string.Empty;

        /// <summary>Start of the value token in <see cref="Text"/> (after '=' and leading blanks).</summary>
        public int ValueStart { get; private set; }

        /// <summary>Length of the value token (up to a '#' comment, trailing blanks excluded).</summary>
        public int ValueLength { get; private set; }

        /// <summary>The value token as written (quotes included).</summary>
        public string RawValue => Kind == WaagentLineKind.Setting ? Text.Substring(ValueStart, ValueLength) : string.Empty;

        /// <summary>The value exactly as the agent computes it, '\r' of a CRLF ending included in its view of the line.</summary>
        public string AgentValue { get; private set; } = string.Empty;

        public static WaagentConfigLine Read(byte[] bytes, string text, string ending, int number) =>
            new WaagentConfigLine(bytes, text, ending, number);

        public static WaagentConfigLine New(string text, string ending) => new WaagentConfigLine(null, text, ending, null);

        /// <summary>This line with its value token replaced, everything else (spacing, comment, ending) kept.</summary>
        public WaagentConfigLine WithValue(string value)
        {
            if (Kind != WaagentLineKind.Setting)
            {
                throw new InvalidOperationException("Only a Key=Value line has a value.");
            }
            string text = Text.Substring(0, ValueStart) + value + Text.Substring(ValueStart + ValueLength);
            return new WaagentConfigLine(null, text, Ending, OriginalNumber);
        }

        /// <summary>This line with another ending (used when a line is added after a last line without newline).</summary>
        public WaagentConfigLine WithEnding(string ending) =>
            new WaagentConfigLine(OriginalBytes, Text, ending, OriginalNumber);

        /// <summary>Whether this comment line is a commented-out example of <paramref name="key"/> ("#Key=..." or "# Key=...").</summary>
        public bool IsCommentedOut(string key)
        {
            if (Kind != WaagentLineKind.Comment)
            {
                return false;
            }
            int i = 1;
            while (i < Text.Length && (Text[i] == ' ' || Text[i] == '\t'))
            {
                i++;
            }
            if (string.CompareOrdinal(Text, i, key, 0, key.Length) != 0)
            {
                return false;
            }
            i += key.Length;
            while (i < Text.Length && (Text[i] == ' ' || Text[i] == '\t'))
            {
                i++;
            }
            return i < Text.Length && Text[i] == '=';
        }

        /// <summary>The key of a commented-out "#Key=value" line, or null.</summary>
        public string? CommentedOutKey()
        {
            if (Kind != WaagentLineKind.Comment)
            {
                return null;
            }
            int eq = Text.IndexOf('=');
            if (eq < 0)
            {
                return null;
            }
            string key = Text.Substring(1, eq - 1).Trim();
            return key.Length > 0 && key.IndexOfAny(new[] { ' ', '\t', '#' }) < 0 ? key : null;
        }

        public void AppendTo(System.IO.Stream output)
        {
            byte[] body = OriginalBytes ?? Encoding.UTF8.GetBytes(Text);
            output.Write(body, 0, body.Length);
            if (Ending.Length > 0)
            {
                byte[] end = Ending == "\r\n" ? CrLf : Lf;
                output.Write(end, 0, end.Length);
            }
        }

        private static readonly byte[] CrLf = { (byte)'\r', (byte)'\n' };
        private static readonly byte[] Lf = { (byte)'\n' };

        private void Parse()
        {
            if (Text.Length > 0 && Text[0] == '#')
            {
                Kind = WaagentLineKind.Comment;
                return;
            }
            int eq = Text.IndexOf('=');
            if (eq < 0)
            {
                Kind = IsBlank(Text) ? WaagentLineKind.Blank : WaagentLineKind.Other;
                return;
            }
            Kind = WaagentLineKind.Setting;
            Key = TrimPython(Text.Substring(0, eq));
            int start = eq + 1;
            while (start < Text.Length && (Text[start] == ' ' || Text[start] == '\t'))
            {
                start++;
            }
            int hash = Text.IndexOf('#', eq + 1);
            int end = hash < 0 ? Text.Length : hash;
            if (end < start)
            {
                end = start;
            }
            while (end > start && char.IsWhiteSpace(Text[end - 1]))
            {
                end--;
            }
            ValueStart = start;
            ValueLength = end - start;

            // The agent's view: the line includes the '\r' of CRLF; value = after '=', before '#',
            // then strip '"' and ' ' from both ends, then white space.
            string agentLine = Ending == "\r\n" ? Text + "\r" : Text;
            string afterEq = agentLine.Substring(eq + 1);
            int h = afterEq.IndexOf('#');
            if (h >= 0)
            {
                afterEq = afterEq.Substring(0, h);
            }
            AgentValue = TrimPython(afterEq.Trim('"', ' '));
        }

        private static bool IsBlank(string s)
        {
            foreach (char c in s)
            {
                if (!IsPythonSpace(c))
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>str.strip() with no argument: Unicode white space, which also counts U+001C..U+001F.</summary>
        internal static string TrimPython(string s)
        {
            int a = 0;
            int b = s.Length;
            while (a < b && IsPythonSpace(s[a]))
            {
                a++;
            }
            while (b > a && IsPythonSpace(s[b - 1]))
            {
                b--;
            }
            return s.Substring(a, b - a);
        }

        private static bool IsPythonSpace(char c) => char.IsWhiteSpace(c) || (c >= '\u001c' && c <= '\u001f');
    }
}
