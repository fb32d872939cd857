using System;
using System.Collections.Generic;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vmdk
{
    /// <summary>
    /// A VMDK: its extents laid end to end, plus the parent of a delta disk. Grains a sparse extent does
    /// not hold read from the parent (or as zeros).
    /// </summary>
    internal sealed class VmdkImage : DiskImage
    {
        private readonly ImageFile file;
        private readonly List<VmdkExtent> extents;
        private readonly DiskImage? parent;
        private readonly long size;
        private readonly VmdkFallbackReader fallback;

        public VmdkImage(ImageFile file, List<VmdkExtent> extents, DiskImage? parent, uint? cid, string createType)
        {
            this.file = file;
            this.extents = extents;
            this.parent = parent;
            Cid = cid;
            CreateType = createType;
            size = extents.Count == 0 ? 0 : extents[extents.Count - 1].Start + extents[extents.Count - 1].Size;
            fallback = (offset, buffer, index, count) => ReadFromParent(parent, offset, buffer, index, count);
        }

        /// <summary>The content ID of the descriptor, which a child's parentCID must match.</summary>
        public uint? Cid { get; }

        /// <summary>The descriptor's createType (monolithicSparse, streamOptimized ...).</summary>
        public string CreateType { get; }

        public override string Path => file.Path;

        public override DiskFormat Format => DiskFormat.Vmdk;

        public override DiskVariant Variant => parent != null ? DiskVariant.Differencing
            : extents.Exists(e => e.IsSparse) ? DiskVariant.Dynamic : DiskVariant.Fixed;

        public override long VirtualSize => size;

        public override DiskImage? Parent => parent;

        protected override void ReadCore(long offset, byte[] buffer, int index, int count)
        {
            int i = FindExtent(offset);
            while (count > 0)
            {
                VmdkExtent e = extents[i];
                int n = (int)Math.Min(count, e.Start + e.Size - offset);
                e.Read(offset - e.Start, buffer, index, n, fallback);
                offset += n;
                index += n;
                count -= n;
                i++;
            }
        }

        /// <summary>Binary search for the extent holding <paramref name="offset"/> (empty extents are never chosen).</summary>
        private int FindExtent(long offset)
        {
            int lo = 0, hi = extents.Count - 1;
            while (lo < hi)
            {
                int mid = (lo + hi + 1) / 2;
                if (extents[mid].Start <= offset)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            while (extents[lo].Size == 0 || offset >= extents[lo].Start + extents[lo].Size)
            {
                lo++;
            }
            return lo;
        }

        protected override IEnumerable<ByteRange> GetAllocatedRangesCore()
        {
            IEnumerable<ByteRange> own = OwnRanges();
            return parent == null ? own : RangeMath.Union(RangeMath.Coalesce(own), RangeMath.Clip(parent.GetAllocatedRanges(), VirtualSize));
        }

        private IEnumerable<ByteRange> OwnRanges()
        {
            foreach (VmdkExtent e in extents)
            {
                foreach (ByteRange r in e.AllocatedRanges())
                {
                    yield return new ByteRange(e.Start + r.Offset, r.Length);
                }
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                parent?.Dispose();
                foreach (VmdkExtent e in extents)
                {
                    e.Dispose();
                }
                file.Dispose();
            }
        }
    }
}
