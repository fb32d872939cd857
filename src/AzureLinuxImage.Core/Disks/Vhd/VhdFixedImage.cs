using System.Collections.Generic;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhd
{
    /// <summary>A fixed VHD: the raw disk followed by the footer.</summary>
    internal sealed class VhdFixedImage : DiskImage
    {
        private readonly ImageFile file;

        public VhdFixedImage(ImageFile file, VhdFooter footer)
        {
            this.file = file;
            Footer = footer;
        }

        public VhdFooter Footer { get; }

        public override string Path => file.Path;

        public override DiskFormat Format => DiskFormat.Vhd;

        public override DiskVariant Variant => DiskVariant.Fixed;

        public override long VirtualSize => Footer.CurrentSize;

        public override string? CreatorApplication => Footer.CreatorApplication;

        protected override void ReadCore(long offset, byte[] buffer, int index, int count) =>
            file.ReadExactly(offset, buffer, index, count, "fixed VHD data");

        protected override IEnumerable<ByteRange> GetAllocatedRangesCore() =>
            RangeMath.Clip(SparseFiles.GetDataRanges(file.Stream, Footer.CurrentSize), Footer.CurrentSize);

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
