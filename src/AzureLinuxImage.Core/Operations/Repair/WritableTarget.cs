using System;
using System.Collections.Generic;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Operations
{
    /// <summary>Opens an image's assembled Linux view for writing (the offline-write work of issue 17).</summary>
    internal delegate WritableTarget WritableImageOpener(string imagePath, IOperationContext context);

    /// <summary>
    /// What Repair, Clear and Install write through: an <see cref="IFileSystemWriter"/> over a root folder
    /// (<see cref="HostDirectoryWriter"/>) or over an image's Linux view, the disk facts when there is a disk,
    /// and the commit. Disposing without <see cref="Commit"/> leaves the image or folder as it was.
    /// </summary>
    internal sealed class WritableTarget : IDisposable
    {
        private readonly Action commit;
        private readonly IDisposable? owner;

        public WritableTarget(string source, IFileSystemWriter writer, DiskLayoutFacts? disk, Action commit, IDisposable? owner)
        {
            Source = source;
            Writer = writer;
            Disk = disk;
            this.commit = commit;
            this.owner = owner;
        }

        /// <summary>The image file or root folder, for messages and results.</summary>
        public string Source { get; }

        public IFileSystemWriter Writer { get; }

        /// <summary>The disk under the root; null for a root folder.</summary>
        public DiskLayoutFacts? Disk { get; }

        public bool IsRootFolder => Disk == null;

        public void Commit() => commit();

        public void Dispose()
        {
            Writer.Dispose();
            owner?.Dispose();
        }

        /// <summary>
        /// The seam the image writer plugs into; null until the writable image view is in this build. The lead's
        /// merge of issue 17 sets it to that view's opener.
        /// </summary>
        public static WritableImageOpener? ImageOpener => null;

        /// <summary>Exactly one of <paramref name="imagePath"/> and <paramref name="rootPath"/>.</summary>
        public static WritableTarget Open(string? imagePath, string? rootPath, IOperationContext context, WritableImageOpener? imageOpener = null)
        {
            if ((imagePath == null) == (rootPath == null))
            {
                throw new AzureLinuxImageException("ImageOrRootRequired", ErrorKind.InvalidArgument, "Give either an image path or a root folder (-RootPath), not both.");
            }
            if (rootPath != null)
            {
                var writer = new HostDirectoryWriter(rootPath) { Warning = context.Warning };
                string full = System.IO.Path.GetFullPath(rootPath);
                var target = new WritableTarget(full, writer, null, writer.Commit, null);
                var facts = new LinuxFacts(writer);
                if (!facts.LooksLikeLinuxRoot)
                {
                    target.Dispose();
                    throw new AzureLinuxImageException("NotALinuxRoot", ErrorKind.InvalidArgument,
                        $"{full} is not a Linux root (it needs /etc, /bin or /usr/bin, and /etc/fstab, /etc/hosts or /etc/os-release).", full);
                }
                return target;
            }
            WritableImageOpener opener = imageOpener ?? ImageOpener
                ?? throw new AzureLinuxImageException("ImageWriteNotSupported", ErrorKind.NotSupported,
                    $"{imagePath}: this build cannot write into disk images yet (it comes with the offline writer of issue 17). " +
                    "Use -RootPath on the mounted or extracted root (azlinux: --root DIR).", imagePath);
            return opener(imagePath!, context);
        }
    }

    /// <summary>Helpers the three write operations share.</summary>
    internal static class WriteOperation
    {
        /// <summary>
        /// Asks <see cref="IOperationContext.ShouldProcess"/> with the list of changes (what -WhatIf shows) and commits;
        /// marks the changes applied. Nothing is written when there is nothing to change or the user declines.
        /// </summary>
        public static IReadOnlyList<LinuxImageChange> Finish(WritableTarget target, List<LinuxImageChange> changes, string verb, IOperationContext context)
        {
            var writes = changes.FindAll(c => c.Action != LinuxImageChangeAction.NotFixed);
            if (writes.Count == 0)
            {
                context.Verbose($"{target.Source}: nothing to change.");
                return changes;
            }
            var summary = new System.Text.StringBuilder();
            summary.Append($"{verb}: {writes.Count} change(s)");
            foreach (LinuxImageChange c in writes)
            {
                summary.Append("\n  ").Append(c.Action).Append(' ').Append(c.ItemPath).Append(c.Line > 0 ? ":" + c.Line : string.Empty);
                if (c.Before != null)
                {
                    summary.Append("\n    - ").Append(c.Before.Replace("\n", "\n    - "));
                }
                if (c.After != null)
                {
                    summary.Append("\n    + ").Append(c.After.Replace("\n", "\n    + "));
                }
            }
            if (!context.ShouldProcess(target.Source, summary.ToString()))
            {
                return changes;
            }
            context.Cancellation.ThrowIfCancellationRequested();
            target.Commit();
            foreach (LinuxImageChange c in writes)
            {
                c.Applied = true;
            }
            context.Verbose($"{target.Source}: {writes.Count} change(s) written.");
            return changes;
        }
    }
}
