using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.IO;
using AzureLinuxImage.Linux.Waagent;

namespace AzureLinuxImage.Operations
{
    /// <summary>What Set-WaagentConfig changed (or would change, under -WhatIf / --dry-run).</summary>
    public sealed class WaagentConfigChangeResult
    {
        /// <summary>The file on this machine that was (or would be) written.</summary>
        public string Path { get; init; } = string.Empty;

        /// <summary>The root folder, when the file was found under -RootPath.</summary>
        public string? RootPath { get; init; }

        /// <summary>The disk image changed (the destination, or the image in place), when the file is inside one.</summary>
        public string? ImagePath { get; init; }

        /// <summary>Inside an image: the entries and bytes changed (for -Verbose and scripts).</summary>
        public LinuxImageWriteResult? ImageChange { get; init; }

        /// <summary>Whether the requested values differ from the file's.</summary>
        public bool Changed { get; init; }

        /// <summary>Whether the file was written (false for a dry run or when nothing changed).</summary>
        public bool Written { get; init; }

        /// <summary>Lines removed plus lines added (a changed line counts twice).</summary>
        public int ChangedLineCount { get; init; }

        /// <summary>A unified diff of the change; empty when nothing changes.</summary>
        public string Diff { get; init; } = string.Empty;

        /// <summary>The configuration after the change, as the agent will see it.</summary>
        public WaagentConfigInfo Config { get; init; } = new WaagentConfigInfo();

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => System.FormattableString.Invariant($"{Path}: {ChangedLineCount} line(s) {(Written ? "changed" : "to change")}");
    }

    /// <summary>What to change: an ordered list of Key=Value (a null value removes the key), plus R-AGENT-5 in one go.</summary>
    internal sealed class SetWaagentConfigOptions
    {
        /// <summary>A waagent.conf file on this machine (exclusive with <see cref="RootPath"/>).</summary>
        public string? Path { get; set; }

        /// <summary>A Linux root folder whose /etc/waagent.conf is edited.</summary>
        public string? RootPath { get; set; }

        /// <summary>A disk image (fixed VHD or raw) whose /etc/waagent.conf is edited offline.</summary>
        public string? ImagePath { get; set; }

        /// <summary>With <see cref="ImagePath"/>: write a changed copy here instead of changing the image.</summary>
        public string? Destination { get; set; }

        /// <summary>With <see cref="Destination"/>: replace an existing file.</summary>
        public bool Force { get; set; }

        /// <summary>Applied in order after <see cref="AzureRecommended"/>; a later entry for the same key wins.</summary>
        public List<KeyValuePair<string, string?>> Settings { get; } = new List<KeyValuePair<string, string?>>();

        /// <summary>R-AGENT-5: Format=y, Filesystem=ext4, MountPoint=/mnt/resource, EnableSwap=y, SwapSizeMB.</summary>
        public bool AzureRecommended { get; set; }

        /// <summary>ResourceDisk.SwapSizeMB (with <see cref="AzureRecommended"/>: default 2048).</summary>
        public long? SwapSizeMB { get; set; }

        /// <summary>Accept keys that are not documented options (the agent ignores them).</summary>
        public bool AllowUnknownKeys { get; set; }
    }

    /// <summary>A computed change, not yet written: what <see cref="SetWaagentConfig.Apply"/> will do.</summary>
    internal sealed class WaagentConfigPlan
    {
        public WaagentConfigPlan(string targetPath, string? rootPath, byte[] originalBytes, WaagentConfig before, WaagentConfig after, string diff, int changedLines, WaagentConfigInfo afterInfo)
        {
            TargetPath = targetPath;
            RootPath = rootPath;
            OriginalBytes = originalBytes;
            Before = before;
            After = after;
            Diff = diff;
            ChangedLines = changedLines;
            AfterInfo = afterInfo;
        }

        public string TargetPath { get; }
        public string? RootPath { get; }
        public byte[] OriginalBytes { get; }
        public WaagentConfig Before { get; }
        public WaagentConfig After { get; }
        public string Diff { get; }
        public int ChangedLines { get; }
        public WaagentConfigInfo AfterInfo { get; }
        public bool Changed => ChangedLines > 0;
    }

