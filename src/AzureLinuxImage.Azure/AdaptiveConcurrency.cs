using System;
using System.Threading;
using System.Threading.Tasks;

namespace AzureLinuxImage.Azure
{
    /// <summary>
    /// How many Put Page requests may be in flight: halves when the service says it is busy (503
    /// ServerBusy, 500 OperationTimedOut, 429) and grows back by one after a window of successes
    /// (additive increase, multiplicative decrease), never above the thread count the user gave.
    /// </summary>
    internal sealed class AdaptiveConcurrency
    {
        private static readonly TimeSpan BackOffSpacing = TimeSpan.FromMilliseconds(500);
        private readonly object gate = new object();
        private readonly int max;
        private int limit;
        private int active;
        private int successesSinceChange;
        private DateTime lastBackOff = DateTime.MinValue;
        private TaskCompletionSource<bool> changed = NewSignal();

        public AdaptiveConcurrency(int max)
        {
            this.max = Math.Max(1, max);
            limit = this.max;
            LowestLimit = limit;
        }

        public int Limit
        {
            get { lock (gate) { return limit; } }
        }

        /// <summary>The lowest the limit went: shows that the upload backed off.</summary>
        public int LowestLimit { get; private set; }

        public int BackOffs { get; private set; }

        public async Task AcquireAsync(CancellationToken cancellation)
        {
            while (true)
            {
                Task wait;
                lock (gate)
                {
                    if (active < limit)
                    {
                        active++;
                        return;
                    }
                    wait = changed.Task;
                }
                using (cancellation.Register(() => changed.TrySetCanceled()))
                {
                    await Task.WhenAny(wait, Task.Delay(Timeout.Infinite, cancellation)).ConfigureAwait(false);
                }
                cancellation.ThrowIfCancellationRequested();
            }
        }

        public void Release()
        {
            lock (gate)
            {
                active--;
                Signal();
            }
        }

        public void OnThrottled()
        {
            lock (gate)
            {
                DateTime now = DateTime.UtcNow;
                successesSinceChange = 0;
                // One burst of busy answers is one signal, not a collapse to a single request.
                if (now - lastBackOff < BackOffSpacing)
                {
                    return;
                }
                lastBackOff = now;
                limit = Math.Max(1, limit / 2);
                LowestLimit = Math.Min(LowestLimit, limit);
                BackOffs++;
            }
        }

        public void OnSucceeded()
        {
            lock (gate)
            {
                if (limit < max && ++successesSinceChange >= limit * 4)
                {
                    limit++;
                    successesSinceChange = 0;
                    Signal();
                }
            }
        }

        private static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        private void Signal()
        {
            TaskCompletionSource<bool> old = changed;
            changed = NewSignal();
            old.TrySetResult(true);
        }
    }
}
