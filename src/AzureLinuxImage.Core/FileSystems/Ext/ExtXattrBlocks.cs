using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Disks;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// Extended attribute blocks (attributes.rst): shared between inodes by h_refcount. Removing a file
    /// drops one reference at commit (Release stage); the block is freed with its last one. A replaced
    /// file keeps its attributes untouched (SELinux labels stay).
    /// </summary>
    internal sealed class ExtXattrBlocks
    {
        private const uint Magic = 0xEA020000;

        private readonly ExtWriteVolume v;
        private readonly List<long> released = new List<long>();
        private ExtBitmapAllocator? allocator;

        public ExtXattrBlocks(ExtWriteVolume volume)
        {
            v = volume;
        }

        public int Mark => released.Count;

        public void RollBackTo(int mark) => released.RemoveRange(mark, released.Count - mark);

        /// <summary>Checks the inode's attribute block and holds one reference for release at commit.</summary>
        public void Release(ExtInodeRecord r, ExtBitmapAllocator blocks)
        {
            allocator = blocks;
            long block = r.FileAcl;
            v.CheckBlock(block, 1, $"inode {r.Number} extended attribute block");
            byte[] data = v.ReadBlock(block);
            Verify(block, data, r.Number);
            released.Add(block);
        }

        public void ApplyReleases()
        {
            var counts = new Dictionary<long, int>();
            foreach (long b in released)
            {
                counts[b] = counts.TryGetValue(b, out int n) ? n + 1 : 1;
            }
            foreach (KeyValuePair<long, int> p in counts)
            {
                byte[] data = v.ReadBlock(p.Key);
                uint refs = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4));
                if (refs <= (uint)p.Value)
                {
                    allocator!.ReleaseBlocks(p.Key, 1);
                    continue;
                }
                BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), refs - (uint)p.Value);
                if (v.Csum)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(0x10), Checksum(p.Key, data));
                }
                v.WriteBlock(p.Key, data, WriteStage.Release);
            }
            released.Clear();
        }

        private void Verify(long block, byte[] data, uint inode)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic || BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(8)) != 1 || BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4)) == 0)
            {
                throw v.Bad("extended attribute block", $"inode {inode}, block {block}: the header (magic, h_blocks, h_refcount) is not valid; run e2fsck before writing.");
            }
            if (v.Csum && BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(0x10)) != Checksum(block, data))
            {
                throw v.Bad("extended attribute block checksum", $"inode {inode}, block {block}: the checksum does not match; run e2fsck before writing.");
            }
        }

        /// <summary>crc32c(fs seed, block number as le64, the block with h_checksum zeroed).</summary>
        private uint Checksum(long block, byte[] data)
        {
            Span<byte> le = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(le, block);
            uint c = v.Crc(v.Sb.ChecksumSeed, le);
            c = v.Crc(c, data.AsSpan(0, 0x10));
            c = v.Crc(c, new byte[4]);
            return v.Crc(c, data.AsSpan(0x14));
        }
    }
}