    /// <summary>
    /// Set-WaagentConfig / azlinux waagent set (issue 9, R-AGENT-5): validates every requested value first
    /// (nothing is written when one is wrong), edits only the lines concerned, and writes atomically keeping
    /// the file's mode and owner. <see cref="Plan"/> computes the change and its diff (for -WhatIf and
    /// --dry-run); <see cref="Apply"/> writes it.
    /// </summary>
    internal sealed class SetWaagentConfig
    {
        private readonly SetWaagentConfigOptions options;

        public SetWaagentConfig(SetWaagentConfigOptions options)
        {
            this.options = options;
            int targets = (options.Path != null ? 1 : 0) + (options.RootPath != null ? 1 : 0) + (options.ImagePath != null ? 1 : 0);
            if (targets != 1)
            {
                throw new AzureLinuxImageException("InvalidTarget", ErrorKind.InvalidArgument, "Give exactly one of a waagent.conf path, a root folder or a disk image.");
            }
            if (options.Destination != null && options.ImagePath == null)
            {
                throw new AzureLinuxImageException("InvalidTarget", ErrorKind.InvalidArgument, "A destination is only for a disk image (-ImagePath).");
            }
        }

        /// <summary>
        /// Plans, reports the file's problems as warnings, asks <see cref="IOperationContext.ShouldProcess"/> with the
        /// line diff (what -WhatIf shows), and writes. Returns what changed; Written is false when declined.
        /// </summary>
        public static WaagentConfigChangeResult Run(SetWaagentConfigOptions options, IOperationContext context)
        {
            var operation = new SetWaagentConfig(options);
            if (options.ImagePath != null)
            {
                return operation.RunInImage(context);
            }
            WaagentConfigPlan plan = operation.Plan();
            foreach (WaagentConfigProblem problem in plan.AfterInfo.Problems)
            {
                if (problem.Severity != WaagentProblemSeverity.Information)
                {
                    context.Warning($"{plan.TargetPath}: {problem}");
                }
            }
            if (!plan.Changed)
            {
                context.Verbose($"{plan.TargetPath} already has the requested values; nothing written.");
                return Result(plan, written: false);
            }
            string action = $"Change {plan.ChangedLines} line(s) of waagent.conf:\n{plan.Diff}";
            if (!context.ShouldProcess(plan.TargetPath, action))
            {
                return Result(plan, written: false);
            }
            context.Cancellation.ThrowIfCancellationRequested();
            operation.Writer.Warning = context.Warning;
            WaagentConfigChangeResult result = operation.Apply(plan);
            context.Verbose($"{plan.TargetPath}: {plan.ChangedLines} line(s) changed.");
            return result;
        }

        /// <summary>The writer used by <see cref="Apply"/> (tests reach its crash seam through it).</summary>
        internal AtomicFileWriter Writer { get; } = new AtomicFileWriter();

        /// <summary>
        /// Inside an image: the same plan as on a host file, made from the image's /etc/waagent.conf (links
        /// followed inside the image), shown with the blocks it touches, then written through the image's
        /// writer, which keeps owner, mode, extended attributes and hard links. The image is opened once:
        /// the change planned and listed is the one committed (an image changed by another program in the
        /// meantime is refused at the commit, ImageChangedDuringEdit).
        /// </summary>
        private WaagentConfigChangeResult RunInImage(IOperationContext context)
        {
            IReadOnlyList<KeyValuePair<string, string?>> edits = Edits();
            Validate(edits);
            string source = System.IO.Path.GetFullPath(options.ImagePath!);
            string target = options.Destination == null ? source : System.IO.Path.GetFullPath(options.Destination);
            WaagentConfigPlan? plan = null;
            LinuxImageWriteResult write = LinuxImageEdit.Run(source, options.Destination, options.Force,
                () => $"Change {plan!.ChangedLines} line(s) of {WaagentConfigLocation.ConfigPathInRoot}:\n{plan.Diff}",
                fs =>
                {
                    byte[] original = WaagentConfigLocation.ReadFromFileSystem(fs);
                    plan = PlanFrom(original, fs, target);
                    foreach (WaagentConfigProblem problem in plan.AfterInfo.Problems)
                    {
                        if (problem.Severity != WaagentProblemSeverity.Information)
                        {
                            context.Warning($"{target}: {WaagentConfigLocation.ConfigPathInRoot}: {problem}");
                        }
                    }
                    if (plan.Changed)
                    {
                        using var content = new MemoryStream(plan.After.ToBytes());
                        fs.WriteFile(WaagentConfigLocation.ConfigPathInRoot, content);
                    }
                }, context);
            if (!plan!.Changed)
            {
                context.Verbose($"{target}: {WaagentConfigLocation.ConfigPathInRoot} already has the requested values; nothing written.");
            }
            return new WaagentConfigChangeResult
            {
                Path = WaagentConfigLocation.ConfigPathInRoot,
                ImagePath = target,
                Changed = plan.Changed,
                Written = write.Written,
                ChangedLineCount = plan.ChangedLines,
                Diff = plan.Diff,
                Config = plan.AfterInfo,
                ImageChange = write,
            };
        }

