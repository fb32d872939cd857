using System;
using System.Buffers.Binary;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// struct btrfs_root_item (key: tree id, 132, 0 or the snapshot's transid) in the root tree: where a
    /// tree's root block is, and for subvolumes their root directory, flags and UUIDs. Items written by
    /// kernels before 3.4 stop after the level byte (239 bytes) and have no UUIDs.
    /// </summary>
    internal sealed class BtrfsRootItem
    {
        private const int MinSize = 239;
        private const int FullSize = 439;
        public const ulong FlagReadOnly = 1;

        private BtrfsRootItem()
        {
        }

        public ulong Id { get; private set; }

        public ulong Generation { get; private set; }

        public ulong RootDirId { get; private set; }

        public ulong Bytenr { get; private set; }

        public ulong Flags { get; private set; }

        public uint Refs { get; private set; }

        public int Level { get; private set; }

        public Guid? Uuid { get; private set; }

        /// <summary>The UUID of the subvolume this one is a snapshot of; null when it is not a snapshot.</summary>
        public Guid? ParentUuid { get; private set; }

        public DateTimeOffset? Created { get; private set; }

        public bool ReadOnly => (Flags & FlagReadOnly) != 0;

        public static BtrfsRootItem Parse(ulong id, ReadOnlySpan<byte> b, int sectorSize, string where, string structure)
        {
            if (b.Length < MinSize)
            {
                throw new InvalidImageException(where, structure, $"ROOT_ITEM of tree {id} is {b.Length} bytes, shorter than {MinSize}.");
            }
            var r = new BtrfsRootItem
            {
                Id = id,
                Generation = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(160)),
                RootDirId = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(168)),
                Bytenr = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(176)),
                Flags = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(208)),
                Refs = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(216)),
                Level = b[238],
            };
            if (b.Length >= FullSize)
            {
                Guid uuid = Fs.UuidOf(b.Slice(247, 16));
                Guid parent = Fs.UuidOf(b.Slice(263, 16));
                r.Uuid = uuid == Guid.Empty ? (Guid?)null : uuid;
                r.ParentUuid = parent == Guid.Empty ? (Guid?)null : parent;
                long seconds = BinaryPrimitives.ReadInt64LittleEndian(b.Slice(339));
                if (seconds > 0 && seconds < 253402300799L)
                {
                    r.Created = DateTimeOffset.FromUnixTimeSeconds(seconds);
                }
            }
            if (r.Bytenr == 0 || r.Bytenr % (ulong)sectorSize != 0 || r.Level > BtrfsSuperblock.MaxLevel || r.Generation == 0)
            {
                throw new InvalidImageException(where, structure, $"ROOT_ITEM of tree {id} names root block 0x{r.Bytenr:X} at level {r.Level}, generation {r.Generation}: unaligned, too deep or unset.");
            }
            return r;
        }

        private static class Fs
        {
            public static Guid UuidOf(ReadOnlySpan<byte> b) => Ext.ExtSuperblock.UuidFromBytes(b);
        }
    }

    /// <summary>
    /// struct btrfs_root_ref (dirid u64, sequence u64, name_len u16, name): ROOT_REF (parent, 156, child) and
    /// ROOT_BACKREF (child, 144, parent) say which directory of the parent subvolume holds the child, under what name.
    /// </summary>
    internal readonly struct BtrfsRootRef
    {
        public BtrfsRootRef(ulong dirId, byte[] name)
        {
            DirId = dirId;
            Name = name;
        }

        public ulong DirId { get; }

        public byte[] Name { get; }

        public static BtrfsRootRef Parse(ReadOnlySpan<byte> b, string where, string structure)
        {
            if (b.Length < 18)
            {
                throw new InvalidImageException(where, structure, $"a root reference is {b.Length} bytes, shorter than 18.");
            }
            int length = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(16));
            if (length == 0 || length > BtrfsDirItem.MaxNameLength || 18 + length != b.Length)
            {
                throw new InvalidImageException(where, structure, $"a root reference has a {length}-byte name in a {b.Length}-byte item.");
            }
            return new BtrfsRootRef(BinaryPrimitives.ReadUInt64LittleEndian(b), b.Slice(18, length).ToArray());
        }
    }
}
