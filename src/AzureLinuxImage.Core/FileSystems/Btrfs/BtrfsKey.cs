using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// btrfs_disk_key (objectid, type, offset): 17 bytes, little-endian, ordered by objectid, then type,
    /// then offset. Every item of every tree is found by one.
    /// </summary>
    internal readonly struct BtrfsKey : IComparable<BtrfsKey>, IEquatable<BtrfsKey>
    {
        public const int Size = 17;

        public BtrfsKey(ulong objectId, byte type, ulong offset)
        {
            ObjectId = objectId;
            Type = type;
            Offset = offset;
        }

        public ulong ObjectId { get; }

        public byte Type { get; }

        public ulong Offset { get; }

        public static BtrfsKey Read(ReadOnlySpan<byte> b) =>
            new BtrfsKey(BinaryPrimitives.ReadUInt64LittleEndian(b), b[8], BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(9)));

        public int CompareTo(BtrfsKey other)
        {
            int c = ObjectId.CompareTo(other.ObjectId);
            if (c != 0)
            {
                return c;
            }
            c = Type.CompareTo(other.Type);
            return c != 0 ? c : Offset.CompareTo(other.Offset);
        }

        public bool Equals(BtrfsKey other) => CompareTo(other) == 0;

        public override bool Equals(object? obj) => obj is BtrfsKey k && Equals(k);

        public override int GetHashCode() => (ObjectId, Type, Offset).GetHashCode();

        public override string ToString() => $"({ObjectId} {Type} {Offset})";
    }

    /// <summary>Item types and well-known object ids (kernel uapi btrfs_tree.h).</summary>
    internal static class BtrfsItem
    {
        public const byte InodeItem = 1;
        public const byte InodeRef = 12;
        public const byte InodeExtRef = 13;
        public const byte XattrItem = 24;
        public const byte DirItem = 84;
        public const byte DirIndex = 96;
        public const byte ExtentData = 108;
        public const byte RootItem = 132;
        public const byte RootBackref = 144;
        public const byte RootRef = 156;
        public const byte DevItem = 216;
        public const byte ChunkItem = 228;

        public const ulong RootTreeObjectId = 1;
        public const ulong ChunkTreeObjectId = 3;
        public const ulong FsTreeObjectId = 5;
        public const ulong RootTreeDirObjectId = 6;
        public const ulong FirstFreeObjectId = 256;
        public const ulong LastFreeObjectId = unchecked((ulong)-256L);
        public const ulong FirstChunkTreeObjectId = 256;
    }
}
