using System;
using System.IO;
using System.Threading;
using AzureLinuxImage.Disks;

namespace AzureLinuxImage.IO
{
    /// <summary>Copies a file's data ranges only, leaving its holes as holes in the copy (an 8 GiB image holding 1 GiB copies 1 GiB).</summary>
    internal static class SparseCopy
    {
        private const int ChunkSize = 1 << 20;

        public static void Copy(FileStream source, FileStream destination, CancellationToken cancel)
        {
            long length = source.Length;
            SparseFiles.MarkSparse(destination);
            destination.SetLength(length);
            var buffer = new byte[ChunkSize];
            foreach (ByteRange range in SparseFiles.GetDataRanges(source, length))
            {
                long position = range.Offset;
                long end = range.Offset + range.Length;
                while (position < end)
                {
                    cancel.ThrowIfCancellationRequested();
                    int want = (int)Math.Min(ChunkSize, end - position);
                    source.Position = position;
                    int got = 0;
                    while (got < want)
                    {
                        int n = source.Read(buffer, got, want - got);
                        if (n <= 0)
                        {
                            throw new IOException($"{source.Name} ended at {position + got} while it was copied.");
                        }
                        got += n;
                    }
                    if (!ZeroDetection.IsAllZero(buffer.AsSpan(0, got)))
                    {
                        destination.Position = position;
                        destination.Write(buffer, 0, got);
                    }
                    position += got;
                }
            }
        }
    }
}
