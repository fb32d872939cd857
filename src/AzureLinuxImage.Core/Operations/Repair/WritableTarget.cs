using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Operations
{
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
            // An image's writer belongs to the image, which disposes it.
            if (owner != null)
            {
                owner.Dispose();
            }
            else
            {
                Writer.Dispose();
            }
        }

        /// <summary>A root folder (-RootPath) as a staged writer; refused when it is not a Linux root.</summary>
        public static WritableTarget OpenRoot(string rootPath, IOperationContext context)
        {
            var writer = new HostDirectoryWriter(rootPath) { Warning = context.Warning };
            string full = System.IO.Path.GetFullPath(rootPath);
            var target = new WritableTarget(full, writer, null, writer.Commit, null);
            if (!new LinuxFacts(writer).LooksLikeLinuxRoot)
            {
                target.Dispose();
                throw new AzureLinuxImageException("NotALinuxRoot", ErrorKind.InvalidArgument,
                    $"{full} is not a Linux root (it needs /etc, /bin or /usr/bin, and /etc/fstab, /etc/hosts or /etc/os-release).", full);
            }
            return target;
        }

        /// <summary>
        /// An image's assembled Linux view opened for changes (issue 17's <see cref="WritableLinuxImage.OpenToPlan"/>):
        /// staged without write access; <see cref="Commit"/> then writes in place, or into a copy at <paramref name="destination"/>.
        /// </summary>
        public static WritableTarget OpenImage(string imagePath, string? destination, bool force, IOperationContext context)
        {
            WritableLinuxImage image = WritableLinuxImage.OpenToPlan(imagePath, destination, force, context.Cancellation);
            try
            {
                foreach (string w in image.Warnings)
                {
                    context.Warning(w);
                }
                if (!new LinuxFacts(image.FileSystem).LooksLikeLinuxRoot)
                {
                    throw new AzureLinuxImageException("NotALinuxRoot", ErrorKind.InvalidArgument,
                        $"{image.SourcePath}: the file systems in the image do not hold a Linux root.", image.SourcePath);
                }
                return new WritableTarget(image.TargetPath, image.FileSystem, LinuxImageInspection.Facts(image.Image), image.Commit, image);
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }
    }

    /// <summary>Helpers the three write operations share.</summary>
    internal static class WriteOperation
    {
        /// <summary>
        /// Runs <paramref name="body"/> (which stages the changes through an <see cref="ImageEditor"/>), asks
        /// <see cref="IOperationContext.ShouldProcess"/> with every change (what -WhatIf shows) and commits. A root folder
        /// is staged once; so is an image, opened read-only (no copy made), and, when confirmed, what was staged is
        /// committed (in place, or into the destination copy), as the other image edits do. Nothing is written when
        /// nothing changes or the user declines.
        /// </summary>
        public static IReadOnlyList<LinuxImageChange> Execute(string? imagePath, string? rootPath, string? destination, bool force, string verb,
            IOperationContext context, Func<WritableTarget, ImageEditor> body)
        {
            if ((imagePath == null) == (rootPath == null))
            {
                throw new AzureLinuxImageException("ImageOrRootRequired", ErrorKind.InvalidArgument, "Give either an image path or a root folder (-RootPath), not both.");
            }
            if (rootPath != null)
            {
                if (destination != null)
                {
                    throw new AzureLinuxImageException("DestinationNeedsImage", ErrorKind.InvalidArgument, "-Destination (--destination) writes a changed copy of an image; a root folder is changed in place.", rootPath);
                }
                using WritableTarget root = WritableTarget.OpenRoot(rootPath, context);
                ImageEditor ed = body(root);
                if (!Confirm(root.Source, ed.Changes, verb, null, context))
                {
                    return ed.Changes;
                }
                root.Commit();
                return Applied(ed.Changes, root.Source, context);
            }
            using WritableTarget image = WritableTarget.OpenImage(imagePath!, destination, force, context);
            List<LinuxImageChange> planned = body(image).Changes;
            if (!Confirm(image.Source, planned, verb, destination == null ? null : System.IO.Path.GetFullPath(imagePath!), context))
            {
                return planned;
            }
            context.Cancellation.ThrowIfCancellationRequested();
            image.Commit();
            return Applied(planned, image.Source, context);
        }

        private static bool Confirm(string target, List<LinuxImageChange> changes, string verb, string? copyOf, IOperationContext context)
        {
            var writes = changes.FindAll(c => c.Action != LinuxImageChangeAction.NotFixed);
            if (writes.Count == 0)
            {
                context.Verbose($"{target}: nothing to change.");
                return false;
            }
            var summary = new System.Text.StringBuilder();
            summary.Append($"{verb}: {writes.Count} change(s)").Append(copyOf != null ? $" (in a copy of {copyOf})" : string.Empty);
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
            return context.ShouldProcess(target, summary.ToString());
        }

        private static IReadOnlyList<LinuxImageChange> Applied(List<LinuxImageChange> changes, string target, IOperationContext context)
        {
            int n = 0;
            foreach (LinuxImageChange c in changes.Where(c => c.Action != LinuxImageChangeAction.NotFixed))
            {
                c.Applied = true;
                n++;
            }
            context.Verbose($"{target}: {n} change(s) written.");
            return changes;
        }
    }
}
