using System;
using System.Collections.Generic;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Disks
{
    /// <summary>State of one <see cref="DiskImage.Open(string)"/> call: the chain being opened, for loop and depth limits.</summary>
    internal sealed class DiskOpenContext
    {
        /// <summary>Deeper chains than this are refused: real chains are a few levels, hostile ones are endless.</summary>
        public const int MaxChainDepth = 256;

        private readonly HashSet<string> chain = new HashSet<string>(StringComparer.Ordinal);

        public int Depth => chain.Count;

        /// <summary>
        /// Opens a parent image named by <paramref name="child"/>, refusing loops and absurd depths.
        /// <paramref name="asRaw"/> skips probing when the child records the parent's format as raw
        /// (a raw parent whose first bytes look like a qcow2 header must not be read as one).
        /// </summary>
        public DiskImage OpenParent(string child, string parentPath, bool asRaw = false)
        {
            string full = System.IO.Path.GetFullPath(parentPath);
            if (chain.Contains(full))
            {
                throw new InvalidImageException(child, "parent locator", $"the parent chain loops back to {full}.");
            }
            if (chain.Count >= MaxChainDepth)
            {
                throw new InvalidImageException(child, "parent locator", $"the parent chain is deeper than {MaxChainDepth} images.");
            }
            RequireNonEmptyFile(child, full, "parent");
            return DiskFormats.Open(full, this, asRaw);
        }

        /// <summary>
        /// A file another image names (parent, extent) must be a non-empty regular file: a pipe would block
        /// the open forever and a character device (/dev/zero, /dev/urandom) never ends. Both report length 0.
        /// </summary>
        public static void RequireNonEmptyFile(string child, string path, string role)
        {
            var info = new System.IO.FileInfo(path);
            if (info.Exists && info.Length == 0)
            {
                throw new InvalidImageException(child, role + " file", $"{path} is empty or not a regular file (a pipe or device?).");
            }
        }

        internal void Enter(string fullPath) => chain.Add(fullPath);

        internal void Leave(string fullPath) => chain.Remove(fullPath);
    }
}
