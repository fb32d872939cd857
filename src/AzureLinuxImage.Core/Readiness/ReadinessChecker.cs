using System;
using System.Collections.Generic;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Readiness
{
    /// <summary>Runs rules over facts and collects one finding per rule; nothing a rule finds is thrown.</summary>
    internal static class ReadinessChecker
    {
        public static IReadOnlyList<ReadinessFinding> Run(string path, ReadinessContext ctx, IEnumerable<ReadinessRule> rules)
        {
            var findings = new List<ReadinessFinding>();
            foreach (ReadinessRule rule in rules)
            {
                RuleOutcome outcome;
                try
                {
                    outcome = rule.Check(ctx);
                }
                catch (AzureLinuxImageException ex)
                {
                    outcome = Outcome.Unknown(ex.Message);
                }
                catch (System.IO.IOException ex)
                {
                    outcome = Outcome.Unknown(ex.Message);
                }
                catch (Exception ex) when (!(ex is OperationCanceledException))
                {
                    // A defect in one rule must not cost the user the other findings: report it, do not throw.
                    outcome = Outcome.Unknown($"the rule could not be evaluated ({ex.GetType().Name}: {ex.Message}); please report this.");
                }
                findings.Add(ToFinding(path, rule, outcome));
            }
            return findings;
        }

        internal static ReadinessFinding ToFinding(string path, ReadinessRule rule, RuleOutcome outcome)
        {
            // A recommendation never fails the image: Warning and Info rules report Warning instead.
            ReadinessStatus status = outcome.Status == ReadinessStatus.Fail && rule.Severity != ReadinessSeverity.Error ? ReadinessStatus.Warning : outcome.Status;
            string? evidence = outcome.Evidence?.ToString() ?? outcome.Structure;
            string? remediation = status == ReadinessStatus.Fail || status == ReadinessStatus.Warning ? outcome.Remediation : null;
            return new ReadinessFinding(path, rule.Id, rule.Title, rule.Area, rule.Requirement, rule.Severity, status, outcome.Message,
                outcome.Evidence?.File, outcome.Evidence?.Line ?? 0, evidence, remediation);
        }
    }
}
