using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>What a write changed, for -WhatIf, -Verbose and results.</summary>
    public enum ItemChangeKind
    {
        /// <summary>A regular file was created.</summary>
        CreateFile,
        /// <summary>A regular file's content was replaced.</summary>
        ReplaceFile,
        /// <summary>A directory was created.</summary>
        CreateDirectory,
        /// <summary>A symbolic link was created.</summary>
        CreateSymlink,
        /// <summary>An entry (and, recursively, its content) was removed.</summary>
        Remove,
        /// <summary>Mode, owner or time changed.</summary>
        SetAttributes,
    }

    /// <summary>One staged change to an entry of the image.</summary>
    public sealed class ItemChange
    {
        internal ItemChange(ItemChangeKind kind, string path, string fileSystem, string? detail)
        {
            Kind = kind;
            Path = path;
            FileSystem = fileSystem;
            Detail = detail;
        }

        /// <summary>What happened.</summary>
        public ItemChangeKind Kind { get; }

        /// <summary>The path in the assembled view, links resolved as the change followed them.</summary>
        public string Path { get; }

        /// <summary>The file system the change goes to.</summary>
        public string FileSystem { get; }

        /// <summary>Sizes, link target, mode: what the change is.</summary>
        public string? Detail { get; }

        /// <inheritdoc />
        public override string ToString() => $"{Kind} {Path}" + (Detail != null ? $" ({Detail})" : string.Empty);
    }

    /// <summary>
    /// The assembled Linux view (root plus fstab mounts) as one writer: each path is resolved in the view
    /// (links followed across mounts, confined to the image) to the file system that holds it, and the
    /// change goes to that file system's writer; <see cref="Commit"/> commits every one that changed.
    /// </summary>
    internal sealed class MountedFileSystemWriter : IFileSystemWriter
    {
        private readonly MountedFileSystem view;
        private readonly List<ItemChange> changes = new List<ItemChange>();
        private readonly HashSet<IFileSystemWriter> touched = new HashSet<IFileSystemWriter>();

        public MountedFileSystemWriter(MountedFileSystem view)
        {
            this.view = view;
        }

        public string Description => view.Description;

        /// <summary>The changes staged so far, in order.</summary>
        public IReadOnlyList<ItemChange> Changes => changes;

        public FileEntry? GetEntry(string path, bool followLastLink = true) => view.GetEntry(path, followLastLink);

        public IEnumerable<FileEntry> List(string path) => view.List(path);

        public Stream OpenRead(string path) => view.OpenRead(path);

        public void WriteFile(string path, Stream content, NewItemAttributes? attributes = null)
        {
            Target t = Locate(path, followLastLink: true);
            RefuseMountPoint(t, path, "replaced by a file");
            FileEntry? before = t.Fs.GetEntry(t.InnerPath, followLastLink: false);
            if (before != null && before.Type != FileEntryType.File)
            {
                throw new AzureLinuxImageException("NotAFile", ErrorKind.InvalidArgument, $"{Description}: {t.ViewPath} is a {before.Type.ToString().ToLowerInvariant()}, not a regular file.");
            }
            long start = content.CanSeek ? content.Position : -1;
            t.Writer.WriteFile(t.InnerPath, content, attributes);
            string size = content.CanSeek ? $"{content.Position - start} bytes" : "new content";
            Record(t, before == null ? ItemChangeKind.CreateFile : ItemChangeKind.ReplaceFile, before == null ? size : $"{before.Size} -> {size}");
        }

        public void CreateDirectory(string path, NewItemAttributes? attributes = null)
        {
            Target t = Locate(path, followLastLink: false);
            RefuseMountPoint(t, path, "created");
            t.Writer.CreateDirectory(t.InnerPath, attributes);
            Record(t, ItemChangeKind.CreateDirectory, null);
        }

        public void CreateSymlink(string path, string target, NewItemAttributes? attributes = null)
        {
            Target t = Locate(path, followLastLink: false);
            RefuseMountPoint(t, path, "created");
            t.Writer.CreateSymlink(t.InnerPath, target, attributes);
            Record(t, ItemChangeKind.CreateSymlink, "-> " + target);
        }

        public void Delete(string path, bool recursive = false)
        {
            Target t = Locate(path, followLastLink: false);
            RefuseMountPoint(t, path, "removed");
            string prefix = t.ViewPath + "/";
            string? nested = view.Mounts.Keys.FirstOrDefault(m => m.StartsWith(prefix, StringComparison.Ordinal));
            if (nested != null)
            {
                throw new AzureLinuxImageException("MountPointInside", ErrorKind.InvalidArgument,
                    $"{Description}: {t.ViewPath} holds the mount point {nested} of another file system; remove what is inside the mount first.");
            }
            t.Writer.Delete(t.InnerPath, recursive);
            Record(t, ItemChangeKind.Remove, recursive ? "recursive" : null);
        }

        public void SetAttributes(string path, uint? mode = null, uint? uid = null, uint? gid = null, DateTimeOffset? modified = null)
        {
            Target t = Locate(path, followLastLink: true);
            t.Writer.SetAttributes(t.InnerPath, mode, uid, gid, modified);
            var parts = new List<string>();
            if (mode != null)
            {
                parts.Add("mode " + Convert.ToString(mode.Value, 8).PadLeft(4, '0'));
            }
            if (uid != null || gid != null)
            {
                parts.Add($"owner {uid?.ToString() ?? "-"}:{gid?.ToString() ?? "-"}");
            }
            if (modified != null)
            {
                parts.Add("modified " + modified.Value.ToString("u"));
            }
            Record(t, ItemChangeKind.SetAttributes, string.Join(", ", parts));
        }

        public void Commit()
        {
            // The root last: a change on /boot never leaves the root pointing at something missing.
            IFileSystem root = view.AllFileSystems().First();
            foreach (IFileSystemWriter w in touched.OrderBy(w => ReferenceEquals(w, root) ? 1 : 0))
            {
                w.Commit();
            }
            touched.Clear();
        }

        public void Dispose() => view.Dispose();

        private void Record(Target t, ItemChangeKind kind, string? detail)
        {
            touched.Add(t.Writer);
            changes.Add(new ItemChange(kind, t.ViewPath, t.Fs.Description, detail));
        }

        private void RefuseMountPoint(Target t, string path, string what)
        {
            if (t.IsMountPoint)
            {
                throw new AzureLinuxImageException("MountPointNotChangeable", ErrorKind.InvalidArgument,
                    $"{Description}: {path} is the mount point of {t.Fs.Description} and cannot be {what}.");
            }
        }

        private Target Locate(string path, bool followLastLink)
        {
            if (string.IsNullOrEmpty(path) || path.Length > FileSystemBase<object>.MaxPathLength)
            {
                throw new AzureLinuxImageException("InvalidItemPath", ErrorKind.InvalidArgument, $"{Description}: the path is empty or longer than {FileSystemBase<object>.MaxPathLength} characters.");
            }
            string current = path.StartsWith("/", StringComparison.Ordinal) ? path : "/" + path;
            for (int follows = 0; ; follows++)
            {
                var located = view.ResolveParent(current);
                if (located == null)
                {
                    throw new AzureLinuxImageException("ParentNotFound", ErrorKind.NotFound, $"{Description}: the folder that would hold {path} does not exist.");
                }
                var (parent, name) = located.Value;
                string viewPath = MountedFileSystem.CombinePath(parent.ViewPath, name);
                IFileSystem? mounted = view.MountedAt(viewPath);
                if (mounted != null)
                {
                    return new Target(mounted, "/", viewPath, true);
                }
                string inner = MountedFileSystem.CombinePath(parent.InnerPath, name);
                if (followLastLink)
                {
                    FileEntry? e = parent.Fs.GetEntry(inner, followLastLink: false);
                    if (e != null && e.Type == FileEntryType.Symlink && e.LinkTarget != null)
                    {
                        if (follows >= FileSystemBase<object>.MaxLinkFollows)
                        {
                            throw new InvalidImageException(Description, "symbolic link", $"more than {FileSystemBase<object>.MaxLinkFollows} links while resolving {path} (a link loop).");
                        }
                        current = e.LinkTarget.StartsWith("/", StringComparison.Ordinal) ? e.LinkTarget : MountedFileSystem.CombinePath(parent.ViewPath, e.LinkTarget);
                        continue;
                    }
                }
                return new Target(parent.Fs, inner, viewPath, false);
            }
        }

        private readonly struct Target
        {
            public Target(IFileSystem fs, string innerPath, string viewPath, bool isMountPoint)
            {
                Fs = fs;
                InnerPath = innerPath;
                ViewPath = viewPath;
                IsMountPoint = isMountPoint;
            }

            public IFileSystem Fs { get; }

            public string InnerPath { get; }

            public string ViewPath { get; }

            public bool IsMountPoint { get; }

            public IFileSystemWriter Writer => Fs as IFileSystemWriter ?? throw new AzureLinuxImageException("FileSystemNotWritable", ErrorKind.NotSupported,
                $"{Fs.Description} cannot be written in this version ({ViewPath}).");
        }
    }

    /// <summary>
    /// A file system that is read but not written (FAT's ESP, or a volume whose device cannot be
    /// written): every change is refused with the reason, naming the path.
    /// </summary>
    internal sealed class ReadOnlyFileSystemWriter : IFileSystemWriter
    {
        private readonly IFileSystem inner;
        private readonly string reason;

        public ReadOnlyFileSystemWriter(IFileSystem inner, string reason)
        {
            this.inner = inner;
            this.reason = reason;
        }

        public string Description => inner.Description;

        public FileEntry? GetEntry(string path, bool followLastLink = true) => inner.GetEntry(path, followLastLink);

        public IEnumerable<FileEntry> List(string path) => inner.List(path);

        public Stream OpenRead(string path) => inner.OpenRead(path);

        public void WriteFile(string path, Stream content, NewItemAttributes? attributes = null) => throw Refuse(path);

        public void CreateDirectory(string path, NewItemAttributes? attributes = null) => throw Refuse(path);

        public void CreateSymlink(string path, string target, NewItemAttributes? attributes = null) => throw Refuse(path);

        public void Delete(string path, bool recursive = false) => throw Refuse(path);

        public void SetAttributes(string path, uint? mode = null, uint? uid = null, uint? gid = null, DateTimeOffset? modified = null) => throw Refuse(path);

        public void Commit()
        {
        }

        public void Dispose() => inner.Dispose();

        private AzureLinuxImageException Refuse(string path) =>
            new AzureLinuxImageException("FileSystemNotWritable", ErrorKind.NotSupported, $"{inner.Description}: {path} cannot be changed: {reason}");
    }
}
