using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>A run of a file's logical blocks on the device.</summary>
    internal readonly struct ExtMapping
    {
        public ExtMapping(long logical, long physical, long count, bool unwritten = false)
        {
            Logical = logical;
            Physical = physical;
            Count = count;
            Unwritten = unwritten;
        }

        public long Logical { get; }

        public long Physical { get; }

        public long Count { get; }

        /// <summary>A preallocated extent that reads as zeros.</summary>
        public bool Unwritten { get; }
    }

    /// <summary>What a file's block map owns: its data runs and the blocks of the map itself (extent or indirect blocks).</summary>
    internal sealed class ExtFileBlocks
    {
        public List<ExtMapping> Data { get; } = new List<ExtMapping>();

        public List<long> MapBlocks { get; } = new List<long>();

        public long DataBlockCount
        {
            get
            {
                long n = 0;
                foreach (ExtMapping m in Data)
                {
                    n += m.Count;
                }
                return n;
            }
        }
    }

    /// <summary>
    /// Extent trees (extents.rst): reads every extent and node block of an inode, and builds a new tree
    /// for a list of runs in newly allocated blocks (copy on write: the old tree stays valid until the
    /// inode that points at the new one is written). Leaves hold (block size - 12) / 12 extents of at
    /// most 32,768 blocks; nodes carry a crc32c tail under metadata_csum.
    /// </summary>
    internal sealed class ExtExtentTreeWriter
    {
        public const int MaxInitializedLength = 32768;
        private const ushort Magic = 0xF30A;

        private readonly ExtWriteVolume v;
        private readonly ExtBitmapAllocator allocator;

        public ExtExtentTreeWriter(ExtWriteVolume volume, ExtBitmapAllocator allocator)
        {
            v = volume;
            this.allocator = allocator;
        }

        private int PerBlock => (v.BlockSize - 12) / 12;

        public ExtFileBlocks Collect(ExtInodeRecord inode)
        {
            var result = new ExtFileBlocks();
            long budget = v.Sb.BlocksCount + 16;
            Walk(inode, inode.BlockArea.ToArray(), 4, -1, result, ref budget, 0, long.MaxValue);
            return result;
        }

        private void Walk(ExtInodeRecord inode, byte[] node, int maxAllowed, int parentDepth, ExtFileBlocks into, ref long budget, long low, long high)
        {
            if (--budget < 0)
            {
                throw v.Bad("extent tree", $"inode {inode.Number}: the tree has more nodes than the file system has blocks.");
            }
            ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(node);
            int entries = BinaryPrimitives.ReadUInt16LittleEndian(node.AsSpan(2));
            int max = BinaryPrimitives.ReadUInt16LittleEndian(node.AsSpan(4));
            int depth = BinaryPrimitives.ReadUInt16LittleEndian(node.AsSpan(6));
            if (magic != Magic || entries > max || max > maxAllowed || depth > ExtentMap.MaxDepth || (parentDepth >= 0 && depth != parentDepth - 1))
            {
                throw v.Bad("extent header", $"inode {inode.Number}: a node with magic 0x{magic:X4}, {entries}/{max} entries, depth {depth} is not valid.");
            }
            long previous = -1;
            for (int i = 0; i < entries; i++)
            {
                ReadOnlySpan<byte> e = node.AsSpan(12 + (12 * i), 12);
                long first = BinaryPrimitives.ReadUInt32LittleEndian(e);
                if (first <= previous || first < low || first >= high)
                {
                    throw v.Bad("extent tree", $"inode {inode.Number}: extents are out of order at logical block {first}.");
                }
                previous = first;
                long next = i + 1 < entries ? BinaryPrimitives.ReadUInt32LittleEndian(node.AsSpan(12 + (12 * (i + 1)))) : high;
                if (depth == 0)
                {
                    int len = BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(4));
                    bool unwritten = len > MaxInitializedLength;
                    if (unwritten)
                    {
                        len -= MaxInitializedLength;
                    }
                    long start = ((long)BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(6)) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(8));
                    if (len == 0 || first + len > next)
                    {
                        throw v.Bad("extent", $"inode {inode.Number}: the extent at logical block {first} overlaps the next one or is empty.");
                    }
                    v.CheckBlock(start, len, $"inode {inode.Number} extent");
                    into.Data.Add(new ExtMapping(first, start, len, unwritten));
                }
                else
                {
                    long child = ((long)BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(8)) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(4));
                    v.CheckBlock(child, 1, $"inode {inode.Number} extent index");
                    byte[] block = v.ReadBlock(child);
                    VerifyTail(inode, block, child);
                    into.MapBlocks.Add(child);
                    Walk(inode, block, PerBlock, depth, into, ref budget, first, next);
                }
            }
        }

        private void VerifyTail(ExtInodeRecord inode, byte[] block, long number)
        {
            if (!v.Csum)
            {
                return;
            }
            int max = BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(4));
            int tail = 12 + (12 * max);
            if (tail + 4 > block.Length || BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(tail)) != v.Crc(v.InodeSeed(inode.Number, inode.Generation), block.AsSpan(0, tail)))
            {
                throw v.Bad("extent block checksum", $"inode {inode.Number}, block {number}: the checksum does not match; run e2fsck before writing.");
            }
        }

        /// <summary>Number of node blocks a tree over <paramref name="extents"/> extents needs.</summary>
        public long NodeBlocksFor(long extents)
        {
            long total = 0;
            long level = extents;
            while (level > 4)
            {
                level = (level + PerBlock - 1) / PerBlock;
                total += level;
            }
            return total;
        }

        /// <summary>
        /// Builds a tree over <paramref name="runs"/> (sorted by logical block; runs longer than 32,768 blocks
        /// are cut), stages its node blocks (Metadata) and returns the 60-byte root for i_block and the node
        /// blocks allocated.
        /// </summary>
        public byte[] Build(ExtInodeRecord inode, IReadOnlyList<ExtMapping> runs, List<long> nodeBlocks)
        {
            var extents = new List<byte[]>();
            foreach (ExtMapping r in runs)
            {
                int limit = r.Unwritten ? MaxInitializedLength - 1 : MaxInitializedLength;
                for (long done = 0; done < r.Count; done += limit)
                {
                    long len = Math.Min(limit, r.Count - done);
                    var e = new byte[12];
                    BinaryPrimitives.WriteUInt32LittleEndian(e, (uint)(r.Logical + done));
                    BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(4), (ushort)(r.Unwritten ? len + MaxInitializedLength : len));
                    long p = r.Physical + done;
                    BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(6), (ushort)(p >> 32));
                    BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(8), (uint)p);
                    extents.Add(e);
                }
            }
            long needed = NodeBlocksFor(extents.Count);
            var blocks = new Queue<long>();
            long goal = runs.Count > 0 ? runs[0].Physical : 0;
            foreach (ExtBlockRun run in allocator.AllocateBlocks(needed, goal))
            {
                for (long b = 0; b < run.Count; b++)
                {
                    blocks.Enqueue(run.Start + b);
                }
            }
            List<byte[]> level = extents;
            int depth = 0;
            uint seed = v.Csum ? v.InodeSeed(inode.Number, inode.Generation) : 0;
            while (level.Count > 4)
            {
                var parents = new List<byte[]>();
                for (int i = 0; i < level.Count; i += PerBlock)
                {
                    int n = Math.Min(PerBlock, level.Count - i);
                    long number = blocks.Dequeue();
                    nodeBlocks.Add(number);
                    var block = new byte[v.BlockSize];
                    Header(block, n, PerBlock, depth);
                    for (int k = 0; k < n; k++)
                    {
                        Buffer.BlockCopy(level[i + k], 0, block, 12 + (12 * k), 12);
                    }
                    if (v.Csum)
                    {
                        int tail = 12 + (12 * PerBlock);
                        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(tail), v.Crc(seed, block.AsSpan(0, tail)));
                    }
                    v.WriteBlock(number, block, WriteStage.Data);
                    var index = new byte[12];
                    Buffer.BlockCopy(level[i], 0, index, 0, 4); // ei_block: the first logical block under it
                    BinaryPrimitives.WriteUInt32LittleEndian(index.AsSpan(4), (uint)number);
                    BinaryPrimitives.WriteUInt16LittleEndian(index.AsSpan(8), (ushort)(number >> 32));
                    parents.Add(index);
                }
                level = parents;
                depth++;
            }
            var root = new byte[60];
            Header(root, level.Count, 4, depth);
            for (int k = 0; k < level.Count; k++)
            {
                Buffer.BlockCopy(level[k], 0, root, 12 + (12 * k), 12);
            }
            return root;
        }

        private static void Header(byte[] node, int entries, int max, int depth)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(node, Magic);
            BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(2), (ushort)entries);
            BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(4), (ushort)max);
            BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(6), (ushort)depth);
        }
    }
}
