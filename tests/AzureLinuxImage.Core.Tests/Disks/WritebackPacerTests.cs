using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using AzureLinuxImage.IO;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>
    /// The fixed VHD writer's writeback thread (issue 20): batches started in order, back to back, never
    /// more than once per byte; the copying thread never waits for a slow start; every whole batch is
    /// started before Dispose returns; a failing start loses nothing.
    /// </summary>
    public class WritebackPacerTests
    {
        private const long Batch = 4 << 20;

        [Fact]
        public void Batches_cover_the_written_span_in_order_without_overlap_and_the_writer_never_waits()
        {
            using var dir = new TempDirectory();
            using var file = new FileStream(dir.File("out.bin"), FileMode.Create, FileAccess.ReadWrite);
            var calls = new List<(long Offset, long Count)>();
            using var slow = new ManualResetEventSlim(false);
            int returned = 0;
            long written = 0;
            using (var pacer = new WritebackPacer(file, 0, Batch, (f, offset, count) =>
            {
                lock (calls)
                {
                    calls.Add((offset, count));
                }
                // The first start blocks, as sync_file_range does on a full queue (the bound only keeps a broken
                // pacer from hanging the run).
                slow.Wait(TimeSpan.FromSeconds(30));
                Interlocked.Increment(ref returned);
            }))
            {
                for (int i = 1; i <= 100; i++)
                {
                    written = i * (512L << 10);
                    pacer.Advance(written);
                }
                // 100 advances went through while no start had returned: the writer never waited for one.
                Assert.Equal(0, Volatile.Read(ref returned));
                slow.Set();
            }
            Assert.NotEmpty(calls);
            long next = 0;
            foreach ((long offset, long count) in calls)
            {
                Assert.Equal(next, offset);
                Assert.True(count >= Batch, $"a start of {count} bytes is less than a batch");
                next = offset + count;
            }
            // The blocked first batch made the later ones merge: fewer starts than batches written.
            Assert.True(calls.Count < written / Batch, $"{calls.Count} starts for {written / Batch} batches");
            Assert.True(written - next < Batch, $"whole batches left unstarted: started up to {next} of {written}");
        }

        [Fact]
        public void A_whole_batch_is_started_before_dispose_returns_and_a_partial_one_is_left_to_the_fsync()
        {
            using var dir = new TempDirectory();
            using var file = new FileStream(dir.File("out.bin"), FileMode.Create, FileAccess.ReadWrite);
            var calls = new List<(long Offset, long Count)>();
            using (var pacer = new WritebackPacer(file, 1 << 20, Batch, (f, offset, count) => calls.Add((offset, count))))
            {
                pacer.Advance((1 << 20) + Batch + 4096);
            }
            Assert.Equal(new[] { (1L << 20, Batch + 4096) }, calls);

            calls.Clear();
            using (var pacer = new WritebackPacer(file, 0, Batch, (f, offset, count) => calls.Add((offset, count))))
            {
                pacer.Advance(Batch - 4096);
            }
            Assert.Empty(calls);
        }

        [Fact]
        public void A_start_that_fails_is_ignored_and_later_batches_still_start()
        {
            using var dir = new TempDirectory();
            using var file = new FileStream(dir.File("out.bin"), FileMode.Create, FileAccess.ReadWrite);
            int starts = 0;
            using var started = new SemaphoreSlim(0);
            using (var pacer = new WritebackPacer(file, 0, Batch, (f, offset, count) =>
            {
                int n = Interlocked.Increment(ref starts);
                started.Release();
                if (n == 1)
                {
                    throw new IOException("sync_file_range refused");
                }
            }))
            {
                for (int i = 1; i <= 4; i++)
                {
                    pacer.Advance(i * Batch);
                    // Each batch's start happens before the next is written, so none merge (a bound, not a timing).
                    Assert.True(started.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken), $"batch {i} was never started");
                }
            }
            Assert.Equal(4, starts);
        }
    }
}
