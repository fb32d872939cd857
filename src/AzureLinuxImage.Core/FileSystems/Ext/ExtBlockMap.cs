using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// Maps a file's logical blocks to device blocks: an extent tree (ext4 extents.rst) or the classic
    /// direct/indirect/double/triple pointers (ext2/3). <see cref="Map"/> returns runs, so reads of
    /// contiguous data are one device read.
    /// </summary>
    internal abstract class ExtBlockMap
    {
        /// <summary>A hole: the run reads as zeros.</summary>
        public const long Hole = -1;

        /// <summary>The device block holding logical block <paramref name="logical"/> (or <see cref="Hole"/>), and how many blocks from there map contiguously the same way.</summary>
        public abstract long Map(long logical, out long run);

        public static ExtBlockMap For(ExtFileSystem fs, ExtInode inode) =>
            inode.Has(ExtInode.FlagExtents) ? new ExtentMap(fs, inode) : new IndirectMap(fs, inode);
    }

    /// <summary>An extent tree rooted in i_block, with index nodes down to depth 0 leaves.</summary>
    internal sealed class ExtentMap : ExtBlockMap
    {
        /// <summary>The kernel's EXT4_MAX_EXTENT_DEPTH.</summary>
        public const int MaxDepth = 5;
        public const ushort HeaderMagic = 0xF30A;

        private readonly ExtFileSystem fs;
        private readonly ExtInode inode;
        private readonly byte[] root;

        public ExtentMap(ExtFileSystem fs, ExtInode inode)
        {
            this.fs = fs;
            this.inode = inode;
            root = inode.BlockArea.ToArray();
        }

        public override long Map(long logical, out long run)
        {
            byte[] node = root;
            int nodeLength = 60;
            int depth = -1;
            long upper = uint.MaxValue + 1L; // logical block numbers are 32-bit
            for (int level = 0; ; level++)
            {
                ReadOnlySpan<byte> n = node.AsSpan(0, nodeLength);
                ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(n);
                int entries = BinaryPrimitives.ReadUInt16LittleEndian(n.Slice(2));
                int max = BinaryPrimitives.ReadUInt16LittleEndian(n.Slice(4));
                int d = BinaryPrimitives.ReadUInt16LittleEndian(n.Slice(6));
                if (magic != HeaderMagic)
                {
                    throw fs.Bad("extent header", $"inode {inode.Number}: bad magic 0x{magic:X4} at depth {level}.");
                }
                if (entries > max || 12 + (12 * max) > nodeLength)
                {
                    throw fs.Bad("extent header", $"inode {inode.Number}: {entries} entries of at most {max} do not fit the node.");
                }
                if (d > MaxDepth || (depth >= 0 && d != depth - 1) || level > MaxDepth)
                {
                    throw fs.Bad("extent header", $"inode {inode.Number}: depth {d} under a node of depth {depth} (a cyclic or corrupt tree).");
                }
                depth = d;
                // The last entry whose first block is <= logical.
                int lo = 0, hi = entries - 1, found = -1;
                while (lo <= hi)
                {
                    int mid = (lo + hi) >> 1;
                    uint first = BinaryPrimitives.ReadUInt32LittleEndian(n.Slice(12 + (12 * mid)));
                    if (first <= logical)
                    {
                        found = mid;
                        lo = mid + 1;
                    }
                    else
                    {
                        hi = mid - 1;
                    }
                }
                long nextStart = found + 1 < entries ? BinaryPrimitives.ReadUInt32LittleEndian(n.Slice(12 + (12 * (found + 1)))) : upper;
                if (nextStart < upper)
                {
                    upper = nextStart;
                }
                if (found < 0)
                {
                    run = Math.Max(1, upper - logical);
                    return Hole;
                }
                ReadOnlySpan<byte> e = n.Slice(12 + (12 * found), 12);
                if (depth == 0)
                {
                    long first = BinaryPrimitives.ReadUInt32LittleEndian(e);
                    int len = BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(4));
                    bool unwritten = len > 32768;
                    if (unwritten)
                    {
                        len -= 32768;
                    }
                    long start = ((long)BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(6)) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(8));
                    if (logical >= first + len)
                    {
                        run = Math.Max(1, upper - logical);
                        return Hole;
                    }
                    fs.CheckBlockRange(start, len, inode.Number, "extent");
                    run = first + len - logical;
                    // Unwritten (preallocated) extents read as zeros.
                    return unwritten ? Hole : start + (logical - first);
                }
                long child = ((long)BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(8)) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(4));
                fs.CheckBlockRange(child, 1, inode.Number, "extent index");
                node = fs.ReadExtentBlock(child, inode);
                nodeLength = node.Length;
            }
        }
    }

    /// <summary>Direct blocks 0-11, then single, double and triple indirect blocks (i_block[12..14]).</summary>
    internal sealed class IndirectMap : ExtBlockMap
    {
        private readonly ExtFileSystem fs;
        private readonly ExtInode inode;
        private readonly uint[] direct = new uint[15];
        private readonly int perBlock;

        public IndirectMap(ExtFileSystem fs, ExtInode inode)
        {
            this.fs = fs;
            this.inode = inode;
            for (int i = 0; i < 15; i++)
            {
                direct[i] = BinaryPrimitives.ReadUInt32LittleEndian(inode.BlockArea.Slice(4 * i));
            }
            perBlock = fs.BlockSize / 4;
        }

        public override long Map(long logical, out long run)
        {
            if (logical < 12)
            {
                return Scan(direct, (int)logical, 12, out run);
            }
            long l = logical - 12;
            long p = perBlock;
            int levels;
            uint top;
            if (l < p)
            {
                levels = 1;
                top = direct[12];
            }
            else if ((l -= p) < p * p)
            {
                levels = 2;
                top = direct[13];
            }
            else if ((l -= p * p) < p * p * p)
            {
                levels = 3;
                top = direct[14];
            }
            else
            {
                run = 1;
                return Hole;
            }
            uint block = top;
            for (int level = levels; level >= 1; level--)
            {
                long span = 1;
                for (int i = 1; i < level; i++)
                {
                    span *= p;
                }
                if (block == 0)
                {
                    // The whole subtree under a zero pointer is a hole.
                    run = span - (l % span);
                    return Hole;
                }
                fs.CheckBlockRange(block, 1, inode.Number, "indirect block");
                uint[] table = fs.ReadIndirectBlock(block);
                int index = (int)(l / span);
                l %= span;
                if (level == 1)
                {
                    return Scan(table, index, table.Length, out run);
                }
                block = table[index];
            }
            run = 1;
            return Hole;
        }

        /// <summary>Block at <paramref name="index"/> and how many following pointers continue it contiguously.</summary>
        private long Scan(uint[] pointers, int index, int end, out long run)
        {
            uint first = pointers[index];
            int n = 1;
            while (index + n < end && (first == 0 ? pointers[index + n] == 0 : pointers[index + n] == first + (uint)n))
            {
                n++;
            }
            run = n;
            if (first == 0)
            {
                return Hole;
            }
            fs.CheckBlockRange(first, n, inode.Number, "block pointer");
            return first;
        }
    }
}
