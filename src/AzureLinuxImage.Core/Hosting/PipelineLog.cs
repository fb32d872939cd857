using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace AzureLinuxImage.Hosting
{
    /// <summary>The CI host a process runs under, from its environment (issue 23).</summary>
    internal enum PipelineKind
    {
        /// <summary>A console, a runbook, anything else: no logging commands.</summary>
        None,

        /// <summary>An Azure Pipelines agent step: TF_BUILD=True.</summary>
        AzureDevOps,

        /// <summary>A GitHub Actions runner step: GITHUB_ACTIONS=true.</summary>
        GitHubActions,
    }

    /// <summary>
    /// Logging commands for the CI host the process runs under: Azure Pipelines' <c>##vso[…]</c> lines and
    /// GitHub Actions' <c>::…::</c> workflow commands, written as whole lines to the step's output, which
    /// the agent or runner reads and acts on (masks secrets, annotates, shows progress). Off (null from
    /// <see cref="FromEnvironment"/>) everywhere else and when the user turns it off (issue 23).
    /// Not thread-safe: the operation context calls it on the thread that runs the operation.
    /// </summary>
    internal sealed class PipelineLog
    {
        /// <summary>The variable that turns pipeline logging off in every cmdlet and azlinux verb.</summary>
        public const string DisableVariable = "AZURELINUXIMAGE_NO_PIPELINE_LOGGING";

        /// <summary>Shortest gap between two task.setprogress lines of one activity ("at most every few seconds").</summary>
        public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);

        private readonly Action<string> writeLine;
        private readonly Func<DateTime> clock;
        private readonly HashSet<string> secrets = new HashSet<string>(StringComparer.Ordinal);
        private readonly Dictionary<string, ProgressState> progress = new Dictionary<string, ProgressState>(StringComparer.Ordinal);

        public PipelineLog(PipelineKind kind, Action<string> writeLine, string? summaryPath = null, Func<DateTime>? clock = null)
        {
            if (kind == PipelineKind.None)
            {
                throw new ArgumentException("A pipeline log needs a pipeline.", nameof(kind));
            }
            Kind = kind;
            this.writeLine = writeLine;
            SummaryPath = string.IsNullOrEmpty(summaryPath) ? null : summaryPath;
            this.clock = clock ?? (() => DateTime.UtcNow);
        }

        public PipelineKind Kind { get; }

        /// <summary>GitHub's $GITHUB_STEP_SUMMARY file, appended to; null when the runner gave none.</summary>
        public string? SummaryPath { get; }

        /// <summary>Error annotations written (failing findings).</summary>
        public int Errors { get; private set; }

        /// <summary>Warning annotations written.</summary>
        public int Warnings { get; private set; }

        /// <summary>
        /// The host the environment names: TF_BUILD=True (Azure Pipelines sets it, case as documented,
        /// compared case-insensitively) or GITHUB_ACTIONS=true. Azure Pipelines wins when both are set.
        /// </summary>
        public static PipelineKind Detect(Func<string, string?> environment)
        {
            if (string.Equals(environment("TF_BUILD"), "True", StringComparison.OrdinalIgnoreCase))
            {
                return PipelineKind.AzureDevOps;
            }
            if (string.Equals(environment("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase))
            {
                return PipelineKind.GitHubActions;
            }
            return PipelineKind.None;
        }

        /// <summary>
        /// The log for the host the environment names, or null: no host, <paramref name="disabled"/>
        /// (-NoPipelineLogging, --no-pipeline-logging) or AZURELINUXIMAGE_NO_PIPELINE_LOGGING set to anything but empty/0/false.
        /// </summary>
        public static PipelineLog? FromEnvironment(Func<string, string?> environment, Action<string> writeLine, bool disabled = false, Func<DateTime>? clock = null)
        {
            string? off = environment(DisableVariable);
            if (disabled || (!string.IsNullOrEmpty(off) && off != "0" && !string.Equals(off, "false", StringComparison.OrdinalIgnoreCase)))
            {
                return null;
            }
            PipelineKind kind = Detect(environment);
            return kind == PipelineKind.None ? null : new PipelineLog(kind, writeLine, environment("GITHUB_STEP_SUMMARY"), clock);
        }

        /// <summary>The process environment, as <see cref="FromEnvironment"/> reads it.</summary>
        public static string? ProcessEnvironment(string name) => Environment.GetEnvironmentVariable(name);

        /// <summary>
        /// Registers a secret so the agent masks it in every later log line, this step's and other steps':
        /// <c>##vso[task.setsecret]value</c> or <c>::add-mask::value</c>. Each value once; blank values are ignored.
        /// </summary>
        public void RegisterSecret(string? secret)
        {
            if (string.IsNullOrWhiteSpace(secret) || !secrets.Add(secret!))
            {
                return;
            }
            writeLine(Kind == PipelineKind.AzureDevOps
                ? "##vso[task.setsecret]" + AzureDevOpsData(secret!)
                : "::add-mask::" + GitHubData(secret!));
        }

        /// <summary>
        /// An error or warning annotation, pointing at <paramref name="file"/>:<paramref name="line"/> when known
        /// (<paramref name="line"/> 0: the file only).
        /// </summary>
        public void Issue(bool error, string? file, int line, string message)
        {
            if (error)
            {
                Errors++;
            }
            else
            {
                Warnings++;
            }
            var properties = new List<KeyValuePair<string, string>>();
            if (Kind == PipelineKind.AzureDevOps)
            {
                properties.Add(new KeyValuePair<string, string>("type", error ? "error" : "warning"));
                if (!string.IsNullOrEmpty(file))
                {
                    properties.Add(new KeyValuePair<string, string>("sourcepath", file!));
                    if (line > 0)
                    {
                        properties.Add(new KeyValuePair<string, string>("linenumber", line.ToString(CultureInfo.InvariantCulture)));
                    }
                }
                writeLine(AzureDevOpsCommand("task.logissue", properties, message));
                return;
            }
            if (!string.IsNullOrEmpty(file))
            {
                properties.Add(new KeyValuePair<string, string>("file", file!));
                if (line > 0)
                {
                    properties.Add(new KeyValuePair<string, string>("line", line.ToString(CultureInfo.InvariantCulture)));
                }
            }
            writeLine(GitHubCommand(error ? "error" : "warning", properties, message));
        }

        /// <summary>
        /// Progress of a long operation as <c>##vso[task.setprogress value=N;]activity</c> (Azure Pipelines only;
        /// GitHub has no such command): the first report, then at most every <see cref="ProgressInterval"/> and
        /// only when the percentage moved, and 100 once at the end.
        /// </summary>
        public void Progress(string activity, long done, long total)
        {
            if (Kind != PipelineKind.AzureDevOps)
            {
                return;
            }
            int percent = total <= 0 ? 100 : (int)Math.Max(0, Math.Min(100, done * 100 / total));
            bool complete = done >= total;
            DateTime now = clock();
            // Some operations report their end more than once (the rehearsal's shutdown wait, then its done): the
            // same percentage is never written twice in a row, so 100 appears once.
            if (progress.TryGetValue(activity, out ProgressState? state)
                && (state.Percent == percent || (!complete && now - state.Written < ProgressInterval)))
            {
                return;
            }
            writeLine(AzureDevOpsCommand("task.setprogress", new[] { new KeyValuePair<string, string>("value", percent.ToString(CultureInfo.InvariantCulture)) }, activity, trailingSeparator: true));
            progress[activity] = new ProgressState(percent, now);
        }

        /// <summary>
        /// Ends a run that annotated only warnings with <c>##vso[task.complete result=SucceededWithIssues]</c>
        /// (Azure Pipelines); nothing when an error was annotated (the step fails by its exit code) or nothing was.
        /// </summary>
        public void Finish(string message)
        {
            if (Kind == PipelineKind.AzureDevOps && Errors == 0 && Warnings > 0)
            {
                writeLine(AzureDevOpsCommand("task.complete", new[] { new KeyValuePair<string, string>("result", "SucceededWithIssues") }, message));
            }
        }

        /// <summary>Appends Markdown to GitHub's step summary ($GITHUB_STEP_SUMMARY), which the run's page shows.</summary>
        public void AppendSummary(string markdown)
        {
            if (Kind != PipelineKind.GitHubActions || SummaryPath == null)
            {
                return;
            }
            using var stream = new FileStream(SummaryPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            using var writer = new StreamWriter(stream, new UTF8Encoding(false));
            writer.Write(markdown);
            if (!markdown.EndsWith("\n", StringComparison.Ordinal))
            {
                writer.Write('\n');
            }
        }

        /// <summary>
        /// <c>##vso[area.action name=value;…]message</c>. Property values escape %, CR, LF, ';' and ']'; the message
        /// %, CR and LF (the agent's CommandStringConvertor; '%' is '%AZP25' since agents decode percents).
        /// </summary>
        internal static string AzureDevOpsCommand(string command, IEnumerable<KeyValuePair<string, string>> properties, string message, bool trailingSeparator = false)
        {
            var sb = new StringBuilder("##vso[").Append(command);
            bool first = true;
            foreach (KeyValuePair<string, string> p in properties)
            {
                sb.Append(first ? ' ' : ';').Append(p.Key).Append('=').Append(AzureDevOpsProperty(p.Value));
                first = false;
            }
            if (trailingSeparator && !first)
            {
                sb.Append(';');
            }
            return sb.Append(']').Append(AzureDevOpsData(message)).ToString();
        }

        /// <summary><c>::command name=value,…::message</c>. Values escape %, CR, LF, ':' and ','; the message %, CR and LF.</summary>
        internal static string GitHubCommand(string command, IEnumerable<KeyValuePair<string, string>> properties, string message)
        {
            var sb = new StringBuilder("::").Append(command);
            bool first = true;
            foreach (KeyValuePair<string, string> p in properties)
            {
                sb.Append(first ? ' ' : ',').Append(p.Key).Append('=').Append(GitHubProperty(p.Value));
                first = false;
            }
            return sb.Append("::").Append(GitHubData(message)).ToString();
        }

        internal static string AzureDevOpsData(string s) =>
            s.Replace("%", "%AZP25").Replace("\r", "%0D").Replace("\n", "%0A");

        internal static string AzureDevOpsProperty(string s) =>
            AzureDevOpsData(s).Replace(";", "%3B").Replace("]", "%5D");

        internal static string GitHubData(string s) =>
            s.Replace("%", "%25").Replace("\r", "%0D").Replace("\n", "%0A");

        internal static string GitHubProperty(string s) =>
            GitHubData(s).Replace(":", "%3A").Replace(",", "%2C");

        /// <inheritdoc/>
        public override string ToString() => $"{Kind} pipeline log ({Errors} errors, {Warnings} warnings annotated)";

        private sealed class ProgressState
        {
            public ProgressState(int percent, DateTime written)
            {
                Percent = percent;
                Written = written;
            }

            public int Percent { get; }

            public DateTime Written { get; }
        }
    }
}
