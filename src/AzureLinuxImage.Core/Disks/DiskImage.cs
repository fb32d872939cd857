using System;
using System.Collections.Generic;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks
{
    /// <summary>
    /// A virtual disk as a sequence of bytes, whatever container holds it (DESIGN.md, "Core abstractions").
    /// Opened by content with <see cref="Open(string)"/>; disposing an image disposes its parent chain.
    /// Not thread-safe: one reader at a time.
    /// </summary>
    public abstract class DiskImage : IDisposable
    {
        private readonly List<string> warnings = new List<string>();
        private bool disposed;

        /// <summary>Full path of the file that was opened.</summary>
        public abstract string Path { get; }

        /// <summary>Container format.</summary>
        public abstract DiskFormat Format { get; }

        /// <summary>Fixed, dynamic or differencing.</summary>
        public abstract DiskVariant Variant { get; }

        /// <summary>Size of the virtual disk in bytes.</summary>
        public abstract long VirtualSize { get; }

        /// <summary>Logical sector size the guest sees (512 unless the container says 4096).</summary>
        public virtual int LogicalSectorSize => 512;

        /// <summary>Physical sector size the container reports.</summary>
        public virtual int PhysicalSectorSize => 512;

        /// <summary>The application that created the container, when it records one.</summary>
        public virtual string? CreatorApplication => null;

        /// <summary>The parent of a differencing image, already opened; null otherwise.</summary>
        public virtual DiskImage? Parent => null;

        /// <summary>Things worth telling the user that did not stop the image from being read.</summary>
        public IReadOnlyList<string> Warnings => warnings;

        /// <summary>
        /// Reads <paramref name="count"/> virtual bytes at <paramref name="offset"/>; the range must lie
        /// inside [0, <see cref="VirtualSize"/>). Unallocated areas read as zeros (or from the parent).
        /// </summary>
        public void Read(long offset, byte[] buffer, int index, int count)
        {
            if (buffer is null)
            {
                throw new ArgumentNullException(nameof(buffer));
            }
            if (index < 0 || count < 0 || count > buffer.Length - index)
            {
                throw new ArgumentOutOfRangeException(nameof(count));
            }
            if (offset < 0 || offset > VirtualSize - count)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + count}) is outside the virtual disk of {VirtualSize} bytes.");
            }
            ThrowIfDisposed();
            if (count > 0)
            {
                ReadCore(offset, buffer, index, count);
            }
        }

        /// <summary>
        /// The ranges that may hold data, ascending and non-overlapping; everything else reads as zeros.
        /// Streamed from the container's own map, so memory stays bounded whatever the disk size.
        /// </summary>
        public IEnumerable<ByteRange> GetAllocatedRanges()
        {
            ThrowIfDisposed();
            return RangeMath.Coalesce(GetAllocatedRangesCore());
        }

        /// <summary>Opens a disk image, detecting the format by content (never by extension).</summary>
        public static DiskImage Open(string path) => DiskFormats.Open(path, new DiskOpenContext());

        /// <summary>True when <see cref="WriteAt"/> can change the image (a fixed VHD or raw file opened for writing).</summary>
        internal virtual bool IsWritable => false;

        /// <summary>
        /// Makes an image opened read-only writable (issue 17: plan on one open, commit on the same): the file
        /// is reopened for writing, or a byte-identical copy at <paramref name="path"/> takes its place.
        /// Only formats whose virtual byte N sits at a fixed file offset can.
        /// </summary>
        internal virtual void ReopenForWriting(string path, DateTime? unchangedSince) =>
            throw new InvalidOperationException($"{Path} cannot be written.");

        /// <summary>Writes virtual bytes in place; only images whose virtual byte N sits at a fixed file offset can.</summary>
        internal void WriteAt(long offset, ReadOnlySpan<byte> data)
        {
            if (!IsWritable)
            {
                throw new InvalidOperationException($"{Path} is not open for writing.");
            }
            if (offset < 0 || offset > VirtualSize - data.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + data.Length}) is outside the virtual disk of {VirtualSize} bytes.");
            }
            ThrowIfDisposed();
            WriteCore(offset, data);
        }

        /// <summary>Makes the writes so far durable.</summary>
        internal virtual void FlushWrites()
        {
        }

        /// <summary>A write already checked against the virtual size.</summary>
        protected virtual void WriteCore(long offset, ReadOnlySpan<byte> data) => throw new InvalidOperationException($"{Path} cannot be written.");

        /// <summary>Reads a range already checked against the virtual size.</summary>
        protected abstract void ReadCore(long offset, byte[] buffer, int index, int count);

        /// <summary>Ranges in ascending order; may be adjacent, <see cref="GetAllocatedRanges"/> merges them.</summary>
        protected abstract IEnumerable<ByteRange> GetAllocatedRangesCore();

        /// <summary>
        /// Reads a range this layer does not hold: from <paramref name="parent"/> where it reaches, zeros
        /// elsewhere (no parent, or a parent smaller than the child).
        /// </summary>
        protected static void ReadFromParent(DiskImage? parent, long offset, byte[] buffer, int index, int count)
        {
            int fromParent = 0;
            if (parent != null && offset < parent.VirtualSize)
            {
                fromParent = (int)Math.Min(count, parent.VirtualSize - offset);
                parent.Read(offset, buffer, index, fromParent);
            }
            Array.Clear(buffer, index + fromParent, count - fromParent);
        }

        /// <summary>Records a warning for the user.</summary>
        protected internal void AddWarning(string message) => warnings.Add(message);

        /// <summary>Releases the file handles (and the parent chain).</summary>
        protected virtual void Dispose(bool disposing)
        {
        }

        /// <inheritdoc />
        public void Dispose()
        {
            if (!disposed)
            {
                disposed = true;
                Dispose(true);
            }
            GC.SuppressFinalize(this);
        }

        private void ThrowIfDisposed()
        {
            if (disposed)
            {
                throw new ObjectDisposedException(GetType().Name);
            }
        }
    }
}
