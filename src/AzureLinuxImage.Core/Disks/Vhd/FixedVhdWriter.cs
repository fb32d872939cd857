using System;
using System.Threading;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhd
{
    /// <summary>
    /// Writes any <see cref="DiskImage"/> as a fixed VHD (DESIGN.md, FixedVhdWriter): the source's data
    /// ranges copied, all-zero pages skipped so the output is sparse, then the footer at the end. Output
    /// goes through <see cref="AtomicOutputFile"/>. A thread of <see cref="ChunkReadAhead"/> reads the source up
    /// to <see cref="ReadAhead"/> chunks ahead while this one writes each chunk's non-zero runs (issue 20).
    /// Flushed outputs have their writeback started in batches by <see cref="WritebackPacer"/>'s thread.
    /// Memory is <see cref="ReadAhead"/> chunks whatever the disk size.
    /// </summary>
    internal static class FixedVhdWriter
    {
        /// <summary>
        /// Small enough that a chunk is still in the CPU's caches when it is copied into the page cache:
        /// with 4 MiB chunks the copies ran at half speed and system time doubled on the two-core
        /// development machine (VDI, cold cache, medians of 8: 1.06 s of system time at 4 MiB, 0.46 s at 512 KiB).
        /// Syscalls are not what costs: about 4 per MiB at this size, a few milliseconds per GiB.
        /// </summary>
        public const int ChunkSize = 512 << 10;

        /// <summary>Chunks read ahead of the copy (4 MiB), as the benchmarks' threaded native copy (Floor/copyfloor.c); flushed runs were level at 1, 2 and 8.</summary>
        public const int ReadAhead = 8;

        /// <summary>Writeback is started for this much output at once, not per chunk (fewer, larger I/Os).</summary>
        public const int WritebackBatch = 4 << 20;

        /// <summary>Zero detection granularity: a file system block.</summary>
        public const int PageSize = 4096;

        /// <param name="source">The image to copy.</param>
        /// <param name="destination">Output path.</param>
        /// <param name="size">Virtual size of the output, at least the source's, a multiple of 512.</param>
        /// <param name="overwrite">Whether an existing destination may be replaced.</param>
        /// <param name="progress">Called with the virtual offset reached after each chunk copied; the end (footer written, file in place) is the caller's to report once this returns.</param>
        /// <param name="cancellation">Stops the copy; nothing is left at the destination.</param>
        /// <param name="beforeFooter">Runs on the output's data (offset 0) once copied, before the footer and the rename.</param>
        /// <param name="flush">
        /// Flush the output to disk before the rename (the default). False keeps the atomic rename (no partial
        /// file after a crash or cancel of the process) but leaves the data to the kernel's own writeback, so a
        /// power failure soon after may leave an incomplete file.
        /// </param>
        /// <param name="warning">Told of stale partial outputs removed from the destination folder.</param>
        public static void Write(DiskImage source, string destination, long size, bool overwrite, Action<long> progress, CancellationToken cancellation,
            Action<System.IO.FileStream>? beforeFooter = null, bool flush = true, Action<string>? warning = null)
        {
            if (size < source.VirtualSize || size % 512 != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(size), $"{size} is smaller than the source or not a multiple of 512.");
            }
            using AtomicOutputFile output = AtomicOutputFile.Create(destination, overwrite, flush, warning);
            SparseFiles.MarkSparse(output.Stream);
            output.SetLength(size + VhdFooter.Size);

            // Disposed (their threads joined) before the output is flushed and closed, also on a failure or a cancel.
            using (var chunks = new ChunkReadAhead(source, RangeMath.Clip(source.GetAllocatedRanges(), source.VirtualSize), ChunkSize, ReadAhead, cancellation))
            using (WritebackPacer? pacer = output.Durable ? new WritebackPacer(output.Stream, 0, WritebackBatch) : null)
            {
                while (chunks.TryNext(out long pos, out byte[] buffer, out int n))
                {
                    cancellation.ThrowIfCancellationRequested();
                    WriteNonZero(output.Stream, pos, buffer, n);
                    // The span may cover holes that were skipped: writeback of a hole costs nothing.
                    pacer?.Advance(pos + n);
                    progress(pos + n);
                }
            }
            cancellation.ThrowIfCancellationRequested();
            beforeFooter?.Invoke(output.Stream);

            VhdFooter footer = VhdFooter.CreateFixed(size, Guid.NewGuid(), DateTime.UtcNow, typeof(FixedVhdWriter).Assembly.GetName().Version ?? new Version(0, 1));
            output.Stream.Position = size;
            output.Stream.Write(footer.Serialize(), 0, VhdFooter.Size);
            output.Commit();
        }

        /// <summary>Writes the non-zero pages of a chunk, one write per run of neighbouring ones.</summary>
        private static void WriteNonZero(System.IO.FileStream stream, long offset, byte[] buffer, int count)
        {
            int runStart = -1;
            for (int page = 0; page < count; page += PageSize)
            {
                int len = Math.Min(PageSize, count - page);
                bool zero = ZeroDetection.IsAllZero(new ReadOnlySpan<byte>(buffer, page, len));
                if (!zero && runStart < 0)
                {
                    runStart = page;
                }
                else if (zero && runStart >= 0)
                {
                    WriteRun(stream, offset, buffer, runStart, page);
                    runStart = -1;
                }
            }
            if (runStart >= 0)
            {
                WriteRun(stream, offset, buffer, runStart, count);
            }
        }

        private static void WriteRun(System.IO.FileStream stream, long offset, byte[] buffer, int from, int to)
        {
            stream.Position = offset + from;
            stream.Write(buffer, from, to - from);
        }
    }
}
