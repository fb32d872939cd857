using System;
using System.Buffers.Binary;
using AzureLinuxImage.Disks;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>One inode (Documentation/filesystems/ext4/inodes.rst), parsed from a private copy of its bytes.</summary>
    internal sealed class ExtInode
    {
        public const uint FlagIndex = 0x1000;
        public const uint FlagHugeFile = 0x40000;
        public const uint FlagExtents = 0x80000;
        public const uint FlagEaInode = 0x200000;
        public const uint FlagInlineData = 0x10000000;

        public ExtInode(uint number, byte[] raw)
        {
            Number = number;
            Raw = raw;
            Mode = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x0));
            Uid = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x2)) | ((uint)BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x78)) << 16);
            Gid = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x18)) | ((uint)BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x7A)) << 16);
            ulong size = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(0x4)) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(0x6C)) << 32);
            Size = (long)Math.Min(size, long.MaxValue);
            LinksCount = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x1A));
            Blocks512 = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(0x1C)) | ((ulong)BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x74)) << 32);
            Flags = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(0x20));
            Generation = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(0x64));
            FileAcl = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(0x68)) | ((ulong)BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x76)) << 32);
            ExtraSize = raw.Length > 128 ? BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(0x80)) : 0;
        }

        public uint Number { get; }

        /// <summary>The inode's bytes (s_inode_size of them).</summary>
        public byte[] Raw { get; }

        public ushort Mode { get; }

        public uint Uid { get; }

        public uint Gid { get; }

        public long Size { get; }

        public ushort LinksCount { get; }

        public ulong Blocks512 { get; }

        public uint Flags { get; }

        public uint Generation { get; }

        public ulong FileAcl { get; }

        /// <summary>i_extra_isize: bytes used past the first 128 (checked against the inode size by the reader).</summary>
        public int ExtraSize { get; }

        /// <summary>The 60 bytes of i_block: extent root, block pointers, fast symlink or inline data.</summary>
        public ReadOnlySpan<byte> BlockArea => Raw.AsSpan(0x28, 60);

        public bool Has(uint flag) => (Flags & flag) != 0;

        public FileEntryType Type
        {
            get
            {
                switch (Mode & 0xF000)
                {
                    case 0x4000: return FileEntryType.Directory;
                    case 0xA000: return FileEntryType.Symlink;
                    case 0x2000: return FileEntryType.CharacterDevice;
                    case 0x6000: return FileEntryType.BlockDevice;
                    case 0x1000: return FileEntryType.Fifo;
                    case 0xC000: return FileEntryType.Socket;
                    default: return FileEntryType.File;
                }
            }
        }

        /// <summary>Seconds and nanoseconds of a timestamp at <paramref name="offset"/> with its _extra field (epoch bits) when present.</summary>
        public DateTimeOffset Time(int offset, int extraOffset)
        {
            long seconds = BinaryPrimitives.ReadInt32LittleEndian(Raw.AsSpan(offset));
            long ticks = 0;
            if (Raw.Length >= extraOffset + 4 && 128 + ExtraSize >= extraOffset + 4)
            {
                uint extra = BinaryPrimitives.ReadUInt32LittleEndian(Raw.AsSpan(extraOffset));
                seconds += (long)(extra & 3) << 32;
                ticks = (extra >> 2) / 100;
            }
            return DateTimeOffset.FromUnixTimeSeconds(Math.Max(Math.Min(seconds, 253402300799L), -62135596800L)).AddTicks(ticks);
        }

        public DateTimeOffset ModifiedTime => Time(0x10, 0x88);
    }
}
