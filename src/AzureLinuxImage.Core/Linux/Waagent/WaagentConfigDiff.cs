using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace AzureLinuxImage.Linux.Waagent
{
    /// <summary>
    /// A unified diff (3 lines of context) between a document as read and its edited copy, for -WhatIf and
    /// --dry-run. Edits keep each line's original number, so lines are aligned by it, not by a text search.
    /// </summary>
    internal static class WaagentConfigDiff
    {
        private const int Context = 3;
        private const string NoNewline = "\\ No newline at end of file";

        private readonly struct Op
        {
            public Op(char kind, WaagentConfigLine line, int oldNo, int newNo)
            {
                Kind = kind;
                Line = line;
                OldNo = oldNo;
                NewNo = newNo;
            }

            public char Kind { get; }
            public WaagentConfigLine Line { get; }
            public int OldNo { get; }
            public int NewNo { get; }
        }

        /// <summary>The number of lines removed plus added (a changed line counts twice); 0 when nothing changes.</summary>
        public static int CountChangedLines(WaagentConfig before, WaagentConfig after)
        {
            int n = 0;
            foreach (Op op in Align(before, after))
            {
                if (op.Kind != ' ')
                {
                    n++;
                }
            }
            return n;
        }

        public static string Unified(WaagentConfig before, WaagentConfig after, string label)
        {
            List<Op> ops = Align(before, after);
            var sb = new StringBuilder();
            bool bom = before.HasByteOrderMark;
            int k = 0;
            while (k < ops.Count)
            {
                if (ops[k].Kind == ' ')
                {
                    k++;
                    continue;
                }
                int start = k;
                int ctxStart = start;
                while (ctxStart > 0 && start - ctxStart < Context && ops[ctxStart - 1].Kind == ' ')
                {
                    ctxStart--;
                }
                // Extend while changes are at most 2*Context context lines apart.
                int end = start;
                while (true)
                {
                    while (end < ops.Count && ops[end].Kind != ' ')
                    {
                        end++;
                    }
                    int gap = end;
                    while (gap < ops.Count && ops[gap].Kind == ' ')
                    {
                        gap++;
                    }
                    if (gap < ops.Count && gap - end <= 2 * Context)
                    {
                        end = gap;
                        continue;
                    }
                    end = System.Math.Min(end + Context, gap);
                    break;
                }
                if (sb.Length == 0)
                {
                    sb.Append("--- a/").Append(label).Append('\n');
                    sb.Append("+++ b/").Append(label).Append('\n');
                }
                AppendHunk(sb, ops, ctxStart, end, bom);
                k = end;
            }
            return sb.ToString();
        }

        private static void AppendHunk(StringBuilder sb, List<Op> ops, int from, int to, bool byteOrderMark)
        {
            int oldStart = 0, newStart = 0, oldCount = 0, newCount = 0;
            for (int i = from; i < to; i++)
            {
                Op op = ops[i];
                if (op.Kind != '+')
                {
                    if (oldCount++ == 0)
                    {
                        oldStart = op.OldNo;
                    }
                }
                if (op.Kind != '-')
                {
                    if (newCount++ == 0)
                    {
                        newStart = op.NewNo;
                    }
                }
            }
            if (oldCount == 0)
            {
                oldStart = PrecedingOld(ops, from);
            }
            if (newCount == 0)
            {
                newStart = PrecedingNew(ops, from);
            }
            sb.Append("@@ -").Append(Range(oldStart, oldCount)).Append(" +").Append(Range(newStart, newCount)).Append(" @@\n");
            for (int i = from; i < to; i++)
            {
                Op op = ops[i];
                // The byte order mark belongs to the first line's bytes (edits keep it), as diff -u shows it.
                bool isFirst = op.Kind == '+' ? op.NewNo == 1 : op.OldNo == 1;
                string bom = byteOrderMark && isFirst ? "\uFEFF" : string.Empty;
                sb.Append(op.Kind).Append(bom).Append(op.Line.Text).Append('\n');
                if (op.Line.Ending.Length == 0)
                {
                    sb.Append(NoNewline).Append('\n');
                }
            }
        }

        private static int PrecedingOld(List<Op> ops, int from)
        {
            for (int i = from - 1; i >= 0; i--)
            {
                if (ops[i].Kind != '+')
                {
                    return ops[i].OldNo;
                }
            }
            return 0;
        }

        private static int PrecedingNew(List<Op> ops, int from)
        {
            for (int i = from - 1; i >= 0; i--)
            {
                if (ops[i].Kind != '-')
                {
                    return ops[i].NewNo;
                }
            }
            return 0;
        }

        private static string Range(int start, int count) =>
            count == 1 ? start.ToString(CultureInfo.InvariantCulture) : start.ToString(CultureInfo.InvariantCulture) + "," + count.ToString(CultureInfo.InvariantCulture);

        private static List<Op> Align(WaagentConfig before, WaagentConfig after)
        {
            IReadOnlyList<WaagentConfigLine> a = before.Lines;
            IReadOnlyList<WaagentConfigLine> b = after.Lines;
            var ops = new List<Op>(b.Count + 4);
            int i = 0, j = 0;
            while (i < a.Count || j < b.Count)
            {
                if (j < b.Count && b[j].OriginalNumber == null)
                {
                    ops.Add(new Op('+', b[j], 0, j + 1));
                    j++;
                }
                else if (j < b.Count && i < a.Count && b[j].OriginalNumber == a[i].OriginalNumber)
                {
                    if (b[j].Text == a[i].Text && b[j].Ending == a[i].Ending)
                    {
                        ops.Add(new Op(' ', b[j], i + 1, j + 1));
                    }
                    else
                    {
                        ops.Add(new Op('-', a[i], i + 1, 0));
                        ops.Add(new Op('+', b[j], 0, j + 1));
                    }
                    i++;
                    j++;
                }
                else if (i < a.Count)
                {
                    ops.Add(new Op('-', a[i], i + 1, 0));
                    i++;
                }
                else
                {
                    // A line of the edited copy whose original number is not next: cannot happen with this
                    // module's edits (they keep order); show it as added rather than loop.
                    ops.Add(new Op('+', b[j], 0, j + 1));
                    j++;
                }
            }
            return RemovalsFirst(ops);
        }

        /// <summary>Within each run of changed lines, removed lines come before added ones (as diff -u prints them).</summary>
        private static List<Op> RemovalsFirst(List<Op> ops)
        {
            var result = new List<Op>(ops.Count);
            int k = 0;
            while (k < ops.Count)
            {
                if (ops[k].Kind == ' ')
                {
                    result.Add(ops[k++]);
                    continue;
                }
                int end = k;
                while (end < ops.Count && ops[end].Kind != ' ')
                {
                    end++;
                }
                for (int i = k; i < end; i++)
                {
                    if (ops[i].Kind == '-')
                    {
                        result.Add(ops[i]);
                    }
                }
                for (int i = k; i < end; i++)
                {
                    if (ops[i].Kind == '+')
                    {
                        result.Add(ops[i]);
                    }
                }
                k = end;
            }
            return result;
        }
    }
}
