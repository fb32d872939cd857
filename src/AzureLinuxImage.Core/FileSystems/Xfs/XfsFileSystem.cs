using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>
    /// Read-only XFS (v4 and v5) over a <see cref="BlockDevice"/>. Path resolution, symlink following and
    /// confinement come from <see cref="FileSystemBase{TNode}"/>; this class supplies inodes, directory
    /// entries, link targets and file content. Nodes are parsed, verified inodes.
    /// </summary>
    internal sealed class XfsFileSystem : FileSystemBase<XfsInode>
    {
        /// <summary>Directory name tables kept for lookups, in entries over all cached directories.</summary>
        private const int DirectoryCacheEntries = 200_000;

        private const uint SymlinkMagic = 0x58534C4D; // "XSLM"
        private const int SymlinkHeader = 56;
        private const int SymlinkCrcOffset = 12;

        private readonly XfsVolume volume;
        private readonly XfsInode root;
        private readonly Dictionary<ulong, Dictionary<string, ulong>> directoryCache = new Dictionary<ulong, Dictionary<string, ulong>>();
        private int cachedEntries;

        private XfsFileSystem(XfsVolume volume, XfsInode root, string description)
        {
            this.volume = volume;
            this.root = root;
            Description = description;
        }

        public override string Description { get; }

        public XfsSuperblock Superblock => volume.Superblock;

        /// <summary>sb_uuid, what fstab's UUID= and blkid name the file system by.</summary>
        public Guid Uuid => volume.Superblock.Uuid;

        /// <summary>sb_fname, what fstab's LABEL= names the file system by (empty when unset).</summary>
        public string Label => volume.Superblock.Label;

        protected override XfsInode Root => root;

        /// <summary>Opens the XFS file system on <paramref name="device"/>, validating the superblock and the root inode.</summary>
        internal static XfsFileSystem Open(BlockDevice device)
        {
            if (device.Length < 512)
            {
                throw new InvalidImageException(device.Description, "XFS superblock", "the device is smaller than one sector.");
            }
            var head = new byte[512];
            device.Read(0, head, 0, head.Length);
            if (BinaryPrimitives.ReadUInt32BigEndian(head) != XfsSuperblock.Magic)
            {
                throw new InvalidImageException(device.Description, "XFS superblock", "the magic number is not XFSB.");
            }
            int sectorSize = BinaryPrimitives.ReadUInt16BigEndian(head.AsSpan(102));
            byte[] sector = head;
            if (sectorSize > 512 && sectorSize <= 32768 && sectorSize <= device.Length)
            {
                sector = new byte[sectorSize];
                device.Read(0, sector, 0, sectorSize);
            }
            XfsSuperblock sb = XfsSuperblock.Parse(sector, device.Length, device.Description);
            var volume = new XfsVolume(device, sb);
            XfsInode root = volume.ReadInode(sb.RootInode, "XFS root inode");
            if (root.Type != FileEntryType.Directory)
            {
                throw new InvalidImageException(device.Description, "XFS root inode", $"inode {sb.RootInode} is a {root.Type.ToString().ToLowerInvariant()}, not a directory.");
            }
            string label = sb.Label.Length > 0 ? $" '{sb.Label}'" : string.Empty;
            return new XfsFileSystem(volume, root, $"XFS{label} on {device.Description}");
        }

        protected override FileEntryType TypeOf(XfsInode node) => node.Type;

        protected override XfsInode? Lookup(XfsInode directory, string name)
        {
            if (directoryCache.TryGetValue(directory.Number, out Dictionary<string, ulong>? table))
            {
                return table.TryGetValue(name, out ulong cached) ? ReadChild(directory, cached, name) : null;
            }
            var built = new Dictionary<string, ulong>(StringComparer.Ordinal);
            ulong? found = null;
            foreach (KeyValuePair<string, ulong> entry in XfsDirectory.Entries(volume, directory))
            {
                built[entry.Key] = entry.Value;
                if (found == null && entry.Key == name)
                {
                    found = entry.Value;
                }
            }
            Remember(directory.Number, built);
            return found == null ? null : ReadChild(directory, found.Value, name);
        }

        protected override IEnumerable<KeyValuePair<string, XfsInode>> Children(XfsInode directory)
        {
            foreach (KeyValuePair<string, ulong> entry in XfsDirectory.Entries(volume, directory))
            {
                if (entry.Key == "." || entry.Key == "..")
                {
                    continue;
                }
                yield return new KeyValuePair<string, XfsInode>(entry.Key, ReadChild(directory, entry.Value, entry.Key));
            }
        }

        protected override string ReadLinkTarget(XfsInode link) => Encoding.UTF8.GetString(ReadLinkBytes(link));

        protected override FileEntry Describe(XfsInode node, string path)
        {
            string? target = node.Type == FileEntryType.Symlink ? ReadLinkTarget(node) : null;
            return new FileEntry(path, node.Type, node.Size, node.Permissions, node.Uid, node.Gid, node.Modified, target);
        }

        protected override Stream OpenContent(XfsInode node, string path) =>
            new XfsFileStream(volume, XfsExtentMap.Read(volume, node), node.Size, node.Number);

        /// <summary>The extent map of a file (for tests comparing against xfs_db's bmap).</summary>
        internal IReadOnlyList<XfsExtent> GetExtents(string path)
        {
            Resolved r = Resolve(path, false) ?? throw NotFound(path);
            return XfsExtentMap.Read(volume, r.Node).Extents;
        }

        /// <summary>The parsed inode at <paramref name="path"/>, or null when nothing is there (for the in-place writer).</summary>
        internal XfsInode? FindInode(string path, bool followLastLink)
        {
            Resolved? r = Resolve(path, followLastLink);
            return r?.Node;
        }

        internal XfsVolume Volume => volume;

        /// <summary>The inode number at <paramref name="path"/> (without following a last link).</summary>
        internal ulong GetInodeNumber(string path)
        {
            Resolved r = Resolve(path, false) ?? throw NotFound(path);
            return r.Node.Number;
        }

        private XfsInode ReadChild(XfsInode directory, ulong number, string name) =>
            volume.ReadInode(number, $"XFS directory inode {directory.Number} entry '{name}'");

        private void Remember(ulong directory, Dictionary<string, ulong> table)
        {
            if (table.Count > DirectoryCacheEntries)
            {
                return;
            }
            if (cachedEntries + table.Count > DirectoryCacheEntries)
            {
                directoryCache.Clear();
                cachedEntries = 0;
            }
            directoryCache[directory] = table;
            cachedEntries += table.Count;
        }

        /// <summary>A link's target: inline in the inode, or in remote blocks (v5 blocks carry an XSLM header each).</summary>
        private byte[] ReadLinkBytes(XfsInode link)
        {
            int size = (int)link.Size;
            if (link.Format == XfsForkFormat.Local)
            {
                return link.DataFork.AsSpan(0, size).ToArray();
            }
            XfsSuperblock sb = volume.Superblock;
            string structure = $"XFS inode {link.Number} remote symlink";
            XfsExtentMap map = XfsExtentMap.Read(volume, link);
            var result = new byte[size];
            int done = 0;
            long logical = 0;
            while (done < size)
            {
                int index = map.Find(logical);
                if (index < 0 || map.Extents[index].Unwritten)
                {
                    throw new InvalidImageException(volume.Where, structure, $"logical block {logical} of the target is not mapped.");
                }
                XfsExtent e = map.Extents[index];
                long physical = e.Physical + (logical - e.Logical);
                byte[] block = volume.ReadBlock(physical, structure);
                int start = 0;
                int available = block.Length;
                if (sb.HasCrc)
                {
                    ReadOnlySpan<byte> h = block;
                    if (BinaryPrimitives.ReadUInt32BigEndian(h) != SymlinkMagic)
                    {
                        throw new InvalidImageException(volume.Where, structure, "the magic number is not XSLM.");
                    }
                    XfsChecksum.Verify(block, 0, block.Length, SymlinkCrcOffset, volume.Where, structure);
                    uint offset = BinaryPrimitives.ReadUInt32BigEndian(h.Slice(4));
                    uint bytes = BinaryPrimitives.ReadUInt32BigEndian(h.Slice(8));
                    ulong owner = BinaryPrimitives.ReadUInt64BigEndian(h.Slice(32));
                    ulong daddr = BinaryPrimitives.ReadUInt64BigEndian(h.Slice(40));
                    if (offset != (uint)done || bytes == 0 || bytes > (uint)(block.Length - SymlinkHeader) || owner != link.Number ||
                        daddr != (ulong)physical * (ulong)(sb.BlockSize / 512) || !h.Slice(16, 16).SequenceEqual(sb.MetadataUuid))
                    {
                        throw new InvalidImageException(volume.Where, structure, "the block header (offset, length, owner, address or UUID) is inconsistent.");
                    }
                    start = SymlinkHeader;
                    available = (int)bytes;
                }
                int take = Math.Min(available, size - done);
                Buffer.BlockCopy(block, start, result, done, take);
                done += take;
                logical++;
            }
            return result;
        }
    }
}
