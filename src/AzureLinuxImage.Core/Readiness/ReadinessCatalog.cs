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
            sb.Append("Rules of severity Warning or Info report Warning, never Fail.\n\n");
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
    }
}
