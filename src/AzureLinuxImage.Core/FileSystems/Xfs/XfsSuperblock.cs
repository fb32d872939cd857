using System;
using System.Buffers.Binary;
using System.Text;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>
    /// The XFS superblock (xfs_dsb, "XFS Algorithms &amp; Data Structures" ch. 12), big-endian, at byte 0
    /// of allocation group 0. Only the fields the reader uses are kept, and each is range-checked here,
    /// so the rest of the reader can trust them.
    /// </summary>
    internal sealed class XfsSuperblock
    {
        public const uint Magic = 0x58465342; // "XFSB"
        public const int CrcOffset = 224;

        // versionnum bits (v4) and feature words (v5), xfs_format.h.
        private const ushort VersionNumberMask = 0x000F;
        private const ushort VersionDirV2 = 0x2000;
        private const ushort VersionMoreBits = 0x8000;
        private const uint Features2Ftype = 0x0200;
        private const uint IncompatFtype = 0x01;
        private const uint IncompatSparseInodes = 0x02;
        private const uint IncompatMetaUuid = 0x04;
        private const uint IncompatBigTime = 0x08;
        private const uint IncompatNeedsRepair = 0x10;
        private const uint IncompatNrext64 = 0x20;
        private const uint IncompatKnown = IncompatFtype | IncompatSparseInodes | IncompatMetaUuid | IncompatBigTime | IncompatNeedsRepair | IncompatNrext64;

        private XfsSuperblock()
        {
        }

        /// <summary>4 or 5.</summary>
        public int Version { get; private set; }

        public bool HasCrc => Version == 5;

        public int BlockSize { get; private set; }

        public int BlockLog { get; private set; }

        public int SectorSize { get; private set; }

        public long DataBlocks { get; private set; }

        public uint AgBlocks { get; private set; }

        public uint AgCount { get; private set; }

        public int AgBlockLog { get; private set; }

        public ulong RootInode { get; private set; }

        public int InodeSize { get; private set; }

        public int InodesPerBlockLog { get; private set; }

        public int DirBlockLog { get; private set; }

        public bool HasFtype { get; private set; }

        public bool HasNrext64 { get; private set; }

        public string Label { get; private set; } = string.Empty;

        public Guid Uuid { get; private set; }

        /// <summary>The UUID stamped into v5 metadata (sb_meta_uuid when the incompat bit says so).</summary>
        public byte[] MetadataUuid { get; private set; } = new byte[16];

        public int DirBlockSize => BlockSize << DirBlockLog;

        /// <summary>Parses and validates the superblock sector.</summary>
        /// <param name="sector">At least the first 512 bytes; for v5 the whole sb_sectsize sector.</param>
        /// <param name="deviceLength">Length of the device, to refuse a file system larger than it.</param>
        /// <param name="where">For error messages.</param>
        public static XfsSuperblock Parse(byte[] sector, long deviceLength, string where)
        {
            ReadOnlySpan<byte> b = sector;
            if (b.Length < 512 || BinaryPrimitives.ReadUInt32BigEndian(b) != Magic)
            {
                throw new InvalidImageException(where, "XFS superblock", "the magic number is not XFSB.");
            }
            var sb = new XfsSuperblock();
            ushort versionNum = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(100));
            sb.Version = versionNum & VersionNumberMask;
            if (sb.Version < 4 || sb.Version > 5)
            {
                throw new UnsupportedImageException(where, $"XFS superblock version {sb.Version} is not read (only v4 and v5).");
            }

            uint blockSize = BinaryPrimitives.ReadUInt32BigEndian(b.Slice(4));
            int blockLog = b[120];
            if (!IsPowerOfTwo(blockSize, 512, 65536) || (1u << Math.Min(blockLog, 31)) != blockSize || (sb.Version == 5 && blockSize < 1024))
            {
                throw Bad(where, "sb_blocksize", $"block size {blockSize} (log {blockLog}) is not a power of two in [512, 65536] (v5: at least 1024).");
            }
            sb.BlockSize = (int)blockSize;
            sb.BlockLog = blockLog;

            ushort sectSize = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(102));
            int sectLog = b[121];
            if (!IsPowerOfTwo(sectSize, 512, 32768) || (1 << Math.Min(sectLog, 30)) != sectSize || sectSize > blockSize)
            {
                throw Bad(where, "sb_sectsize", $"sector size {sectSize} (log {sectLog}) is not a power of two in [512, block size].");
            }
            sb.SectorSize = sectSize;

            ushort inodeSize = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(104));
            ushort inodesPerBlock = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(106));
            int inodeLog = b[122];
            int inopbLog = b[123];
            if (!IsPowerOfTwo(inodeSize, 256, 2048) || (1 << Math.Min(inodeLog, 30)) != inodeSize || inodeSize > blockSize ||
                (sb.Version == 5 && inodeSize < 512))
            {
                throw Bad(where, "sb_inodesize", $"inode size {inodeSize} (log {inodeLog}) is not a power of two in [256 (v5: 512), 2048] and at most a block.");
            }
            if (inodesPerBlock != blockSize / inodeSize || (1 << Math.Min(inopbLog, 30)) != inodesPerBlock)
            {
                throw Bad(where, "sb_inopblock", $"{inodesPerBlock} inodes per block (log {inopbLog}) does not match block size {blockSize} / inode size {inodeSize}.");
            }
            sb.InodeSize = inodeSize;
            sb.InodesPerBlockLog = inopbLog;

            uint agBlocks = BinaryPrimitives.ReadUInt32BigEndian(b.Slice(84));
            uint agCount = BinaryPrimitives.ReadUInt32BigEndian(b.Slice(88));
            int agBlockLog = b[124];
            // xfs_sb_validate: agblklog is the ceiling log2 of agblocks; the AG must hold its headers.
            if (agBlocks < 64 || agBlockLog > 31 || agBlockLog != CeilLog2(agBlocks))
            {
                throw Bad(where, "sb_agblocks", $"{agBlocks} blocks per allocation group (log {agBlockLog}) is inconsistent.");
            }
            if (agCount == 0 || agCount > 1_000_000)
            {
                throw Bad(where, "sb_agcount", $"{agCount} allocation groups is out of range.");
            }
            if (agBlockLog + inopbLog > 32)
            {
                throw Bad(where, "sb_agblklog", "AG inode numbers would not fit in 32 bits.");
            }
            sb.AgBlocks = agBlocks;
            sb.AgCount = agCount;
            sb.AgBlockLog = agBlockLog;

            ulong dataBlocks = BinaryPrimitives.ReadUInt64BigEndian(b.Slice(8));
            if (dataBlocks == 0 || dataBlocks > (ulong)agCount * agBlocks || dataBlocks <= (ulong)(agCount - 1) * agBlocks)
            {
                throw Bad(where, "sb_dblocks", $"{dataBlocks} data blocks does not match {agCount} allocation groups of {agBlocks} blocks.");
            }
            if (dataBlocks > (ulong)(deviceLength / blockSize))
            {
                throw Bad(where, "sb_dblocks", $"the file system ({dataBlocks} blocks of {blockSize} bytes) is larger than the device ({deviceLength} bytes): the partition or image is truncated.");
            }
            sb.DataBlocks = (long)dataBlocks;

            if (b[126] != 0)
            {
                throw Bad(where, "sb_inprogress", "mkfs did not finish writing this file system.");
            }
            int dirBlockLog = b[192];
            if (dirBlockLog > 16 - blockLog)
            {
                throw Bad(where, "sb_dirblklog", $"directory block log {dirBlockLog} makes directory blocks larger than 64 KiB.");
            }
            sb.DirBlockLog = dirBlockLog;

            if (sb.Version == 4)
            {
                if ((versionNum & VersionDirV2) == 0)
                {
                    throw new UnsupportedImageException(where, "this XFS v4 file system uses version 1 directories, which are not read.");
                }
                // Old kernels wrote features2 at the padded offset (sb_bad_features2); the kernel ORs both copies.
                uint features2 = (versionNum & VersionMoreBits) != 0
                    ? BinaryPrimitives.ReadUInt32BigEndian(b.Slice(200)) | BinaryPrimitives.ReadUInt32BigEndian(b.Slice(204))
                    : 0;
                sb.HasFtype = (features2 & Features2Ftype) != 0;
                sb.MetadataUuid = b.Slice(32, 16).ToArray();
            }
            else
            {
                if (sector.Length < sectSize)
                {
                    throw Bad(where, "superblock sector", "the sector is shorter than sb_sectsize.");
                }
                XfsChecksum.Verify(sector, 0, sectSize, CrcOffset, where, "XFS superblock");
                uint incompat = BinaryPrimitives.ReadUInt32BigEndian(b.Slice(216));
                if ((incompat & ~IncompatKnown) != 0)
                {
                    throw new UnsupportedImageException(where, $"this XFS file system uses incompatible features 0x{incompat & ~IncompatKnown:x} that are not read.");
                }
                // v5 always stores the file type in directory entries (xfs_has_ftype).
                sb.HasFtype = true;
                sb.HasNrext64 = (incompat & IncompatNrext64) != 0;
                sb.MetadataUuid = (incompat & IncompatMetaUuid) != 0 ? b.Slice(248, 16).ToArray() : b.Slice(32, 16).ToArray();
            }

            sb.Uuid = XfsFormat.ReadUuid(b.Slice(32, 16));
            sb.Label = ReadLabel(b.Slice(108, 12));
            ulong root = BinaryPrimitives.ReadUInt64BigEndian(b.Slice(56));
            sb.RootInode = root;
            sb.CheckInodeNumber(root, where, "sb_rootino");
            return sb;
        }

        /// <summary>Splits an inode number into its byte position, refusing numbers outside the inode space (AG count, AG size, data blocks).</summary>
        public long InodeByteOffset(ulong inode, string where, string structure)
        {
            CheckInodeNumber(inode, where, structure);
            int aginoBits = AgBlockLog + InodesPerBlockLog;
            ulong agno = inode >> aginoBits;
            ulong agino = inode & ((1UL << aginoBits) - 1);
            ulong agbno = agino >> InodesPerBlockLog;
            ulong index = agino & ((1UL << InodesPerBlockLog) - 1);
            long block = (long)(agno * AgBlocks + agbno);
            return (block * BlockSize) + ((long)index * InodeSize);
        }

        public void CheckInodeNumber(ulong inode, string where, string structure)
        {
            int aginoBits = AgBlockLog + InodesPerBlockLog;
            ulong agno = inode >> aginoBits;
            ulong agbno = (inode & ((1UL << aginoBits) - 1)) >> InodesPerBlockLog;
            if (agno >= AgCount || agbno >= AgBlocks || (agno * AgBlocks) + agbno >= (ulong)DataBlocks || inode == 0)
            {
                throw new InvalidImageException(where, structure, $"inode number {inode} is outside the inode space (AG {agno}, block {agbno}; {AgCount} AGs of {AgBlocks} blocks).");
            }
        }

        /// <summary>Linear block number (agno * agblocks + agbno) of a file system block number (agno &lt;&lt; agblklog | agbno); -1 when outside the file system.</summary>
        public long LinearBlock(ulong fsBlock)
        {
            ulong agno = fsBlock >> AgBlockLog;
            ulong agbno = fsBlock & ((1UL << AgBlockLog) - 1);
            if (agno >= AgCount || agbno >= AgBlocks)
            {
                return -1;
            }
            ulong linear = (agno * AgBlocks) + agbno;
            return linear < (ulong)DataBlocks ? (long)linear : -1;
        }

        private static bool IsPowerOfTwo(uint value, uint min, uint max) => value >= min && value <= max && (value & (value - 1)) == 0;

        private static int CeilLog2(uint value)
        {
            int log = 0;
            while ((1UL << log) < value)
            {
                log++;
            }
            return log;
        }

        private static string ReadLabel(ReadOnlySpan<byte> raw)
        {
            int n = raw.IndexOf((byte)0);
            return Encoding.UTF8.GetString(raw.Slice(0, n < 0 ? raw.Length : n).ToArray()).Trim();
        }

        private static InvalidImageException Bad(string where, string field, string problem) =>
            new InvalidImageException(where, "XFS superblock " + field, problem);
    }
}
