using System;
using System.Collections.Generic;
using System.Threading;
using AzureLinuxImage.IO;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>The fixed VHD writer's hand-off thread: order, the bound on outstanding work, failures.</summary>
    public class SerialWorkerTests
    {
        [Fact]
        public void Work_runs_in_order_and_never_more_than_the_bound_is_outstanding()
        {
            var done = new List<int>();
            int posted = 0, maxAhead = 0;
            using (var worker = new SerialWorker("test", 2))
            {
                for (int i = 0; i < 200; i++)
                {
                    int item = i;
                    worker.Post(() =>
                    {
                        Thread.SpinWait(2000 * (item % 7));
                        lock (done)
                        {
                            done.Add(item);
                        }
                    });
                    posted = i + 1;
                    lock (done)
                    {
                        maxAhead = Math.Max(maxAhead, posted - done.Count);
                    }
                }
                worker.Drain();
            }
            Assert.Equal(200, done.Count);
            for (int i = 0; i < done.Count; i++)
            {
                Assert.Equal(i, done[i]);
            }
            Assert.InRange(maxAhead, 1, 2);
        }

        [Fact]
        public void A_failure_reaches_the_producer_and_later_work_does_not_run()
        {
            bool ranAfter = false;
            using var worker = new SerialWorker("test", 1);
            worker.Post(() => throw new System.IO.IOException("disk full"));
            var e = Assert.Throws<System.IO.IOException>(() =>
            {
                worker.Post(() => ranAfter = true);
                worker.Post(() => ranAfter = true);
                worker.Drain();
            });
            Assert.Equal("disk full", e.Message);
            Assert.Throws<System.IO.IOException>(() => worker.Drain());
            Assert.False(ranAfter);
        }

        [Fact]
        public void Dispose_waits_for_the_running_item()
        {
            bool finished = false;
            var worker = new SerialWorker("test", 1);
            worker.Post(() =>
            {
                Thread.Sleep(200);
                finished = true;
            });
            worker.Dispose();
            Assert.True(finished);
        }
    }
}
