using System;
using System.Collections.Generic;
using System.Linq;

namespace AzureLinuxImage.Readiness
{
    /// <summary>The rule catalogue: every rule in the order reports list them.</summary>
    internal static class ReadinessRules
    {
        /// <summary>Areas in report order.</summary>
        public static readonly string[] Areas = { "Disk", "Boot", "Kernel", "Initrd", "Agent", "NoAgent", "Swap", "System", "Network", "Hygiene" };

        public static IReadOnlyList<ReadinessRule> All { get; } = Build();

        private static IReadOnlyList<ReadinessRule> Build()
        {
            var rules = DiskRules.All().Concat(BootRules.All()).Concat(KernelRules.All()).Concat(AgentRules.All())
                .Concat(SystemRules.All()).Concat(HygieneRules.All()).ToList();
            return rules.OrderBy(r => Array.IndexOf(Areas, r.Area)).ToList();
        }

        /// <summary>Rules selected by -Rule and -ExcludeRule (ids, case-insensitive, '*' wildcards).</summary>
        public static IReadOnlyList<ReadinessRule> Select(IEnumerable<string>? include, IEnumerable<string>? exclude)
        {
            List<string> inc = include?.Where(s => !string.IsNullOrWhiteSpace(s)).ToList() ?? new List<string>();
            List<string> exc = exclude?.Where(s => !string.IsNullOrWhiteSpace(s)).ToList() ?? new List<string>();
            return All.Where(r => (inc.Count == 0 || inc.Any(p => Matches(p, r.Id))) && !exc.Any(p => Matches(p, r.Id))).ToList();
        }

        /// <summary>Names in <paramref name="patterns"/> that match no rule (a typo in -Rule should not pass silently).</summary>
        public static IReadOnlyList<string> Unmatched(IEnumerable<string>? patterns) =>
            patterns?.Where(p => !string.IsNullOrWhiteSpace(p) && !All.Any(r => Matches(p, r.Id))).ToList() ?? new List<string>();

        internal static bool Matches(string pattern, string id)
        {
            string regex = "^" + System.Text.RegularExpressions.Regex.Escape(pattern.Trim()).Replace(@"\*", ".*").Replace(@"\?", ".") + "$";
            return System.Text.RegularExpressions.Regex.IsMatch(id, regex, System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        }
    }
}
