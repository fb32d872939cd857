using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Hosting;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// An operation context that runs under a CI host: cmdlets and azlinux verbs give their
    /// <see cref="PipelineLog"/> (null when not in a pipeline or turned off). A context need not implement
    /// it: the extensions below then do nothing, so tests' and library callers' contexts are unchanged.
    /// </summary>
    internal interface IPipelineContext
    {
        PipelineLog? Pipeline { get; }
    }

    /// <summary>What operations and bindings tell the CI host (issue 23), through whatever context they run with.</summary>
    internal static class PipelineReporting
    {
        /// <summary>
        /// THE call for any secret an operation is given (a SAS signature, a token, a client secret): registers it
        /// with the agent (task.setsecret / add-mask) so every later log line masks it. Call it before the
        /// operation writes anything. Does nothing outside a pipeline.
        /// </summary>
        public static void RegisterSecret(this IOperationContext context, string? secret)
        {
            (context as IPipelineContext)?.Pipeline?.RegisterSecret(secret);
        }

        /// <summary>
        /// Each failing finding as an error annotation and each warning as a warning annotation, pointing at the
        /// file and line inside the image ("&lt;rule&gt;: &lt;message&gt;"), and on GitHub the findings' Markdown
        /// report appended to the step summary.
        /// </summary>
        public static void ReportFindings(this IOperationContext context, IReadOnlyList<ReadinessFinding> findings)
        {
            PipelineLog? log = (context as IPipelineContext)?.Pipeline;
            if (log == null || findings.Count == 0)
            {
                return;
            }
            foreach (ReadinessFinding f in findings.Where(f => f.Status == ReadinessStatus.Fail || f.Status == ReadinessStatus.Warning))
            {
                log.Issue(f.Status == ReadinessStatus.Fail, f.EvidenceFile, f.EvidenceLine, $"{f.RuleId}: {f.Message}");
            }
            log.AppendSummary(ReadinessReportWriter.Markdown(findings));
        }

        /// <summary>The message of task.complete after a readiness check that found only warnings.</summary>
        public static string FinishMessage(PipelineLog log) =>
            $"Linux image readiness: {log.Warnings} warning{(log.Warnings == 1 ? string.Empty : "s")}, no failures";
    }
}
