using System;
using System.Collections.Generic;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhd
{
    /// <summary>
    /// A dynamic or differencing VHD. Each allocated block is a sector bitmap followed by the data.
    /// Dynamic disks read an allocated block whole (as qemu and Hyper-V do); differencing disks take
    /// each sector from this file when its bitmap bit is set, else from the parent.
    /// </summary>
    internal sealed class VhdDynamicImage : DiskImage
    {
        private readonly ImageFile file;
        private readonly VhdDynamicHeader header;
        private readonly VhdBlockTable table;
        private readonly DiskImage? parent;
        private readonly byte[]? bitmap;
        private long bitmapBlock = -1;

        public VhdDynamicImage(ImageFile file, VhdFooter footer, VhdDynamicHeader header, VhdBlockTable table, DiskImage? parent)
        {
            this.file = file;
            Footer = footer;
            this.header = header;
            this.table = table;
            this.parent = parent;
            if (parent != null)
            {
                bitmap = new byte[header.BitmapSize];
            }
        }

        public VhdFooter Footer { get; }

        public override string Path => file.Path;

        public override DiskFormat Format => DiskFormat.Vhd;

        public override DiskVariant Variant => parent == null ? DiskVariant.Dynamic : DiskVariant.Differencing;

        public override long VirtualSize => Footer.CurrentSize;

        public override string? CreatorApplication => Footer.CreatorApplication;

        public override DiskImage? Parent => parent;

        protected override void ReadCore(long offset, byte[] buffer, int index, int count)
        {
            long blockSize = header.BlockSize;
            while (count > 0)
            {
                long block = offset / blockSize;
                int inBlock = (int)(offset % blockSize);
                int n = (int)Math.Min(count, blockSize - inBlock);
                uint entry = table[block];
                if (entry == VhdDynamicHeader.UnusedEntry)
                {
                    ReadFromParent(parent, offset, buffer, index, n);
                }
                else
                {
                    long data = ((long)entry * 512) + header.BitmapSize;
                    if (parent == null)
                    {
                        file.ReadExactly(data + inBlock, buffer, index, n, "VHD block data");
                    }
                    else
                    {
                        ReadDifferencing(block, entry, data, inBlock, offset, buffer, index, n);
                    }
                }
                offset += n;
                index += n;
                count -= n;
            }
        }

        private void ReadDifferencing(long block, uint entry, long data, int inBlock, long offset, byte[] buffer, int index, int n)
        {
            if (bitmapBlock != block)
            {
                file.ReadExactly((long)entry * 512, bitmap!, 0, bitmap!.Length, "VHD sector bitmap");
                bitmapBlock = block;
            }
            // Runs of sectors with the same bitmap bit (MSB first) come from the same place.
            int pos = 0;
            while (pos < n)
            {
                int sector = (inBlock + pos) / 512;
                bool mine = (bitmap![sector >> 3] & (0x80 >> (sector & 7))) != 0;
                int run = Math.Min(n - pos, ((sector + 1) * 512) - (inBlock + pos));
                while (pos + run < n)
                {
                    int next = (inBlock + pos + run) / 512;
                    if (((bitmap[next >> 3] & (0x80 >> (next & 7))) != 0) != mine)
                    {
                        break;
                    }
                    run = Math.Min(n - pos, run + 512);
                }
                if (mine)
                {
                    file.ReadExactly(data + inBlock + pos, buffer, index + pos, run, "VHD block data");
                }
                else
                {
                    ReadFromParent(parent, offset + pos, buffer, index + pos, run);
                }
                pos += run;
            }
        }

        protected override IEnumerable<ByteRange> GetAllocatedRangesCore()
        {
            IEnumerable<ByteRange> own = OwnRanges();
            return parent == null ? own : RangeMath.Union(own, RangeMath.Clip(parent.GetAllocatedRanges(), VirtualSize));
        }

        /// <summary>
        /// Allocated blocks, in disk order. Without a parent a block's data is a plain copy of the file, so
        /// the file's holes under it are zeros and are left out; with one, the sector bitmap decides.
        /// </summary>
        private IEnumerable<ByteRange> OwnRanges() => StoredRun.WithoutFileHoles(file, OwnRuns());

        private IEnumerable<StoredRun> OwnRuns()
        {
            long blockSize = header.BlockSize;
            foreach (KeyValuePair<long, uint> e in table.Allocated())
            {
                long start = e.Key * blockSize;
                if (start >= VirtualSize)
                {
                    yield break;
                }
                long length = Math.Min(blockSize, VirtualSize - start);
                yield return parent == null
                    ? new StoredRun(start, ((long)e.Value * 512) + header.BitmapSize, length)
                    : StoredRun.Opaque(start, length);
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
