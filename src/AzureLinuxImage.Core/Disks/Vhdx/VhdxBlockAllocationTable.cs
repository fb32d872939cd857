using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhdx
{
    /// <summary>Payload block states (MS-VHDX 2.5.1.1); 5 is the v0.95 value of "unmapped", read as such.</summary>
    internal enum VhdxPayloadState
    {
        NotPresent = 0,
        Undefined = 1,
        Zero = 2,
        Unmapped = 3,
        FullyPresent = 6,
        PartiallyPresent = 7,
    }

    /// <summary>
    /// The Block Allocation Table (MS-VHDX 2.5): 64-bit entries, a payload entry per block with a
    /// sector-bitmap entry after every chunk-ratio payload entries. Read through a small page cache,
    /// never whole (a 64 TiB disk has a 512 MiB table); each entry is validated when it is used.
    /// </summary>
    internal sealed class VhdxBlockAllocationTable
    {
        private const int EntriesPerPage = 8192; // 64 KiB of table
        private const int CachedPages = 4;
        private const long OneMiB = 1024 * 1024;
        private const ulong SectorBitmapPresent = 6;

        private readonly VhdxFileView file;
        private readonly long tableOffset;
        private readonly long virtualSize;
        private readonly ByteRange[] reserved;
        private readonly byte[][] pages = new byte[CachedPages][];
        private readonly long[] pageNumbers = { -1, -1, -1, -1 };
        private int nextSlot;

        public VhdxBlockAllocationTable(VhdxFileView file, VhdxRegion region, VhdxMetadata metadata, IReadOnlyList<ByteRange> reserved)
        {
            this.file = file;
            tableOffset = region.FileOffset;
            virtualSize = metadata.VirtualDiskSize;
            this.reserved = new List<ByteRange>(reserved).ToArray();
            BlockSize = metadata.BlockSize;
            ChunkRatio = metadata.ChunkRatio;
            Differencing = metadata.HasParent;
            PayloadBlocks = (virtualSize + BlockSize - 1) / BlockSize;
            long chunks = (PayloadBlocks + ChunkRatio - 1) / ChunkRatio;
            // 2.5: a dynamic or fixed file needs entries up to the last payload block, a differencing
            // file also the sector-bitmap entry of the last chunk.
            Entries = Differencing ? chunks * (ChunkRatio + 1) : PayloadBlocks + ((PayloadBlocks - 1) / ChunkRatio);
            if (Entries > region.Length / 8)
            {
                throw new InvalidImageException(file.Path, "VHDX BAT region",
                    $"{Entries} entries are needed for {PayloadBlocks} blocks of {BlockSize} bytes, but the region of {region.Length} bytes holds only {region.Length / 8}.");
            }
            for (int i = 0; i < CachedPages; i++)
            {
                pages[i] = new byte[EntriesPerPage * 8];
            }
        }

        public long BlockSize { get; }

        public long ChunkRatio { get; }

        public bool Differencing { get; }

        public long PayloadBlocks { get; }

        public long Entries { get; }

        /// <summary>The state of payload block <paramref name="block"/> and, when present, its offset in the file.</summary>
        public VhdxPayloadState GetPayload(long block, out long fileOffset)
        {
            long index = block + (block / ChunkRatio);
            ulong entry = ReadEntry(index);
            fileOffset = 0;
            switch (entry & 7)
            {
                case 0:
                    return VhdxPayloadState.NotPresent;
                case 1:
                    return VhdxPayloadState.Undefined;
                case 2:
                    return VhdxPayloadState.Zero;
                case 3:
                case 5:
                    return VhdxPayloadState.Unmapped;
                case 6:
                    fileOffset = CheckedOffset(entry, index, BlockExtent(block), $"payload block {block}");
                    return VhdxPayloadState.FullyPresent;
                case 7:
                    if (!Differencing)
                    {
                        throw new InvalidImageException(file.Path, $"VHDX BAT entry {index}",
                            $"payload block {block} is 'partially present', a state only a differencing file may use (MS-VHDX 2.5.1.1).");
                    }
                    fileOffset = CheckedOffset(entry, index, BlockExtent(block), $"payload block {block}");
                    return VhdxPayloadState.PartiallyPresent;
                default:
                    throw new InvalidImageException(file.Path, $"VHDX BAT entry {index}", $"payload block {block} has the reserved state {entry & 7}.");
            }
        }

        /// <summary>The file offset of the sector bitmap block of <paramref name="chunk"/>; -1 when it is not present.</summary>
        public long GetSectorBitmap(long chunk)
        {
            long index = (chunk * (ChunkRatio + 1)) + ChunkRatio;
            ulong entry = ReadEntry(index);
            switch (entry & 7)
            {
                case 0:
                    return -1;
                case SectorBitmapPresent:
                    return CheckedOffset(entry, index, OneMiB, $"sector bitmap block {chunk}");
                default:
                    throw new InvalidImageException(file.Path, $"VHDX BAT entry {index}", $"sector bitmap block {chunk} has the reserved state {entry & 7}.");
            }
        }

        /// <summary>Bytes of the block that lie inside the virtual disk (the last block may be partial).</summary>
        public long BlockExtent(long block) => Math.Min(BlockSize, virtualSize - (block * BlockSize));

        private long CheckedOffset(ulong entry, long index, long extent, string what)
        {
            ulong megabytes = entry >> 20;
            if (megabytes == 0 || megabytes > (ulong)(file.Length / OneMiB))
            {
                throw new InvalidImageException(file.Path, $"VHDX BAT entry {index}",
                    $"{what} is at {megabytes} MiB, outside the file of {file.Length} bytes (corrupt table or truncated file).");
            }
            long offset = (long)megabytes * OneMiB;
            if (extent > file.Length - offset)
            {
                throw new InvalidImageException(file.Path, $"VHDX BAT entry {index}",
                    $"{what} at offset {offset} needs {extent} bytes, but the file ends at {file.Length} (truncated file?).");
            }
            var range = new ByteRange(offset, extent);
            foreach (ByteRange r in reserved)
            {
                if (VhdxRegionTable.Overlaps(range, r))
                {
                    throw new InvalidImageException(file.Path, $"VHDX BAT entry {index}", $"{what} at {range} overlaps file metadata at {r}.");
                }
            }
            return offset;
        }

        private ulong ReadEntry(long index)
        {
            if (index < 0 || index >= Entries)
            {
                throw new InvalidOperationException($"BAT index {index} outside [0, {Entries}).");
            }
            long page = index / EntriesPerPage;
            int slot = Array.IndexOf(pageNumbers, page);
            if (slot < 0)
            {
                slot = nextSlot;
                nextSlot = (nextSlot + 1) % CachedPages;
                pageNumbers[slot] = -1;
                long first = page * EntriesPerPage;
                int count = (int)Math.Min(EntriesPerPage, Entries - first);
                file.ReadExactly(tableOffset + (first * 8), pages[slot], 0, count * 8, "VHDX BAT");
                pageNumbers[slot] = page;
            }
            return BinaryPrimitives.ReadUInt64LittleEndian(pages[slot].AsSpan((int)(index % EntriesPerPage) * 8));
        }
    }
}
