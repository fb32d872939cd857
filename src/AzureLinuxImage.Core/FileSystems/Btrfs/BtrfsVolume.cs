using System;
using System.Collections.Generic;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// Logical-to-physical I/O for one single-device btrfs: the chunk map (the SYSTEM chunks of the
    /// sys_chunk_array first, then every chunk of the chunk tree), tree blocks read through a small
    /// bounded cache with their header and checksum verified (the second copy of a DUP chunk is tried when the
    /// first is damaged), and data read by logical address.
    /// </summary>
    internal sealed class BtrfsVolume
    {
        /// <summary>Parsed tree blocks kept, at most this many bytes of blocks (a few hundred nodes).</summary>
        private const long CacheBytes = 8L << 20;

        /// <summary>More chunks than any real device holds (1 GiB data chunks on a 64 TiB disk).</summary>
        private const int MaxChunks = 1 << 17;

        private readonly BlockDevice device;
        private readonly List<BtrfsChunk> chunks = new List<BtrfsChunk>();
        private readonly Dictionary<ulong, BtrfsNode> cache = new Dictionary<ulong, BtrfsNode>();
        private readonly int cacheNodes;

        private BtrfsVolume(BlockDevice device, BtrfsSuperblock sb)
        {
            this.device = device;
            Superblock = sb;
            cacheNodes = (int)Math.Max(16, CacheBytes / sb.NodeSize);
        }

        public BtrfsSuperblock Superblock { get; }

        public string Where => device.Description;

        public IReadOnlyList<BtrfsChunk> Chunks => chunks;

        public static BtrfsVolume Open(BlockDevice device)
        {
            if (device.Length < BtrfsSuperblock.PrimaryOffset + BtrfsSuperblock.Size)
            {
                throw new InvalidImageException(device.Description, "btrfs superblock", "the device is too small to hold the superblock at 64 KiB.");
            }
            var block = new byte[BtrfsSuperblock.Size];
            device.Read(BtrfsSuperblock.PrimaryOffset, block, 0, block.Length);
            BtrfsSuperblock sb = BtrfsSuperblock.Parse(block, device.Length, device.Description);
            var volume = new BtrfsVolume(device, sb);
            volume.LoadSystemChunks();
            volume.LoadChunkTree();
            return volume;
        }

        /// <summary>sys_chunk_array: (disk key, chunk item) pairs enough to read the chunk tree.</summary>
        private void LoadSystemChunks()
        {
            const string S = "btrfs sys_chunk_array";
            ReadOnlySpan<byte> a = Superblock.SysChunkArray;
            int at = 0;
            while (at < a.Length)
            {
                if (a.Length - at < BtrfsKey.Size + BtrfsChunk.HeaderSize)
                {
                    throw new InvalidImageException(Where, S, $"{a.Length - at} bytes left at offset {at}, too few for a key and a chunk.");
                }
                BtrfsKey key = BtrfsKey.Read(a.Slice(at));
                if (key.Type != BtrfsItem.ChunkItem)
                {
                    throw new InvalidImageException(Where, S, $"entry at offset {at} has key type {key.Type}, not CHUNK_ITEM.");
                }
                at += BtrfsKey.Size;
                int size = BtrfsChunk.ItemSize(a.Slice(at), Where, S);
                if (size > a.Length - at)
                {
                    throw new InvalidImageException(Where, S, $"the chunk at offset {at} runs past the array's end.");
                }
                Add(BtrfsChunk.Parse(key.Offset, a.Slice(at, size), Superblock, device.Length, Where, S), S);
                at += size;
            }
        }

        private void LoadChunkTree()
        {
            const string S = "btrfs chunk tree";
            var fromTree = new List<BtrfsChunk>();
            var tree = new BtrfsTree(this, BtrfsItem.ChunkTreeObjectId, Superblock.ChunkRoot, Superblock.ChunkRootLevel, Superblock.ChunkRootGeneration, S);
            BtrfsTreeCursor cursor = tree.Search(new BtrfsKey(BtrfsItem.FirstChunkTreeObjectId, BtrfsItem.ChunkItem, 0));
            while (cursor.Valid)
            {
                BtrfsKey key = cursor.Key;
                if (key.ObjectId != BtrfsItem.FirstChunkTreeObjectId || key.Type != BtrfsItem.ChunkItem)
                {
                    break;
                }
                if (fromTree.Count >= MaxChunks)
                {
                    throw new InvalidImageException(Where, S, $"more than {MaxChunks} chunks.");
                }
                fromTree.Add(BtrfsChunk.Parse(key.Offset, cursor.Data, Superblock, device.Length, Where, S));
                cursor.MoveNext();
            }
            // The tree is the authority; the array's SYSTEM chunks must be among its chunks.
            foreach (BtrfsChunk sys in chunks)
            {
                if (!fromTree.Exists(c => c.Logical == sys.Logical && c.Length == sys.Length && c.Physical[0] == sys.Physical[0]))
                {
                    throw new InvalidImageException(Where, S, $"the SYSTEM chunk at logical 0x{sys.Logical:X} of the sys_chunk_array is not in the chunk tree.");
                }
            }
            chunks.Clear();
            foreach (BtrfsChunk c in fromTree)
            {
                Add(c, S);
            }
        }

        private void Add(BtrfsChunk chunk, string structure)
        {
            int index = chunks.BinarySearch(chunk, ChunkOrder.Instance);
            if (index >= 0)
            {
                throw new InvalidImageException(Where, structure, $"two chunks start at logical 0x{chunk.Logical:X}.");
            }
            index = ~index;
            if ((index > 0 && chunks[index - 1].End > chunk.Logical) || (index < chunks.Count && chunk.End > chunks[index].Logical))
            {
                throw new InvalidImageException(Where, structure, $"the chunk at logical 0x{chunk.Logical:X} overlaps another.");
            }
            chunks.Insert(index, chunk);
        }

        private sealed class ChunkOrder : IComparer<BtrfsChunk>
        {
            public static readonly ChunkOrder Instance = new ChunkOrder();

            public int Compare(BtrfsChunk? x, BtrfsChunk? y) => x!.Logical.CompareTo(y!.Logical);
        }

        /// <summary>The chunk holding [logical, logical + count), which must not cross its end.</summary>
        private BtrfsChunk Map(ulong logical, int count, string structure)
        {
            int lo = 0;
            int hi = chunks.Count - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >> 1;
                BtrfsChunk c = chunks[mid];
                if (logical < c.Logical)
                {
                    hi = mid - 1;
                }
                else if (logical >= c.End)
                {
                    lo = mid + 1;
                }
                else
                {
                    if ((ulong)count > c.End - logical)
                    {
                        throw new InvalidImageException(Where, structure, $"[0x{logical:X}, +{count}) crosses the end of its chunk at 0x{c.End:X}.");
                    }
                    return c;
                }
            }
            throw new InvalidImageException(Where, structure, $"logical address 0x{logical:X} is in no chunk.");
        }

        /// <summary>Reads logical bytes (file data, compressed extents) from the first copy.</summary>
        public void ReadLogical(ulong logical, byte[] buffer, int index, int count, string structure)
        {
            BtrfsChunk c = Map(logical, count, structure);
            device.Read((long)(c.Physical[0] + (logical - c.Logical)), buffer, index, count);
        }

        /// <summary>A verified tree block; cached, so callers must not modify it.</summary>
        public BtrfsNode ReadNode(ulong logical, int level, ulong generation, string structure)
        {
            if (cache.TryGetValue(logical, out BtrfsNode? n))
            {
                if (n.Level != level || n.Generation != generation)
                {
                    throw new InvalidImageException(Where, structure, $"the tree block at logical 0x{logical:X} (level {n.Level}, generation {n.Generation}) is referenced as level {level}, generation {generation}.");
                }
                return n;
            }
            int size = Superblock.NodeSize;
            BtrfsChunk chunk = Map(logical, size, structure);
            if ((chunk.Type & (BtrfsChunk.TypeMetadata | BtrfsChunk.TypeSystem)) == 0)
            {
                throw new InvalidImageException(Where, structure, $"the tree block at logical 0x{logical:X} lies in a data chunk.");
            }
            InvalidImageException? first = null;
            foreach (ulong physical in chunk.Physical)
            {
                var block = new byte[size];
                device.Read((long)(physical + (logical - chunk.Logical)), block, 0, size);
                try
                {
                    if (!Superblock.Checksum.Matches(block))
                    {
                        throw new InvalidImageException(Where, structure, $"the {Superblock.Checksum.Name} checksum of the tree block at logical 0x{logical:X} does not match.");
                    }
                    BtrfsNode node = BtrfsNode.Parse(block, logical, level, generation, Superblock, Where, structure);
                    if (cache.Count >= cacheNodes)
                    {
                        // Emptied when full rather than kept in LRU order: cheaper per hit, and the hot upper levels come back at once.
                        cache.Clear();
                    }
                    cache[logical] = node;
                    return node;
                }
                catch (InvalidImageException e)
                {
                    first ??= e;
                }
            }
            throw first!;
        }
    }
}
