using System;
using System.Buffers.Binary;
using System.Text;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// The ext2/3/4 superblock (1024 bytes at byte 1024; kernel Documentation/filesystems/ext4/super.rst).
    /// Every field used later is checked here, so the rest of the reader can trust the geometry.
    /// </summary>
    internal sealed class ExtSuperblock
    {
        public const int Offset = 1024;
        public const int Size = 1024;
        public const ushort Magic = 0xEF53;

        // s_feature_compat
        public const uint CompatHasJournal = 0x4;
        public const uint CompatDirIndex = 0x20;

        // s_feature_incompat
        public const uint IncompatCompression = 0x1;
        public const uint IncompatFileType = 0x2;
        public const uint IncompatRecover = 0x4;
        public const uint IncompatJournalDev = 0x8;
        public const uint IncompatMetaBg = 0x10;
        public const uint IncompatExtents = 0x40;
        public const uint Incompat64Bit = 0x80;
        public const uint IncompatMmp = 0x100;
        public const uint IncompatFlexBg = 0x200;
        public const uint IncompatEaInode = 0x400;
        public const uint IncompatDirData = 0x1000;
        public const uint IncompatCsumSeed = 0x2000;
        public const uint IncompatLargeDir = 0x4000;
        public const uint IncompatInlineData = 0x8000;
        public const uint IncompatEncrypt = 0x10000;
        public const uint IncompatCasefold = 0x20000;

        /// <summary>Everything this reader understands; anything else in s_feature_incompat is refused, as the kernel refuses it.</summary>
        public const uint IncompatSupported = IncompatFileType | IncompatRecover | IncompatMetaBg | IncompatExtents | Incompat64Bit |
            IncompatMmp | IncompatFlexBg | IncompatEaInode | IncompatCsumSeed | IncompatLargeDir | IncompatInlineData | IncompatEncrypt | IncompatCasefold;

        // s_feature_ro_compat
        public const uint RoCompatSparseSuper = 0x1;
        public const uint RoCompatHugeFile = 0x8;
        public const uint RoCompatGdtCsum = 0x10;
        public const uint RoCompatMetadataCsum = 0x400;

        public uint InodesCount { get; private set; }
        public long BlocksCount { get; private set; }
        public uint FirstDataBlock { get; private set; }
        public int BlockSize { get; private set; }
        public uint BlocksPerGroup { get; private set; }
        public uint InodesPerGroup { get; private set; }
        public ushort State { get; private set; }
        public uint RevLevel { get; private set; }
        public int InodeSize { get; private set; }
        public uint FeatureCompat { get; private set; }
        public uint FeatureIncompat { get; private set; }
        public uint FeatureRoCompat { get; private set; }
        public Guid Uuid { get; private set; }
        public byte[] UuidBytes { get; private set; } = Array.Empty<byte>();
        public string Label { get; private set; } = string.Empty;
        public uint JournalInode { get; private set; }
        public int DescriptorSize { get; private set; }
        public uint FirstMetaBg { get; private set; }
        public uint ChecksumSeed { get; private set; }
        public long GroupCount { get; private set; }

        public bool HasIncompat(uint flag) => (FeatureIncompat & flag) != 0;

        public bool HasRoCompat(uint flag) => (FeatureRoCompat & flag) != 0;

        public bool HasMetadataChecksums => HasRoCompat(RoCompatMetadataCsum);

        /// <summary>ext2, ext3 or ext4, by the features the kernel's own naming keys on.</summary>
        public string Flavor =>
            (FeatureIncompat & (IncompatExtents | Incompat64Bit | IncompatFlexBg | IncompatInlineData)) != 0 ||
            (FeatureRoCompat & (RoCompatHugeFile | RoCompatGdtCsum | RoCompatMetadataCsum | 0x40 /* DIR_NLINK */ | 0x20 /* EXTRA_ISIZE */)) != 0
                ? "ext4"
                : (FeatureCompat & CompatHasJournal) != 0 ? "ext3" : "ext2";

        /// <summary>True when the bytes at 1024 carry the ext magic (probing; no validation).</summary>
        public static bool HasMagic(ReadOnlySpan<byte> superblock) =>
            superblock.Length >= 0x3A && BinaryPrimitives.ReadUInt16LittleEndian(superblock.Slice(0x38)) == Magic;

        public static ExtSuperblock Parse(ReadOnlySpan<byte> b, long deviceLength, string where)
        {
            if (b.Length < Size || !HasMagic(b))
            {
                throw new InvalidImageException(where, "ext superblock", "the magic number 0xEF53 is missing.");
            }
            var s = new ExtSuperblock
            {
                InodesCount = U32(b, 0x0),
                FirstDataBlock = U32(b, 0x14),
                BlocksPerGroup = U32(b, 0x20),
                InodesPerGroup = U32(b, 0x28),
                State = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(0x3A)),
                RevLevel = U32(b, 0x4C),
                FeatureCompat = U32(b, 0x5C),
                FeatureIncompat = U32(b, 0x60),
                FeatureRoCompat = U32(b, 0x64),
                UuidBytes = b.Slice(0x68, 16).ToArray(),
                JournalInode = U32(b, 0xE0),
                FirstMetaBg = U32(b, 0x104),
            };
            s.Uuid = UuidFromBytes(s.UuidBytes);
            s.Label = Latin1Z(b.Slice(0x78, 16));
            uint logBlock = U32(b, 0x18);
            if (logBlock > 6)
            {
                throw Bad(where, "s_log_block_size", $"block size 1024 << {logBlock} is above 64 KiB.");
            }
            s.BlockSize = 1024 << (int)logBlock;
            if (s.RevLevel == 0)
            {
                s.InodeSize = 128;
                s.FeatureCompat = s.FeatureIncompat = s.FeatureRoCompat = 0;
            }
            else
            {
                s.InodeSize = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(0x58));
            }
            if (s.InodeSize < 128 || s.InodeSize > s.BlockSize || (s.InodeSize & (s.InodeSize - 1)) != 0)
            {
                throw Bad(where, "s_inode_size", $"{s.InodeSize} is not a power of two between 128 and the block size.");
            }
            long blocksLo = U32(b, 0x4);
            long blocksHi = s.HasIncompat(Incompat64Bit) ? U32(b, 0x150) : 0;
            if (blocksHi > 0xFFFF)
            {
                throw Bad(where, "s_blocks_count_hi", $"{blocksHi} gives a block count beyond 2^48.");
            }
            s.BlocksCount = (blocksHi << 32) | blocksLo;
            if (s.HasIncompat(Incompat64Bit))
            {
                s.DescriptorSize = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(0xFE));
                if (s.DescriptorSize < 64 || s.DescriptorSize > 1024 || (s.DescriptorSize & (s.DescriptorSize - 1)) != 0)
                {
                    throw Bad(where, "s_desc_size", $"{s.DescriptorSize} is not a power of two between 64 and 1024.");
                }
            }
            else
            {
                s.DescriptorSize = 32;
            }
            if (s.FirstDataBlock != (s.BlockSize == 1024 ? 1u : 0u))
            {
                throw Bad(where, "s_first_data_block", $"{s.FirstDataBlock} does not match the block size {s.BlockSize}.");
            }
            long bitsPerBlock = 8L * s.BlockSize;
            if (s.BlocksPerGroup == 0 || s.BlocksPerGroup > bitsPerBlock)
            {
                throw Bad(where, "s_blocks_per_group", $"{s.BlocksPerGroup} is outside 1..{bitsPerBlock}.");
            }
            if (s.InodesPerGroup == 0 || s.InodesPerGroup > bitsPerBlock)
            {
                throw Bad(where, "s_inodes_per_group", $"{s.InodesPerGroup} is outside 1..{bitsPerBlock}.");
            }
            if (s.BlocksCount <= s.FirstDataBlock)
            {
                throw Bad(where, "s_blocks_count", $"{s.BlocksCount} blocks is too few.");
            }
            if (s.BlocksCount > deviceLength / s.BlockSize)
            {
                throw Bad(where, "s_blocks_count", $"{s.BlocksCount} blocks of {s.BlockSize} bytes do not fit in the {deviceLength} bytes of the device (truncated partition?).");
            }
            s.GroupCount = (s.BlocksCount - s.FirstDataBlock + s.BlocksPerGroup - 1) / s.BlocksPerGroup;
            if (s.InodesCount == 0 || s.InodesCount > s.GroupCount * s.InodesPerGroup)
            {
                throw Bad(where, "s_inodes_count", $"{s.InodesCount} is zero or more than {s.GroupCount} groups x {s.InodesPerGroup} inodes.");
            }
            if ((s.FeatureIncompat & ~IncompatSupported) != 0)
            {
                throw new UnsupportedImageException(where, $"the ext file system uses incompatible features 0x{s.FeatureIncompat & ~IncompatSupported:X} this reader does not know (compression, dirdata or a newer feature).");
            }
            if (s.HasIncompat(IncompatMetaBg) && s.FirstMetaBg > s.GroupCount)
            {
                throw Bad(where, "s_first_meta_bg", $"{s.FirstMetaBg} is beyond the {s.GroupCount} groups.");
            }
            if (s.HasMetadataChecksums)
            {
                byte checksumType = b[0x175];
                if (checksumType != 1)
                {
                    throw Bad(where, "s_checksum_type", $"{checksumType} is not 1 (crc32c).");
                }
                uint stored = U32(b, 0x3FC);
                uint computed = CrcRegister.Crc32C(0xFFFFFFFFu, b.Slice(0, 0x3FC));
                if (stored != computed)
                {
                    throw Bad(where, "superblock checksum", $"crc32c is 0x{computed:X8}, the superblock says 0x{stored:X8}.");
                }
                s.ChecksumSeed = s.HasIncompat(IncompatCsumSeed) ? U32(b, 0x270) : CrcRegister.Crc32C(0xFFFFFFFFu, s.UuidBytes);
            }
            return s;
        }

        /// <summary>A UUID as Linux prints it (bytes in order), which <see cref="Guid(byte[])"/> would mix up.</summary>
        public static Guid UuidFromBytes(ReadOnlySpan<byte> b)
        {
            var s = new StringBuilder(32);
            for (int i = 0; i < 16; i++)
            {
                s.Append(b[i].ToString("x2"));
            }
            return Guid.ParseExact(s.ToString(), "N");
        }

        private static string Latin1Z(ReadOnlySpan<byte> b)
        {
            int n = b.IndexOf((byte)0);
            if (n < 0)
            {
                n = b.Length;
            }
            return Encoding.UTF8.GetString(b.Slice(0, n).ToArray());
        }

        private static uint U32(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(offset));

        internal static InvalidImageException Bad(string where, string structure, string problem) =>
            new InvalidImageException(where, "ext " + structure, problem);
    }
}
