using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// Hashed (htree) directories (directory.rst, "Hash Tree Directories"). A name goes into the leaf its
    /// hash selects; when that leaf is full it is split at a hash boundary into itself and a new leaf, and
    /// the index gains an entry (adding a level when the root is full). A split changes several blocks,
    /// so it is done copy on write: the changed leaf and index blocks are written to new blocks and the
    /// directory's inode switches to a map over them in one write; the old blocks are released after.
    /// </summary>
    internal sealed class ExtHtreeWriter
    {
        private const int RootCountOffset = 0x20;
        private const int NodeCountOffset = 0x08;

        private readonly ExtWriteVolume v;
        private readonly ExtBitmapAllocator allocator;
        private readonly ExtFileMapper mapper;
        private readonly ExtDirectoryWriter dirs;

        public ExtHtreeWriter(ExtWriteVolume volume, ExtInodeTable inodes, ExtBitmapAllocator allocator, ExtFileMapper mapper, ExtDirectoryWriter dirs)
        {
            v = volume;
            this.allocator = allocator;
            this.mapper = mapper;
            this.dirs = dirs;
        }

        private sealed class Frame
        {
            public long Logical;
            public byte[] Block = Array.Empty<byte>();
            public int CountOffset;
            public int Index;
            public bool IsRoot => CountOffset == RootCountOffset;
        }

        /// <summary>The logical leaf block the index selects for <paramref name="name"/>, or -1 when the index cannot be followed.</summary>
        public long LeafFor(ExtInodeRecord dir, ExtFileBlocks blocks, long count, byte[] name)
        {
            try
            {
                var entry = new ExtNameEntry(0, name, 0);
                List<Frame> path = Descend(dir, blocks, count, entry, out int levels, out _);
                Frame last = path[path.Count - 1];
                return EntryBlock(last, last.Index);
            }
            catch (InvalidImageException)
            {
                return -1;
            }
        }

        public void Add(ExtInodeRecord dir, ExtNameEntry entry)
        {
            ExtFileBlocks blocks = mapper.Collect(dir);
            long count = (dir.Size + v.BlockSize - 1) / v.BlockSize;
            List<Frame> path = Descend(dir, blocks, count, entry, out int levels, out byte hashVersion);
            Frame last = path[path.Count - 1];
            InsertIntoLeaf(dir, blocks, count, path, EntryBlock(last, last.Index), entry, hashVersion, levels);
        }

        /// <summary>The index frames from the root down to the node whose entry selects the name's leaf (hash set on the way).</summary>
        private List<Frame> Descend(ExtInodeRecord dir, ExtFileBlocks blocks, long count, ExtNameEntry entry, out int levels, out byte hashVersion)
        {
            byte[] root = Read(dir, blocks, 0, count);
            hashVersion = root[0x1C];
            int infoLength = root[0x1D];
            levels = root[0x1E];
            int maxLevels = v.Sb.HasIncompat(ExtSuperblock.IncompatLargeDir) ? 3 : 2;
            if (BinaryPrimitives.ReadUInt16LittleEndian(root.AsSpan(4)) != 12 || infoLength != 8 || !ExtDirectoryHash.IsSupported(hashVersion) || levels >= maxLevels)
            {
                throw v.Bad("htree root", $"directory inode {dir.Number}: hash version {hashVersion}, info length {infoLength} or {levels + 1} levels are not valid.");
            }
            if (hashVersion <= ExtDirectoryHash.Tea && (v.SuperblockFlags & 0x2) != 0)
            {
                hashVersion += 3; // EXT2_FLAGS_UNSIGNED_HASH
            }
            entry.Hash = ExtDirectoryHash.Hash(entry.Name, hashVersion, v.HashSeed);

            // Walk down to the leaf the hash selects.
            var path = new List<Frame>();
            var frame = new Frame { Logical = 0, Block = root, CountOffset = RootCountOffset };
            for (int level = 0; ; level++)
            {
                VerifyNode(dir, frame);
                frame.Index = Find(frame, entry.Hash);
                path.Add(frame);
                long child = EntryBlock(frame, frame.Index);
                if (child <= 0 || child >= count)
                {
                    throw v.Bad("htree node", $"directory inode {dir.Number}: an index entry points at block {child} of {count}.");
                }
                if (level == levels)
                {
                    return path;
                }
                frame = new Frame { Logical = child, Block = Read(dir, blocks, child, count), CountOffset = NodeCountOffset };
            }
        }

        private void InsertIntoLeaf(ExtInodeRecord dir, ExtFileBlocks blocks, long count, List<Frame> path, long leafLogical, ExtNameEntry entry, byte hashVersion, int levels)
        {
            long leafPhysical = ExtFileMapper.Lookup(blocks, leafLogical);
            byte[] leaf = dirs.ReadLeaf(dir, leafPhysical);
            if (dirs.TryInsert(leaf, entry, $"directory inode {dir.Number}, block {leafPhysical}"))
            {
                dirs.WriteLeaf(dir, leafPhysical, leaf, WriteStage.Links);
                return;
            }

            // Split: the leaf's names and the new one, by hash, cut near half the bytes at a change of hash.
            List<ExtNameEntry> names = dirs.ParseLeaf(leaf, dir, leafPhysical);
            names.Add(entry);
            foreach (ExtNameEntry n in names)
            {
                n.Hash = ExtDirectoryHash.Hash(n.Name, hashVersion, v.HashSeed);
            }
            names = names.OrderBy(n => n.Hash).ToList();
            int total = names.Sum(n => n.MinimalLength);
            int cut = -1;
            int best = int.MaxValue;
            int acc = 0;
            for (int i = 1; i < names.Count; i++)
            {
                acc += names[i - 1].MinimalLength;
                if (names[i].Hash == names[i - 1].Hash || acc > dirs.LeafSpace || total - acc > dirs.LeafSpace)
                {
                    continue;
                }
                int balance = Math.Abs(total - (2 * acc));
                if (balance < best)
                {
                    best = balance;
                    cut = i;
                }
            }
            if (cut < 0)
            {
                throw new UnsupportedImageException(v.Where, $"directory inode {dir.Number}: a leaf of names sharing one hash cannot be split; adding '{System.Text.Encoding.UTF8.GetString(entry.Name)}' is not supported.");
            }
            uint splitHash = names[cut].Hash;

            var replaced = new Dictionary<long, byte[]>();   // logical -> new content, for blocks rewritten copy on write
            var appended = new List<byte[]>();              // content of new logical blocks count, count+1, ...
            replaced[leafLogical] = dirs.NewLeaf(names.Take(cut).ToList());
            long newLeafLogical = count;
            appended.Add(dirs.NewLeaf(names.Skip(cut).ToList()));

            // The index gains (splitHash -> new leaf) after the entry that led here.
            InsertIndex(dir, path, path.Count - 1, splitHash, newLeafLogical, replaced, appended, count, levels);

            // Stage the new blocks, then switch the directory's map to them.
            int newBlocks = replaced.Count + appended.Count;
            long goal = blocks.Data.Count > 0 ? blocks.Data[blocks.Data.Count - 1].Physical + blocks.Data[blocks.Data.Count - 1].Count : 0;
            var fresh = new Queue<long>();
            foreach (ExtBlockRun run in allocator.AllocateBlocks(newBlocks, goal))
            {
                for (long b = 0; b < run.Count; b++)
                {
                    fresh.Enqueue(run.Start + b);
                }
            }
            var runs = new List<ExtMapping>();
            foreach (ExtMapping m in blocks.Data)
            {
                long from = m.Logical;
                for (long l = m.Logical; l <= m.Logical + m.Count; l++)
                {
                    bool end = l == m.Logical + m.Count;
                    if (end || replaced.ContainsKey(l))
                    {
                        if (l > from)
                        {
                            runs.Add(new ExtMapping(from, m.Physical + (from - m.Logical), l - from, m.Unwritten));
                        }
                        if (!end)
                        {
                            long physical = fresh.Dequeue();
                            Stage(dir, l, physical, replaced[l]);
                            runs.Add(new ExtMapping(l, physical, 1));
                            allocator.ReleaseBlocks(m.Physical + (l - m.Logical), 1);
                        }
                        from = l + 1;
                    }
                }
            }
            for (int i = 0; i < appended.Count; i++)
            {
                long physical = fresh.Dequeue();
                Stage(dir, count + i, physical, appended[i]);
                runs.Add(new ExtMapping(count + i, physical, 1));
            }
            mapper.SetMap(dir, runs, blocks);
            dir.Size = (count + appended.Count) * (long)v.BlockSize;
        }

        /// <summary>Inserts (hash, block) into the node at path[depth], splitting nodes or adding a level as needed.</summary>
        private void InsertIndex(ExtInodeRecord dir, List<Frame> path, int depth, uint hash, long block, Dictionary<long, byte[]> replaced, List<byte[]> appended, long count, int levels)
        {
            Frame f = path[depth];
            byte[] node = replaced.TryGetValue(f.Logical, out byte[]? pending) ? pending : (byte[])f.Block.Clone();
            int limit = U16(node, f.CountOffset);
            int entries = U16(node, f.CountOffset + 2);
            int at = f.Index + 1;
            if (entries < limit)
            {
                InsertAt(node, f.CountOffset, at, hash, block);
                replaced[f.Logical] = node;
                return;
            }
            if (f.IsRoot && levels == 0)
            {
                // Root full, one level: its entries move to a new node; the root points at that node alone.
                var moved = NewNode();
                int nodeLimit = U16(moved, NodeCountOffset);
                if (entries + 1 > nodeLimit)
                {
                    throw Full(dir);
                }
                node.AsSpan(f.CountOffset + 4, (entries * 8) - 4).CopyTo(moved.AsSpan(NodeCountOffset + 4));
                W16(moved, NodeCountOffset + 2, entries);
                InsertAt(moved, NodeCountOffset, at, hash, block);
                long nodeLogical = count + appended.Count;
                appended.Add(moved);
                W16(node, f.CountOffset + 2, 1);
                W32(node, f.CountOffset + 4, (uint)nodeLogical);
                node.AsSpan(f.CountOffset + 8, (limit - 1) * 8).Clear();
                node[0x1E] = 1;
                replaced[f.Logical] = node;
                return;
            }
            if (!f.IsRoot)
            {
                // A full interior node splits in two; its parent gains an entry for the second half.
                var all = new List<(uint Hash, uint Block)>();
                for (int i = 0; i < entries; i++)
                {
                    all.Add((i == 0 ? 0u : U32(node, f.CountOffset + (8 * i)), U32(node, f.CountOffset + (8 * i) + 4)));
                }
                all.Insert(at, (hash, (uint)block));
                int half = all.Count / 2;
                uint firstHash = U32(node, f.CountOffset); // unused: entry 0 keeps limit/count
                _ = firstHash;
                byte[] left = NewNode();
                byte[] right = NewNode();
                Fill(left, all.Take(half).ToList());
                Fill(right, all.Skip(half).ToList());
                replaced[f.Logical] = left;
                long rightLogical = count + appended.Count;
                appended.Add(right);
                InsertIndex(dir, path, depth - 1, all[half].Hash, rightLogical, replaced, appended, count, levels);
                return;
            }
            throw Full(dir);
        }

        private AzureLinuxImageException Full(ExtInodeRecord dir) =>
            new UnsupportedImageException(v.Where, $"directory inode {dir.Number}: the hash index is full at its deepest allowed level; adding more names to this directory is not supported.");

        private void Fill(byte[] node, List<(uint Hash, uint Block)> entries)
        {
            W16(node, NodeCountOffset + 2, entries.Count);
            for (int i = 0; i < entries.Count; i++)
            {
                int o = NodeCountOffset + (8 * i);
                if (i > 0)
                {
                    W32(node, o, entries[i].Hash);
                }
                W32(node, o + 4, entries[i].Block);
            }
        }

        private byte[] NewNode()
        {
            var node = new byte[v.BlockSize];
            dirs.SetRecLen(node, 0, v.BlockSize);
            int limit = ((v.BlockSize - NodeCountOffset) / 8) - (v.Csum ? 1 : 0);
            W16(node, NodeCountOffset, limit);
            W16(node, NodeCountOffset + 2, 0);
            return node;
        }

        private static void InsertAt(byte[] node, int countOffset, int at, uint hash, long block)
        {
            int entries = U16(node, countOffset + 2);
            int o = countOffset + (8 * at);
            int tailBytes = (entries - at) * 8;
            Buffer.BlockCopy(node, o, node, o + 8, tailBytes);
            W32(node, o, hash);
            W32(node, o + 4, (uint)block);
            W16(node, countOffset + 2, entries + 1);
        }

        /// <summary>Last entry whose hash is at or below <paramref name="hash"/> (entry 0 covers from hash 0).</summary>
        private static int Find(Frame f, uint hash)
        {
            int entries = U16(f.Block, f.CountOffset + 2);
            int lo = 1, hi = entries - 1, found = 0;
            while (lo <= hi)
            {
                int mid = (lo + hi) >> 1;
                if (U32(f.Block, f.CountOffset + (8 * mid)) <= hash)
                {
                    found = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            return found;
        }

        private static long EntryBlock(Frame f, int index) => U32(f.Block, f.CountOffset + (8 * index) + 4) & 0x0FFFFFFF;

        private void VerifyNode(ExtInodeRecord dir, Frame f)
        {
            int limit = U16(f.Block, f.CountOffset);
            int entries = U16(f.Block, f.CountOffset + 2);
            int expected = ((v.BlockSize - f.CountOffset) / 8) - (v.Csum ? 1 : 0);
            if (limit != expected || entries == 0 || entries > limit)
            {
                throw v.Bad("htree node", $"directory inode {dir.Number}, block {f.Logical}: count {entries} and limit {limit} are not valid (limit {expected} expected).");
            }
            if (v.Csum)
            {
                int tail = f.CountOffset + (limit * 8);
                if (U32(f.Block, tail + 4) != DxChecksum(dir, f.Block, f.CountOffset))
                {
                    throw v.Bad("htree node checksum", $"directory inode {dir.Number}, block {f.Logical}: the checksum does not match; run e2fsck before writing.");
                }
            }
        }

        private uint DxChecksum(ExtInodeRecord dir, byte[] block, int countOffset)
        {
            int limit = U16(block, countOffset);
            int count = U16(block, countOffset + 2);
            int tail = countOffset + (limit * 8);
            uint c = v.Crc(v.InodeSeed(dir.Number, dir.Generation), block.AsSpan(0, countOffset + (count * 8)));
            c = v.Crc(c, block.AsSpan(tail, 4));
            return v.Crc(c, new byte[4]);
        }

        /// <summary>Stages a rewritten block: index nodes get their dx tail checksum, leaves their leaf tail.</summary>
        private void Stage(ExtInodeRecord dir, long logical, long physical, byte[] content)
        {
            bool index = logical == 0 || ExtDirectoryBlock.IsIndexNode(content, v.BlockSize) && U16(content, NodeCountOffset) == ((v.BlockSize - NodeCountOffset) / 8) - (v.Csum ? 1 : 0);
            if (!index)
            {
                dirs.WriteLeaf(dir, physical, content, WriteStage.Data);
                return;
            }
            if (v.Csum)
            {
                int countOffset = logical == 0 ? RootCountOffset : NodeCountOffset;
                int tail = countOffset + (U16(content, countOffset) * 8);
                content.AsSpan(tail, 8).Clear();
                W32(content, tail + 4, DxChecksum(dir, content, countOffset));
            }
            v.WriteBlock(physical, content, WriteStage.Data);
        }

        private byte[] Read(ExtInodeRecord dir, ExtFileBlocks blocks, long logical, long count)
        {
            long physical = logical < count ? ExtFileMapper.Lookup(blocks, logical) : -1;
            if (physical < 0)
            {
                throw v.Bad("htree", $"directory inode {dir.Number}: block {logical} is a hole or past the end.");
            }
            return v.ReadBlock(physical);
        }

        private static ushort U16(byte[] b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(o));

        private static uint U32(byte[] b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(o));

        private static void W16(byte[] b, int o, int value) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(o), (ushort)value);

        private static void W32(byte[] b, int o, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(o), value);
    }
}
