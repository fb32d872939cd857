using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Operations
{
    /// <summary>What a change inside an image did (or would do, under -WhatIf / --dry-run).</summary>
    public sealed class LinuxImageWriteResult
    {
        internal LinuxImageWriteResult(string path, string sourcePath, bool written, IReadOnlyList<ItemChange> changes, IReadOnlyList<VolumeChange> volumes)
        {
            Path = path;
            SourcePath = sourcePath;
            Written = written;
            Changes = changes;
            Volumes = volumes;
        }

        /// <summary>The image changed: the destination, or the image itself in place (pipes on as -Path).</summary>
        public string Path { get; }

        /// <summary>The image read from (the same as <see cref="Path"/> in place).</summary>
        public string SourcePath { get; }

        /// <summary>False for a dry run or a declined confirmation: the image is byte-identical.</summary>
        public bool Written { get; }

        /// <summary>The entries changed, in order.</summary>
        public IReadOnlyList<ItemChange> Changes { get; }

        /// <summary>Where on each volume the bytes were (or would be) written.</summary>
        public IReadOnlyList<VolumeChange> Volumes { get; }

        /// <summary>Bytes written to (or staged for) the image.</summary>
        public long BytesWritten => Volumes.Sum(v => v.Bytes);

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => (Written ? "written: " : "not written: ") + Changes.Count + " change(s) in " + Path;
    }

    /// <summary>
    /// The one way operations change files inside an image: the image is opened read-only (no copy) and the
    /// edit staged, which says exactly what it changes; that list is what -WhatIf and -Confirm show (-Verbose
    /// adds the byte ranges and inodes); only when confirmed is the file given write access (in place) or
    /// copied to the destination, and the staged change committed: one open and one staging per edit
    /// (issue 17's benchmark goal), and what was shown is what is written.
    /// </summary>
    internal static class LinuxImageEdit
    {
        public static LinuxImageWriteResult Run(string imagePath, string? destination, bool force, string action, Action<IFileSystemWriter> edit, IOperationContext context) =>
            Run(imagePath, destination, force, () => action, edit, context);

        /// <summary>As above; <paramref name="describe"/> is asked after the dry staging (it may use what the edit learnt).</summary>
        public static LinuxImageWriteResult Run(string imagePath, string? destination, bool force, Func<string> describe, Action<IFileSystemWriter> edit, IOperationContext context)
        {
            string source = Path.GetFullPath(imagePath);
            string target = destination == null ? source : Path.GetFullPath(destination);
            using WritableLinuxImage image = WritableLinuxImage.OpenToPlan(source, destination, force, context.Cancellation);
            foreach (string w in image.Warnings)
            {
                context.Warning(w);
            }
            edit(image.FileSystem);
            IReadOnlyList<ItemChange> planned = image.Changes.ToList();
            IReadOnlyList<VolumeChange> volumes = image.VolumeChanges;
            foreach (VolumeChange v in volumes)
            {
                context.Verbose($"{v.Volume}: {v.Bytes} bytes in {v.Ranges.Count} range(s): " +
                    string.Join(", ", v.Ranges.Select(r => $"[{r.Offset}, +{r.Length}) {r.Stage}")) +
                    (v.Details.Count > 0 ? "; " + string.Join("; ", v.Details) : string.Empty));
            }
            string action = describe();
            string what = planned.Count == 0 ? action + " (no change)" : action + "\n" + string.Join("\n", planned.Select(c => c.ToString()));
            if (destination != null)
            {
                what += $" (in a copy of {source})";
            }
            if (planned.Count == 0 || !context.ShouldProcess(target, what))
            {
                return new LinuxImageWriteResult(target, source, false, planned, volumes);
            }
            context.Cancellation.ThrowIfCancellationRequested();
            // What was listed is what is committed: the same staging, now given write access (one open, one parse).
            image.Commit();
            context.Verbose($"{target}: {planned.Count} change(s) committed, {volumes.Sum(v => v.Bytes)} bytes written.");
            return new LinuxImageWriteResult(target, source, true, planned, volumes);
        }

        /// <summary>
        /// Several changes to one image in one staging and one commit (a pipeline of items): an item that
        /// fails is reported through <paramref name="failed"/> (its own changes are not staged: the writers
        /// stage all of an operation or none) and the others go on.
        /// </summary>
        public static LinuxImageWriteResult RunBatch(string imagePath, string? destination, bool force, string action,
            IReadOnlyList<(string Item, Action<IFileSystemWriter> Edit)> items, Action<string, AzureLinuxImageException> failed, IOperationContext context)
        {
            return Run(imagePath, destination, force, action, fs =>
            {
                foreach (var (item, itemEdit) in items)
                {
                    try
                    {
                        itemEdit(fs);
                    }
                    catch (AzureLinuxImageException e)
                    {
                        failed(item, e);
                    }
                }
            }, context);
        }

        /// <summary>An absolute, '/'-separated path inside the image; a typed error otherwise.</summary>
        public static string ItemPath(string path)
        {
            if (string.IsNullOrEmpty(path) || path[0] != '/' || path.IndexOf('\0') >= 0)
            {
                throw new AzureLinuxImageException("InvalidItemPath", ErrorKind.InvalidArgument, $"'{path}' is not an absolute path inside the image (it must start with '/').");
            }
            return path;
        }
    }

    /// <summary>Set-LinuxImageContent / azlinux write: create or replace a regular file inside an image.</summary>
    internal static class SetLinuxImageContent
    {
        /// <summary>The edit alone, for <see cref="LinuxImageEdit.RunBatch"/>.</summary>
        public static Action<IFileSystemWriter> Edit(string itemPath, Func<Stream> content, NewItemAttributes? attributes)
        {
            string item = LinuxImageEdit.ItemPath(itemPath);
            return fs =>
            {
                using Stream s = content();
                fs.WriteFile(item, s, attributes);
            };
        }

        /// <summary>Writes the content <paramref name="content"/> opens to <paramref name="itemPath"/>.</summary>
        public static LinuxImageWriteResult Run(string imagePath, string itemPath, Func<Stream> content, NewItemAttributes? attributes, string? destination, bool force, IOperationContext context)
        {
            string item = LinuxImageEdit.ItemPath(itemPath);
            return LinuxImageEdit.Run(imagePath, destination, force, $"Write {item}", fs =>
            {
                using Stream s = content();
                fs.WriteFile(item, s, attributes);
            }, context);
        }
    }

    /// <summary>Remove-LinuxImageItem / azlinux rm.</summary>
    internal static class RemoveLinuxImageItem
    {
        public static LinuxImageWriteResult Run(string imagePath, string itemPath, bool recursive, string? destination, bool force, IOperationContext context) =>
            LinuxImageEdit.Run(imagePath, destination, force, $"Remove {itemPath}", Edit(itemPath, recursive), context);

        /// <summary>The edit alone, for <see cref="LinuxImageEdit.RunBatch"/>.</summary>
        public static Action<IFileSystemWriter> Edit(string itemPath, bool recursive)
        {
            string item = LinuxImageEdit.ItemPath(itemPath);
            return fs =>
            {
                if (fs.GetEntry(item, followLastLink: false) == null)
                {
                    throw new AzureLinuxImageException("ItemNotFound", ErrorKind.NotFound, $"{fs.Description}: {item} does not exist.");
                }
                fs.Delete(item, recursive);
            };
        }
    }

    /// <summary>What New-LinuxImageItem creates.</summary>
    public enum LinuxImageItemType
    {
        /// <summary>An empty (or given) regular file.</summary>
        File,
        /// <summary>A directory.</summary>
        Directory,
        /// <summary>A symbolic link.</summary>
        SymbolicLink,
    }

    /// <summary>New-LinuxImageItem / azlinux mkdir, ln.</summary>
    internal static class NewLinuxImageItem
    {
        public static LinuxImageWriteResult Run(string imagePath, string itemPath, LinuxImageItemType type, string? target, Func<Stream>? content, NewItemAttributes? attributes, bool createParents, string? destination, bool force, IOperationContext context) =>
            LinuxImageEdit.Run(imagePath, destination, force, $"Create {type.ToString().ToLowerInvariant()} {itemPath}", Edit(itemPath, type, target, content, attributes, createParents), context);

        /// <summary>The edit alone, for <see cref="LinuxImageEdit.RunBatch"/>.</summary>
        public static Action<IFileSystemWriter> Edit(string itemPath, LinuxImageItemType type, string? target, Func<Stream>? content, NewItemAttributes? attributes, bool createParents)
        {
            string item = LinuxImageEdit.ItemPath(itemPath);
            if (type == LinuxImageItemType.SymbolicLink && string.IsNullOrEmpty(target))
            {
                throw new AzureLinuxImageException("LinkTargetRequired", ErrorKind.InvalidArgument, $"{item}: a symbolic link needs a target (-Target).");
            }
            return fs =>
            {
                if (createParents)
                {
                    CreateParents(fs, item, attributes);
                }
                if (fs.GetEntry(item, followLastLink: false) != null)
                {
                    throw new AzureLinuxImageException("ItemExists", ErrorKind.AlreadyExists, $"{fs.Description}: {item} already exists.");
                }
                switch (type)
                {
                    case LinuxImageItemType.Directory:
                        fs.CreateDirectory(item, attributes);
                        break;
                    case LinuxImageItemType.SymbolicLink:
                        fs.CreateSymlink(item, target!, attributes);
                        break;
                    default:
                        using (Stream s = content?.Invoke() ?? new MemoryStream())
                        {
                            fs.WriteFile(item, s, attributes);
                        }
                        break;
                }
            };
        }

        private static void CreateParents(IFileSystemWriter fs, string item, NewItemAttributes? attributes)
        {
            string[] parts = item.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries);
            string current = string.Empty;
            for (int i = 0; i < parts.Length - 1; i++)
            {
                current += "/" + parts[i];
                FileEntry? e = fs.GetEntry(current);
                if (e == null)
                {
                    var dirAttributes = new NewItemAttributes { Mode = 0x1ED, Uid = attributes?.Uid ?? 0, Gid = attributes?.Gid ?? 0 }; // 0755
                    fs.CreateDirectory(current, dirAttributes);
                }
                else if (e.Type != FileEntryType.Directory)
                {
                    throw new AzureLinuxImageException("NotADirectory", ErrorKind.InvalidArgument, $"{fs.Description}: {current} is not a directory.");
                }
            }
        }
    }
}
