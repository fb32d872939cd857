using System;
using System.Buffers.Binary;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>One group descriptor's bytes with the fields the writer changes (group_descr.rst).</summary>
    internal sealed class ExtGroupDescriptor
    {
        public const ushort InodeUninit = 0x1;
        public const ushort BlockUninit = 0x2;
        public const ushort InodeZeroed = 0x4;

        private readonly bool wide;

        public ExtGroupDescriptor(long group, byte[] raw)
        {
            Group = group;
            Raw = raw;
            wide = raw.Length >= 64;
        }

        public long Group { get; }

        public byte[] Raw { get; }

        public long BlockBitmap => Lo32(0x0) | (wide ? (long)Lo32(0x20) << 32 : 0);

        public long InodeBitmap => Lo32(0x4) | (wide ? (long)Lo32(0x24) << 32 : 0);

        public long InodeTable => Lo32(0x8) | (wide ? (long)Lo32(0x28) << 32 : 0);

        public uint FreeBlocks
        {
            get => Get16(0xC, 0x2C);
            set => Set16(0xC, 0x2C, value);
        }

        public uint FreeInodes
        {
            get => Get16(0xE, 0x2E);
            set => Set16(0xE, 0x2E, value);
        }

        public uint UsedDirs
        {
            get => Get16(0x10, 0x30);
            set => Set16(0x10, 0x30, value);
        }

        public ushort Flags
        {
            get => BinaryPrimitives.ReadUInt16LittleEndian(Raw.AsSpan(0x12));
            set => BinaryPrimitives.WriteUInt16LittleEndian(Raw.AsSpan(0x12), value);
        }

        public uint ItableUnused
        {
            get => Get16(0x1C, 0x32);
            set => Set16(0x1C, 0x32, value);
        }

        public bool Has(ushort flag) => (Flags & flag) != 0;

        public void SetBlockBitmapChecksum(uint crc)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(Raw.AsSpan(0x18), (ushort)crc);
            if (wide)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(Raw.AsSpan(0x38), (ushort)(crc >> 16));
            }
        }

        public void SetInodeBitmapChecksum(uint crc)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(Raw.AsSpan(0x1A), (ushort)crc);
            if (wide)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(Raw.AsSpan(0x3A), (ushort)(crc >> 16));
            }
        }

        private uint Lo32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(Raw.AsSpan(offset));

        private uint Get16(int lo, int hi) =>
            BinaryPrimitives.ReadUInt16LittleEndian(Raw.AsSpan(lo)) | (wide ? (uint)BinaryPrimitives.ReadUInt16LittleEndian(Raw.AsSpan(hi)) << 16 : 0);

        private void Set16(int lo, int hi, uint value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(Raw.AsSpan(lo), (ushort)value);
            if (wide)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(Raw.AsSpan(hi), (ushort)(value >> 16));
            }
        }
    }

    /// <summary>
    /// Reads and stages group descriptors (the primary table, or the meta_bg copies' first block, as the
    /// kernel updates them) with their checksum: crc32c for metadata_csum, crc16 for uninit_bg.
    /// </summary>
    internal sealed class ExtGroupDescriptorTable
    {
        private readonly ExtWriteVolume v;

        public ExtGroupDescriptorTable(ExtWriteVolume volume)
        {
            v = volume;
        }

        public ExtGroupDescriptor Read(long group)
        {
            if (group < 0 || group >= v.Sb.GroupCount)
            {
                throw v.Bad("group descriptor", $"group {group} is outside 0..{v.Sb.GroupCount - 1}.");
            }
            long offset = Offset(group);
            var raw = new byte[v.Sb.DescriptorSize];
            v.Device.Read(offset, raw, 0, raw.Length);
            var d = new ExtGroupDescriptor(group, raw);
            if (v.GroupChecksums && BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x1E)) != Checksum(group, raw))
            {
                throw v.Bad("group descriptor checksum", $"group {group}: the checksum does not match; run e2fsck before writing.");
            }
            long tableBlocks = ((long)v.Sb.InodesPerGroup * v.Sb.InodeSize + v.BlockSize - 1) / v.BlockSize;
            v.CheckBlock(d.BlockBitmap, 1, $"group {group} block bitmap");
            v.CheckBlock(d.InodeBitmap, 1, $"group {group} inode bitmap");
            v.CheckBlock(d.InodeTable, tableBlocks, $"group {group} inode table");
            if (d.FreeBlocks > v.Sb.BlocksPerGroup || d.FreeInodes > v.Sb.InodesPerGroup || d.ItableUnused > v.Sb.InodesPerGroup)
            {
                throw v.Bad("group descriptor", $"group {group}: free counts {d.FreeBlocks}/{d.FreeInodes} or itable_unused {d.ItableUnused} exceed the group.");
            }
            return d;
        }

        public void Write(ExtGroupDescriptor d, WriteStage stage)
        {
            if (v.GroupChecksums)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(d.Raw.AsSpan(0x1E), Checksum(d.Group, d.Raw));
            }
            v.WriteBytes(Offset(d.Group), d.Raw, stage);
        }

        private long Offset(long group)
        {
            int perBlock = v.BlockSize / v.Sb.DescriptorSize;
            long index = group / perBlock;
            long block;
            if (!v.Sb.HasIncompat(ExtSuperblock.IncompatMetaBg) || index < v.Sb.FirstMetaBg)
            {
                block = v.Sb.FirstDataBlock + 1 + index;
            }
            else
            {
                long firstGroup = index * perBlock;
                block = v.Sb.FirstDataBlock + (firstGroup * v.Sb.BlocksPerGroup) + (ExtLayout.HasSuperblock(v.Sb, firstGroup) ? 1 : 0);
            }
            v.CheckBlock(block, 1, "group descriptor block");
            return (block * v.BlockSize) + ((group % perBlock) * v.Sb.DescriptorSize);
        }

        private ushort Checksum(long group, byte[] raw)
        {
            Span<byte> le = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(le, (uint)group);
            if (v.Csum)
            {
                uint c = v.Crc(v.Sb.ChecksumSeed, le);
                c = v.Crc(c, raw.AsSpan(0, 0x1E));
                c = v.Crc(c, new byte[2]);
                c = v.Crc(c, raw.AsSpan(0x20));
                return (ushort)c;
            }
            ushort crc = Crc16.Append(0xFFFF, v.UuidBytes);
            crc = Crc16.Append(crc, le);
            crc = Crc16.Append(crc, raw.AsSpan(0, 0x1E));
            if (raw.Length > 0x20)
            {
                crc = Crc16.Append(crc, raw.AsSpan(0x20));
            }
            return crc;
        }
    }

    /// <summary>Where the fixed metadata of a group lies (superblock backups, descriptor copies).</summary>
    internal static class ExtLayout
    {
        /// <summary>sparse_super: backups in groups 0, 1 and powers of 3, 5 and 7.</summary>
        public static bool HasSuperblock(ExtSuperblock sb, long group)
        {
            if (group <= 1 || !sb.HasRoCompat(ExtSuperblock.RoCompatSparseSuper))
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
    }
}
