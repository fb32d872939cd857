using System;
using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>
    /// Several file systems assembled at their mount points into one read-only view (the image as the
    /// booted system sees it). Path resolution, links and confinement are <see cref="FileSystemBase{TNode}"/>'s,
    /// over the whole view: an absolute link on /boot that points to /etc lands on the root file system.
    /// </summary>
    internal sealed class MountedFileSystem : FileSystemBase<MountedFileSystem.Node>
    {
        private readonly IFileSystem rootFs;
        private readonly Dictionary<string, IFileSystem> mounts;
        private readonly Node root;
        private readonly string description;

        /// <param name="rootFs">The file system at /.</param>
        /// <param name="mounts">Other file systems by canonical absolute mount point ("/boot", "/boot/efi").</param>
        /// <param name="description">For messages.</param>
        public MountedFileSystem(IFileSystem rootFs, IReadOnlyDictionary<string, IFileSystem> mounts, string description)
        {
            this.rootFs = rootFs;
            this.mounts = new Dictionary<string, IFileSystem>(StringComparer.Ordinal);
            foreach (var m in mounts)
            {
                if (m.Key != "/")
                {
                    this.mounts[m.Key.TrimEnd('/')] = m.Value;
                }
            }
            this.description = description;
            root = new Node(rootFs, "/", Entry(rootFs, "/"), "/");
        }

        /// <summary>A node of the view: which file system, the path inside it, and its entry there.</summary>
        internal sealed class Node
        {
            public Node(IFileSystem fs, string innerPath, FileEntry entry, string viewPath)
            {
                Fs = fs;
                InnerPath = innerPath;
                Entry = entry;
                ViewPath = viewPath;
            }

            /// <summary>Canonical path in the assembled view.</summary>
            public string ViewPath { get; }

            public IFileSystem Fs { get; }

            public string InnerPath { get; }

            public FileEntry Entry { get; }
        }

        public override string Description => description;

        protected override Node Root => root;

        /// <summary>The file system mounted at each mount point, for reports.</summary>
        public IReadOnlyDictionary<string, IFileSystem> Mounts => mounts;

        protected override FileEntryType TypeOf(Node node) => node.Entry.Type;

        protected override Node? Lookup(Node directory, string name)
        {
            string view = Combine(directory.ViewPath, name);
            if (mounts.TryGetValue(view, out IFileSystem? mounted))
            {
                return new Node(mounted, "/", Entry(mounted, "/"), view);
            }
            FileEntry? e = directory.Fs.GetEntry(Combine(directory.InnerPath, name), followLastLink: false);
            return e == null ? null : new Node(directory.Fs, e.Path, e, view);
        }

        protected override IEnumerable<KeyValuePair<string, Node>> Children(Node directory)
        {
            string parentView = directory.ViewPath;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (FileEntry e in directory.Fs.List(directory.InnerPath))
            {
                seen.Add(e.Name);
                string view = Combine(parentView, e.Name);
                Node node = mounts.TryGetValue(view, out IFileSystem? mounted)
                    ? new Node(mounted, "/", Entry(mounted, "/"), view)
                    : new Node(directory.Fs, e.Path, e, view);
                yield return new KeyValuePair<string, Node>(e.Name, node);
            }
            // A mount point whose directory is missing on the parent file system still shows.
            foreach (var m in mounts)
            {
                int slash = m.Key.LastIndexOf('/');
                string parent = slash == 0 ? "/" : m.Key.Substring(0, slash);
                string name = m.Key.Substring(slash + 1);
                if (parent == parentView && !seen.Contains(name))
                {
                    yield return new KeyValuePair<string, Node>(name, new Node(m.Value, "/", Entry(m.Value, "/"), m.Key));
                }
            }
        }

        protected override string ReadLinkTarget(Node link) =>
            link.Entry.LinkTarget ?? throw new InvalidImageException(link.Fs.Description, "symbolic link", $"{link.InnerPath} has no target.");

        protected override FileEntry Describe(Node node, string path)
        {
            FileEntry e = node.Entry;
            return new FileEntry(path, e.Type, e.Size, e.Mode, e.Uid, e.Gid, e.Modified, e.LinkTarget);
        }

        protected override Stream OpenContent(Node node, string path) => node.Fs.OpenRead(node.InnerPath);

        /// <summary>
        /// The directory that holds the last component of <paramref name="path"/> (links in the parent
        /// followed across mounts) and that component's name; null when the parent does not exist. Writers
        /// use this to find which file system and inner path a change goes to.
        /// </summary>
        internal (Node Parent, string Name)? ResolveParent(string path)
        {
            string trimmed = path.TrimEnd('/');
            int slash = trimmed.LastIndexOf('/');
            string name = trimmed.Substring(slash + 1);
            if (name.Length == 0 || name == "." || name == "..")
            {
                throw new AzureLinuxImageException("InvalidItemPath", ErrorKind.InvalidArgument, $"{Description}: '{path}' does not name an entry that can be changed (the root, '.' or '..').");
            }
            string parentPath = slash <= 0 ? "/" : trimmed.Substring(0, slash);
            Resolved? r = Resolve(parentPath, followLastLink: true);
            if (r == null)
            {
                return null;
            }
            if (r.Value.Node.Entry.Type != FileEntryType.Directory)
            {
                throw new AzureLinuxImageException("NotADirectory", ErrorKind.InvalidArgument, $"{Description}: {parentPath} is not a directory.");
            }
            return (r.Value.Node, name);
        }

        /// <summary>The file system mounted exactly at <paramref name="viewPath"/>, if any.</summary>
        internal IFileSystem? MountedAt(string viewPath) => mounts.TryGetValue(viewPath, out IFileSystem? fs) ? fs : null;

        /// <summary>The file systems of the view: the root first, then the mounts.</summary>
        internal IEnumerable<IFileSystem> AllFileSystems()
        {
            yield return rootFs;
            foreach (IFileSystem fs in mounts.Values)
            {
                yield return fs;
            }
        }

        internal static string CombinePath(string parent, string name) => Combine(parent, name);

        private static FileEntry Entry(IFileSystem fs, string path) =>
            fs.GetEntry(path, followLastLink: false) ?? throw new InvalidImageException(fs.Description, "root directory", "the root directory cannot be read.");

        private static string Combine(string parent, string name) => parent == "/" ? "/" + name : parent + "/" + name;

        public override void Dispose()
        {
            rootFs.Dispose();
            foreach (IFileSystem fs in mounts.Values)
            {
                fs.Dispose();
            }
        }
    }
}
