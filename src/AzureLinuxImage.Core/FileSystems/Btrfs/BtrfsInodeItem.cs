using System;
using System.Buffers.Binary;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>struct btrfs_inode_item (160 bytes): size, link count, owner, mode, flags and times of one inode.</summary>
    internal sealed class BtrfsInodeItem
    {
        public const int Size = 160;

        private BtrfsInodeItem()
        {
        }

        public ulong FileSize { get; private set; }

        public uint LinkCount { get; private set; }

        public uint Uid { get; private set; }

        public uint Gid { get; private set; }

        public uint Mode { get; private set; }

        public ulong Rdev { get; private set; }

        public ulong Flags { get; private set; }

        public DateTimeOffset? Modified { get; private set; }

        public FileEntryType Type => TypeOf(Mode);

        public static BtrfsInodeItem Parse(ReadOnlySpan<byte> b, ulong inode, string where, string structure)
        {
            if (b.Length < Size)
            {
                throw new InvalidImageException(where, structure, $"INODE_ITEM of inode {inode} is {b.Length} bytes, not {Size}.");
            }
            var item = new BtrfsInodeItem
            {
                FileSize = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(16)),
                LinkCount = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(40)),
                Uid = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(44)),
                Gid = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(48)),
                Mode = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(52)),
                Rdev = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(56)),
                Flags = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(64)),
                Modified = Time(b.Slice(136)),
            };
            if ((item.Mode & 0xF000) == 0 || !IsKnownType(item.Mode))
            {
                throw new InvalidImageException(where, structure, $"INODE_ITEM of inode {inode} has mode 0{Convert.ToString(item.Mode, 8)}, not a known file type.");
            }
            if (item.FileSize > long.MaxValue)
            {
                throw new InvalidImageException(where, structure, $"INODE_ITEM of inode {inode} has size {item.FileSize}, beyond what a file can hold.");
            }
            return item;
        }

        private static bool IsKnownType(uint mode)
        {
            switch (mode & 0xF000)
            {
                case 0x8000:
                case 0x4000:
                case 0xA000:
                case 0x2000:
                case 0x6000:
                case 0x1000:
                case 0xC000:
                    return true;
                default:
                    return false;
            }
        }

        public static FileEntryType TypeOf(uint mode) => (mode & 0xF000) switch
        {
            0x4000 => FileEntryType.Directory,
            0xA000 => FileEntryType.Symlink,
            0x2000 => FileEntryType.CharacterDevice,
            0x6000 => FileEntryType.BlockDevice,
            0x1000 => FileEntryType.Fifo,
            0xC000 => FileEntryType.Socket,
            _ => FileEntryType.File,
        };

        /// <summary>struct btrfs_timespec: signed seconds, nanoseconds; null when out of range.</summary>
        private static DateTimeOffset? Time(ReadOnlySpan<byte> b)
        {
            long seconds = BinaryPrimitives.ReadInt64LittleEndian(b);
            uint nanos = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(8));
            if (seconds < -62135596800L || seconds > 253402300799L || nanos >= 1_000_000_000)
            {
                return null;
            }
            return DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanos / 100);
        }
    }
}
