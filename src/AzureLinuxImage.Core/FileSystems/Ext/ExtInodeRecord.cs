using System;
using System.Buffers.Binary;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// An inode's bytes the writer changes field by field (inodes.rst), read from and staged back to the
    /// inode table with its crc32c (metadata_csum: lo 16 bits at 0x7C, hi at 0x82 when i_extra_isize allows).
    /// </summary>
    internal sealed class ExtInodeRecord
    {
        public const ushort TypeMask = 0xF000;
        public const ushort TypeFile = 0x8000;
        public const ushort TypeDirectory = 0x4000;
        public const ushort TypeSymlink = 0xA000;
        public const uint FlagHugeFile = 0x40000;
        public const uint FlagIndex = 0x1000;
        public const uint FlagExtents = 0x80000;
        public const uint FlagInlineData = 0x10000000;

        public ExtInodeRecord(uint number, byte[] raw)
        {
            Number = number;
            Raw = raw;
        }

        public uint Number { get; }

        public byte[] Raw { get; }

        public ushort Mode
        {
            get => U16(0x0);
            set => W16(0x0, value);
        }

        public ushort Type => (ushort)(Mode & TypeMask);

        public bool IsDirectory => Type == TypeDirectory;

        public uint Uid
        {
            get => U16(0x2) | ((uint)U16(0x78) << 16);
            set
            {
                W16(0x2, (ushort)value);
                W16(0x78, (ushort)(value >> 16));
            }
        }

        public uint Gid
        {
            get => U16(0x18) | ((uint)U16(0x7A) << 16);
            set
            {
                W16(0x18, (ushort)value);
                W16(0x7A, (ushort)(value >> 16));
            }
        }

        public long Size
        {
            get => (long)(U32(0x4) | ((ulong)U32(0x6C) << 32));
            set
            {
                W32(0x4, (uint)value);
                W32(0x6C, (uint)((ulong)value >> 32));
            }
        }

        public ushort Links
        {
            get => U16(0x1A);
            set => W16(0x1A, value);
        }

        public uint Flags
        {
            get => U32(0x20);
            set => W32(0x20, value);
        }

        public bool Has(uint flag) => (Flags & flag) != 0;

        public uint Generation
        {
            get => U32(0x64);
            set => W32(0x64, value);
        }

        public long FileAcl
        {
            get => U32(0x68) | ((long)U16(0x76) << 32);
            set
            {
                W32(0x68, (uint)value);
                W16(0x76, (ushort)(value >> 32));
            }
        }

        public int ExtraSize => Raw.Length > 128 ? U16(0x80) : 0;

        public Span<byte> BlockArea => Raw.AsSpan(0x28, 60);

        /// <summary>Sets i_blocks from a count of file system blocks (512-byte units; no huge_file scaling).</summary>
        public void SetBlocks(long fsBlocks, int blockSize, bool hugeFileFeature)
        {
            ulong sectors = (ulong)fsBlocks * (ulong)(blockSize / 512);
            W32(0x1C, (uint)sectors);
            W16(0x74, hugeFileFeature ? (ushort)(sectors >> 32) : (ushort)0);
            Flags &= ~FlagHugeFile;
        }

        /// <summary>i_blocks in file system blocks.</summary>
        public long BlocksInFsBlocks(int blockSize, bool hugeFileFeature)
        {
            ulong v = U32(0x1C) | (hugeFileFeature ? (ulong)U16(0x74) << 32 : 0);
            return Has(FlagHugeFile) ? (long)v : (long)(v / (ulong)(blockSize / 512));
        }

        /// <summary>Sets a time field and its _extra (epoch bits and nanoseconds) when the inode has room for it.</summary>
        public void SetTime(int offset, int extraOffset, DateTimeOffset when)
        {
            long seconds = when.ToUnixTimeSeconds();
            long nanos = (when.UtcTicks - DateTimeOffset.FromUnixTimeSeconds(seconds).UtcTicks) * 100;
            W32(offset, (uint)seconds);
            if (Raw.Length >= extraOffset + 4 && 128 + ExtraSize >= extraOffset + 4)
            {
                uint epoch = (uint)(((seconds - (int)(uint)seconds) >> 32) & 3);
                W32(extraOffset, epoch | (uint)(nanos << 2));
            }
        }

        public void SetModified(DateTimeOffset when)
        {
            SetTime(0x10, 0x88, when);
            SetTime(0x0C, 0x84, when);
        }

        public void SetChanged(DateTimeOffset when) => SetTime(0x0C, 0x84, when);

        public void SetCreated(DateTimeOffset when)
        {
            SetTime(0x08, 0x8C, when);
            SetTime(0x0C, 0x84, when);
            SetTime(0x10, 0x88, when);
            if (Raw.Length >= 0x98 && 128 + ExtraSize >= 0x98)
            {
                SetTime(0x90, 0x94, when);
            }
        }

        public uint DeletionTime
        {
            set => W32(0x14, value);
        }

        private ushort U16(int o) => BinaryPrimitives.ReadUInt16LittleEndian(Raw.AsSpan(o));

        private uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(Raw.AsSpan(o));

        private void W16(int o, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Raw.AsSpan(o), value);

        private void W32(int o, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Raw.AsSpan(o), value);
    }

    /// <summary>Reads inode records from the (staged) inode tables and stages them back with their checksum.</summary>
    internal sealed class ExtInodeTable
    {
        private readonly ExtWriteVolume v;
        private readonly ExtGroupDescriptorTable groups;

        public ExtInodeTable(ExtWriteVolume volume, ExtGroupDescriptorTable groups)
        {
            v = volume;
            this.groups = groups;
        }

        public ExtInodeRecord Read(uint number)
        {
            var raw = new byte[v.Sb.InodeSize];
            v.Device.Read(Offset(number), raw, 0, raw.Length);
            var r = new ExtInodeRecord(number, raw);
            if (raw.Length > 128 && (r.ExtraSize > raw.Length - 128 || (r.ExtraSize & 3) != 0))
            {
                throw v.Bad("inode", $"inode {number}: i_extra_isize {r.ExtraSize} does not fit the {raw.Length}-byte inode.");
            }
            if (v.Csum && Checksum(r) != StoredChecksum(r))
            {
                throw v.Bad("inode checksum", $"inode {number}: the checksum does not match; run e2fsck before writing.");
            }
            return r;
        }

        /// <summary>A zeroed record for a newly allocated inode (its table slot may hold an old inode's bytes).</summary>
        public ExtInodeRecord Fresh(uint number)
        {
            var r = new ExtInodeRecord(number, new byte[v.Sb.InodeSize]);
            if (r.Raw.Length > 128)
            {
                int extra = Math.Max(32, (int)v.WantExtraIsize);
                extra = Math.Min(extra, r.Raw.Length - 128) & ~3;
                BinaryPrimitives.WriteUInt16LittleEndian(r.Raw.AsSpan(0x80), (ushort)extra);
            }
            return r;
        }

        public void Write(ExtInodeRecord r, WriteStage stage)
        {
            if (v.Csum)
            {
                uint c = Checksum(r);
                BinaryPrimitives.WriteUInt16LittleEndian(r.Raw.AsSpan(0x7C), (ushort)c);
                if (r.Raw.Length > 128 && r.ExtraSize >= 4)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(r.Raw.AsSpan(0x82), (ushort)(c >> 16));
                }
            }
            v.WriteBytes(Offset(r.Number), r.Raw, stage);
            v.Reader.ForgetInode(r.Number);
        }

        private long Offset(uint number)
        {
            if (number < 1 || number > v.Sb.InodesCount)
            {
                throw v.Bad("inode number", $"inode {number} is outside 1..{v.Sb.InodesCount}.");
            }
            long group = (number - 1) / v.Sb.InodesPerGroup;
            long index = (number - 1) % v.Sb.InodesPerGroup;
            return (groups.Read(group).InodeTable * v.BlockSize) + (index * v.Sb.InodeSize);
        }

        private static uint StoredChecksum(ExtInodeRecord r)
        {
            uint stored = BinaryPrimitives.ReadUInt16LittleEndian(r.Raw.AsSpan(0x7C));
            if (r.Raw.Length > 128 && r.ExtraSize >= 4)
            {
                stored |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(r.Raw.AsSpan(0x82)) << 16;
            }
            return stored;
        }

        private uint Checksum(ExtInodeRecord r)
        {
            byte[] raw = r.Raw;
            var zero = new byte[2];
            uint c = v.Crc(v.InodeSeed(r.Number, r.Generation), raw.AsSpan(0, 0x7C));
            c = v.Crc(c, zero);
            c = v.Crc(c, raw.AsSpan(0x7E, 128 - 0x7E));
            bool hasHi = raw.Length > 128 && r.ExtraSize >= 4;
            if (raw.Length > 128)
            {
                c = v.Crc(c, raw.AsSpan(128, 2));
                int offset = 0x82;
                if (hasHi)
                {
                    c = v.Crc(c, zero);
                    offset += 2;
                }
                c = v.Crc(c, raw.AsSpan(offset));
            }
            return hasHi ? c : c & 0xFFFF;
        }
    }
}
