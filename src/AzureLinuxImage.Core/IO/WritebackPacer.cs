using System;
using System.IO;
using System.Threading;

namespace AzureLinuxImage.IO
{
    /// <summary>
    /// Starts the kernel's writeback of a file being written sequentially, a batch at a time, from a
    /// thread of its own: sync_file_range(2) blocks while the disk's queue is full, and the thread that
    /// copies must not wait for it (issue 20). The copying thread only records how far it has written
    /// (<see cref="Advance"/>) and never waits for a start; the pacer is woken at most once per batch,
    /// instead of a hand-off per chunk. A batch asked while the previous one is still being started is
    /// merged into the next call. Dispose waits for the thread, so the file may be closed after it.
    /// </summary>
    internal sealed class WritebackPacer : IDisposable
    {
        private readonly object gate = new object();
        private readonly FileStream file;
        private readonly long batch;
        private readonly Action<FileStream, long, long> start;
        private readonly Thread thread;
        private long started;
        private long written;
        private bool closed;
        private int sleeping;

        /// <param name="file">The output; only its handle is used, never its position.</param>
        /// <param name="from">Where writing begins.</param>
        /// <param name="batch">Bytes written before writeback is started for them.</param>
        /// <param name="start">Starts writeback of (offset, count); <see cref="Writeback.Start"/> unless a test observes it.</param>
        public WritebackPacer(FileStream file, long from, long batch, Action<FileStream, long, long>? start = null)
        {
            if (batch <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(batch));
            }
            this.file = file;
            this.batch = batch;
            this.start = start ?? Writeback.Start;
            started = written = from;
            thread = new Thread(Run) { IsBackground = true, Name = "WritebackPacer" };
            thread.Start();
        }

        /// <summary>
        /// Everything before <paramref name="end"/> is written (called by one thread, ascending). Takes no
        /// lock unless the pacer sleeps with a whole batch waiting: a lock per chunk made the two threads
        /// contend (about 1,000 futex calls per GiB).
        /// </summary>
        public void Advance(long end)
        {
            if (end <= Volatile.Read(ref written))
            {
                return;
            }
            Interlocked.Exchange(ref written, end); // a full fence: the flag is read after the store (Run does the reverse)
            // Only the call that clears the flag wakes the pacer: one wake per batch, not one per chunk
            // until the pacer gets a core.
            if (Volatile.Read(ref sleeping) != 0 && end - Volatile.Read(ref started) >= batch && Interlocked.CompareExchange(ref sleeping, 0, 1) == 1)
            {
                lock (gate)
                {
                    Monitor.Pulse(gate);
                }
            }
        }

        /// <summary>
        /// Stops the thread once it has started the whole batches recorded (so a file of at least one batch
        /// always has its writeback started before the caller's fsync); a partial batch is left to the fsync.
        /// </summary>
        public void Dispose()
        {
            lock (gate)
            {
                closed = true;
                Monitor.Pulse(gate);
            }
            thread.Join();
        }

        private void Run()
        {
            while (true)
            {
                long from, to;
                lock (gate)
                {
                    while (!closed && Volatile.Read(ref written) - started < batch)
                    {
                        // Advance reads the flag without the lock: one that missed it wakes the pacer at its
                        // next call, and Dispose always does, so no whole batch is left unstarted.
                        Interlocked.Exchange(ref sleeping, 1);
                        if (Volatile.Read(ref written) - started < batch)
                        {
                            Monitor.Wait(gate);
                        }
                    }
                    to = Volatile.Read(ref written);
                    if (closed && to - started < batch)
                    {
                        return;
                    }
                    from = started;
                    Volatile.Write(ref started, to);
                }
                // A failure (a file system without support) only loses the overlap; the fsync still flushes.
                try
                {
                    start(file, from, to - from);
                }
                catch (Exception e) when (e is IOException || e is ObjectDisposedException || e is EntryPointNotFoundException || e is DllNotFoundException)
                {
                }
            }
        }
    }
}
