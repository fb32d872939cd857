using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Partitions;

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

    /// <summary>
    /// Inline data (inline_data.rst): a file whose bytes live in i_block and the system.data attribute.
    /// Before new content goes to blocks, the attribute is removed from the inode body and the flag cleared.
    /// </summary>
    internal static class ExtInlineData
    {
        private const uint Magic = 0xEA020000;

        public static void Detach(ExtWriteVolume v, ExtInodeRecord r)
        {
            byte[] raw = r.Raw;
            int start = 128 + r.ExtraSize;
            r.Flags &= ~ExtInodeRecord.FlagInlineData;
            r.BlockArea.Clear();
            r.Size = 0;
            if (raw.Length <= 128 || start + 4 > raw.Length || BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(start)) != Magic)
            {
                return;
            }
            int first = start + 4;
            var kept = new List<(byte[] Entry, byte[] Value)>();
            int pos = first;
            while (pos + 16 <= raw.Length && BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(pos)) != 0)
            {
                int nameLen = raw[pos];
                byte index = raw[pos + 1];
                int valueOffset = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(pos + 2));
                uint valueInode = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(pos + 4));
                int valueSize = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(pos + 8)));
                int entryLength = (16 + nameLen + 3) & ~3;
                if (pos + entryLength > raw.Length || valueInode != 0 || first + valueOffset > raw.Length || valueSize > raw.Length - first - valueOffset)
                {
                    throw v.Bad("inode extended attribute", $"inode {r.Number}: an attribute entry does not fit the inode.");
                }
                bool isData = index == 7 && nameLen == 4 && raw.AsSpan(pos + 16, 4).SequenceEqual(new[] { (byte)'d', (byte)'a', (byte)'t', (byte)'a' });
                if (!isData)
                {
                    kept.Add((raw.AsSpan(pos, entryLength).ToArray(), raw.AsSpan(first + valueOffset, valueSize).ToArray()));
                }
                pos += entryLength;
            }
            raw.AsSpan(start).Clear();
            if (kept.Count == 0)
            {
                return;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(start), Magic);
            int e = first;
            int valueEnd = raw.Length;
            foreach ((byte[] entry, byte[] value) in kept)
            {
                int padded = (value.Length + 3) & ~3;
                valueEnd -= padded;
                entry.CopyTo(raw.AsSpan(e));
                BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(e + 2), (ushort)(value.Length == 0 ? 0 : valueEnd - first));
                value.CopyTo(raw.AsSpan(valueEnd));
                e += entry.Length;
            }
            if (e + 4 > valueEnd)
            {
                throw v.Bad("inode extended attribute", $"inode {r.Number}: the attributes no longer fit after removing system.data.");
            }
        }
    }
}
