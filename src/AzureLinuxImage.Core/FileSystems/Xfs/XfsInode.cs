using System;
using System.Buffers.Binary;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>Data fork formats (xfs_dinode_fmt).</summary>
    internal enum XfsForkFormat
    {
        Device = 0,
        Local = 1,
        Extents = 2,
        Btree = 3,
    }

    /// <summary>
    /// One on-disk inode (xfs_dinode, "XFS Algorithms &amp; Data Structures" ch. 14): the core fields
    /// and a copy of the data fork. Every field used later is validated against the type and the fork size.
    /// </summary>
    internal sealed class XfsInode
    {
        public const ushort Magic = 0x494E; // "IN"
        private const int V2CoreSize = 100;
        private const int V3CoreSize = 176;
        private const int CrcOffset = 100;
        private const ulong Flags2BigTime = 1UL << 3;
        private const ulong Flags2Nrext64 = 1UL << 4;
        private const ushort FlagRealtime = 0x0001;

        /// <summary>Linux's PATH_MAX-derived limit on a symlink target (XFS_SYMLINK_MAXLEN).</summary>
        public const int MaxSymlinkLength = 1024;

        private XfsInode(ulong number, byte[] dataFork)
        {
            Number = number;
            DataFork = dataFork;
        }

        public ulong Number { get; }

        public FileEntryType Type { get; private set; }

        /// <summary>Permission bits (07777).</summary>
        public uint Permissions { get; private set; }

        public uint Uid { get; private set; }

        public uint Gid { get; private set; }

        public long Size { get; private set; }

        public DateTimeOffset? Modified { get; private set; }

        public XfsForkFormat Format { get; private set; }

        /// <summary>Extent count of the data fork as the inode records it.</summary>
        public ulong ExtentCount { get; private set; }

        /// <summary>The data fork's bytes (literal area up to the attribute fork).</summary>
        public byte[] DataFork { get; }

        /// <summary>Validates and parses an inode record of sb_inodesize bytes.</summary>
        public static XfsInode Parse(byte[] raw, int offset, ulong number, XfsSuperblock sb, string where)
        {
            string structure = $"XFS inode {number}";
            ReadOnlySpan<byte> b = new ReadOnlySpan<byte>(raw, offset, sb.InodeSize);
            if (BinaryPrimitives.ReadUInt16BigEndian(b) != Magic)
            {
                throw new InvalidImageException(where, structure, "the magic number is not IN (the number points outside an inode chunk, or the chunk is corrupt).");
            }
            int version = b[4];
            if (sb.HasCrc ? version != 3 : version < 1 || version > 2)
            {
                throw new InvalidImageException(where, structure, $"inode version {version} does not match a v{sb.Version} file system.");
            }
            int coreSize = version == 3 ? V3CoreSize : V2CoreSize;
            ulong flags2 = 0;
            if (version == 3)
            {
                XfsChecksum.Verify(raw, offset, sb.InodeSize, CrcOffset, where, structure);
                ulong recorded = BinaryPrimitives.ReadUInt64BigEndian(b.Slice(152));
                if (recorded != number)
                {
                    throw new InvalidImageException(where, structure, $"the inode records its number as {recorded}.");
                }
                if (!b.Slice(160, 16).SequenceEqual(sb.MetadataUuid))
                {
                    throw new InvalidImageException(where, structure, "the inode belongs to another file system (UUID differs).");
                }
                flags2 = BinaryPrimitives.ReadUInt64BigEndian(b.Slice(120));
            }

            ushort mode = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(2));
            var format = (XfsForkFormat)b[5];
            FileEntryType type;
            switch (mode & 0xF000)
            {
                case 0x4000: type = FileEntryType.Directory; break;
                case 0x8000: type = FileEntryType.File; break;
                case 0xA000: type = FileEntryType.Symlink; break;
                case 0x2000: type = FileEntryType.CharacterDevice; break;
                case 0x6000: type = FileEntryType.BlockDevice; break;
                case 0x1000: type = FileEntryType.Fifo; break;
                case 0xC000: type = FileEntryType.Socket; break;
                default:
                    throw new InvalidImageException(where, structure, mode == 0 ? "the inode is free (not in use)." : $"mode 0{Convert.ToString(mode, 8)} has no valid file type.");
            }
            bool formatFits = type switch
            {
                FileEntryType.Directory => format == XfsForkFormat.Local || format == XfsForkFormat.Extents || format == XfsForkFormat.Btree,
                FileEntryType.Symlink => format == XfsForkFormat.Local || format == XfsForkFormat.Extents || format == XfsForkFormat.Btree,
                FileEntryType.File => format == XfsForkFormat.Extents || format == XfsForkFormat.Btree,
                _ => format == XfsForkFormat.Device,
            };
            if (!formatFits)
            {
                throw new InvalidImageException(where, structure + " di_format", $"data fork format {(int)b[5]} is not valid for a {type.ToString().ToLowerInvariant()}.");
            }

            long size = BinaryPrimitives.ReadInt64BigEndian(b.Slice(56));
            if (size < 0)
            {
                throw new InvalidImageException(where, structure + " di_size", $"size {size} is negative.");
            }
            if (type == FileEntryType.Symlink && (size == 0 || size > MaxSymlinkLength))
            {
                throw new InvalidImageException(where, structure + " di_size", $"a symbolic link of {size} bytes (must be 1..{MaxSymlinkLength}).");
            }
            if (type == FileEntryType.Directory && size > XfsFormat.DirectoryLeafOffset)
            {
                throw new InvalidImageException(where, structure + " di_size", $"a directory of {size} bytes is larger than the 32 GiB data space.");
            }

            int literal = sb.InodeSize - coreSize;
            int forkOffset = b[82] * 8;
            if (forkOffset >= literal)
            {
                throw new InvalidImageException(where, structure + " di_forkoff", $"attribute fork offset {forkOffset} is outside the {literal}-byte literal area.");
            }
            int dataForkSize = forkOffset == 0 ? literal : forkOffset;

            ulong extents = (flags2 & Flags2Nrext64) != 0 && sb.HasNrext64
                ? BinaryPrimitives.ReadUInt64BigEndian(b.Slice(24))
                : BinaryPrimitives.ReadUInt32BigEndian(b.Slice(76));
            if (format == XfsForkFormat.Extents && extents > (ulong)(dataForkSize / 16))
            {
                throw new InvalidImageException(where, structure + " di_nextents", $"{extents} extents do not fit in a {dataForkSize}-byte data fork.");
            }
            if (format == XfsForkFormat.Local && size > dataForkSize)
            {
                throw new InvalidImageException(where, structure + " di_size", $"{size} bytes of inline data do not fit in a {dataForkSize}-byte data fork.");
            }
            ushort flags = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(90));
            if ((flags & FlagRealtime) != 0 && type == FileEntryType.File)
            {
                throw new UnsupportedImageException(where, $"{structure} lives on the realtime device, which is not read.");
            }

            var parsed = new XfsInode(number, b.Slice(coreSize, dataForkSize).ToArray())
            {
                Type = type,
                Permissions = (uint)(mode & 0xFFF),
                Uid = BinaryPrimitives.ReadUInt32BigEndian(b.Slice(8)),
                Gid = BinaryPrimitives.ReadUInt32BigEndian(b.Slice(12)),
                Size = size,
                Format = format,
                ExtentCount = extents,
                Modified = XfsFormat.ReadTimestamp(b.Slice(40, 8), (flags2 & Flags2BigTime) != 0),
            };
            return parsed;
        }
    }
}
