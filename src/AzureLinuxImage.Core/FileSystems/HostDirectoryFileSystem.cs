using System;
using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>
    /// A Linux root that is a folder on this machine (-RootPath: a mounted image or a chroot). Links are
    /// resolved by <see cref="FileSystemBase{TNode}"/>, never by the host OS, so an absolute link such as
    /// /etc/os-release -> /usr/lib/os-release stays inside the root.
    /// </summary>
    internal sealed class HostDirectoryFileSystem : FileSystemBase<string>
    {
        private readonly string root;

        public HostDirectoryFileSystem(string rootPath)
        {
            root = System.IO.Path.GetFullPath(rootPath);
            if (!Directory.Exists(root))
            {
                throw new AzureLinuxImageException("RootPathNotFound", ErrorKind.NotFound, $"{root}: the folder does not exist.", root);
            }
        }

        public override string Description => $"folder {root}";

        protected override string Root => root;

        protected override FileEntryType TypeOf(string node)
        {
            if (IsSymlink(node))
            {
                return FileEntryType.Symlink;
            }
            return Directory.Exists(node) ? FileEntryType.Directory : FileEntryType.File;
        }

        protected override string? Lookup(string directory, string name)
        {
            string child = System.IO.Path.Combine(directory, name);
            return File.Exists(child) || Directory.Exists(child) || IsSymlink(child) ? child : null;
        }

        protected override IEnumerable<KeyValuePair<string, string>> Children(string directory)
        {
            foreach (string p in Directory.EnumerateFileSystemEntries(directory))
            {
                yield return new KeyValuePair<string, string>(System.IO.Path.GetFileName(p), p);
            }
        }

        protected override string ReadLinkTarget(string link) => ReadLink(link)
            ?? throw new AzureLinuxImageException("ReadLinkFailed", ErrorKind.ResourceUnavailable, $"{link}: cannot read the symbolic link.", link);

        protected override FileEntry Describe(string node, string path)
        {
            FileEntryType type = TypeOf(node);
            string? target = type == FileEntryType.Symlink ? ReadLink(node) : null;
            // lstat (statx without following links): the host's real mode, owner and directory size.
            IO.UnixEntryStatus? status = IO.UnixFileApi.GetEntryStatus(node);
            if (status != null)
            {
                IO.UnixOwnership o = status.Value.Ownership;
                return new FileEntry(path, type, status.Value.Size, o.Mode, o.Uid, o.Gid, status.Value.Modified, target);
            }
            long size = type == FileEntryType.File ? new FileInfo(node).Length : target?.Length ?? 0;
            DateTimeOffset? modified = type == FileEntryType.Symlink ? (DateTimeOffset?)null : File.GetLastWriteTimeUtc(node);
            return new FileEntry(path, type, size, 0, 0, 0, modified, target);
        }

        protected override Stream OpenContent(string node, string path) =>
            new FileStream(node, FileMode.Open, FileAccess.Read, FileShare.Read);

        private static bool IsSymlink(string path) => ReadLink(path) != null;

        /// <summary>readlink(2); null when the path is not a link (the same call <see cref="HostDirectoryWriter"/> makes).</summary>
        private static string? ReadLink(string path) => IO.UnixFileApi.ReadLink(path);
    }
}
