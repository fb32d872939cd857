using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Threading;
using AzureLinuxImage.Hosting;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>
    /// IOperationContext for the command line: warnings on stderr, progress on stderr only when it is a
    /// terminal (never in pipelines or CI logs), Ctrl+C cancels, --dry-run answers ShouldProcess with no.
    /// Under Azure Pipelines or GitHub Actions (and without --no-pipeline-logging) it speaks the host's logging
    /// commands (issue 23): on stdout, or on stderr when --json keeps stdout for the JSON.
    /// </summary>
    internal sealed class CliContext : IOperationContext, IPipelineContext, IDisposable
    {
        private readonly CancellationTokenSource cancel = new CancellationTokenSource();
        private readonly bool dryRun;
        private readonly bool verbose;
        private readonly bool showProgress = !Console.IsErrorRedirected;
        private DateTime lastProgress = DateTime.MinValue;
        private int lastWidth;
        private string? completed;

        public CliContext(ParseResult parse, bool dryRun = false, bool verbose = false)
        {
            this.dryRun = dryRun;
            this.verbose = verbose;
            bool json = parse.Tokens.Any(t => t.Value == "--json");
            TextWriter commands = json ? Console.Error : Console.Out;
            Pipeline = PipelineLog.FromEnvironment(PipelineLog.ProcessEnvironment, line =>
            {
                commands.WriteLine(line);
                commands.Flush();
            }, disabled: parse.GetValue(Program.NoPipelineLogging));
            Console.CancelKeyPress += OnCancel;
        }

        public CancellationToken Cancellation => cancel.Token;

        /// <summary>The CI host's log, or null (not in a pipeline, or turned off).</summary>
        public PipelineLog? Pipeline { get; }

        public bool ShouldProcess(string target, string action)
        {
            if (dryRun)
            {
                Console.Error.WriteLine($"dry run: would {char.ToLowerInvariant(action[0])}{action.Substring(1)} ({target})");
            }
            return !dryRun;
        }

        public void Progress(string activity, string status, long done, long total)
        {
            if (Pipeline != null && Pipeline.Kind == PipelineKind.AzureDevOps)
            {
                Pipeline.Progress(activity, done, total);
                return;
            }
            if (!showProgress)
            {
                return;
            }
            bool complete = done >= total;
            if (complete && completed == activity)
            {
                // Some operations report their end more than once (the rehearsal's shutdown wait repeats it every
                // 250 ms, then says done): one line.
                return;
            }
            completed = complete ? activity : null;
            if (!complete && DateTime.UtcNow - lastProgress < TimeSpan.FromMilliseconds(250))
            {
                return;
            }
            lastProgress = DateTime.UtcNow;
            int percent = total <= 0 ? 100 : (int)Math.Min(100, done * 100 / total);
            string line = $"{activity}: {percent,3}% {status}";
            int width = ConsoleWidth();
            if (width > 1 && line.Length >= width)
            {
                line = line.Substring(0, width - 1);
            }
            // Spaces clear what a longer previous line left on the terminal.
            Console.Error.Write("\r" + line + new string(' ', Math.Max(0, lastWidth - line.Length)));
            lastWidth = line.Length;
            if (complete)
            {
                Console.Error.WriteLine();
                lastWidth = 0;
            }
        }

        public void Verbose(string message)
        {
            if (verbose)
            {
                Console.Error.WriteLine(message);
            }
        }

        public void Warning(string message) => Console.Error.WriteLine("warning: " + message);

        public void Dispose()
        {
            Console.CancelKeyPress -= OnCancel;
            cancel.Dispose();
            Pipeline?.Finish(PipelineReporting.FinishMessage(Pipeline));
        }

        private static int ConsoleWidth()
        {
            try
            {
                return Console.WindowWidth;
            }
            catch (IOException)
            {
                return 0;
            }
        }

        private void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true; // let the operation clean up (temporary files) and exit non-zero
            cancel.Cancel();
        }
    }
}