        private WaagentConfigPlan PlanFrom(byte[] original, IFileSystem fs, string imagePath)
        {
            string config = WaagentConfigLocation.ConfigPathInRoot;
            WaagentConfig before = WaagentConfig.Parse(original, config);
            WaagentConfig after = before;
            foreach (KeyValuePair<string, string?> e in Edits())
            {
                after = e.Value == null ? after.Without(e.Key) : after.With(e.Key, e.Value);
            }
            int changed = WaagentConfigDiff.CountChangedLines(before, after);
            string diff = changed == 0 ? string.Empty : WaagentConfigDiff.Unified(before, after, config.TrimStart('/'));
            // Path names the image too, so -PassThru's object pipes on into the image cmdlets (Test-LinuxImageReadiness -Path).
            WaagentConfigInfo info = GetWaagentConfig.Analyze(after, fs, config, imagePath, null, imagePath);
            return new WaagentConfigPlan(config, null, original, before, after, diff, changed, info);
        }

        /// <summary>The ordered key/value edits this invocation means, R-AGENT-5 first.</summary>
        public IReadOnlyList<KeyValuePair<string, string?>> Edits()
        {
            var edits = new List<KeyValuePair<string, string?>>();
            if (options.AzureRecommended)
            {
                edits.Add(Pair("ResourceDisk.Format", "y"));
                edits.Add(Pair("ResourceDisk.Filesystem", "ext4"));
                edits.Add(Pair("ResourceDisk.MountPoint", "/mnt/resource"));
                edits.Add(Pair("ResourceDisk.EnableSwap", "y"));
                edits.Add(Pair("ResourceDisk.SwapSizeMB", (options.SwapSizeMB ?? WaagentOptionCatalog.RecommendedSwapSizeMB).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            else if (options.SwapSizeMB.HasValue)
            {
                edits.Add(Pair("ResourceDisk.SwapSizeMB", options.SwapSizeMB.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            edits.AddRange(options.Settings);
            return edits;
        }

        public WaagentConfigPlan Plan()
        {
            IReadOnlyList<KeyValuePair<string, string?>> edits = Edits();
            Validate(edits);
            string target;
            HostDirectoryFileSystem? view = null;
            if (options.RootPath != null)
            {
                target = WaagentConfigLocation.ResolveForWrite(options.RootPath);
                view = new HostDirectoryFileSystem(options.RootPath);
            }
            else
            {
                // A link given with -Path is followed: its target is edited and the link stays a link.
                string full = System.IO.Path.GetFullPath(options.Path!);
                target = UnixFileApi.RealPath(full) ?? full;
            }
            try
            {
                byte[] original = WaagentConfigLocation.ReadHostFile(target);
                WaagentConfig before = WaagentConfig.Parse(original, target);
                WaagentConfig after = before;
                foreach (KeyValuePair<string, string?> e in edits)
                {
                    after = e.Value == null ? after.Without(e.Key) : after.With(e.Key, e.Value);
                }
                string label = options.RootPath != null ? WaagentConfigLocation.ConfigPathInRoot.TrimStart('/') : System.IO.Path.GetFileName(target);
                int changed = WaagentConfigDiff.CountChangedLines(before, after);
                string diff = changed == 0 ? string.Empty : WaagentConfigDiff.Unified(before, after, label);
                string? root = options.RootPath == null ? null : System.IO.Path.GetFullPath(options.RootPath);
                WaagentConfigInfo info = GetWaagentConfig.Analyze(after, view,
                    root != null ? WaagentConfigLocation.ConfigPathInRoot : target,
                    root == null ? target : null, root, null);
                return new WaagentConfigPlan(target, root, original, before, after, diff, changed, info);
            }
            finally
            {
                view?.Dispose();
            }
        }

        /// <summary>Writes the plan (unless nothing changes); refuses when the file changed since it was planned.</summary>
        public WaagentConfigChangeResult Apply(WaagentConfigPlan plan)
        {
            bool written = false;
            if (plan.Changed)
            {
                byte[] now = WaagentConfigLocation.ReadHostFile(plan.TargetPath);
                if (!now.SequenceEqual(plan.OriginalBytes))
                {
                    throw new AzureLinuxImageException("WaagentConfigChanged", ErrorKind.ResourceUnavailable,
                        $"{plan.TargetPath} changed while it was being edited; nothing was written. Run the command again.", plan.TargetPath);
                }
                written = Writer.Write(plan.TargetPath, plan.After.ToBytes());
            }
            return Result(plan, written);
        }

        /// <summary>The result of a dry run: what <see cref="Apply"/> would do, nothing written.</summary>
        public static WaagentConfigChangeResult Result(WaagentConfigPlan plan, bool written) => new WaagentConfigChangeResult
        {
            Path = plan.TargetPath,
            RootPath = plan.RootPath,
            Changed = plan.Changed,
            Written = written,
            ChangedLineCount = plan.ChangedLines,
            Diff = plan.Diff,
            Config = plan.AfterInfo,
        };

        /// <summary>Every edit checked before anything is read or written; all problems reported at once.</summary>
        private void Validate(IReadOnlyList<KeyValuePair<string, string?>> edits)
        {
            var errors = new List<string>();
            if (options.AzureRecommended && options.SwapSizeMB.HasValue && options.SwapSizeMB.Value <= 0)
            {
                errors.Add("R-AGENT-5 needs a swap size above 0 MiB (-SwapSizeMB / --swap-size-mb).");
            }
            foreach (KeyValuePair<string, string?> e in edits)
            {
                string? keyError = KeyError(e.Key);
                if (keyError != null)
                {
                    errors.Add(keyError);
                    continue;
                }
                WaagentOption? option = WaagentOptionCatalog.Find(e.Key);
                if (option == null && !options.AllowUnknownKeys && e.Value != null)
                {
                    string? suggestion = WaagentOptionCatalog.SuggestFor(e.Key);
                    errors.Add(suggestion != null
                        ? $"{e.Key} is not an option of the agent (keys are case-sensitive); did you mean {suggestion}?"
                        : $"{e.Key} is not a documented option of the agent, which would ignore it; allow unknown keys to write it anyway.");
                    continue;
                }
                if (e.Value == null)
                {
                    continue;
                }
                string? valueError = ValueError(e.Key, e.Value) ?? option?.Validate(e.Value);
                if (valueError != null)
                {
                    errors.Add(valueError);
                }
            }
            if (errors.Count > 0)
            {
                string target = options.Path ?? options.RootPath ?? options.ImagePath ?? string.Empty;
                throw new AzureLinuxImageException("InvalidWaagentSetting", ErrorKind.InvalidArgument,
                    "Nothing was written: " + string.Join(" ", errors), target);
            }
        }

        private static string? KeyError(string key)
        {
            if (string.IsNullOrEmpty(key) || key[0] == '#' || key.IndexOf('=') >= 0 || key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                return $"'{key}' is not a valid key: it must be non-empty, without '=', white space, or a leading '#'.";
            }
            return null;
        }

        private static string? ValueError(string key, string value)
        {
            if (value.IndexOf('#') >= 0)
            {
                return $"{key}: a value cannot contain '#' (the agent cuts the value there).";
            }
            if (value.Any(char.IsControl))
            {
                return $"{key}: a value cannot contain line breaks or control characters.";
            }
            if (value.Length > 0 && (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[value.Length - 1]) || value[0] == '"' || value[value.Length - 1] == '"'))
            {
                return $"{key}: a value cannot start or end with white space or quotes (the agent strips them).";
            }
            return null;
        }

        private static KeyValuePair<string, string?> Pair(string key, string value) => new KeyValuePair<string, string?>(key, value);
    }
}
