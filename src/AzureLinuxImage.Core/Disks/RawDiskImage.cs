using System.Collections.Generic;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks
{
    /// <summary>A raw image: virtual byte N is file byte N. Allocation comes from the file system's sparse map.</summary>
    internal sealed class RawDiskImage : DiskImage
    {
        private readonly ImageFile file;

        public RawDiskImage(ImageFile file)
        {
            this.file = file;
        }

        public override string Path => file.Path;

        public override DiskFormat Format => DiskFormat.Raw;

        public override DiskVariant Variant => DiskVariant.Fixed;

        public override long VirtualSize => file.Length;

        protected override void ReadCore(long offset, byte[] buffer, int index, int count) =>
            file.ReadExactly(offset, buffer, index, count, "raw data");

        protected override IEnumerable<ByteRange> GetAllocatedRangesCore() => SparseFiles.GetDataRanges(file.Stream, file.Length);

        internal override bool IsWritable => file.IsWritable;

        internal override void ReopenForWriting(string path, System.DateTime? unchangedSince) => file.ReopenForWriting(path, unchangedSince);

        // Virtual byte N is file byte N (the fixed VHD's footer follows the data and is never reached: WriteAt stops at the virtual size).
        protected override void WriteCore(long offset, System.ReadOnlySpan<byte> data) => file.Write(offset, data);

        internal override void FlushWrites() => file.Flush();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                file.Dispose();
            }
        }
    }
}
