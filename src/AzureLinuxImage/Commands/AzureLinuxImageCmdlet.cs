using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Threading;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Hosting;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Base of every cmdlet: file-system path resolution through the provider, the bridge from Core's
    /// IOperationContext to PowerShell's streams (progress, verbose, warning, ShouldProcess), error
    /// records with stable ids, and cancellation on Ctrl+C (StopProcessing). Under Azure Pipelines or
    /// GitHub Actions it also speaks the host's logging commands (issue 23, <see cref="PipelineLog"/>).
    /// </summary>
    public abstract class AzureLinuxImageCmdlet : PSCmdlet, IOperationContext, IPipelineContext
    {
        private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);
        private readonly CancellationTokenSource stop = new CancellationTokenSource();
        private readonly Dictionary<string, ProgressRecord> progress = new Dictionary<string, ProgressRecord>();
        private readonly HashSet<string> finished = new HashSet<string>();
        private DateTime lastProgress = DateTime.MinValue;
        private PipelineLog? pipeline;
        private bool pipelineChecked;

        /// <summary>
        /// Progress activity ids: one per cmdlet type, so nested progress bars do not collide, and the same in
        /// every process (string.GetHashCode is randomized per process on .NET Core): FNV-1a of the name.
        /// </summary>
        private int ActivityId
        {
            get
            {
                uint hash = 2166136261;
                foreach (char c in GetType().Name)
                {
                    hash = unchecked((hash ^ c) * 16777619);
                }
                return (int)(hash % 100000) + 1;
            }
        }

        CancellationToken IOperationContext.Cancellation => stop.Token;

        /// <summary>
        /// The CI host's log (TF_BUILD=True, GITHUB_ACTIONS=true), or null: elsewhere, with -NoPipelineLogging,
        /// or with AZURELINUXIMAGE_NO_PIPELINE_LOGGING set. Made on first use, after parameter binding. Its lines
        /// go where Write-Host's go (the information stream tagged PSHOST), which the agent reads as the step's output.
        /// </summary>
        PipelineLog? IPipelineContext.Pipeline
        {
            get
            {
                if (!pipelineChecked)
                {
                    pipelineChecked = true;
                    pipeline = PipelineLog.FromEnvironment(PipelineLog.ProcessEnvironment,
                        line => WriteInformation(new HostInformationMessage { Message = line }, new[] { "PSHOST" }), PipelineLoggingDisabled);
                }
                return pipeline;
            }
        }

        /// <summary>Set by the -NoPipelineLogging switch of the cmdlets that have one.</summary>
        private protected bool PipelineLoggingDisabled { get; set; }

        bool IOperationContext.ShouldProcess(string target, string action) => ShouldProcess(target, action);

        void IOperationContext.Progress(string activity, string status, long done, long total)
        {
            PipelineLog? log = ((IPipelineContext)this).Pipeline;
            if (log != null && log.Kind == PipelineKind.AzureDevOps)
            {
                // task.setprogress every few seconds instead of a bar redrawn into the log (issue 23).
                log.Progress(activity, done, total);
                return;
            }
            bool complete = done >= total;
            if (complete && !progress.ContainsKey(activity) && finished.Contains(activity))
            {
                // Already closed: some operations report their end more than once (the rehearsal's shutdown
                // wait repeats it every 250 ms, then says done); PowerShell wants one Completed record per bar.
                return;
            }
            DateTime now = DateTime.UtcNow;
            if (!complete && now - lastProgress < ProgressInterval)
            {
                return;
            }
            // A Processing record actually written opens a new bar for the activity (the next pipeline item).
            finished.Remove(activity);
            lastProgress = now;
            if (!progress.TryGetValue(activity, out ProgressRecord? record))
            {
                record = new ProgressRecord(ActivityId + progress.Count, activity, status);
                progress[activity] = record;
            }
            // A new record each time: the host may keep the ones it was given (Streams.Progress does), and
            // changing a record already written would rewrite that history.
            record = new ProgressRecord(record.ActivityId, activity, status)
            {
                PercentComplete = total <= 0 ? 100 : (int)Math.Min(100, done * 100 / total),
                RecordType = complete ? ProgressRecordType.Completed : ProgressRecordType.Processing,
            };
            progress[activity] = record;
            WriteProgress(record);
            if (complete)
            {
                progress.Remove(activity);
                finished.Add(activity);
            }
        }

        void IOperationContext.Verbose(string message) => WriteVerbose(message);

        void IOperationContext.Warning(string message) => WriteWarning(message);

        /// <summary>The context operations run with.</summary>
        private protected IOperationContext Context => this;

        /// <summary>Cancels running operations.</summary>
        protected override void StopProcessing() => stop.Cancel();

        /// <summary>
        /// Closes any progress bar left open (an error mid-way) with a Completed record; under Azure Pipelines a
        /// run that annotated only warnings ends with task.complete result=SucceededWithIssues.
        /// </summary>
        protected override void EndProcessing()
        {
            CompleteProgress();
            if (pipeline != null)
            {
                pipeline.Finish(PipelineReporting.FinishMessage(pipeline));
            }
        }

        private void CompleteProgress()
        {
            foreach (ProgressRecord open in progress.Values)
            {
                WriteProgress(new ProgressRecord(open.ActivityId, open.Activity, open.StatusDescription)
                {
                    PercentComplete = open.PercentComplete,
                    RecordType = ProgressRecordType.Completed,
                });
            }
            progress.Clear();
        }

        /// <summary>
        /// Resolves -Path (wildcards) or -LiteralPath to file-system paths. Paths that match nothing, or
        /// are not on the FileSystem provider, become non-terminating errors.
        /// </summary>
        protected IEnumerable<string> ResolveInputPaths(string[]? paths, bool literal)
        {
            var result = new List<string>();
            foreach (string p in paths ?? Array.Empty<string>())
            {
                try
                {
                    if (literal || (!WildcardPattern.ContainsWildcardCharacters(p)))
                    {
                        string resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(p, out ProviderInfo provider, out _);
                        RequireFileSystem(provider, p);
                        result.Add(resolved);
                        continue;
                    }
                    Collection<string> matches = GetResolvedProviderPathFromPSPath(p, out ProviderInfo wildcardProvider);
                    RequireFileSystem(wildcardProvider, p);
                    string literalPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(p);
                    if (matches.Count == 0 && System.IO.File.Exists(literalPath))
                    {
                        // A result object's Path (a literal file name with '[' in it) piped into -Path.
                        result.Add(literalPath);
                    }
                    else if (matches.Count == 0)
                    {
                        WriteError(new ErrorRecord(new System.IO.FileNotFoundException($"No file matches '{p}'."), "PathNotFound", ErrorCategory.ObjectNotFound, p));
                    }
                    result.AddRange(matches);
                }
                catch (ItemNotFoundException e)
                {
                    WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, p));
                }
                catch (PSNotSupportedException e)
                {
                    WriteError(new ErrorRecord(e, "NotAFileSystemPath", ErrorCategory.InvalidArgument, p));
                }
            }
            return result;
        }

        /// <summary>An output path (need not exist yet), resolved relative to the current location.</summary>
        protected string ResolveOutputPath(string path)
        {
            string resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out ProviderInfo provider, out _);
            RequireFileSystem(provider, path);
            return resolved;
        }

        /// <summary>Runs one item's work; Core errors become non-terminating error records naming the item.</summary>
        protected void ForEachItem(string target, Action body)
        {
            try
            {
                body();
            }
            catch (AzureLinuxImageException e)
            {
                WriteError(ToErrorRecord(e, target));
            }
            catch (OperationCanceledException e)
            {
                WriteError(new ErrorRecord(e, "OperationStopped", ErrorCategory.OperationStopped, target));
            }
            catch (System.IO.IOException e)
            {
                WriteError(new ErrorRecord(e, "IOError", ErrorCategory.WriteError, target));
            }
            catch (UnauthorizedAccessException e)
            {
                WriteError(new ErrorRecord(e, "AccessDenied", ErrorCategory.PermissionDenied, target));
            }
        }

        /// <summary>Maps a Core error to an ErrorRecord: its ErrorId, a real category, the file as target.</summary>
        protected static ErrorRecord ToErrorRecord(AzureLinuxImageException e, object? target)
        {
            ErrorCategory category = e.Kind switch
            {
                ErrorKind.InvalidData => ErrorCategory.InvalidData,
                ErrorKind.NotFound => ErrorCategory.ObjectNotFound,
                ErrorKind.NotSupported => ErrorCategory.NotImplemented,
                ErrorKind.AlreadyExists => ErrorCategory.ResourceExists,
                ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
                ErrorKind.Cancelled => ErrorCategory.OperationStopped,
                ErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
                _ => ErrorCategory.ResourceUnavailable,
            };
            return new ErrorRecord(e, e.ErrorId, category, e.FilePath ?? target);
        }

        private static void RequireFileSystem(ProviderInfo provider, string path)
        {
            if (!string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
            {
                throw new PSNotSupportedException($"'{path}' is on the {provider.Name} provider; disk images must be files on the FileSystem provider.");
            }
        }
    }
}
