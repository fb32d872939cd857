using System;
using System.Collections.Generic;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vmdk
{
    /// <summary>Reads bytes that an extent does not hold (from the parent, or zeros) at a virtual disk offset.</summary>
    internal delegate void VmdkFallbackReader(long virtualOffset, byte[] buffer, int index, int count);

    /// <summary>One extent of a VMDK: a contiguous run of the virtual disk, stored one way.</summary>
    internal abstract class VmdkExtent : IDisposable
    {
        protected VmdkExtent(long start, long size)
        {
            Start = start;
            Size = size;
        }

        /// <summary>Virtual offset of the extent's first byte.</summary>
        public long Start { get; }

        /// <summary>Bytes of virtual disk the extent covers.</summary>
        public long Size { get; }

        /// <summary>False for flat and zero extents: nothing falls through to a parent.</summary>
        public virtual bool IsSparse => false;

        /// <summary>Reads [offset, offset + count) relative to the extent; <paramref name="fallback"/> serves unallocated grains.</summary>
        public abstract void Read(long offset, byte[] buffer, int index, int count, VmdkFallbackReader fallback);

        /// <summary>Ranges that may hold data, relative to the extent, ascending.</summary>
        public abstract IEnumerable<ByteRange> AllocatedRanges();

        public virtual void Dispose()
        {
        }
    }

    /// <summary>A FLAT or VMFS extent: the bytes are in a plain file from a sector offset on.</summary>
    internal sealed class VmdkFlatExtent : VmdkExtent
    {
        private readonly ImageFile file;
        private readonly long fileOffset;

        public VmdkFlatExtent(long start, long size, ImageFile file, long fileOffset)
            : base(start, size)
        {
            this.file = file;
            this.fileOffset = fileOffset;
        }

        public override void Read(long offset, byte[] buffer, int index, int count, VmdkFallbackReader fallback) =>
            file.ReadExactly(fileOffset + offset, buffer, index, count, "VMDK flat extent data");

        public override IEnumerable<ByteRange> AllocatedRanges()
        {
            // The OS's sparse map of the flat file, cut to this extent's window and made extent-relative.
            foreach (ByteRange r in SparseFiles.GetDataRanges(file.Stream, file.Length))
            {
                long s = Math.Max(r.Offset, fileOffset);
                long e = Math.Min(r.End, fileOffset + Size);
                if (r.Offset >= fileOffset + Size)
                {
                    yield break;
                }
                if (e > s)
                {
                    yield return new ByteRange(s - fileOffset, e - s);
                }
            }
        }

        public override void Dispose() => file.Dispose();
    }

    /// <summary>A ZERO extent (or a NOACCESS one): reads as zeros, holds nothing.</summary>
    internal sealed class VmdkZeroExtent : VmdkExtent
    {
        public VmdkZeroExtent(long start, long size)
            : base(start, size)
        {
        }

        public override void Read(long offset, byte[] buffer, int index, int count, VmdkFallbackReader fallback) =>
            Array.Clear(buffer, index, count);

        public override IEnumerable<ByteRange> AllocatedRanges()
        {
            yield break;
        }
    }
}
