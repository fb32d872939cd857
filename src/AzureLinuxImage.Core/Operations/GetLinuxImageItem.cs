using System.Collections.Generic;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// Get-LinuxImageItem / azlinux ls: the entries of a directory inside an image (links followed to it),
    /// or the entry itself when it is not a directory (a link shows as a link, with its target).
    /// </summary>
    internal static class GetLinuxImageItem
    {
        /// <summary>-Recurse stops here rather than run without end on a directory cycle in a damaged image.</summary>
        public const int MaxRecursiveItems = 2_000_000;
        public const int MaxDepth = 128;

        public static IEnumerable<LinuxImageItem> Run(string? imagePath, string? rootPath, string itemPath, bool recurse, IOperationContext context)
        {
            using LinuxImageView view = LinuxImageView.Open(imagePath, rootPath, context);
            IFileSystem fs = view.FileSystem;
            // A dangling link (its parent lists it) is shown as itself, like ls -l.
            FileEntry? target = fs.GetEntry(itemPath, followLastLink: true) ?? fs.GetEntry(itemPath, followLastLink: false);
            if (target == null)
            {
                throw new AzureLinuxImageException("ItemNotFound", ErrorKind.NotFound, $"{fs.Description}: {itemPath} does not exist.", view.Source);
            }
            if (target.Type != FileEntryType.Directory)
            {
                yield return new LinuxImageItem(view.Source, fs.GetEntry(itemPath, followLastLink: false) ?? target, view.IsRootFolder);
                yield break;
            }
            int count = 0;
            var pending = new Stack<(string Path, int Depth)>();
            pending.Push((target.Path, 0));
            while (pending.Count > 0)
            {
                var (dir, depth) = pending.Pop();
                var subdirs = new List<string>();
                foreach (FileEntry e in fs.List(dir))
                {
                    context.Cancellation.ThrowIfCancellationRequested();
                    if (++count > MaxRecursiveItems)
                    {
                        throw new AzureLinuxImageException("TooManyItems", ErrorKind.InvalidData, $"{fs.Description}: more than {MaxRecursiveItems} entries under {itemPath} (a directory cycle in a damaged image?).", view.Source);
                    }
                    yield return new LinuxImageItem(view.Source, e, view.IsRootFolder);
                    if (recurse && e.Type == FileEntryType.Directory && depth < MaxDepth)
                    {
                        subdirs.Add(e.Path);
                    }
                }
                for (int i = subdirs.Count - 1; i >= 0; i--)
                {
                    pending.Push((subdirs[i], depth + 1));
                }
            }
        }
    }
}
