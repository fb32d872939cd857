using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// ext2/3 block maps (blockmap.rst): twelve direct pointers, then single, double and triple indirect
    /// blocks. Reads every pointer an inode owns, and builds a new map for a list of runs in newly
    /// allocated indirect blocks (copy on write, like the extent tree writer).
    /// </summary>
    internal sealed class ExtIndirectMapWriter
    {
        private readonly ExtWriteVolume v;
        private readonly ExtBitmapAllocator allocator;

        public ExtIndirectMapWriter(ExtWriteVolume volume, ExtBitmapAllocator allocator)
        {
            v = volume;
            this.allocator = allocator;
        }

        private int PerBlock => v.BlockSize / 4;

        public ExtFileBlocks Collect(ExtInodeRecord inode)
        {
            var result = new ExtFileBlocks();
            long budget = v.Sb.BlocksCount + 16;
            ReadOnlySpan<byte> area = inode.BlockArea;
            for (int i = 0; i < 12; i++)
            {
                Add(result, i, BinaryPrimitives.ReadUInt32LittleEndian(area.Slice(4 * i)), inode);
            }
            long p = PerBlock;
            long baseLogical = 12;
            for (int level = 1; level <= 3; level++)
            {
                uint top = BinaryPrimitives.ReadUInt32LittleEndian(area.Slice(4 * (11 + level)));
                long span = 1;
                for (int k = 0; k < level; k++)
                {
                    span *= p;
                }
                if (top != 0)
                {
                    Walk(inode, top, level, baseLogical, result, ref budget);
                }
                baseLogical += span;
            }
            return result;
        }

        private void Walk(ExtInodeRecord inode, uint block, int level, long baseLogical, ExtFileBlocks into, ref long budget)
        {
            if (--budget < 0)
            {
                throw v.Bad("indirect block", $"inode {inode.Number}: the map has more blocks than the file system.");
            }
            v.CheckBlock(block, 1, $"inode {inode.Number} indirect block");
            into.MapBlocks.Add(block);
            byte[] data = v.ReadBlock(block);
            long span = 1;
            for (int k = 1; k < level; k++)
            {
                span *= PerBlock;
            }
            for (int i = 0; i < PerBlock; i++)
            {
                uint p = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4 * i));
                if (p == 0)
                {
                    continue;
                }
                if (level == 1)
                {
                    Add(into, baseLogical + i, p, inode);
                }
                else
                {
                    Walk(inode, p, level - 1, baseLogical + (i * span), into, ref budget);
                }
            }
        }

        private void Add(ExtFileBlocks into, long logical, uint physical, ExtInodeRecord inode)
        {
            if (physical == 0)
            {
                return;
            }
            v.CheckBlock(physical, 1, $"inode {inode.Number} block pointer");
            List<ExtMapping> d = into.Data;
            if (d.Count > 0)
            {
                ExtMapping last = d[d.Count - 1];
                if (last.Logical + last.Count == logical && last.Physical + last.Count == physical)
                {
                    d[d.Count - 1] = new ExtMapping(last.Logical, last.Physical, last.Count + 1);
                    return;
                }
            }
            d.Add(new ExtMapping(logical, physical, 1));
        }

        /// <summary>Builds the map over <paramref name="runs"/> (sorted), staging indirect blocks (Metadata); returns i_block's 60 bytes.</summary>
        public byte[] Build(IReadOnlyList<ExtMapping> runs, List<long> mapBlocks)
        {
            var area = new byte[60];
            var lookup = new RunLookup(runs);
            for (int i = 0; i < 12; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(area.AsSpan(4 * i), Physical(lookup.Find(i)));
            }
            long p = PerBlock;
            long baseLogical = 12;
            long goal = runs.Count > 0 ? runs[0].Physical : 0;
            for (int level = 1; level <= 3; level++)
            {
                long span = 1;
                for (int k = 0; k < level; k++)
                {
                    span *= p;
                }
                uint top = BuildLevel(lookup, level, baseLogical, span, mapBlocks, ref goal);
                BinaryPrimitives.WriteUInt32LittleEndian(area.AsSpan(4 * (11 + level)), top);
                baseLogical += span;
            }
            if (lookup.AnyIn(baseLogical, long.MaxValue))
            {
                throw v.Bad("block map", "the file is larger than a block-mapped (ext2/3) file can be.");
            }
            return area;
        }

        private uint BuildLevel(RunLookup lookup, int level, long baseLogical, long span, List<long> mapBlocks, ref long goal)
        {
            if (!lookup.AnyIn(baseLogical, baseLogical + span))
            {
                return 0;
            }
            long childSpan = span / PerBlock;
            var block = new byte[v.BlockSize];
            for (int i = 0; i < PerBlock; i++)
            {
                long at = baseLogical + (i * childSpan);
                uint pointer = level == 1 ? Physical(lookup.Find(at)) : BuildLevel(lookup, level - 1, at, childSpan, mapBlocks, ref goal);
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(4 * i), pointer);
            }
            List<ExtBlockRun> got = allocator.AllocateBlocks(1, goal);
            long number = got[0].Start;
            goal = number + 1;
            if (number > uint.MaxValue)
            {
                throw v.Bad("block map", $"block {number} does not fit a 32-bit block pointer.");
            }
            mapBlocks.Add(number);
            v.WriteBlock(number, block, WriteStage.Data);
            return (uint)number;
        }

        private uint Physical(long physical)
        {
            if (physical > uint.MaxValue)
            {
                throw v.Bad("block map", $"block {physical} does not fit a 32-bit block pointer.");
            }
            return physical < 0 ? 0 : (uint)physical;
        }

        /// <summary>Logical to physical over sorted runs, by binary search.</summary>
        private sealed class RunLookup
        {
            private readonly IReadOnlyList<ExtMapping> runs;

            public RunLookup(IReadOnlyList<ExtMapping> runs)
            {
                this.runs = runs;
            }

            /// <summary>Index of the last run starting at or before <paramref name="logical"/>, or -1.</summary>
            private int Floor(long logical)
            {
                int lo = 0, hi = runs.Count - 1, found = -1;
                while (lo <= hi)
                {
                    int mid = (lo + hi) >> 1;
                    if (runs[mid].Logical <= logical)
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

            public long Find(long logical)
            {
                int i = Floor(logical);
                if (i < 0 || logical >= runs[i].Logical + runs[i].Count || runs[i].Unwritten)
                {
                    return -1;
                }
                return runs[i].Physical + (logical - runs[i].Logical);
            }

            public bool AnyIn(long from, long to)
            {
                int i = Floor(from);
                if (i >= 0 && runs[i].Logical + runs[i].Count > from)
                {
                    return true;
                }
                return i + 1 < runs.Count && runs[i + 1].Logical < to;
            }
        }
    }
}
