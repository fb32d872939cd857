using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// Read-only btrfs over a <see cref="BlockDevice"/>, seen from one subvolume (the default one unless another
    /// is asked for), as `mount -o subvol=` shows it: subvolumes nested inside appear as directories and are
    /// entered. Path resolution, links and confinement come from <see cref="FileSystemBase{TNode}"/>.
    /// </summary>
    internal sealed class BtrfsFileSystem : FileSystemBase<BtrfsFileSystem.Inode>
    {
        /// <summary>Deeper subvolume nesting than any real layout; bounds naming loops.</summary>
        private const int MaxNesting = 64;

        /// <summary>Longest symlink target read (PATH_MAX).</summary>
        private const int MaxLinkLength = 4095;

        private readonly Shared shared;
        private readonly Inode root;

        private BtrfsFileSystem(Shared shared, ulong subvolume, string? name)
        {
            this.shared = shared;
            SubvolumeId = subvolume;
            BtrfsTree tree = shared.OpenTree(subvolume, out BtrfsRootItem item);
            root = ReadInode(tree, item.RootDirId, $"btrfs subvolume {subvolume} root directory");
            if (root.Item.Type != FileEntryType.Directory)
            {
                throw new InvalidImageException(shared.Volume.Where, $"btrfs subvolume {subvolume} root directory", $"inode {item.RootDirId} is a {root.Item.Type.ToString().ToLowerInvariant()}, not a directory.");
            }
            string label = shared.Volume.Superblock.Label.Length > 0 ? $" '{shared.Volume.Superblock.Label}'" : string.Empty;
            string sub = name == null ? $"subvolume {subvolume}" : $"subvolume {name}";
            Description = $"btrfs{label} {sub} on {shared.Volume.Where}";
        }

        /// <summary>A node: the tree (subvolume) it lives in, its inode number there, and its parsed INODE_ITEM.</summary>
        internal sealed class Inode
        {
            public Inode(BtrfsTree tree, ulong number, BtrfsInodeItem item)
            {
                Tree = tree;
                Number = number;
                Item = item;
            }

            public BtrfsTree Tree { get; }

            public ulong Number { get; }

            public BtrfsInodeItem Item { get; }
        }

        /// <summary>What every subvolume view of one file system shares: the volume (and its block cache) and the root tree.</summary>
        private sealed class Shared
        {
            private readonly Dictionary<ulong, (BtrfsTree Tree, BtrfsRootItem Item)> trees = new Dictionary<ulong, (BtrfsTree, BtrfsRootItem)>();

            public Shared(BtrfsVolume volume)
            {
                Volume = volume;
                BtrfsSuperblock sb = volume.Superblock;
                RootTree = new BtrfsTree(volume, BtrfsItem.RootTreeObjectId, sb.RootTree, sb.RootLevel, sb.Generation, "btrfs root tree");
            }

            public BtrfsVolume Volume { get; }

            public BtrfsTree RootTree { get; }

            /// <summary>The ROOT_ITEM of tree <paramref name="id"/> (the last one, as the kernel reads it), or null.</summary>
            public BtrfsRootItem? FindRootItem(ulong id)
            {
                BtrfsTreeCursor c = RootTree.Search(new BtrfsKey(id, BtrfsItem.RootItem, 0));
                BtrfsRootItem? found = null;
                int guard = 0;
                while (c.Valid && c.Key.ObjectId == id && c.Key.Type == BtrfsItem.RootItem && guard++ < 1024)
                {
                    found = BtrfsRootItem.Parse(id, c.Data, Volume.Superblock.SectorSize, Volume.Where, "btrfs root tree ROOT_ITEM");
                    c.MoveNext();
                }
                return found;
            }

            public BtrfsTree OpenTree(ulong id, out BtrfsRootItem item)
            {
                if (trees.TryGetValue(id, out var known))
                {
                    item = known.Item;
                    return known.Tree;
                }
                item = FindRootItem(id) ?? throw new AzureLinuxImageException("BtrfsSubvolumeNotFound", ErrorKind.NotFound, $"{Volume.Where}: btrfs has no subvolume with id {id}.", Volume.Where);
                var tree = new BtrfsTree(Volume, id, item.Bytenr, item.Level, item.Generation, $"btrfs subvolume {id} tree");
                if (trees.Count < 4096)
                {
                    trees[id] = (tree, item);
                }
                return tree;
            }
        }

        public override string Description { get; }

        /// <summary>The subvolume this view shows.</summary>
        public ulong SubvolumeId { get; }

        public BtrfsSuperblock Superblock => shared.Volume.Superblock;

        /// <summary>The fsid, what fstab's UUID= names the file system by.</summary>
        public Guid Uuid => Superblock.Uuid;

        protected override Inode Root => root;

        /// <summary>Opens the file system on <paramref name="device"/> at its default subvolume.</summary>
        public static BtrfsFileSystem Open(BlockDevice device)
        {
            var shared = new Shared(BtrfsVolume.Open(device));
            return new BtrfsFileSystem(shared, DefaultSubvolumeId(shared), null);
        }

        /// <summary>Another view of the same file system, at subvolume <paramref name="id"/> (fstab's subvolid=).</summary>
        public BtrfsFileSystem OpenSubvolume(ulong id) => new BtrfsFileSystem(shared, id, id == BtrfsItem.FsTreeObjectId ? "5 (top level)" : id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        /// <summary>Another view of the same file system at the subvolume named by a path from the top level (fstab's subvol=); null when there is none.</summary>
        public BtrfsFileSystem? OpenSubvolume(string path)
        {
            string wanted = NormalizeSubvolumePath(path);
            if (wanted.Length == 0)
            {
                return new BtrfsFileSystem(shared, BtrfsItem.FsTreeObjectId, "5 (top level)");
            }
            foreach (BtrfsSubvolumeInfo s in ListSubvolumes())
            {
                if (s.Path == wanted)
                {
                    return new BtrfsFileSystem(shared, s.Id, s.Path);
                }
            }
            return null;
        }

        /// <summary>"/@/home/" and "@/home" name the same subvolume.</summary>
        public static string NormalizeSubvolumePath(string path)
        {
            var parts = new List<string>();
            foreach (string p in path.Split('/'))
            {
                if (p.Length > 0 && p != ".")
                {
                    parts.Add(p);
                }
            }
            return string.Join("/", parts);
        }

        /// <summary>The default subvolume's id: the root tree directory's "default" entry (btrfs subvolume set-default), else 5.</summary>
        public ulong DefaultSubvolume => DefaultSubvolumeId(shared);

        private static ulong DefaultSubvolumeId(Shared shared)
        {
            byte[] name = Encoding.ASCII.GetBytes("default");
            byte[]? data = shared.RootTree.Find(new BtrfsKey(BtrfsItem.RootTreeDirObjectId, BtrfsItem.DirItem, BtrfsDirItem.NameHash(name)));
            if (data != null)
            {
                foreach (BtrfsDirItem d in BtrfsDirItem.ParseAll(data, 0, shared.Volume.Where, "btrfs root tree default subvolume entry"))
                {
                    if (d.Name.AsSpan().SequenceEqual(name))
                    {
                        return d.Location.ObjectId;
                    }
                }
            }
            return BtrfsItem.FsTreeObjectId;
        }

        /// <summary>Every subvolume and snapshot below the top level, with its path (ROOT_BACKREF, then INODE_REF up to its parent's root).</summary>
        public IReadOnlyList<BtrfsSubvolumeInfo> ListSubvolumes()
        {
            const string S = "btrfs root tree";
            string where = shared.Volume.Where;
            var found = new List<(ulong Id, ulong Parent, ulong DirId, string Name, BtrfsRootItem Item)>();
            BtrfsTreeCursor c = shared.RootTree.Search(new BtrfsKey(BtrfsItem.FirstFreeObjectId, 0, 0));
            BtrfsRootItem? item = null;
            while (c.Valid && c.Key.ObjectId <= BtrfsItem.LastFreeObjectId)
            {
                BtrfsKey k = c.Key;
                if (k.Type == BtrfsItem.RootItem)
                {
                    item = BtrfsRootItem.Parse(k.ObjectId, c.Data, Superblock.SectorSize, where, S + " ROOT_ITEM");
                }
                else if (k.Type == BtrfsItem.RootBackref && item != null && item.Id == k.ObjectId)
                {
                    BtrfsRootRef r = BtrfsRootRef.Parse(c.Data, where, S + " ROOT_BACKREF");
                    found.Add((k.ObjectId, k.Offset, r.DirId, Encoding.UTF8.GetString(r.Name), item));
                    if (found.Count > 100_000)
                    {
                        throw new InvalidImageException(where, S, "more than 100000 subvolumes.");
                    }
                }
                c.MoveNext();
            }
            var paths = new Dictionary<ulong, string> { [BtrfsItem.FsTreeObjectId] = string.Empty };
            var byId = new Dictionary<ulong, (ulong Parent, ulong DirId, string Name, BtrfsRootItem Item)>();
            foreach (var f in found)
            {
                byId[f.Id] = (f.Parent, f.DirId, f.Name, f.Item);
            }
            ulong defaultId = DefaultSubvolume;
            var result = new List<BtrfsSubvolumeInfo>();
            foreach (var f in found)
            {
                string? path = PathOf(f.Id, byId, paths, 0);
                if (path != null)
                {
                    result.Add(new BtrfsSubvolumeInfo(f.Id, path, f.Parent, f.Item.Uuid, f.Item.ParentUuid, f.Item.ReadOnly, f.Id == defaultId, f.Item.Created));
                }
            }
            return result;
        }

        private string? PathOf(ulong id, Dictionary<ulong, (ulong Parent, ulong DirId, string Name, BtrfsRootItem Item)> byId, Dictionary<ulong, string> paths, int depth)
        {
            if (paths.TryGetValue(id, out string? known))
            {
                return known;
            }
            if (depth > MaxNesting || !byId.TryGetValue(id, out var f))
            {
                return null;
            }
            string? parent = PathOf(f.Parent, byId, paths, depth + 1);
            if (parent == null)
            {
                return null;
            }
            BtrfsTree tree = shared.OpenTree(f.Parent, out BtrfsRootItem parentItem);
            string dir = DirectoryPath(tree, f.DirId, parentItem.RootDirId);
            string path = string.Join("/", new[] { parent, dir, f.Name }).Trim('/').Replace("//", "/");
            paths[id] = path;
            return path;
        }

        /// <summary>The path of directory <paramref name="dir"/> inside its tree, by INODE_REF up to the tree's root directory.</summary>
        private string DirectoryPath(BtrfsTree tree, ulong dir, ulong rootDir)
        {
            var names = new List<string>();
            ulong at = dir;
            while (at != rootDir)
            {
                if (names.Count > 1024)
                {
                    throw new InvalidImageException(shared.Volume.Where, tree.Structure, $"the INODE_REF chain from directory {dir} does not reach the root directory (a loop).");
                }
                BtrfsTreeCursor c = tree.Search(new BtrfsKey(at, BtrfsItem.InodeRef, 0));
                if (!c.Valid || c.Key.ObjectId != at || c.Key.Type != BtrfsItem.InodeRef)
                {
                    throw new InvalidImageException(shared.Volume.Where, tree.Structure, $"directory {at} has no INODE_REF naming its parent.");
                }
                List<BtrfsInodeRef> refs = BtrfsInodeRef.ParseAll(c.Data, shared.Volume.Where, tree.Structure + " INODE_REF");
                names.Add(Encoding.UTF8.GetString(refs[0].Name));
                if (c.Key.Offset == at)
                {
                    throw new InvalidImageException(shared.Volume.Where, tree.Structure, $"directory {at} names itself as its parent.");
                }
                at = c.Key.Offset;
            }
            names.Reverse();
            return string.Join("/", names);
        }

        protected override FileEntryType TypeOf(Inode node) => node.Item.Type;

        protected override Inode? Lookup(Inode directory, string name)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(name);
            if (bytes.Length > BtrfsDirItem.MaxNameLength)
            {
                return null;
            }
            string structure = $"btrfs subvolume {directory.Tree.Id} directory {directory.Number} DIR_ITEM";
            byte[]? data = directory.Tree.Find(new BtrfsKey(directory.Number, BtrfsItem.DirItem, BtrfsDirItem.NameHash(bytes)));
            if (data == null)
            {
                return null;
            }
            foreach (BtrfsDirItem d in BtrfsDirItem.ParseAll(data, 0, shared.Volume.Where, structure))
            {
                if (d.Name.AsSpan().SequenceEqual(bytes))
                {
                    return Child(directory, d, name);
                }
            }
            return null;
        }

        protected override IEnumerable<KeyValuePair<string, Inode>> Children(Inode directory)
        {
            string structure = $"btrfs subvolume {directory.Tree.Id} directory {directory.Number} DIR_INDEX";
            BtrfsTreeCursor c = directory.Tree.Search(new BtrfsKey(directory.Number, BtrfsItem.DirIndex, 0));
            while (c.Valid && c.Key.ObjectId == directory.Number && c.Key.Type == BtrfsItem.DirIndex)
            {
                List<BtrfsDirItem> items = BtrfsDirItem.ParseAll(c.Data, 0, shared.Volume.Where, structure);
                if (items.Count != 1)
                {
                    throw new InvalidImageException(shared.Volume.Where, structure, $"the DIR_INDEX item {c.Key.Offset} holds {items.Count} entries, not one.");
                }
                string name = Encoding.UTF8.GetString(items[0].Name);
                Inode? child = Child(directory, items[0], name);
                c.MoveNext();
                if (child != null)
                {
                    yield return new KeyValuePair<string, Inode>(name, child);
                }
            }
        }

        /// <summary>The inode a directory entry names: in the same tree, or the root directory of a nested subvolume.</summary>
        private Inode? Child(Inode directory, BtrfsDirItem entry, string name)
        {
            string structure = $"btrfs subvolume {directory.Tree.Id} directory {directory.Number} entry '{name}'";
            if (name.IndexOf('/') >= 0 || name.IndexOf('\0') >= 0 || name == "." || name == "..")
            {
                throw new InvalidImageException(shared.Volume.Where, structure, "the name contains '/' or NUL, or is '.' or '..'.");
            }
            switch (entry.Location.Type)
            {
                case BtrfsItem.InodeItem:
                    return ReadInode(directory.Tree, entry.Location.ObjectId, structure);
                case BtrfsItem.RootItem:
                    {
                        ulong id = entry.Location.ObjectId;
                        if (id < BtrfsItem.FirstFreeObjectId || id > BtrfsItem.LastFreeObjectId || id == directory.Tree.Id)
                        {
                            throw new InvalidImageException(shared.Volume.Where, structure, $"the entry names subvolume {id}, which cannot be nested here.");
                        }
                        if (shared.FindRootItem(id) == null)
                        {
                            // A subvolume deleted but not yet cleaned: the kernel shows nothing usable there.
                            return null;
                        }
                        BtrfsTree tree = shared.OpenTree(id, out BtrfsRootItem item);
                        return ReadInode(tree, item.RootDirId, $"btrfs subvolume {id} root directory");
                    }
                default:
                    throw new InvalidImageException(shared.Volume.Where, structure, $"the entry's location key has type {entry.Location.Type}, neither INODE_ITEM nor ROOT_ITEM.");
            }
        }

        private Inode ReadInode(BtrfsTree tree, ulong number, string structure)
        {
            if (!tree.TryFind(new BtrfsKey(number, BtrfsItem.InodeItem, 0), out BtrfsNode? leaf, out int slot))
            {
                throw new InvalidImageException(shared.Volume.Where, structure, $"inode {number} has no INODE_ITEM in subvolume {tree.Id}.");
            }
            return new Inode(tree, number, BtrfsInodeItem.Parse(leaf!.Data(slot), number, shared.Volume.Where, structure));
        }

        protected override string ReadLinkTarget(Inode link)
        {
            if (link.Item.FileSize == 0 || link.Item.FileSize > MaxLinkLength)
            {
                throw new InvalidImageException(shared.Volume.Where, $"btrfs subvolume {link.Tree.Id} symlink {link.Number}", $"the target is {link.Item.FileSize} bytes long (1 to {MaxLinkLength}).");
            }
            var bytes = new byte[link.Item.FileSize];
            using (var s = new BtrfsFileStream(link.Tree, link.Number, bytes.Length))
            {
                int done = 0;
                while (done < bytes.Length)
                {
                    int n = s.Read(bytes, done, bytes.Length - done);
                    if (n <= 0)
                    {
                        break;
                    }
                    done += n;
                }
            }
            return Encoding.UTF8.GetString(bytes);
        }

        protected override FileEntry Describe(Inode node, string path)
        {
            string? target = node.Item.Type == FileEntryType.Symlink ? ReadLinkTarget(node) : null;
            long size = node.Item.Type == FileEntryType.File || node.Item.Type == FileEntryType.Symlink || node.Item.Type == FileEntryType.Directory ? (long)node.Item.FileSize : 0;
            return new FileEntry(path, node.Item.Type, size, node.Item.Mode & 0xFFF, node.Item.Uid, node.Item.Gid, node.Item.Modified, target);
        }

        protected override Stream OpenContent(Inode node, string path) => new BtrfsFileStream(node.Tree, node.Number, (long)node.Item.FileSize);

        /// <summary>The extended attributes of the entry at <paramref name="path"/> (not following a last link), by name.</summary>
        internal IReadOnlyDictionary<string, byte[]> GetXattrs(string path)
        {
            Resolved r = Resolve(path, false) ?? throw NotFound(path);
            Inode node = r.Node;
            string structure = $"btrfs subvolume {node.Tree.Id} inode {node.Number} XATTR_ITEM";
            var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            BtrfsTreeCursor c = node.Tree.Search(new BtrfsKey(node.Number, BtrfsItem.XattrItem, 0));
            while (c.Valid && c.Key.ObjectId == node.Number && c.Key.Type == BtrfsItem.XattrItem)
            {
                foreach (BtrfsDirItem x in BtrfsDirItem.ParseAll(c.Data, 65536, shared.Volume.Where, structure))
                {
                    result[Encoding.UTF8.GetString(x.Name)] = x.Data;
                }
                c.MoveNext();
            }
            return result;
        }

        /// <summary>(subvolume id, inode number) at <paramref name="path"/>, for tests against dump-tree.</summary>
        internal (ulong Subvolume, ulong Inode) GetInodeNumber(string path)
        {
            Resolved r = Resolve(path, false) ?? throw NotFound(path);
            return (r.Node.Tree.Id, r.Node.Number);
        }
    }
}
