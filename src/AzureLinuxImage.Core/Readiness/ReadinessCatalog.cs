using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace AzureLinuxImage.Readiness
{
    /// <summary>The rule catalogue as documentation (docs/rules.md), generated from the rules in code.</summary>
    internal static class ReadinessCatalog
    {
        public static string Markdown()
        {
            var sb = new StringBuilder();
            sb.Append("# Readiness rules\n\n");
            sb.Append("Generated from the rules in `src/AzureLinuxImage.Core/Readiness` (a test keeps this file in sync).\n");
            sb.Append("`Test-LinuxImageReadiness` and `azlinux test` report one finding per rule: Pass, Fail, Warning, NotApplicable or Unknown.\n");
            sb.Append("Requirements: `R-…` are numbered in REQUIREMENTS.md (the seed articles); `AZ-…` are rows of AZURE-LINUX.md (Azure's current documentation).\n");
            sb.Append("Rules of severity Warning or Info report Warning, never Fail.\n");
            sb.Append("Not visible in an image's files, so not rules: R-DISK-3 (how to resize), R-AGENT-4 (where the agent comes from), ");
            sb.Append("R-NOAGENT-6 (create VMs with --enable-agent false), R-NOAGENT-7 (who supports custom provisioning code).\n\n");
            foreach (string area in ReadinessRules.Areas)
            {
                var rules = ReadinessRules.All.Where(r => r.Area == area).ToList();
                if (rules.Count == 0)
                {
                    continue;
                }
                sb.Append("## ").Append(area).Append("\n\n| Rule | Requirement | Severity | Checks |\n| --- | --- | --- | --- |\n");
                foreach (ReadinessRule r in rules)
                {
                    sb.Append($"| `{r.Id}` | {r.Requirement} | {r.Severity} | **{r.Title}.** {r.Description.Replace("|", "\\|")} |\n");
                }
                sb.Append('\n');
            }
            return sb.ToString();
        }
    
        /// <summary>The about_AzureLinuxImage_Readiness help topic (plain text, 80 columns).</summary>
        public static string AboutTopic()
        {
            var sb = new StringBuilder();
            sb.Append("TOPIC\n    about_AzureLinuxImage_Readiness\n\n");
            sb.Append("SHORT DESCRIPTION\n    The rules Test-LinuxImageReadiness checks, and what each one needs.\n\n");
            sb.Append("LONG DESCRIPTION\n");
            foreach (string line in Wrap("Test-LinuxImageReadiness (azlinux test) reads an image or a root folder offline and reports one finding per rule: Pass, Fail, Warning, NotApplicable or Unknown, with the evidence (file and line) and the exact remediation. Select rules with -Rule and -ExcludeRule (wildcards). Requirements R-... are those of the seed articles, AZ-... those of Azure's current documentation. Rules of severity Warning or Info never fail.", 4))
            {
                sb.Append(line).Append('\n');
            }
            foreach (string area in ReadinessRules.Areas)
            {
                var rules = ReadinessRules.All.Where(r => r.Area == area).ToList();
                if (rules.Count == 0)
                {
                    continue;
                }
                sb.Append('\n').Append("  ").Append(area.ToUpperInvariant()).Append('\n');
                foreach (ReadinessRule r in rules)
                {
                    sb.Append("    ").Append(r.Id).Append(" (").Append(r.Requirement).Append(", ").Append(r.Severity).Append(")\n");
                    foreach (string line in Wrap(r.Title + ". " + r.Description, 8))
                    {
                        sb.Append(line).Append('\n');
                    }
                }
            }
            sb.Append("\nSEE ALSO\n    Test-LinuxImageReadiness\n    Export-ReadinessReport\n    about_AzureLinuxImage\n");
            return sb.ToString();
        }

        private static IEnumerable<string> Wrap(string text, int indent, int width = 80)
        {
            var line = new StringBuilder();
            foreach (string word in text.Split(' '))
            {
                if (line.Length > 0 && indent + line.Length + 1 + word.Length > width)
                {
                    yield return new string(' ', indent) + line;
                    line.Clear();
                }
                if (line.Length > 0)
                {
                    line.Append(' ');
                }
                line.Append(word);
            }
            if (line.Length > 0)
            {
                yield return new string(' ', indent) + line;
            }
        }
    }
}
