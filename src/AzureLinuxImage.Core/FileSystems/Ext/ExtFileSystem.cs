using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// Read-only ext2/3/4 over a <see cref="BlockDevice"/> (kernel Documentation/filesystems/ext4/).
    /// Metadata checksums (crc32c) are verified on every structure read when metadata_csum is on;
    /// a journal that needs recovery is reported in <see cref="Warnings"/>, not replayed.
    /// Metadata reads go through a bounded block cache; file data is streamed.
    /// </summary>
    internal sealed class ExtFileSystem : FileSystemBase<ExtInode>
    {
        public const uint RootInode = 2;

        /// <summary>Larger directories are refused rather than read into memory (the kernel's largedir tops out near 2^32 blocks, real ones are far below this).</summary>
        public const long MaxDirectoryBytes = 256L << 20;

        /// <summary>Names kept by the lookup cache (all directories together).</summary>
        private const int LookupBudget = 200_000;

        private readonly BlockDevice device;
        private readonly ExtBlockCache cache;
        private readonly List<string> warnings = new List<string>();
        private readonly Dictionary<long, long> inodeTables = new Dictionary<long, long>();
        private readonly Dictionary<uint, Dictionary<string, uint>> lookups = new Dictionary<uint, Dictionary<string, uint>>();
        private int lookupNames;
        private readonly Dictionary<uint, ExtInode> inodes = new Dictionary<uint, ExtInode>();

        /// <summary>Parsed, verified inodes kept (path resolution reads the same directories again and again).</summary>
        private const int InodeCacheSize = 8192;
        private readonly ExtInode root;

        public ExtFileSystem(BlockDevice device)
        {
            this.device = device;
            if (device.Length < ExtSuperblock.Offset + ExtSuperblock.Size)
            {
                throw new InvalidImageException(device.Description, "ext superblock", "the device is smaller than 2 KiB.");
            }
            var sb = new byte[ExtSuperblock.Size];
            device.Read(ExtSuperblock.Offset, sb, 0, sb.Length);
            Superblock = ExtSuperblock.Parse(sb, device.Length, device.Description);
            BlockSize = Superblock.BlockSize;
            cache = new ExtBlockCache(device, BlockSize);
            if (Superblock.HasIncompat(ExtSuperblock.IncompatRecover))
            {
                warnings.Add($"{Description}: the journal needs recovery (the file system was not unmounted cleanly); files read here may be stale until it is replayed (e2fsck or a mount).");
            }
            else if ((Superblock.State & 1) == 0)
            {
                warnings.Add($"{Description}: the file system is marked as not cleanly unmounted.");
            }
            if ((Superblock.State & 2) != 0)
            {
                warnings.Add($"{Description}: the file system is marked as having errors; run e2fsck.");
            }
            root = ReadInode(RootInode);
            if (root.Type != FileEntryType.Directory)
            {
                throw Bad("root inode", "inode 2 is not a directory.");
            }
        }

        public ExtSuperblock Superblock { get; }

        public int BlockSize { get; }

        /// <summary>Conditions worth telling the user (journal needing recovery, errors flag).</summary>
        public IReadOnlyList<string> Warnings => warnings;

        public override string Description =>
            Superblock.Label.Length > 0 ? $"{Superblock.Flavor} '{Superblock.Label}' on {device.Description}" : $"{Superblock.Flavor} on {device.Description}";

        protected override ExtInode Root => root;

        internal InvalidImageException Bad(string structure, string problem) => ExtSuperblock.Bad(device.Description, structure, problem);

        internal void CheckBlockRange(long start, long count, uint inode, string what)
        {
            if (start < Superblock.FirstDataBlock || count < 0 || start > Superblock.BlocksCount - count)
            {
                throw Bad(what, $"inode {inode}: blocks {start}..{start + count - 1} lie outside the file system's {Superblock.BlocksCount} blocks.");
            }
        }

        // ---- group descriptors and inodes ----

        /// <summary>The block holding group descriptor number <paramref name="group"/> (meta_bg moves later ones into their meta group).</summary>
        private long DescriptorBlock(long group, out int offsetInBlock)
        {
            int perBlock = BlockSize / Superblock.DescriptorSize;
            long descBlockIndex = group / perBlock;
            offsetInBlock = (int)(group % perBlock) * Superblock.DescriptorSize;
            if (!Superblock.HasIncompat(ExtSuperblock.IncompatMetaBg) || descBlockIndex < Superblock.FirstMetaBg)
            {
                return Superblock.FirstDataBlock + 1 + descBlockIndex;
            }
            long firstGroup = descBlockIndex * perBlock;
            long groupStart = Superblock.FirstDataBlock + (firstGroup * Superblock.BlocksPerGroup);
            return groupStart + (GroupHasSuperblock(firstGroup) ? 1 : 0);
        }

        private bool GroupHasSuperblock(long group)
        {
            if (group <= 1 || !Superblock.HasRoCompat(ExtSuperblock.RoCompatSparseSuper))
            {
                return true;
            }
            return IsPowerOf(group, 3) || IsPowerOf(group, 5) || IsPowerOf(group, 7);
        }

        private static bool IsPowerOf(long n, long b)
        {
            while (n % b == 0)
            {
                n /= b;
            }
            return n == 1;
        }

        private long InodeTableOf(long group)
        {
            if (inodeTables.TryGetValue(group, out long table))
            {
                return table;
            }
            long block = DescriptorBlock(group, out int offset);
            CheckBlockRange(block, 1, 0, "group descriptor block");
            byte[] data = cache.Get(block);
            ReadOnlySpan<byte> d = data.AsSpan(offset, Superblock.DescriptorSize);
            if (Superblock.HasMetadataChecksums)
            {
                var le = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(le, (uint)group);
                uint c = Crc32.Castagnoli.Append(Superblock.ChecksumSeed, le);
                c = Crc32.Castagnoli.Append(c, d.Slice(0, 0x1E));
                c = Crc32.Castagnoli.Append(c, new byte[2]);
                c = Crc32.Castagnoli.Append(c, d.Slice(0x20));
                ushort stored = BinaryPrimitives.ReadUInt16LittleEndian(d.Slice(0x1E));
                if ((ushort)c != stored)
                {
                    throw Bad("group descriptor checksum", $"group {group}: crc32c gives 0x{(ushort)c:X4}, the descriptor says 0x{stored:X4}.");
                }
            }
            table = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(0x8));
            if (Superblock.DescriptorSize >= 64)
            {
                table |= (long)BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(0x28)) << 32;
            }
            long tableBlocks = ((long)Superblock.InodesPerGroup * Superblock.InodeSize + BlockSize - 1) / BlockSize;
            CheckBlockRange(table, tableBlocks, 0, $"group {group} inode table");
            if (inodeTables.Count > 65536)
            {
                inodeTables.Clear();
            }
            inodeTables[group] = table;
            return table;
        }

        public ExtInode ReadInode(uint number)
        {
            if (inodes.TryGetValue(number, out ExtInode? cached))
            {
                return cached;
            }
            ExtInode inode = ReadInodeUncached(number);
            if (inodes.Count >= InodeCacheSize)
            {
                inodes.Clear();
            }
            inodes[number] = inode;
            return inode;
        }

        private ExtInode ReadInodeUncached(uint number)
        {
            if (number < 1 || number > Superblock.InodesCount)
            {
                throw Bad("inode number", $"inode {number} is outside 1..{Superblock.InodesCount} (an entry pointing past the inode table).");
            }
            long group = (number - 1) / Superblock.InodesPerGroup;
            long index = (number - 1) % Superblock.InodesPerGroup;
            long table = InodeTableOf(group);
            long byteOffset = index * Superblock.InodeSize;
            byte[] block = cache.Get(table + (byteOffset / BlockSize));
            var raw = new byte[Superblock.InodeSize];
            Buffer.BlockCopy(block, (int)(byteOffset % BlockSize), raw, 0, raw.Length);
            var inode = new ExtInode(number, raw);
            if (raw.Length > 128 && (inode.ExtraSize > raw.Length - 128 || (inode.ExtraSize & 3) != 0))
            {
                throw Bad("inode", $"inode {number}: i_extra_isize {inode.ExtraSize} does not fit the {raw.Length}-byte inode.");
            }
            if (Superblock.HasMetadataChecksums)
            {
                VerifyInodeChecksum(inode);
            }
            if (inode.Mode == 0 && inode.LinksCount == 0)
            {
                throw Bad("inode", $"inode {number} is free but a directory entry points to it.");
            }
            return inode;
        }

        private uint InodeSeed(ExtInode inode)
        {
            var le = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(le, inode.Number);
            BinaryPrimitives.WriteUInt32LittleEndian(le.AsSpan(4), inode.Generation);
            uint c = Crc32.Castagnoli.Append(Superblock.ChecksumSeed, le.AsSpan(0, 4));
            return Crc32.Castagnoli.Append(c, le.AsSpan(4, 4));
        }

        private void VerifyInodeChecksum(ExtInode inode)
        {
            byte[] raw = inode.Raw;
            var zero = new byte[2];
            uint c = Crc32.Castagnoli.Append(InodeSeed(inode), raw.AsSpan(0, 0x7C));
            c = Crc32.Castagnoli.Append(c, zero);
            c = Crc32.Castagnoli.Append(c, raw.AsSpan(0x7E, 128 - 0x7E));
            uint stored = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x7C));
            bool hasHi = raw.Length > 128 && inode.ExtraSize >= 4;
            if (raw.Length > 128)
            {
                c = Crc32.Castagnoli.Append(c, raw.AsSpan(128, 2));
                int offset = 0x82;
                if (hasHi)
                {
                    c = Crc32.Castagnoli.Append(c, zero);
                    offset += 2;
                    stored |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x82)) << 16;
                }
                c = Crc32.Castagnoli.Append(c, raw.AsSpan(offset));
            }
            if (!hasHi)
            {
                c &= 0xFFFF;
            }
            if (c != stored)
            {
                throw Bad("inode checksum", $"inode {inode.Number}: crc32c gives 0x{c:X8}, the inode says 0x{stored:X8}.");
            }
        }

        // ---- blocks owned by one inode ----

        internal byte[] ReadExtentBlock(long block, ExtInode owner) => cache.Get(block, data =>
        {
            if (!Superblock.HasMetadataChecksums)
            {
                return;
            }
            int max = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(4));
            int tail = 12 + (12 * max);
            if (tail + 4 > data.Length)
            {
                throw Bad("extent block", $"inode {owner.Number}: eh_max {max} leaves no room for the checksum in block {block}.");
            }
            uint c = Crc32.Castagnoli.Append(InodeSeed(owner), data.AsSpan(0, tail));
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(tail));
            if (c != stored)
            {
                throw Bad("extent block checksum", $"inode {owner.Number}, block {block}: crc32c gives 0x{c:X8}, the block says 0x{stored:X8}.");
            }
        });

        internal uint[] ReadIndirectBlock(long block)
        {
            byte[] data = cache.Get(block);
            var table = new uint[BlockSize / 4];
            for (int i = 0; i < table.Length; i++)
            {
                table[i] = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4 * i));
            }
            return table;
        }

        /// <summary>The bytes of an inline-data inode: i_block, then the system.data extended attribute in the inode body.</summary>
        internal byte[] ReadInlineData(ExtInode inode)
        {
            if (inode.Size > 60 + inode.Raw.Length)
            {
                throw Bad("inline data", $"inode {inode.Number}: size {inode.Size} cannot be inline in a {inode.Raw.Length}-byte inode.");
            }
            byte[] stored = ReadInlineStored(inode);
            if (stored.Length < inode.Size)
            {
                throw Bad("inline data", $"inode {inode.Number}: system.data holds {stored.Length - 60} bytes, {inode.Size - 60} are needed.");
            }
            return stored;
        }

        /// <summary>
        /// The inline bytes stored (i_block, then system.data), at most the inode's size. A regular file may be
        /// longer than them (mkfs.ext4 -d makes a file that is only a hole an inline inode of any size; e2fsck
        /// accepts it): past them the kernel reads zeros (ext4_readpage_inline zeroes the rest).
        /// </summary>
        private byte[] ReadInlineStored(ExtInode inode)
        {
            int first = (int)Math.Min(60, inode.Size);
            ReadOnlySpan<byte> value = inode.Size > 60 ? FindInodeXattr(inode, 7, "data") : ReadOnlySpan<byte>.Empty;
            int more = (int)Math.Min(value.Length, inode.Size - first);
            var result = new byte[first + more];
            inode.BlockArea.Slice(0, first).CopyTo(result);
            value.Slice(0, more).CopyTo(result.AsSpan(first));
            return result;
        }

        /// <summary>An extended attribute stored in the inode body after i_extra_isize (attributes.rst).</summary>
        private ReadOnlySpan<byte> FindInodeXattr(ExtInode inode, byte nameIndex, string name)
        {
            byte[] raw = inode.Raw;
            int start = 128 + inode.ExtraSize;
            if (raw.Length <= 128 || start + 4 > raw.Length || BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(start)) != 0xEA020000)
            {
                return ReadOnlySpan<byte>.Empty;
            }
            int valuesBase = start + 4;
            int pos = valuesBase;
            byte[] wanted = Encoding.ASCII.GetBytes(name);
            while (pos + 16 <= raw.Length && BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(pos)) != 0)
            {
                int nameLen = raw[pos];
                byte index = raw[pos + 1];
                int valueOffset = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(pos + 2));
                uint valueInode = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(pos + 4));
                uint valueSize = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(pos + 8));
                if (pos + 16 + nameLen > raw.Length)
                {
                    break;
                }
                if (index == nameIndex && raw.AsSpan(pos + 16, nameLen).SequenceEqual(wanted))
                {
                    if (valueInode != 0 || valuesBase + valueOffset > raw.Length || valueSize > raw.Length - valuesBase - valueOffset)
                    {
                        throw Bad("inode extended attribute", $"inode {inode.Number}: the value of attribute '{name}' lies outside the inode.");
                    }
                    return raw.AsSpan(valuesBase + valueOffset, (int)valueSize);
                }
                pos += (16 + nameLen + 3) & ~3;
            }
            return ReadOnlySpan<byte>.Empty;
        }

        // ---- directories ----

        internal List<ExtDirEntry> ReadDirectory(ExtInode dir)
        {
            var entries = new List<ExtDirEntry>();
            bool fileType = Superblock.HasIncompat(ExtSuperblock.IncompatFileType);
            if (dir.Has(ExtInode.FlagInlineData))
            {
                byte[] data = ReadInlineData(dir);
                if (data.Length < 4)
                {
                    throw Bad("inline directory", $"inode {dir.Number}: {data.Length} bytes is too short.");
                }
                // The first 4 bytes are the parent's inode number; there are no '.' and '..' entries.
                entries.Add(new ExtDirEntry(BinaryPrimitives.ReadUInt32LittleEndian(data), ".."));
                int firstPart = Math.Min(60, data.Length);
                ExtDirectoryBlock.Parse(data.AsSpan(4, firstPart - 4), fileType, BlockSize, this, dir.Number, entries);
                if (data.Length > 60)
                {
                    ExtDirectoryBlock.Parse(data.AsSpan(60), fileType, BlockSize, this, dir.Number, entries);
                }
                return entries;
            }
            if (dir.Size > MaxDirectoryBytes)
            {
                throw new UnsupportedImageException(device.Description, $"directory inode {dir.Number} is {dir.Size} bytes; directories above {MaxDirectoryBytes} bytes are not read.");
            }
            long blocks = (dir.Size + BlockSize - 1) / BlockSize;
            bool indexed = dir.Has(ExtInode.FlagIndex);
            bool csum = Superblock.HasMetadataChecksums;
            ExtBlockMap map = ExtBlockMap.For(this, dir);
            for (long l = 0; l < blocks;)
            {
                long physical = map.Map(l, out long run);
                if (physical == ExtBlockMap.Hole)
                {
                    throw Bad("directory", $"inode {dir.Number}: a hole at block {l} of the directory.");
                }
                for (long i = 0; i < run && l < blocks; i++, l++)
                {
                    long blockNumber = physical + i;
                    byte[] block = cache.Get(blockNumber);
                    ReadOnlySpan<byte> span = block;
                    if ((indexed && l == 0) || (l > 0 && indexed && ExtDirectoryBlock.IsIndexNode(span, BlockSize)))
                    {
                        // dx_root: '.' and '..' then the index; dx_node: the index only. The leaves hold every name.
                        if (csum)
                        {
                            VerifyDxChecksum(span, l == 0 ? 32 : 8, dir, blockNumber);
                        }
                        if (l == 0)
                        {
                            ParseDxRoot(span, fileType, dir, entries);
                        }
                        continue;
                    }
                    if (csum && ExtDirectoryBlock.HasTail(span))
                    {
                        uint c = Crc32.Castagnoli.Append(InodeSeed(dir), span.Slice(0, BlockSize - ExtDirectoryBlock.TailSize));
                        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(BlockSize - 4));
                        if (c != stored)
                        {
                            throw Bad("directory block checksum", $"directory inode {dir.Number}, block {blockNumber}: crc32c gives 0x{c:X8}, the block says 0x{stored:X8}.");
                        }
                        span = span.Slice(0, BlockSize - ExtDirectoryBlock.TailSize);
                    }
                    else if (csum)
                    {
                        throw Bad("directory block checksum", $"directory inode {dir.Number}, block {blockNumber}: the checksum tail is missing.");
                    }
                    ExtDirectoryBlock.Parse(span, fileType, BlockSize, this, dir.Number, entries);
                }
            }
            return entries;
        }

        /// <summary>
        /// The dx_tail after an htree node's entries (directory.rst, "Hash Tree Directories"): crc32c of the
        /// node up to its used entries, then the tail with its checksum field as zero.
        /// </summary>
        private void VerifyDxChecksum(ReadOnlySpan<byte> block, int countOffset, ExtInode dir, long blockNumber)
        {
            int limit = BinaryPrimitives.ReadUInt16LittleEndian(block.Slice(countOffset));
            int count = BinaryPrimitives.ReadUInt16LittleEndian(block.Slice(countOffset + 2));
            int tail = countOffset + (limit * 8);
            if (count > limit || tail + 8 > block.Length)
            {
                throw Bad("htree node", $"directory inode {dir.Number}, block {blockNumber}: count {count} and limit {limit} do not fit the block.");
            }
            uint c = Crc32.Castagnoli.Append(InodeSeed(dir), block.Slice(0, countOffset + (count * 8)));
            c = Crc32.Castagnoli.Append(c, block.Slice(tail, 4));
            c = Crc32.Castagnoli.Append(c, new byte[4]);
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(tail + 4));
            if (c != stored)
            {
                throw Bad("htree node checksum", $"directory inode {dir.Number}, block {blockNumber}: crc32c gives 0x{c:X8}, the node says 0x{stored:X8}.");
            }
        }

        private void ParseDxRoot(ReadOnlySpan<byte> block, bool fileType, ExtInode dir, List<ExtDirEntry> entries)
        {
            // '.' is 12 bytes; '..' follows with rec_len reaching the end of the block.
            if (block.Length < 24)
            {
                throw Bad("htree root", $"directory inode {dir.Number}: the block is too short.");
            }
            int dotLen = BinaryPrimitives.ReadUInt16LittleEndian(block.Slice(4));
            if (dotLen != 12)
            {
                throw Bad("htree root", $"directory inode {dir.Number}: '.' has rec_len {dotLen}, not 12.");
            }
            var two = new List<ExtDirEntry>();
            ExtDirectoryBlock.Parse(block.Slice(0, 12), fileType, BlockSize, this, dir.Number, two);
            uint parent = BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(12));
            two.Add(new ExtDirEntry(parent, ".."));
            entries.AddRange(two);
        }

        private Dictionary<string, uint> LookupTable(ExtInode dir)
        {
            if (lookups.TryGetValue(dir.Number, out var table))
            {
                return table;
            }
            List<ExtDirEntry> list = ReadDirectory(dir);
            table = new Dictionary<string, uint>(list.Count, StringComparer.Ordinal);
            foreach (ExtDirEntry e in list)
            {
                table[e.Name] = e.Inode;
            }
            if (lookupNames + table.Count > LookupBudget)
            {
                lookups.Clear();
                lookupNames = 0;
            }
            lookups[dir.Number] = table;
            lookupNames += table.Count;
            return table;
        }

        // ---- FileSystemBase ----

        protected override FileEntryType TypeOf(ExtInode node) => node.Type;

        protected override ExtInode? Lookup(ExtInode directory, string name) =>
            LookupTable(directory).TryGetValue(name, out uint number) ? ReadInode(number) : null;

        protected override IEnumerable<KeyValuePair<string, ExtInode>> Children(ExtInode directory)
        {
            foreach (ExtDirEntry e in ReadDirectory(directory))
            {
                if (e.Name == "." || e.Name == "..")
                {
                    continue;
                }
                yield return new KeyValuePair<string, ExtInode>(e.Name, ReadInode(e.Inode));
            }
        }

        protected override string ReadLinkTarget(ExtInode link)
        {
            if (link.Size > MaxPathLength || link.Size < 0)
            {
                throw Bad("symbolic link", $"inode {link.Number}: a target of {link.Size} bytes is longer than PATH_MAX.");
            }
            byte[] bytes;
            if (link.Has(ExtInode.FlagInlineData))
            {
                bytes = ReadInlineData(link);
            }
            else if (IsFastSymlink(link))
            {
                bytes = link.BlockArea.Slice(0, (int)link.Size).ToArray();
            }
            else
            {
                bytes = new byte[link.Size];
                using (var s = new ExtFileStream(this, device, link))
                {
                    s.ReadExactlyInto(bytes);
                }
            }
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>A fast symlink keeps its target in i_block: no data blocks (besides an xattr block) and shorter than 60 bytes.</summary>
        private bool IsFastSymlink(ExtInode link)
        {
            if (link.Size >= 60)
            {
                return false;
            }
            ulong xattrSectors = link.FileAcl != 0 ? (ulong)(BlockSize / 512) : 0;
            return link.Blocks512 <= xattrSectors || !link.Has(ExtInode.FlagExtents) && link.Blocks512 == 0;
        }

        protected override FileEntry Describe(ExtInode node, string path)
        {
            FileEntryType type = node.Type;
            string? target = type == FileEntryType.Symlink ? ReadLinkTarget(node) : null;
            return new FileEntry(path, type, node.Size, (uint)(node.Mode & 0xFFF), node.Uid, node.Gid, node.ModifiedTime, target);
        }

        protected override Stream OpenContent(ExtInode node, string path)
        {
            if (node.Has(ExtInode.FlagInlineData))
            {
                return new ExtInlineFileStream(ReadInlineStored(node), node.Size);
            }
            return new ExtFileStream(this, device, node);
        }

        // ---- what the writer (ExtFileSystemWriter) changed under the caches ----

        /// <summary>Forgets cached copies of blocks [<paramref name="first"/>, +<paramref name="count"/>).</summary>
        internal void ForgetBlocks(long first, long count)
        {
            for (long b = first; b < first + count; b++)
            {
                cache.Remove(b);
            }
        }

        internal void ForgetInode(uint number) => inodes.Remove(number);

        internal void ForgetDirectory(uint number)
        {
            if (lookups.TryGetValue(number, out var table))
            {
                lookupNames -= table.Count;
                lookups.Remove(number);
            }
        }

        /// <summary>Keeps a cached name table in step with an entry the writer added (inode) or removed (null).</summary>
        internal void NoteEntry(uint directory, string name, uint? inode)
        {
            if (!lookups.TryGetValue(directory, out var table))
            {
                return;
            }
            if (inode.HasValue)
            {
                if (!table.ContainsKey(name))
                {
                    lookupNames++;
                }
                table[name] = inode.Value;
            }
            else if (table.Remove(name))
            {
                lookupNames--;
            }
        }

        /// <summary>
        /// Opens the ext2/3/4 file system on <paramref name="device"/> for writing: changes are staged in the
        /// device and reach the image on <see cref="IFileSystemWriter.Commit"/> only (issue 17).
        /// </summary>
        public static IFileSystemWriter OpenForWriting(StagedBlockDevice device) => new ExtFileSystemWriter(device);

        /// <summary>The inode a path names (without following a final link), for tests and tools.</summary>
        internal ExtInode? InodeOf(string path, bool followLastLink = false) => Resolve(path, followLastLink)?.Node;
    }
}
