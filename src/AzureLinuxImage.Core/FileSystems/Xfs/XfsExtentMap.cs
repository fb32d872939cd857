using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>One mapping of a fork: logical blocks [Logical, Logical+Count) at linear block Physical.</summary>
    internal readonly struct XfsExtent
    {
        public XfsExtent(long logical, long physical, long count, bool unwritten)
        {
            Logical = logical;
            Physical = physical;
            Count = count;
            Unwritten = unwritten;
        }

        public long Logical { get; }

        /// <summary>Linear block number (agno * agblocks + agbno).</summary>
        public long Physical { get; }

        public long Count { get; }

        /// <summary>Preallocated but never written: reads as zeros.</summary>
        public bool Unwritten { get; }
    }

    /// <summary>
    /// The data fork of an inode as a sorted list of extents, from the inline extent list or from the
    /// block map btree (bmbt, "XFS Algorithms &amp; Data Structures" ch. 16) of any depth. Hostile trees are
    /// bounded: depth, a block visited twice, record counts, and the total number of extents.
    /// </summary>
    internal sealed class XfsExtentMap
    {
        /// <summary>More extents than this in one file are refused rather than held in memory (about 24 MiB).</summary>
        public const int MaxExtents = 1 << 20;

        /// <summary>XFS's own bmbt height limit is 9 (5 with 32-bit extent counts); more is corruption.</summary>
        public const int MaxLevels = 9;

        private const uint BmapMagic = 0x424D4150;   // "BMAP" v4
        private const uint Bmap3Magic = 0x424D4133;  // "BMA3" v5
        private const int ShortHeader = 24;
        private const int CrcHeader = 72;
        private const int BlockCrcOffset = 64; // xfs_btree_block_lhdr: magic, level, numrecs, siblings, blkno, lsn, uuid, owner, crc

        private readonly XfsExtent[] extents;

        private XfsExtentMap(XfsExtent[] extents)
        {
            this.extents = extents;
        }

        public IReadOnlyList<XfsExtent> Extents => extents;

        public static XfsExtentMap Read(XfsVolume volume, XfsInode inode)
        {
            var list = new List<XfsExtent>();
            string structure = $"XFS inode {inode.Number} extent list";
            if (inode.Format == XfsForkFormat.Extents)
            {
                for (int i = 0; i < (int)inode.ExtentCount; i++)
                {
                    list.Add(Decode(volume, inode.DataFork.AsSpan(i * 16, 16), structure));
                }
            }
            else if (inode.Format == XfsForkFormat.Btree)
            {
                ReadRoot(volume, inode, list);
            }
            else
            {
                throw new InvalidImageException(volume.Where, structure, $"the data fork is in format {inode.Format}, not extents or btree.");
            }

            long end = 0;
            foreach (XfsExtent e in list)
            {
                if (e.Logical < end)
                {
                    throw new InvalidImageException(volume.Where, structure, $"extents overlap or are out of order at logical block {e.Logical}.");
                }
                end = e.Logical + e.Count;
            }
            if ((ulong)list.Count != inode.ExtentCount)
            {
                throw new InvalidImageException(volume.Where, structure, $"the inode records {inode.ExtentCount} extents but its map holds {list.Count}.");
            }
            return new XfsExtentMap(list.ToArray());
        }

        /// <summary>The extent holding logical block <paramref name="block"/>, or the index where the next one starts (as ~index).</summary>
        public int Find(long block)
        {
            int lo = 0;
            int hi = extents.Length - 1;
            while (lo <= hi)
            {
                int mid = lo + ((hi - lo) / 2);
                XfsExtent e = extents[mid];
                if (block < e.Logical)
                {
                    hi = mid - 1;
                }
                else if (block >= e.Logical + e.Count)
                {
                    lo = mid + 1;
                }
                else
                {
                    return mid;
                }
            }
            return ~lo;
        }

        /// <summary>
        /// Decodes a 128-bit packed extent record (xfs_bmbt_rec): flag (1 bit), startoff (54), startblock (52),
        /// blockcount (21), and checks it lies inside the file system.
        /// </summary>
        private static XfsExtent Decode(XfsVolume volume, ReadOnlySpan<byte> rec, string structure)
        {
            ulong l0 = BinaryPrimitives.ReadUInt64BigEndian(rec);
            ulong l1 = BinaryPrimitives.ReadUInt64BigEndian(rec.Slice(8));
            bool unwritten = (l0 >> 63) != 0;
            long startOff = (long)((l0 & 0x7FFFFFFFFFFFFFFFUL) >> 9);
            ulong startBlock = ((l0 & 0x1FFUL) << 43) | (l1 >> 21);
            long count = (long)(l1 & 0x1FFFFFUL);
            XfsSuperblock sb = volume.Superblock;
            long linear = sb.LinearBlock(startBlock);
            if (count == 0 || startOff + count > (long.MaxValue >> sb.BlockLog) || linear < 0 || (ulong)(startBlock & ((1UL << sb.AgBlockLog) - 1)) + (ulong)count > sb.AgBlocks || linear + count > sb.DataBlocks)
            {
                throw new InvalidImageException(volume.Where, structure, $"extent at logical block {startOff} ({count} blocks at file system block {startBlock}) lies outside the file system or its allocation group.");
            }
            return new XfsExtent(startOff, linear, count, unwritten);
        }

        private static void ReadRoot(XfsVolume volume, XfsInode inode, List<XfsExtent> list)
        {
            string structure = $"XFS inode {inode.Number} bmbt root";
            byte[] fork = inode.DataFork;
            if (fork.Length < 4 + 16)
            {
                throw new InvalidImageException(volume.Where, structure, "the data fork is too small for a btree root.");
            }
            int level = BinaryPrimitives.ReadUInt16BigEndian(fork);
            int records = BinaryPrimitives.ReadUInt16BigEndian(fork.AsSpan(2));
            // xfs_bmdr_maxrecs: keys then pointers, each 8 bytes, sized for the whole fork.
            int maxRecords = (fork.Length - 4) / 16;
            if (level < 1 || level > MaxLevels)
            {
                throw new InvalidImageException(volume.Where, structure, $"btree level {level} is outside 1..{MaxLevels}.");
            }
            if (records < 1 || records > maxRecords)
            {
                throw new InvalidImageException(volume.Where, structure, $"{records} records (at most {maxRecords} fit in the fork).");
            }
            var visited = new HashSet<long>();
            int pointers = 4 + (maxRecords * 8);
            for (int i = 0; i < records; i++)
            {
                ulong ptr = BinaryPrimitives.ReadUInt64BigEndian(fork.AsSpan(pointers + (i * 8)));
                ReadNode(volume, inode, ptr, level - 1, visited, list);
            }
        }

        private static void ReadNode(XfsVolume volume, XfsInode inode, ulong fsBlock, int expectedLevel, HashSet<long> visited, List<XfsExtent> list)
        {
            XfsSuperblock sb = volume.Superblock;
            string structure = $"XFS inode {inode.Number} bmbt block {fsBlock}";
            long linear = sb.LinearBlock(fsBlock);
            if (linear < 0)
            {
                throw new InvalidImageException(volume.Where, structure, "the block pointer is outside the file system.");
            }
            if (!visited.Add(linear))
            {
                throw new InvalidImageException(volume.Where, structure, "the block is referenced twice (a cycle or a shared node in the btree).");
            }
            byte[] block = volume.ReadBlock(linear, structure);
            ReadOnlySpan<byte> b = block;
            int header;
            if (sb.HasCrc)
            {
                if (BinaryPrimitives.ReadUInt32BigEndian(b) != Bmap3Magic)
                {
                    throw new InvalidImageException(volume.Where, structure, "the magic number is not BMA3.");
                }
                XfsChecksum.Verify(block, 0, block.Length, BlockCrcOffset, volume.Where, structure);
                ulong daddr = BinaryPrimitives.ReadUInt64BigEndian(b.Slice(24));
                ulong owner = BinaryPrimitives.ReadUInt64BigEndian(b.Slice(56));
                if (daddr != (ulong)linear * (ulong)(sb.BlockSize / 512) || owner != inode.Number || !b.Slice(40, 16).SequenceEqual(sb.MetadataUuid))
                {
                    throw new InvalidImageException(volume.Where, structure, "the block's self-description (address, owner inode or UUID) does not match where it was found.");
                }
                header = CrcHeader;
            }
            else
            {
                if (BinaryPrimitives.ReadUInt32BigEndian(b) != BmapMagic)
                {
                    throw new InvalidImageException(volume.Where, structure, "the magic number is not BMAP.");
                }
                header = ShortHeader;
            }
            int level = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(4));
            int records = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(6));
            int maxRecords = (block.Length - header) / 16;
            if (level != expectedLevel)
            {
                throw new InvalidImageException(volume.Where, structure, $"level {level} where the parent implies {expectedLevel}.");
            }
            if (records < 1 || records > maxRecords)
            {
                throw new InvalidImageException(volume.Where, structure, $"{records} records (1..{maxRecords} fit in a block).");
            }
            if (level == 0)
            {
                if (list.Count + records > MaxExtents)
                {
                    throw new UnsupportedImageException(volume.Where, $"XFS inode {inode.Number} has more than {MaxExtents} extents; such a fragmented file is not read.");
                }
                for (int i = 0; i < records; i++)
                {
                    list.Add(Decode(volume, b.Slice(header + (i * 16), 16), structure));
                }
                return;
            }
            // Copy the pointers out: the cached block may be evicted while the children are read.
            var children = new ulong[records];
            int pointers = header + (maxRecords * 8);
            for (int i = 0; i < records; i++)
            {
                children[i] = BinaryPrimitives.ReadUInt64BigEndian(b.Slice(pointers + (i * 8)));
            }
            foreach (ulong child in children)
            {
                ReadNode(volume, inode, child, level - 1, visited, list);
            }
        }
    }
}
