using System;
using System.Threading;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>
    /// IOperationContext for the command line: warnings on stderr, progress on stderr only when it is a
    /// terminal (never in pipelines or CI logs), Ctrl+C cancels, --dry-run answers ShouldProcess with no.
    /// </summary>
    internal sealed class CliContext : IOperationContext, IDisposable
    {
        private readonly CancellationTokenSource cancel = new CancellationTokenSource();
        private readonly bool dryRun;
        private readonly bool verbose;
        private readonly bool showProgress = !Console.IsErrorRedirected;
        private DateTime lastProgress = DateTime.MinValue;

        public CliContext(bool dryRun = false, bool verbose = false)
        {
            this.dryRun = dryRun;
            this.verbose = verbose;
            Console.CancelKeyPress += OnCancel;
        }

        public CancellationToken Cancellation => cancel.Token;

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
            if (!showProgress)
            {
                return;
            }
            bool complete = done >= total;
            if (!complete && DateTime.UtcNow - lastProgress < TimeSpan.FromMilliseconds(250))
            {
                return;
            }
            lastProgress = DateTime.UtcNow;
            int percent = total <= 0 ? 100 : (int)Math.Min(100, done * 100 / total);
            Console.Error.Write($"\r{activity}: {percent,3}%");
            if (complete)
            {
                Console.Error.WriteLine();
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
        }

        private void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true; // let the operation clean up (temporary files) and exit non-zero
            cancel.Cancel();
        }
    }
}
