using System;
using System.Collections.Generic;
using System.Threading;

namespace AzureLinuxImage.IO
{
    /// <summary>
    /// One dedicated thread that runs posted work in order, with at most a given number of items
    /// outstanding (queued or running): <see cref="Post"/> blocks until there is room, so a producer
    /// reusing N buffers posts with N - 1 outstanding and never overwrites one being consumed. Waits
    /// block on a monitor instead of spinning: thread-pool tasks and Task.Wait spin with sched_yield
    /// before they block, which on a two-core machine took the CPU the other side of the pipeline needed
    /// (strace: ~7,000 sched_yield calls converting 1 GiB).
    /// </summary>
    internal sealed class SerialWorker : IDisposable
    {
        private readonly object gate = new object();
        private readonly Queue<Action> queue = new Queue<Action>();
        private readonly int maxOutstanding;
        private readonly Thread thread;
        private int outstanding;
        private bool closed;
        private Exception? failure;

        public SerialWorker(string name, int maxOutstanding)
        {
            if (maxOutstanding < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(maxOutstanding));
            }
            this.maxOutstanding = maxOutstanding;
            thread = new Thread(Run) { IsBackground = true, Name = name };
            thread.Start();
        }

        /// <summary>Queues <paramref name="work"/>, first waiting for room; throws what earlier work threw.</summary>
        public void Post(Action work)
        {
            lock (gate)
            {
                while (outstanding >= maxOutstanding && failure == null)
                {
                    Monitor.Wait(gate);
                }
                ThrowIfFailed();
                outstanding++;
                queue.Enqueue(work);
                Monitor.PulseAll(gate);
            }
        }

        /// <summary>Waits until everything posted has run; throws what it threw.</summary>
        public void Drain()
        {
            lock (gate)
            {
                while (outstanding > 0 && failure == null)
                {
                    Monitor.Wait(gate);
                }
                ThrowIfFailed();
            }
        }

        /// <summary>Stops taking work and waits for the running item (queued items are dropped after a failure only).</summary>
        public void Dispose()
        {
            lock (gate)
            {
                closed = true;
                Monitor.PulseAll(gate);
            }
            thread.Join();
        }

        private void Run()
        {
            while (true)
            {
                Action work;
                lock (gate)
                {
                    while (queue.Count == 0 && !closed)
                    {
                        Monitor.Wait(gate);
                    }
                    if (queue.Count == 0 || failure != null)
                    {
                        return;
                    }
                    work = queue.Dequeue();
                }
                try
                {
                    work();
                }
                catch (Exception e)
                {
                    lock (gate)
                    {
                        failure = e;
                        queue.Clear();
                        Monitor.PulseAll(gate);
                    }
                    return;
                }
                lock (gate)
                {
                    outstanding--;
                    Monitor.PulseAll(gate);
                }
            }
        }

        private void ThrowIfFailed()
        {
            if (failure != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }
    }
}
