using System;
using System.Buffers.Binary;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// One tree block: struct btrfs_header (101 bytes) followed by, in a leaf, btrfs_item entries
    /// (key, data offset, data size; data packed from the block's end) or, in an internal node,
    /// btrfs_key_ptr entries (key, child address, child generation). Parsed once, every offset and
    /// the key order checked, so callers index it freely.
    /// </summary>
    internal sealed class BtrfsNode
    {
        public const int HeaderSize = 101;
        private const int ItemSize = 25;
        private const int KeyPtrSize = 33;

        private readonly byte[] block;
        private readonly BtrfsKey[] keys;
        private readonly int[] dataOffsets;
        private readonly int[] dataSizes;
        private readonly ulong[] children;
        private readonly ulong[] childGenerations;

        private BtrfsNode(byte[] block, ulong logical, int level, ulong generation, ulong owner, BtrfsKey[] keys, int[] dataOffsets, int[] dataSizes, ulong[] children, ulong[] childGenerations)
        {
            this.block = block;
            Logical = logical;
            Level = level;
            Generation = generation;
            Owner = owner;
            this.keys = keys;
            this.dataOffsets = dataOffsets;
            this.dataSizes = dataSizes;
            this.children = children;
            this.childGenerations = childGenerations;
        }

        public ulong Logical { get; }

        public int Level { get; }

        public ulong Generation { get; }

        /// <summary>The tree that created the block (a snapshot shares its source's blocks, so not always the reader's tree).</summary>
        public ulong Owner { get; }

        public bool IsLeaf => Level == 0;

        public int Count => keys.Length;

        public BtrfsKey Key(int i) => keys[i];

        /// <summary>A leaf item's data.</summary>
        public ReadOnlySpan<byte> Data(int i) => new ReadOnlySpan<byte>(block, dataOffsets[i], dataSizes[i]);

        public ulong Child(int i) => children[i];

        public ulong ChildGeneration(int i) => childGenerations[i];

        /// <summary>
        /// Checks the header against what the parent (or superblock) says the block must be and parses it.
        /// The checksum is verified by the caller, which may then try the other copy of a DUP chunk.
        /// </summary>
        public static BtrfsNode Parse(byte[] b, ulong logical, int expectedLevel, ulong expectedGeneration, BtrfsSuperblock sb, string where, string structure)
        {
            ReadOnlySpan<byte> s = b;
            if (!s.Slice(0x20, 16).SequenceEqual(sb.MetadataUuid))
            {
                throw new InvalidImageException(where, structure, $"the tree block at logical 0x{logical:X} carries another file system's UUID.");
            }
            ulong bytenr = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0x30));
            if (bytenr != logical)
            {
                throw new InvalidImageException(where, structure, $"the tree block at logical 0x{logical:X} says it is at 0x{bytenr:X}.");
            }
            ulong generation = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0x50));
            if (generation != expectedGeneration)
            {
                throw new InvalidImageException(where, structure, $"the tree block at logical 0x{logical:X} has generation {generation}, but its parent expects {expectedGeneration} (a stale or misdirected write).");
            }
            ulong owner = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(0x58));
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(0x60));
            int level = s[0x64];
            if (level != expectedLevel)
            {
                throw new InvalidImageException(where, structure, $"the tree block at logical 0x{logical:X} is at level {level}, not {expectedLevel}.");
            }
            int room = b.Length - HeaderSize;
            int entry = level == 0 ? ItemSize : KeyPtrSize;
            if (count > (uint)(room / entry) || (level > 0 && count == 0))
            {
                throw new InvalidImageException(where, structure, $"the tree block at logical 0x{logical:X} claims {count} entries, which do not fit (or an empty internal node).");
            }
            var keys = new BtrfsKey[count];
            int[] offsets = Array.Empty<int>();
            int[] sizes = Array.Empty<int>();
            ulong[] children = Array.Empty<ulong>();
            ulong[] gens = Array.Empty<ulong>();
            if (level == 0)
            {
                offsets = new int[count];
                sizes = new int[count];
                int itemsEnd = HeaderSize + ((int)count * ItemSize);
                for (int i = 0; i < count; i++)
                {
                    ReadOnlySpan<byte> item = s.Slice(HeaderSize + (i * ItemSize));
                    keys[i] = BtrfsKey.Read(item);
                    uint offset = BinaryPrimitives.ReadUInt32LittleEndian(item.Slice(17));
                    uint size = BinaryPrimitives.ReadUInt32LittleEndian(item.Slice(21));
                    if (offset > (uint)room || size > (uint)room - offset || HeaderSize + offset < itemsEnd)
                    {
                        throw new InvalidImageException(where, structure, $"item {i} {keys[i]} of leaf 0x{logical:X} has data [{offset}, +{size}) outside the leaf or over its item headers.");
                    }
                    offsets[i] = HeaderSize + (int)offset;
                    sizes[i] = (int)size;
                }
            }
            else
            {
                children = new ulong[count];
                gens = new ulong[count];
                for (int i = 0; i < count; i++)
                {
                    ReadOnlySpan<byte> ptr = s.Slice(HeaderSize + (i * KeyPtrSize));
                    keys[i] = BtrfsKey.Read(ptr);
                    children[i] = BinaryPrimitives.ReadUInt64LittleEndian(ptr.Slice(17));
                    gens[i] = BinaryPrimitives.ReadUInt64LittleEndian(ptr.Slice(25));
                    if (children[i] == 0 || children[i] % (ulong)sb.SectorSize != 0 || gens[i] == 0 || gens[i] > sb.Generation)
                    {
                        throw new InvalidImageException(where, structure, $"pointer {i} of node 0x{logical:X} names block 0x{children[i]:X} of generation {gens[i]}, unaligned or newer than the file system.");
                    }
                }
            }
            for (int i = 1; i < count; i++)
            {
                if (keys[i - 1].CompareTo(keys[i]) >= 0)
                {
                    throw new InvalidImageException(where, structure, $"the keys of tree block 0x{logical:X} are out of order at entry {i} ({keys[i - 1]} then {keys[i]}).");
                }
            }
            return new BtrfsNode(b, logical, level, generation, owner, keys, offsets, sizes, children, gens);
        }
    }
}
