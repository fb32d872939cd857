using System;
using System.Buffers.Binary;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems.Ext;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// The primary btrfs superblock (struct btrfs_super_block, 4 KiB at 64 KiB), checksum verified and every
    /// field this reader relies on validated: sizes, tree roots and levels, the device item, the
    /// sys_chunk_array that bootstraps the chunk tree, and the incompat features.
    /// </summary>
    internal sealed class BtrfsSuperblock
    {
        public const long PrimaryOffset = 0x10000;
        public const int Size = 4096;
        public const int MaxLevel = 7;
        private const int SysChunkArrayOffset = 0x32B;
        private const int SysChunkArrayMax = 2048;

        public const ulong IncompatMixedBackref = 0x1;
        public const ulong IncompatDefaultSubvol = 0x2;
        public const ulong IncompatMixedGroups = 0x4;
        public const ulong IncompatCompressLzo = 0x8;
        public const ulong IncompatCompressZstd = 0x10;
        public const ulong IncompatBigMetadata = 0x20;
        public const ulong IncompatExtendedIref = 0x40;
        public const ulong IncompatRaid56 = 0x80;
        public const ulong IncompatSkinnyMetadata = 0x100;
        public const ulong IncompatNoHoles = 0x200;
        public const ulong IncompatMetadataUuid = 0x400;
        public const ulong IncompatRaid1c34 = 0x800;
        public const ulong IncompatZoned = 0x1000;
        public const ulong IncompatExtentTreeV2 = 0x2000;
        public const ulong IncompatRaidStripeTree = 0x4000;
        public const ulong IncompatSimpleQuota = 0x10000;

        /// <summary>Features that do not change how the trees this reader walks are laid out.</summary>
        private const ulong IncompatUnderstood = IncompatMixedBackref | IncompatDefaultSubvol | IncompatMixedGroups | IncompatCompressLzo |
            IncompatCompressZstd | IncompatBigMetadata | IncompatExtendedIref | IncompatRaid56 | IncompatSkinnyMetadata | IncompatNoHoles |
            IncompatMetadataUuid | IncompatRaid1c34 | IncompatZoned | IncompatSimpleQuota;

        private BtrfsSuperblock()
        {
        }

        public byte[] Fsid { get; private set; } = Array.Empty<byte>();

        /// <summary>What tree block headers carry: the fsid, or metadata_uuid with the METADATA_UUID feature.</summary>
        public byte[] MetadataUuid { get; private set; } = Array.Empty<byte>();

        public Guid Uuid => ExtSuperblock.UuidFromBytes(Fsid);

        public ulong Generation { get; private set; }

        public ulong RootTree { get; private set; }

        public ulong ChunkRoot { get; private set; }

        public ulong TotalBytes { get; private set; }

        public ulong NumDevices { get; private set; }

        public int SectorSize { get; private set; }

        public int NodeSize { get; private set; }

        public ulong ChunkRootGeneration { get; private set; }

        public ulong IncompatFlags { get; private set; }

        public BtrfsChecksum Checksum { get; private set; } = null!;

        public int RootLevel { get; private set; }

        public int ChunkRootLevel { get; private set; }

        public ulong DevId { get; private set; }

        public byte[] DevUuid { get; private set; } = Array.Empty<byte>();

        public string Label { get; private set; } = string.Empty;

        /// <summary>The sys_chunk_array bytes (disk key + chunk item pairs mapping the SYSTEM chunks).</summary>
        public byte[] SysChunkArray { get; private set; } = Array.Empty<byte>();

        public static bool HasMagic(ReadOnlySpan<byte> block) =>
            block.Length >= 0x48 && block.Slice(0x40, 8).SequenceEqual(Encoding.ASCII.GetBytes("_BHRfS_M"));

        public static BtrfsSuperblock Parse(byte[] b, long deviceLength, string where)
        {
            const string S = "btrfs superblock";
            if (b.Length < Size || !HasMagic(b))
            {
                throw new InvalidImageException(where, S, "the magic number at 64 KiB is not _BHRfS_M.");
            }
            ReadOnlySpan<byte> s = b;
            ushort csumType = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(0xC4));
            BtrfsChecksum csum = BtrfsChecksum.For(csumType, where);
            if (!csum.Matches(s.Slice(0, Size)))
            {
                throw new InvalidImageException(where, S, $"the {csum.Name} checksum does not match the superblock's contents.");
            }
            var sb = new BtrfsSuperblock
            {
                Checksum = csum,
                Fsid = s.Slice(0x20, 16).ToArray(),
                Generation = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0x48)),
                RootTree = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0x50)),
                ChunkRoot = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0x58)),
                TotalBytes = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0x70)),
                NumDevices = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0x88)),
                SectorSize = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(0x90))),
                NodeSize = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(0x94))),
                ChunkRootGeneration = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0xA4)),
                IncompatFlags = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0xBC)),
                RootLevel = s[0xC6],
                ChunkRootLevel = s[0xC7],
                DevId = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0xC9)),
                DevUuid = s.Slice(0xC9 + 66, 16).ToArray(),
            };
            ulong bytenr = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0x30));
            if (bytenr != PrimaryOffset)
            {
                throw new InvalidImageException(where, S, $"bytenr is {bytenr}, not the primary superblock's offset {PrimaryOffset}.");
            }
            if (sb.SectorSize < 4096 || sb.SectorSize > 65536 || (sb.SectorSize & (sb.SectorSize - 1)) != 0)
            {
                throw new InvalidImageException(where, S, $"sectorsize {sb.SectorSize} is not a power of two from 4 KiB to 64 KiB.");
            }
            if (sb.NodeSize < sb.SectorSize || sb.NodeSize > 65536 || (sb.NodeSize & (sb.NodeSize - 1)) != 0)
            {
                throw new InvalidImageException(where, S, $"nodesize {sb.NodeSize} is not a power of two from the sector size to 64 KiB.");
            }
            if (sb.RootLevel > MaxLevel || sb.ChunkRootLevel > MaxLevel)
            {
                throw new InvalidImageException(where, S, $"the root tree level {sb.RootLevel} or chunk tree level {sb.ChunkRootLevel} is above {MaxLevel}.");
            }
            if (sb.RootTree == 0 || sb.ChunkRoot == 0 || sb.RootTree % (ulong)sb.SectorSize != 0 || sb.ChunkRoot % (ulong)sb.SectorSize != 0)
            {
                throw new InvalidImageException(where, S, $"the root tree (0x{sb.RootTree:X}) or chunk tree (0x{sb.ChunkRoot:X}) address is zero or not sector aligned.");
            }
            if (sb.Generation == 0 || sb.ChunkRootGeneration > sb.Generation)
            {
                throw new InvalidImageException(where, S, $"generation {sb.Generation} (chunk root generation {sb.ChunkRootGeneration}) is inconsistent.");
            }
            ulong unknown = sb.IncompatFlags & ~IncompatUnderstood;
            if (unknown != 0)
            {
                string what = (unknown & IncompatExtentTreeV2) != 0 ? "extent-tree-v2" : (unknown & IncompatRaidStripeTree) != 0 ? "raid-stripe-tree" : $"0x{unknown:X}";
                throw new UnsupportedImageException(where, $"btrfs superblock: incompatible feature {what} is not read by this version.");
            }
            if (sb.NumDevices != 1)
            {
                throw new UnsupportedImageException(where, $"btrfs spans {sb.NumDevices} devices; only single-device btrfs (what a one-disk image holds) is read.");
            }
            sb.MetadataUuid = (sb.IncompatFlags & IncompatMetadataUuid) != 0 ? s.Slice(0x23B, 16).ToArray() : sb.Fsid;
            uint sysSize = BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(0xA0));
            if (sysSize > SysChunkArrayMax || sysSize < BtrfsKey.Size + BtrfsChunk.HeaderSize + BtrfsChunk.StripeSize)
            {
                throw new InvalidImageException(where, S, $"sys_chunk_array_size {sysSize} is outside [{BtrfsKey.Size + BtrfsChunk.HeaderSize + BtrfsChunk.StripeSize}, {SysChunkArrayMax}].");
            }
            sb.SysChunkArray = s.Slice(SysChunkArrayOffset, (int)sysSize).ToArray();
            ReadOnlySpan<byte> labelBytes = s.Slice(0x12B, 256);
            int nul = labelBytes.IndexOf((byte)0);
            sb.Label = Encoding.UTF8.GetString(labelBytes.Slice(0, nul < 0 ? 256 : nul).ToArray());
            if (sb.TotalBytes > (ulong)deviceLength + (ulong)sb.SectorSize)
            {
                // The device item's size is what matters for mapping; a file system larger than its device is truncated.
                throw new InvalidImageException(where, S, $"total_bytes {sb.TotalBytes} is larger than the device ({deviceLength} bytes): the image is truncated.");
            }
            return sb;
        }
    }
}
