using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>How fix, generalize and agentless print what they changed: one block per change, diff-style lines.</summary>
    internal static class ChangeText
    {
        public static int Write(IReadOnlyList<LinuxImageChange> changes, bool json, bool dryRun, string source)
        {
            if (json)
            {
                CliJson.Write(changes);
            }
            else
            {
                var o = Console.Out;
                foreach (LinuxImageChange c in changes.Where(c => c.Action != LinuxImageChangeAction.NotFixed))
                {
                    o.WriteLine($"{c.Action.ToString().ToLowerInvariant(),-9} {c.ItemPath}{(c.Line > 0 ? ":" + c.Line : string.Empty)}  [{c.RuleId}] {c.Description}");
                    if (c.Before != null)
                    {
                        o.WriteLine("  - " + c.Before.Replace("\n", "\n  - "));
                    }
                    if (c.After != null)
                    {
                        o.WriteLine("  + " + c.After.Replace("\n", "\n  + "));
                    }
                }
                var left = changes.Where(c => c.Action == LinuxImageChangeAction.NotFixed).ToList();
                if (left.Count > 0)
                {
                    o.WriteLine();
                    o.WriteLine("Not fixed offline");
                    foreach (LinuxImageChange c in left)
                    {
                        o.WriteLine($"  {c.RuleId}{(c.ItemPath != null ? " (" + c.ItemPath + (c.Line > 0 ? ":" + c.Line : string.Empty) + ")" : string.Empty)}: {c.Description}" +
                            (c.Remediation != null ? $"\n      fix: {c.Remediation}" : string.Empty));
                    }
                }
                int n = changes.Count(c => c.Action != LinuxImageChangeAction.NotFixed);
                o.WriteLine();
                o.WriteLine(dryRun ? $"dry run: {n} change(s) would be made to {source}; nothing written." : $"{n} change(s) written to {source}.");
            }
            return 0;
        }
    }
}
