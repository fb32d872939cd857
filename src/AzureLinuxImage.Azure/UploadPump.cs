using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Azure
{
    /// <summary>
    /// The one read pass of an upload: the calling thread reads the source's data ranges in 4 MiB
    /// chunks, finds the non-zero 512-byte pages, and plans Put Page writes for a fixed set of workers:
    /// pages separated by a zero gap shorter than <see cref="UploadOptions.MergeGapBytes"/> (holes of
    /// the source included) go in one request, zeros sent as data, up to 4 MiB per request at any
    /// 512-aligned offset; longer zero runs are skipped (issue 20: per-request cost dominated when every
    /// zero sector split the upload). Memory is bounded by the buffer pool: threads + 2 buffers of
    /// 4 MiB, whatever the disk size; the reader waits for a free buffer, so the queue cannot grow past it.
    /// </summary>
    internal sealed class UploadPump
    {
        private const int PageSize = 512;
        private const int ChunkSize = PageBlobClient.MaxPutPageBytes;
        private static readonly byte[] Zeros = new byte[1 << 20];

        private readonly PageBlobClient client;
        private readonly AdaptiveConcurrency limiter;
        private readonly UploadOptions options;
        private readonly long sourceSize;
        private readonly long size;
        private readonly long blobLength;
        private readonly List<ByteRange> present;
        private readonly bool skipPresent;
        private readonly bool clearStale;
        private readonly IOperationContext context;
        private readonly string status;
        private readonly BlockingCollection<byte[]> freeBuffers = new BlockingCollection<byte[]>();
        private readonly BlockingCollection<Job> queue;
        private readonly CancellationTokenSource abort;
        private int presentIndex;
        private long clearedUpTo;
        private long bytesSent;
        private long bytesCleared;
        private long position;
        private Exception? failure;
        private readonly long mergeGap;
        private SharedBuffer? pending;
        private long pendingStart;
        private long pendingEnd;
        private int requests;

        public UploadPump(PageBlobClient client, AdaptiveConcurrency limiter, UploadOptions options, long sourceSize, long size, long blobLength,
            List<ByteRange> present, CopyDiskImageToAzure.Mode mode, string display, IOperationContext context, string sourcePath)
        {
            this.client = client;
            this.limiter = limiter;
            this.options = options;
            this.sourceSize = sourceSize;
            this.size = size;
            this.blobLength = blobLength;
            this.present = present;
            skipPresent = mode == CopyDiskImageToAzure.Mode.Resume;
            clearStale = mode == CopyDiskImageToAzure.Mode.Overwrite;
            this.context = context;
            status = $"{sourcePath} -> {display}";
            mergeGap = Math.Max(0, options.MergeGapBytes);
            queue = new BlockingCollection<Job>(options.ThreadCount * 4);
            abort = CancellationTokenSource.CreateLinkedTokenSource(context.Cancellation);
            for (int i = 0; i < options.ThreadCount + 2; i++)
            {
                freeBuffers.Add(new byte[ChunkSize]);
            }
        }

        public long BytesSent => Interlocked.Read(ref bytesSent);

        public long BytesCleared => Interlocked.Read(ref bytesCleared);

        /// <summary>Put Page and clear requests that succeeded (retries not counted).</summary>
        public int Requests => Volatile.Read(ref requests);

        /// <summary>Streams everything and waits for the last write; returns the MD5 when asked.</summary>
        public byte[]? Run(DiskImage source, byte[] footer)
        {
            using MD5? md5 = options.ComputeMd5 ? MD5.Create() : null;
            var workers = new Task[options.ThreadCount];
            for (int i = 0; i < workers.Length; i++)
            {
                workers[i] = Task.Run(WorkerAsync);
            }
            var clock = Stopwatch.StartNew();
            long hashed = 0;
            long next = 0;
            try
            {
                foreach (ByteRange range in RangeMath.Clip(source.GetAllocatedRanges(), sourceSize))
                {
                    // Chunks end on 4 MiB boundaries, so every Put Page stays 512-aligned and within 4 MiB.
                    // Ranges are widened to whole pages; a page two ranges share is read once.
                    for (long pos = Math.Max(next, range.Offset / PageSize * PageSize); pos < range.End;)
                    {
                        long chunkEnd = Math.Min(AlignUp(range.End), ((pos / ChunkSize) + 1) * ChunkSize);
                        int n = (int)(chunkEnd - pos);
                        var buffer = new SharedBuffer(TakeBuffer(), freeBuffers);
                        int readable = (int)Math.Max(0, Math.Min(n, sourceSize - pos));
                        source.Read(pos, buffer.Data, 0, readable);
                        Array.Clear(buffer.Data, readable, n - readable);
                        if (md5 != null)
                        {
                            HashZeros(md5, pos - hashed);
                            md5.TransformBlock(buffer.Data, 0, n, null, 0);
                            hashed = chunkEnd;
                        }
                        PlanNonZeroRuns(buffer.Data, pos, n);
                        buffer.Release();
                        pos = chunkEnd;
                        next = chunkEnd;
                        ReportProgress(clock, pos);
                    }
                }
                if (md5 != null)
                {
                    HashZeros(md5, size - hashed);
                    md5.TransformFinalBlock(footer, 0, footer.Length);
                }
                EmitPending();
                // The footer last: a reader of a torn upload never sees a valid VHD with missing data.
                var footerBuffer = new SharedBuffer(TakeBuffer(), freeBuffers);
                Array.Copy(footer, footerBuffer.Data, footer.Length);
                QueueRun(footerBuffer, size, 0, footer.Length);
                footerBuffer.Release();
                if (clearStale)
                {
                    QueueClears(size);
                }
                position = blobLength;
            }
            catch (Exception)
            {
                pending?.Release();
                pending = null;
                // Stop the workers at once; when a worker's failure stopped the reader, report that one below.
                abort.Cancel();
                if (failure == null)
                {
                    queue.CompleteAdding();
                    throw;
                }
            }
            finally
            {
                queue.CompleteAdding();
            }
            while (!Task.WaitAll(workers, 250))
            {
                ReportProgress(clock, size);
            }
            context.Cancellation.ThrowIfCancellationRequested();
            if (failure != null)
            {
                throw failure is AzureLinuxImageException ? failure : new AzureLinuxImageException("UploadFailed", ErrorKind.ResourceUnavailable,
                    SecretRedaction.Redact($"Cannot upload to {client.DisplayUrl}: {CopyDiskImageToAzure.Describe(failure)}"));
            }
            context.Progress(CopyDiskImageToAzure.Activity, Status(clock), blobLength, blobLength);
            return md5?.Hash;
        }

        private static long AlignUp(long value) => (value + PageSize - 1) / PageSize * PageSize;

        private static void HashZeros(HashAlgorithm md5, long count)
        {
            // Zero runs are hashed from a constant buffer: nothing is read for them.
            while (count > 0)
            {
                int n = (int)Math.Min(Zeros.Length, count);
                md5.TransformBlock(Zeros, 0, n, null, 0);
                count -= n;
            }
        }

        private byte[] TakeBuffer()
        {
            try
            {
                return freeBuffers.Take(abort.Token);
            }
            catch (OperationCanceledException)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                throw;
            }
        }

        /// <summary>Feeds the non-zero 512-byte runs of a chunk read at <paramref name="offset"/> to the planner.</summary>
        private void PlanNonZeroRuns(byte[] data, long offset, int count)
        {
            int runStart = -1;
            for (int page = 0; page < count; page += PageSize)
            {
                bool zero = ZeroDetection.IsAllZero(new ReadOnlySpan<byte>(data, page, PageSize));
                if (!zero && runStart < 0)
                {
                    runStart = page;
                }
                else if (zero && runStart >= 0)
                {
                    AddRun(data, offset, runStart, page);
                    runStart = -1;
                }
            }
            if (runStart >= 0)
            {
                AddRun(data, offset, runStart, count);
            }
        }

        /// <summary>
        /// Adds data [from, to) of a chunk read at <paramref name="chunkOffset"/> to the request being built:
        /// it joins the request when the zero gap since the request's last data is short enough and the
        /// request stays within 4 MiB; otherwise the request is queued and a new one starts.
        /// </summary>
        private void AddRun(byte[] chunk, long chunkOffset, int from, int to)
        {
            long at = chunkOffset + from;
            long end = chunkOffset + to;
            while (at < end)
            {
                if (pending != null && (at - pendingEnd > mergeGap || at + PageSize - pendingStart > ChunkSize))
                {
                    EmitPending();
                }
                if (pending == null)
                {
                    pending = new SharedBuffer(TakeBuffer(), freeBuffers);
                    pendingStart = at;
                    pendingEnd = at;
                }
                // The gap is zeros on the wire (the buffer is reused: clear it).
                Array.Clear(pending.Data, (int)(pendingEnd - pendingStart), (int)(at - pendingEnd));
                int take = (int)(Math.Min(end, pendingStart + ChunkSize) - at);
                Buffer.BlockCopy(chunk, (int)(at - chunkOffset), pending.Data, (int)(at - pendingStart), take);
                at += take;
                pendingEnd = at;
                if (pendingEnd - pendingStart == ChunkSize)
                {
                    EmitPending();
                }
            }
        }

        private void EmitPending()
        {
            if (pending == null)
            {
                return;
            }
            SharedBuffer request = pending;
            pending = null;
            try
            {
                QueueRun(request, pendingStart, 0, (int)(pendingEnd - pendingStart));
            }
            finally
            {
                request.Release();
            }
        }

        /// <summary>A run of pages to write at chunkOffset + index; minus what is already there when resuming.</summary>
        private void QueueRun(SharedBuffer buffer, long chunkOffset, int index, int count)
        {
            long start = chunkOffset + index;
            long end = start + count;
            if (clearStale)
            {
                QueueClears(start);
                clearedUpTo = end;
            }
            if (!skipPresent)
            {
                Enqueue(new Job(buffer, start, index, count));
                return;
            }
            // Put Page is atomic per request, so a page range the service lists was written whole.
            long at = start;
            while (presentIndex < present.Count && present[presentIndex].End <= at)
            {
                presentIndex++;
            }
            for (int i = presentIndex; at < end; i++)
            {
                long gapEnd = i < present.Count ? Math.Min(end, present[i].Offset) : end;
                if (gapEnd > at)
                {
                    Enqueue(new Job(buffer, at, index + (int)(at - start), (int)(gapEnd - at)));
                }
                if (i >= present.Count)
                {
                    break;
                }
                at = Math.Max(at, present[i].End);
            }
        }

        /// <summary>Clears the stale pages of an existing blob in [clearedUpTo, until): what we are not writing over.</summary>
        private void QueueClears(long until)
        {
            for (int i = presentIndex; i < present.Count && present[i].Offset < until; i++)
            {
                long from = Math.Max(present[i].Offset, clearedUpTo);
                long to = Math.Min(present[i].End, until);
                if (to > from)
                {
                    Enqueue(new Job(null, from, 0, to - from));
                }
                if (present[i].End <= until)
                {
                    presentIndex = i + 1;
                }
            }
            clearedUpTo = Math.Max(clearedUpTo, until);
        }

        private void Enqueue(Job job)
        {
            job.Buffer?.AddRef();
            try
            {
                queue.Add(job, abort.Token);
            }
            catch (OperationCanceledException)
            {
                job.Buffer?.Release();
                context.Cancellation.ThrowIfCancellationRequested();
                throw;
            }
        }

        private async Task WorkerAsync()
        {
            foreach (Job job in queue.GetConsumingEnumerable())
            {
                try
                {
                    if (failure == null && !abort.IsCancellationRequested)
                    {
                        await SendWithRetryAsync(job).ConfigureAwait(false);
                    }
                }
                catch (Exception e)
                {
                    if (!(e is OperationCanceledException) || !context.Cancellation.IsCancellationRequested)
                    {
                        Interlocked.CompareExchange(ref failure, e, null);
                    }
                    abort.Cancel();
                }
                finally
                {
                    job.Buffer?.Release();
                }
            }
        }

        /// <summary>Azure.Core retries each request; beyond that a batch is retried with jittered backoff inside the time budget.</summary>
        private async Task SendWithRetryAsync(Job job)
        {
            var random = new Random(unchecked(Environment.TickCount * 31 + (int)job.Offset));
            DateTime deadline = DateTime.UtcNow + options.RetryBudget;
            for (int attempt = 0; ; attempt++)
            {
                CancellationToken token = abort.Token;
                await limiter.AcquireAsync(token).ConfigureAwait(false);
                try
                {
                    if (job.Buffer == null)
                    {
                        await client.ClearPagesAsync(job.Offset, job.Count, token).ConfigureAwait(false);
                        Interlocked.Add(ref bytesCleared, job.Count);
                        Interlocked.Increment(ref requests);
                    }
                    else
                    {
                        await client.PutPagesAsync(job.Offset, job.Buffer.Data, job.Index, (int)job.Count, token).ConfigureAwait(false);
                        Interlocked.Add(ref bytesSent, job.Count);
                        Interlocked.Increment(ref requests);
                    }
                    return;
                }
                catch (Exception e) when (IsTransient(e, token) && DateTime.UtcNow < deadline)
                {
                    if (e is BlobRequestException b && b.IsThrottle)
                    {
                        limiter.OnThrottled();
                    }
                    context.Cancellation.ThrowIfCancellationRequested();
                }
                finally
                {
                    limiter.Release();
                }
                double backoff = Math.Min(30, 0.5 * Math.Pow(2, Math.Min(attempt, 6))) * (0.5 + random.NextDouble());
                await Task.Delay(TimeSpan.FromSeconds(backoff), abort.Token).ConfigureAwait(false);
            }
        }

        private static bool IsTransient(Exception e, CancellationToken token)
        {
            if (token.IsCancellationRequested)
            {
                return false;
            }
            return e switch
            {
                BlobRequestException b => b.Status == 408 || b.Status == 429 || b.Status >= 500,
                OperationCanceledException _ => true, // a network timeout, not the user
                _ => CopyDiskImageToAzure.IsFromTransport(e) || e is System.IO.IOException,
            };
        }

        private void ReportProgress(Stopwatch clock, long reached)
        {
            // Pages behind the reader are either sent, skipped, or in flight.
            Interlocked.Exchange(ref position, reached);
            context.Progress(CopyDiskImageToAzure.Activity, Status(clock), Math.Min(reached, blobLength - 1), blobLength);
        }

        private string Status(Stopwatch clock)
        {
            long sent = BytesSent;
            long done = Math.Min(Interlocked.Read(ref position), blobLength);
            double seconds = Math.Max(0.001, clock.Elapsed.TotalSeconds);
            double rate = sent / seconds;
            double fraction = (double)done / blobLength;
            string eta = fraction > 0.001 && fraction < 1 ? TimeSpan.FromSeconds(seconds / fraction * (1 - fraction)).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--";
            return SecretRedaction.Redact(string.Format(CultureInfo.InvariantCulture,
                "{0}: {1:F1} of {2:F1} MiB; {3:F1} MiB data sent at {4:F1} MiB/s, {5:F1} MiB skipped; ETA {6}",
                status, done / 1048576.0, blobLength / 1048576.0, sent / 1048576.0, rate / 1048576.0, Math.Max(0, done - sent) / 1048576.0, eta));
        }

        private sealed class SharedBuffer
        {
            private readonly BlockingCollection<byte[]> pool;
            private int references = 1;

            public SharedBuffer(byte[] data, BlockingCollection<byte[]> pool)
            {
                Data = data;
                this.pool = pool;
            }

            public byte[] Data { get; }

            public void AddRef() => Interlocked.Increment(ref references);

            public void Release()
            {
                if (Interlocked.Decrement(ref references) == 0)
                {
                    pool.Add(Data);
                }
            }
        }

        private readonly struct Job
        {
            public Job(SharedBuffer? buffer, long offset, int index, long count)
            {
                Buffer = buffer;
                Offset = offset;
                Index = index;
                Count = count;
            }

            /// <summary>Null for a clear.</summary>
            public SharedBuffer? Buffer { get; }

            public long Offset { get; }

            public int Index { get; }

            public long Count { get; }
        }
    }
}
