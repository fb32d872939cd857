using System;
using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>
    /// Path resolution shared by every file system: components are looked up one by one, symbolic
    /// links are followed inside the file system (an absolute target restarts at its root), '..'
    /// stops at the root, and more than <see cref="MaxLinkFollows"/> links in one lookup is a loop.
    /// Implementations provide only node-level primitives.
    /// </summary>
    /// <typeparam name="TNode">How the implementation names a node (inode number, host path ...).</typeparam>
    internal abstract class FileSystemBase<TNode> : IFileSystem
        where TNode : notnull
    {
        /// <summary>Linux's own limit (MAXSYMLINKS, ELOOP).</summary>
        public const int MaxLinkFollows = 40;

        /// <summary>Paths longer than Linux's PATH_MAX are refused before any lookup.</summary>
        public const int MaxPathLength = 4096;

        public abstract string Description { get; }

        protected abstract TNode Root { get; }

        protected abstract FileEntryType TypeOf(TNode node);

        /// <summary>The child named <paramref name="name"/> of a directory, or null.</summary>
        protected abstract TNode? Lookup(TNode directory, string name);

        protected abstract IEnumerable<KeyValuePair<string, TNode>> Children(TNode directory);

        protected abstract string ReadLinkTarget(TNode link);

        protected abstract FileEntry Describe(TNode node, string path);

        protected abstract Stream OpenContent(TNode node, string path);

        public FileEntry? GetEntry(string path, bool followLastLink = true)
        {
            Resolved? r = Resolve(path, followLastLink);
            return r == null ? null : Describe(r.Value.Node, r.Value.Path);
        }

        public IEnumerable<FileEntry> List(string path)
        {
            Resolved r = Resolve(path, true) ?? throw NotFound(path);
            if (TypeOf(r.Node) != FileEntryType.Directory)
            {
                throw new AzureLinuxImageException("NotADirectory", ErrorKind.InvalidArgument, $"{Description}: {path} is not a directory.");
            }
            return ListResolved(r);
        }

        private IEnumerable<FileEntry> ListResolved(Resolved r)
        {
            string prefix = r.Path == "/" ? "/" : r.Path + "/";
            foreach (KeyValuePair<string, TNode> child in Children(r.Node))
            {
                if (child.Key == "." || child.Key == "..")
                {
                    continue;
                }
                yield return Describe(child.Value, prefix + child.Key);
            }
        }

        public Stream OpenRead(string path)
        {
            Resolved r = Resolve(path, true) ?? throw NotFound(path);
            FileEntryType type = TypeOf(r.Node);
            if (type != FileEntryType.File)
            {
                throw new AzureLinuxImageException("NotAFile", ErrorKind.InvalidArgument, $"{Description}: {path} is a {type.ToString().ToLowerInvariant()}, not a regular file.");
            }
            return OpenContent(r.Node, r.Path);
        }

        public virtual void Dispose()
        {
        }

        protected readonly struct Resolved
        {
            public Resolved(TNode node, string path)
            {
                Node = node;
                Path = path;
            }

            public TNode Node { get; }

            public string Path { get; }
        }

        /// <summary>Resolves <paramref name="path"/>; null when a component does not exist or is not a directory.</summary>
        protected Resolved? Resolve(string path, bool followLastLink)
        {
            if (path == null || path.Length > MaxPathLength)
            {
                throw new AzureLinuxImageException("InvalidItemPath", ErrorKind.InvalidArgument, $"{Description}: the path is empty or longer than {MaxPathLength} characters.");
            }
            var stack = new List<KeyValuePair<string, TNode>>();
            var pending = new LinkedList<string>(Split(path));
            int follows = 0;
            while (pending.Count > 0)
            {
                string name = pending.First!.Value;
                pending.RemoveFirst();
                if (name.Length == 0 || name == ".")
                {
                    continue;
                }
                if (name == "..")
                {
                    if (stack.Count > 0)
                    {
                        stack.RemoveAt(stack.Count - 1);
                    }
                    continue;
                }
                TNode current = stack.Count == 0 ? Root : stack[stack.Count - 1].Value;
                if (TypeOf(current) != FileEntryType.Directory)
                {
                    return null;
                }
                TNode? child = Lookup(current, name);
                if (child == null)
                {
                    return null;
                }
                bool last = pending.Count == 0;
                if (TypeOf(child) == FileEntryType.Symlink && (!last || followLastLink))
                {
                    if (++follows > MaxLinkFollows)
                    {
                        throw new InvalidImageException(Description, "symbolic link", $"more than {MaxLinkFollows} links while resolving {path} (a link loop).");
                    }
                    string target = ReadLinkTarget(child);
                    if (target.StartsWith("/", StringComparison.Ordinal))
                    {
                        stack.Clear();
                    }
                    string[] parts = Split(target);
                    for (int i = parts.Length - 1; i >= 0; i--)
                    {
                        pending.AddFirst(parts[i]);
                    }
                    continue;
                }
                stack.Add(new KeyValuePair<string, TNode>(name, child));
            }
            if (stack.Count == 0)
            {
                return new Resolved(Root, "/");
            }
            var names = new string[stack.Count];
            for (int i = 0; i < stack.Count; i++)
            {
                names[i] = stack[i].Key;
            }
            return new Resolved(stack[stack.Count - 1].Value, "/" + string.Join("/", names));
        }

        protected AzureLinuxImageException NotFound(string path) =>
            new AzureLinuxImageException("ItemNotFound", ErrorKind.NotFound, $"{Description}: {path} does not exist.");

        private static string[] Split(string path) => path.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries);
    }
}
