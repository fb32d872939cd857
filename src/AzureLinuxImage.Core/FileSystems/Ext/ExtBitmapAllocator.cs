using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>A run of device blocks.</summary>
    internal readonly struct ExtBlockRun
    {
        public ExtBlockRun(long start, long count)
        {
            Start = start;
            Count = count;
        }

        public long Start { get; }

        public long Count { get; }
    }

    /// <summary>
    /// Block and inode bitmaps (bitmaps.rst): allocation marks bits at once (staged with the new data,
    /// before anything links to it); frees are held until <see cref="ApplyReleases"/> at commit, staged
    /// after every link is gone, and nothing freed is handed out again in the same session, so a crash
    /// can only leak. Group free counts, the *_UNINIT flags, itable_unused, bitmap checksums and the
    /// superblock counts follow each change.
    /// </summary>
    internal sealed class ExtBitmapAllocator
    {
        private readonly ExtWriteVolume v;
        private readonly ExtGroupDescriptorTable groups;
        private readonly List<ExtBlockRun> releasedBlocks = new List<ExtBlockRun>();
        private readonly HashSet<long> releasedBlockSet = new HashSet<long>();
        private readonly List<(uint Inode, bool Directory)> releasedInodes = new List<(uint Inode, bool Directory)>();

        public ExtBitmapAllocator(ExtWriteVolume volume, ExtGroupDescriptorTable groups)
        {
            v = volume;
            this.groups = groups;
        }

        /// <summary>Position in the lists of held frees, to forget the ones of an operation that failed.</summary>
        public (int Blocks, int Inodes) Mark => (releasedBlocks.Count, releasedInodes.Count);

        public void RollBackTo((int Blocks, int Inodes) mark)
        {
            for (int i = releasedBlocks.Count - 1; i >= mark.Blocks; i--)
            {
                for (long b = releasedBlocks[i].Start; b < releasedBlocks[i].Start + releasedBlocks[i].Count; b++)
                {
                    releasedBlockSet.Remove(b);
                }
                releasedBlocks.RemoveAt(i);
            }
            releasedInodes.RemoveRange(mark.Inodes, releasedInodes.Count - mark.Inodes);
        }

        public long GroupOfBlock(long block) => (block - v.Sb.FirstDataBlock) / v.Sb.BlocksPerGroup;

        public long GroupOfInode(uint inode) => (inode - 1) / v.Sb.InodesPerGroup;

        /// <summary>Blocks the group covers (the last group may be short).</summary>
        private int BlocksInGroup(long group)
        {
            long start = v.Sb.FirstDataBlock + (group * v.Sb.BlocksPerGroup);
            return (int)Math.Min(v.Sb.BlocksPerGroup, v.Sb.BlocksCount - start);
        }

        // ---- blocks ----

        /// <summary>Allocates <paramref name="count"/> blocks, preferring runs near <paramref name="goal"/>.</summary>
        public List<ExtBlockRun> AllocateBlocks(long count, long goal)
        {
            var runs = new List<ExtBlockRun>();
            if (count <= 0)
            {
                return runs;
            }
            if (count > v.FreeBlocks)
            {
                throw NoSpace($"{count} blocks are needed and the superblock counts {v.FreeBlocks} free");
            }
            long left = count;
            long groupCount = v.Sb.GroupCount;
            long first = goal >= v.Sb.FirstDataBlock && goal < v.Sb.BlocksCount ? GroupOfBlock(goal) : 0;
            for (long i = 0; i < groupCount && left > 0; i++)
            {
                long g = (first + i) % groupCount;
                ExtGroupDescriptor d = groups.Read(g);
                if (d.FreeBlocks == 0)
                {
                    continue;
                }
                byte[]? bitmap = BlockBitmap(d);
                if (bitmap == null)
                {
                    continue;
                }
                int n = BlocksInGroup(g);
                int start = i == 0 ? (int)Math.Min(n - 1, Math.Max(0, goal - v.Sb.FirstDataBlock - (g * v.Sb.BlocksPerGroup))) : 0;
                long taken = 0;
                long groupBase = v.Sb.FirstDataBlock + (g * v.Sb.BlocksPerGroup);
                for (int pass = 0; pass < 2 && left > 0; pass++)
                {
                    int from = pass == 0 ? start : 0;
                    int to = pass == 0 ? n : start;
                    int bit = from;
                    while (bit < to && left > 0)
                    {
                        if ((bit & 7) == 0 && bit + 8 <= to && bitmap[bit >> 3] == 0xFF)
                        {
                            bit += 8;
                            continue;
                        }
                        if (Test(bitmap, bit))
                        {
                            bit++;
                            continue;
                        }
                        int runStart = bit;
                        while (bit < to && left > 0 && !Test(bitmap, bit))
                        {
                            Set(bitmap, bit);
                            bit++;
                            left--;
                        }
                        long block = groupBase + runStart;
                        long len = bit - runStart;
                        if (runs.Count > 0 && runs[runs.Count - 1].Start + runs[runs.Count - 1].Count == block)
                        {
                            runs[runs.Count - 1] = new ExtBlockRun(runs[runs.Count - 1].Start, runs[runs.Count - 1].Count + len);
                        }
                        else
                        {
                            runs.Add(new ExtBlockRun(block, len));
                        }
                        taken += len;
                    }
                }
                if (taken == 0)
                {
                    continue;
                }
                if (taken > d.FreeBlocks)
                {
                    throw v.Bad("group descriptor", $"group {g}: the bitmap has more free blocks than the descriptor's {d.FreeBlocks}; run e2fsck before writing.");
                }
                d.FreeBlocks -= (uint)taken;
                d.Flags = (ushort)(d.Flags & ~ExtGroupDescriptor.BlockUninit);
                WriteBlockBitmap(d, bitmap, WriteStage.Metadata);
                v.FreeBlocks -= taken;
            }
            if (left > 0)
            {
                throw NoSpace($"{count} blocks are needed and only {count - left} are free");
            }
            return runs;
        }

        /// <summary>Holds blocks for release at commit; each must be in use and not released already.</summary>
        public void ReleaseBlocks(long start, long count)
        {
            if (count <= 0)
            {
                return;
            }
            v.CheckBlock(start, count, "released blocks");
            long b = start;
            while (b < start + count)
            {
                long g = GroupOfBlock(b);
                ExtGroupDescriptor d = groups.Read(g);
                long groupBase = v.Sb.FirstDataBlock + (g * v.Sb.BlocksPerGroup);
                long end = Math.Min(start + count, groupBase + BlocksInGroup(g));
                byte[]? bitmap = d.Has(ExtGroupDescriptor.BlockUninit) && v.GroupChecksums ? null : v.ReadBlock(d.BlockBitmap);
                for (; b < end; b++)
                {
                    if (bitmap == null || !Test(bitmap, (int)(b - groupBase)) || !releasedBlockSet.Add(b))
                    {
                        throw v.Bad("block bitmap", $"block {b} is owned by a file but marked free (or owned twice); run e2fsck before writing.");
                    }
                }
            }
            if (releasedBlocks.Count > 0 && releasedBlocks[releasedBlocks.Count - 1].Start + releasedBlocks[releasedBlocks.Count - 1].Count == start)
            {
                ExtBlockRun last = releasedBlocks[releasedBlocks.Count - 1];
                releasedBlocks[releasedBlocks.Count - 1] = new ExtBlockRun(last.Start, last.Count + count);
            }
            else
            {
                releasedBlocks.Add(new ExtBlockRun(start, count));
            }
        }

        // ---- inodes ----

        public uint AllocateInode(bool directory, long goalGroup)
        {
            if (v.FreeInodes == 0)
            {
                throw NoSpace("no inode is free");
            }
            long groupCount = v.Sb.GroupCount;
            int ipg = (int)v.Sb.InodesPerGroup;
            for (long i = 0; i < groupCount; i++)
            {
                long g = (Math.Max(0, goalGroup) + i) % groupCount;
                ExtGroupDescriptor d = groups.Read(g);
                if (d.FreeInodes == 0)
                {
                    continue;
                }
                byte[] bitmap = InodeBitmap(d);
                int lowest = g == 0 ? (int)Math.Min(ipg, v.FirstInode - 1) : 0;
                for (int bit = lowest; bit < ipg; bit++)
                {
                    if ((bit & 7) == 0 && bit + 8 <= ipg && bitmap[bit >> 3] == 0xFF)
                    {
                        bit += 7;
                        continue;
                    }
                    if (Test(bitmap, bit))
                    {
                        continue;
                    }
                    Set(bitmap, bit);
                    d.FreeInodes--;
                    if (directory)
                    {
                        d.UsedDirs++;
                    }
                    d.Flags = (ushort)(d.Flags & ~ExtGroupDescriptor.InodeUninit);
                    if (v.GroupChecksums && bit >= ipg - d.ItableUnused)
                    {
                        d.ItableUnused = (uint)(ipg - bit - 1);
                    }
                    WriteInodeBitmap(d, bitmap, WriteStage.Metadata);
                    v.FreeInodes--;
                    return (uint)((g * ipg) + bit + 1);
                }
            }
            throw NoSpace("no inode is free in any group's bitmap");
        }

        /// <summary>Holds an inode for release at commit.</summary>
        public void ReleaseInode(uint inode, bool directory)
        {
            ExtGroupDescriptor d = groups.Read(GroupOfInode(inode));
            int bit = (int)((inode - 1) % v.Sb.InodesPerGroup);
            bool uninit = v.GroupChecksums && d.Has(ExtGroupDescriptor.InodeUninit);
            if (uninit || !Test(v.ReadBlock(d.InodeBitmap), bit) || releasedInodes.Any(r => r.Inode == inode))
            {
                throw v.Bad("inode bitmap", $"inode {inode} is linked but marked free; run e2fsck before writing.");
            }
            releasedInodes.Add((inode, directory));
        }

        /// <summary>Stages every held free (Release stage), then the superblock counts.</summary>
        public void ApplyReleases()
        {
            foreach (IGrouping<long, ExtBlockRun> byGroup in releasedBlocks.SelectMany(Split).GroupBy(r => GroupOfBlock(r.Start)))
            {
                ExtGroupDescriptor d = groups.Read(byGroup.Key);
                byte[] bitmap = v.ReadBlock(d.BlockBitmap);
                long groupBase = v.Sb.FirstDataBlock + (byGroup.Key * v.Sb.BlocksPerGroup);
                long n = 0;
                foreach (ExtBlockRun r in byGroup)
                {
                    for (long b = r.Start; b < r.Start + r.Count; b++)
                    {
                        Clear(bitmap, (int)(b - groupBase));
                        n++;
                    }
                }
                d.FreeBlocks += (uint)n;
                WriteBlockBitmap(d, bitmap, WriteStage.Release);
                v.FreeBlocks += n;
            }
            foreach (IGrouping<long, (uint Inode, bool Directory)> byGroup in releasedInodes.GroupBy(r => GroupOfInode(r.Inode)))
            {
                ExtGroupDescriptor d = groups.Read(byGroup.Key);
                byte[] bitmap = v.ReadBlock(d.InodeBitmap);
                foreach ((uint inode, bool directory) in byGroup)
                {
                    Clear(bitmap, (int)((inode - 1) % v.Sb.InodesPerGroup));
                    d.FreeInodes++;
                    if (directory && d.UsedDirs > 0)
                    {
                        d.UsedDirs--;
                    }
                    v.FreeInodes++;
                }
                WriteInodeBitmap(d, bitmap, WriteStage.Release);
            }
            releasedBlocks.Clear();
            releasedBlockSet.Clear();
            releasedInodes.Clear();
        }

        /// <summary>Runs cut at group boundaries.</summary>
        private IEnumerable<ExtBlockRun> Split(ExtBlockRun r)
        {
            long b = r.Start;
            long end = r.Start + r.Count;
            while (b < end)
            {
                long g = GroupOfBlock(b);
                long groupEnd = v.Sb.FirstDataBlock + ((g + 1) * v.Sb.BlocksPerGroup);
                long e = Math.Min(end, groupEnd);
                yield return new ExtBlockRun(b, e - b);
                b = e;
            }
        }

        // ---- bitmap blocks ----

        /// <summary>The group's block bitmap, built when BLOCK_UNINIT (null when it cannot be rebuilt with confidence).</summary>
        private byte[]? BlockBitmap(ExtGroupDescriptor d)
        {
            if (!(v.GroupChecksums && d.Has(ExtGroupDescriptor.BlockUninit)))
            {
                return v.ReadBlock(d.BlockBitmap);
            }
            var bitmap = new byte[v.BlockSize];
            long g = d.Group;
            int n = BlocksInGroup(g);
            long groupBase = v.Sb.FirstDataBlock + (g * v.Sb.BlocksPerGroup);
            int used = 0;
            void Mark(long block)
            {
                long bit = block - groupBase;
                if (bit >= 0 && bit < n && !Test(bitmap, (int)bit))
                {
                    Set(bitmap, (int)bit);
                    used++;
                }
            }
            if (ExtLayout.HasSuperblock(v.Sb, g))
            {
                Mark(groupBase);
                if (!v.Sb.HasIncompat(ExtSuperblock.IncompatMetaBg))
                {
                    int perBlock = v.BlockSize / v.Sb.DescriptorSize;
                    long gdtBlocks = (v.Sb.GroupCount + perBlock - 1) / perBlock;
                    long reserved = BinaryPrimitives.ReadUInt16LittleEndian(ReadSuperblockField(0xCE, 2));
                    for (long b = 1; b <= gdtBlocks + reserved; b++)
                    {
                        Mark(groupBase + b);
                    }
                }
                else
                {
                    // meta_bg: rebuilding is not attempted; the group is skipped.
                    return null;
                }
            }
            else if (v.Sb.HasIncompat(ExtSuperblock.IncompatMetaBg))
            {
                return null;
            }
            long tableBlocks = ((long)v.Sb.InodesPerGroup * v.Sb.InodeSize + v.BlockSize - 1) / v.BlockSize;
            for (long other = 0; other < v.Sb.GroupCount; other++)
            {
                ExtGroupDescriptor o = other == g ? d : groups.Read(other);
                Mark(o.BlockBitmap);
                Mark(o.InodeBitmap);
                for (long t = 0; t < tableBlocks; t++)
                {
                    Mark(o.InodeTable + t);
                }
            }
            // The check that makes the rebuild trustworthy: what it marks is what the descriptor counts as used.
            if (n - used != d.FreeBlocks)
            {
                return null;
            }
            for (int bit = n; bit < v.BlockSize * 8; bit++)
            {
                Set(bitmap, bit);
            }
            return bitmap;
        }

        private byte[] InodeBitmap(ExtGroupDescriptor d)
        {
            if (!(v.GroupChecksums && d.Has(ExtGroupDescriptor.InodeUninit)))
            {
                return v.ReadBlock(d.InodeBitmap);
            }
            var bitmap = new byte[v.BlockSize];
            for (int bit = (int)v.Sb.InodesPerGroup; bit < v.BlockSize * 8; bit++)
            {
                Set(bitmap, bit);
            }
            return bitmap;
        }

        private void WriteBlockBitmap(ExtGroupDescriptor d, byte[] bitmap, WriteStage stage)
        {
            if (v.Csum)
            {
                d.SetBlockBitmapChecksum(v.Crc(v.Sb.ChecksumSeed, bitmap.AsSpan(0, (int)(v.Sb.BlocksPerGroup / 8))));
            }
            v.WriteBlock(d.BlockBitmap, bitmap, stage);
            groups.Write(d, stage);
        }

        private void WriteInodeBitmap(ExtGroupDescriptor d, byte[] bitmap, WriteStage stage)
        {
            if (v.Csum)
            {
                d.SetInodeBitmapChecksum(v.Crc(v.Sb.ChecksumSeed, bitmap.AsSpan(0, (int)(v.Sb.InodesPerGroup / 8))));
            }
            v.WriteBlock(d.InodeBitmap, bitmap, stage);
            groups.Write(d, stage);
        }

        private byte[] ReadSuperblockField(int offset, int length)
        {
            var b = new byte[length];
            v.Device.Read(ExtSuperblock.Offset + offset, b, 0, length);
            return b;
        }

        private AzureLinuxImageException NoSpace(string detail) =>
            new AzureLinuxImageException("FileSystemFull", ErrorKind.InvalidArgument, $"{v.Where}: the file system has no room for the change ({detail}).", v.Where);

        private static bool Test(byte[] bitmap, int bit) => (bitmap[bit >> 3] & (1 << (bit & 7))) != 0;

        private static void Set(byte[] bitmap, int bit) => bitmap[bit >> 3] |= (byte)(1 << (bit & 7));

        private static void Clear(byte[] bitmap, int bit) => bitmap[bit >> 3] &= (byte)~(1 << (bit & 7));
    }
}
