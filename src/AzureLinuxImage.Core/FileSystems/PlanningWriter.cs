using System;
using System.Collections.Generic;
using System.IO;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>
    /// A writer over a read-only file system that takes every change and makes none: an edit run over it lists
    /// what it would change (Publish-LinuxImage asks Clear-LinuxImageState's own run what remains, issue 26).
    /// Reads see the file system as it is, not the changes; the wrapped file system is not disposed.
    /// </summary>
    internal sealed class PlanningWriter : IFileSystemWriter
    {
        private readonly IFileSystem inner;

        public PlanningWriter(IFileSystem inner)
        {
            this.inner = inner;
        }

        public string Description => inner.Description;

        public FileEntry? GetEntry(string path, bool followLastLink = true) => inner.GetEntry(path, followLastLink);

        public IEnumerable<FileEntry> List(string path) => inner.List(path);

        public Stream OpenRead(string path) => inner.OpenRead(path);

        public void WriteFile(string path, Stream content, NewItemAttributes? attributes = null)
        {
        }

        public void CreateDirectory(string path, NewItemAttributes? attributes = null)
        {
        }

        public void CreateSymlink(string path, string target, NewItemAttributes? attributes = null)
        {
        }

        public void Delete(string path, bool recursive = false)
        {
        }

        public void SetAttributes(string path, uint? mode = null, uint? uid = null, uint? gid = null, DateTimeOffset? modified = null)
        {
        }

        public void Commit() => throw new InvalidOperationException("A planning writer never commits.");

        public void Dispose()
        {
        }
    }
}
