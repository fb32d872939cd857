using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vdi
{
    /// <summary>
    /// A VirtualBox VDI image, fixed, dynamic or differencing. The block map (one little-endian slot
    /// number per block: 0xFFFFFFFF unallocated, 0xFFFFFFFE discarded = zeros) is read in pages through a
    /// small cache. Unallocated blocks of a differencing image come from the parent.
    /// </summary>
    internal sealed class VdiImage : DiskImage
    {
        private const int PageSize = 4096;
        private readonly ImageFile file;
        private readonly VdiHeader header;
        private readonly DiskImage? parent;
        private readonly TablePageCache map;

        public VdiImage(ImageFile file, VdiHeader header, DiskImage? parent)
        {
            this.file = file;
            this.header = header;
            this.parent = parent;
            map = new TablePageCache(file, PageSize, 8, "VDI block map");
        }

        public override string Path => file.Path;

        public override DiskFormat Format => DiskFormat.Vdi;

        public override DiskVariant Variant => header.Type switch
        {
            VdiImageType.Fixed => DiskVariant.Fixed,
            VdiImageType.Differencing => DiskVariant.Differencing,
            _ => DiskVariant.Dynamic,
        };

        public override long VirtualSize => header.DiskSize;

        public override DiskImage? Parent => parent;

        internal VdiHeader Header => header;

        protected override void ReadCore(long offset, byte[] buffer, int index, int count)
        {
            long blockSize = header.BlockSize;
            while (count > 0)
            {
                long block = offset / blockSize;
                int inBlock = (int)(offset % blockSize);
                int n = (int)Math.Min(count, blockSize - inBlock);
                uint slot = Slot(block);
                if (slot == VdiHeader.Unallocated)
                {
                    ReadFromParent(parent, offset, buffer, index, n);
                }
                else if (slot == VdiHeader.Discarded)
                {
                    Array.Clear(buffer, index, n);
                }
                else
                {
                    file.ReadExactly(header.BlockDataOffset(slot) + inBlock, buffer, index, n, "VDI block data");
                }
                offset += n;
                index += n;
                count -= n;
            }
        }

        /// <summary>The block map value of <paramref name="block"/>, validated against the block count.</summary>
        private uint Slot(long block)
        {
            const int perPage = PageSize / 4;
            long first = block / perPage * perPage;
            int entries = (int)Math.Min(perPage, header.Blocks - first);
            byte[] page = map.Get(header.BlockMapOffset + (first * 4), entries * 4);
            uint slot = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan((int)(block - first) * 4));
            if (slot < VdiHeader.Discarded && slot >= header.Blocks)
            {
                throw new InvalidImageException(file.Path, $"VDI block map entry {block}", $"slot {slot} is beyond the {header.Blocks} blocks of the image (corrupt map).");
            }
            return slot;
        }

        protected override IEnumerable<ByteRange> GetAllocatedRangesCore()
        {
            IEnumerable<ByteRange> own = OwnRanges();
            return parent == null ? own : RangeMath.Union(RangeMath.Coalesce(own), RangeMath.Clip(parent.GetAllocatedRanges(), VirtualSize));
        }

        /// <summary>
        /// Allocated blocks, in disk order, without the file's holes under them: an allocated VDI block is
        /// read whole from the file (there is no sector bitmap), so a hole in it reads as zeros.
        /// </summary>
        private IEnumerable<ByteRange> OwnRanges() => StoredRun.WithoutFileHoles(file, OwnRuns());

        private IEnumerable<StoredRun> OwnRuns()
        {
            long blockSize = header.BlockSize;
            for (long block = 0; block * blockSize < VirtualSize; block++)
            {
                uint slot = Slot(block);
                if (slot < VdiHeader.Discarded)
                {
                    long start = block * blockSize;
                    yield return new StoredRun(start, header.BlockDataOffset(slot), Math.Min(blockSize, VirtualSize - start));
                }
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                parent?.Dispose();
                file.Dispose();
            }
        }
    }
}
