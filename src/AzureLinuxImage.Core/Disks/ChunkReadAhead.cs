using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Threading;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks
{
    /// <summary>
    /// Reads a disk's ranges in chunks on a thread of its own, up to <c>depth</c> chunks ahead of the one
    /// thread that consumes them (issue 20): the source's reads wait on the disk while the consumer copies
    /// the previous chunks, as qemu-img keeps reads in flight. Each side blocks only when the ring is full
    /// or empty, and is woken only then. Memory is
    /// <c>depth</c> chunks whatever the disk size. Only the reading thread touches the source.
    /// </summary>
    internal sealed class ChunkReadAhead : IDisposable
    {
        private readonly object gate = new object();
        private readonly DiskImage source;
        private readonly IEnumerable<ByteRange> ranges;
        private readonly int chunkSize;
        private readonly byte[][] buffers;
        private readonly long[] offsets;
        private readonly int[] lengths;
        private readonly CancellationToken cancellation;
        private readonly CancellationTokenRegistration onCancel;
        private readonly Thread thread;
        private ExceptionDispatchInfo? failure;

        // Guarded by gate. read: chunks filled (the end marker included); taken: chunks the consumer has
        // finished with. A side that waits says so, and the other pulses only then, so while both keep pace
        // a hand-off is an uncontended lock and no system call (SemaphoreSlim spun: 34,000 sched_yield calls
        // on one 570 MiB conversion).
        private long read;
        private long taken;
        private bool readerWaits;
        private bool consumerWaits;
        private bool stopped;

        private long next;
        private bool holding;
        private bool ended;

        /// <param name="source">The disk; read only by this object's thread until it is disposed.</param>
        /// <param name="ranges">Ascending virtual ranges to read.</param>
        /// <param name="chunkSize">Chunks end on multiples of this, so pages stay aligned with the output's blocks.</param>
        /// <param name="depth">Chunks read ahead at most.</param>
        /// <param name="cancellation">Stops the reading; <see cref="TryNext"/> then throws.</param>
        public ChunkReadAhead(DiskImage source, IEnumerable<ByteRange> ranges, int chunkSize, int depth, CancellationToken cancellation)
        {
            if (chunkSize <= 0 || depth <= 0)
            {
                throw new ArgumentOutOfRangeException(chunkSize <= 0 ? nameof(chunkSize) : nameof(depth));
            }
            this.source = source;
            this.ranges = ranges;
            this.chunkSize = chunkSize;
            this.cancellation = cancellation;
            buffers = new byte[depth][];
            offsets = new long[depth];
            lengths = new int[depth];
            onCancel = cancellation.Register(Stop);
            thread = new Thread(Read) { IsBackground = true, Name = "ChunkReadAhead" };
            thread.Start();
        }

        /// <summary>
        /// The next chunk in order, or false after the last one. The buffer stays valid until the next call.
        /// Rethrows what the reading thread met (a typed image error); throws when cancelled.
        /// </summary>
        public bool TryNext(out long offset, out byte[] buffer, out int length)
        {
            offset = 0;
            buffer = Array.Empty<byte>();
            length = 0;
            if (ended)
            {
                return false;
            }
            lock (gate)
            {
                if (holding)
                {
                    taken++;
                    holding = false;
                    if (readerWaits)
                    {
                        Monitor.Pulse(gate);
                    }
                }
                while (read <= next && !stopped)
                {
                    consumerWaits = true;
                    Monitor.Wait(gate);
                    consumerWaits = false;
                }
                cancellation.ThrowIfCancellationRequested();
                if (read <= next)
                {
                    throw new ObjectDisposedException(nameof(ChunkReadAhead));
                }
            }
            int slot = (int)(next % buffers.Length);
            if (lengths[slot] < 0)
            {
                ended = true;
                failure?.Throw();
                return false;
            }
            next++;
            holding = true;
            offset = offsets[slot];
            buffer = buffers[slot];
            length = lengths[slot];
            return true;
        }

        private void Read()
        {
            long count = 0;
            try
            {
                foreach (ByteRange range in ranges)
                {
                    for (long pos = range.Offset; pos < range.End;)
                    {
                        if (!WaitForRoom(count))
                        {
                            return;
                        }
                        int slot = (int)(count % buffers.Length);
                        long chunkEnd = Math.Min(range.End, ((pos / chunkSize) + 1) * chunkSize);
                        int n = (int)(chunkEnd - pos);
                        byte[] buffer = buffers[slot] ??= new byte[chunkSize];
                        source.Read(pos, buffer, 0, n);
                        offsets[slot] = pos;
                        lengths[slot] = n;
                        Publish(++count);
                        pos = chunkEnd;
                    }
                }
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
            // The end (or the failure) takes a slot of its own, so the consumer first sees every chunk read before it.
            if (WaitForRoom(count))
            {
                lengths[(int)(count % buffers.Length)] = -1;
                Publish(count + 1);
            }
        }

        /// <summary>Waits until the slot of chunk <paramref name="count"/> is free; false once stopped.</summary>
        private bool WaitForRoom(long count)
        {
            lock (gate)
            {
                while (count - taken >= buffers.Length && !stopped)
                {
                    readerWaits = true;
                    Monitor.Wait(gate);
                    readerWaits = false;
                }
                return !stopped;
            }
        }

        private void Publish(long count)
        {
            lock (gate)
            {
                read = count;
                if (consumerWaits)
                {
                    Monitor.Pulse(gate);
                }
            }
        }

        private void Stop()
        {
            lock (gate)
            {
                stopped = true;
                Monitor.PulseAll(gate);
            }
        }

        /// <summary>Stops the reading thread and waits for it, so the source may be closed after.</summary>
        public void Dispose()
        {
            onCancel.Dispose();
            Stop();
            thread.Join();
        }
    }
}
