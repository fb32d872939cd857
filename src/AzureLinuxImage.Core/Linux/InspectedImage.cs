using System;
using System.Collections.Generic;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>What the image layer hands the readiness check: the assembled root view and the disk under it.</summary>
    internal sealed class InspectedImage : IDisposable
    {
        private readonly IDisposable? owner;

        public InspectedImage(IFileSystem root, DiskLayoutFacts? disk, IDisposable? owner = null, IReadOnlyList<string>? warnings = null)
        {
            Root = root;
            Disk = disk;
            this.owner = owner;
            Warnings = warnings ?? Array.Empty<string>();
        }

        public IFileSystem Root { get; }

        public DiskLayoutFacts? Disk { get; }

        /// <summary>What was damaged or skipped while assembling the view (a backup GPT used, a volume unreadable).</summary>
        public IReadOnlyList<string> Warnings { get; }

        public void Dispose()
        {
            Root.Dispose();
            owner?.Dispose();
        }
    }
}
