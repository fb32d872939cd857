using System;
using AzureLinuxImage.Disks;

namespace AzureLinuxImage.Partitions
{
    /// <summary>
    /// A readable run of bytes a file system lives on: a whole disk, a partition, or an LVM logical volume.
    /// File system readers take one of these, never a <see cref="DiskImage"/> directly.
    /// </summary>
    internal abstract class BlockDevice
    {
        public abstract long Length { get; }

        /// <summary>For messages: "partition 3 of /x/disk.vhd".</summary>
        public abstract string Description { get; }

        /// <summary>Reads exactly <paramref name="count"/> bytes inside [0, <see cref="Length"/>).</summary>
        public abstract void Read(long offset, byte[] buffer, int index, int count);
    }

    /// <summary>A contiguous byte range of a disk image (a partition, or the whole disk).</summary>
    internal sealed class DiskSlice : BlockDevice
    {
        private readonly DiskImage disk;
        private readonly long start;

        public DiskSlice(DiskImage disk, long start, long length, string description)
        {
            if (start < 0 || length < 0 || start > disk.VirtualSize - length)
            {
                throw new ArgumentOutOfRangeException(nameof(length), $"[{start}, {start + length}) is outside {disk.Path} ({disk.VirtualSize} bytes).");
            }
            this.disk = disk;
            this.start = start;
            Length = length;
            Description = description;
        }

        public override long Length { get; }

        public override string Description { get; }

        /// <summary>The image this slice is part of.</summary>
        internal DiskImage Disk => disk;

        /// <summary>Where the slice starts on the virtual disk.</summary>
        internal long Start => start;

        public override void Read(long offset, byte[] buffer, int index, int count)
        {
            if (offset < 0 || count < 0 || offset > Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + count}) is outside {Description} ({Length} bytes).");
            }
            disk.Read(start + offset, buffer, index, count);
        }
    }
}
