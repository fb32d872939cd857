using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using Xunit;

namespace AzureLinuxImage.Tests.Infrastructure
{
    /// <summary>
    /// One seeded mutation fuzz run: how each case is damaged, what is done with the damaged input, how it
    /// is put back, and the bounds every case must keep. The per-format data (which bytes, which
    /// structures, which operation) lives with each format's test; the loop and its rules live in
    /// <see cref="FuzzHarness"/>.
    /// </summary>
    internal sealed class FuzzRun
    {
        public FuzzRun(string name, int seed, int cases)
        {
            Name = name;
            Seed = seed;
            Cases = cases;
        }

        public string Name { get; }

        public int Seed { get; }

        public int Cases { get; }

        /// <summary>Damages the input for case i (the random source is the run's, shared with <see cref="Exercise"/>).</summary>
        public Action<Random, int> Mutate { get; init; } = (_, _) => { };

        /// <summary>Opens the damaged input and performs the operation (read, list, decode, edit and commit).</summary>
        public Action<Random, int> Exercise { get; init; } = (_, _) => { };

        /// <summary>Undoes the case's damage; runs after every case, whatever it ended with.</summary>
        public Action Restore { get; init; } = () => { };

        /// <summary>The damage of the current case, for the failure message (called only when a case fails).</summary>
        public Func<string> Describe { get; init; } = () => string.Empty;

        /// <summary>Groups typed errors in the outcome (default: the error id).</summary>
        public Func<AzureLinuxImageException, string> Classify { get; init; } = e => e.ErrorId;

        public TimeSpan PerCaseTime { get; init; } = TimeSpan.FromSeconds(2);

        public long PerCaseAllocation { get; init; } = 64L << 20;

        /// <summary>The whole loop runs on a worker: a hang fails the test with the case that hung instead of blocking CI.</summary>
        public TimeSpan Watchdog { get; init; } = TimeSpan.FromMinutes(10);
    }

    /// <summary>What a fuzz run saw: cases that went through, typed errors by kind, the worst time and allocation.</summary>
    internal sealed class FuzzOutcome
    {
        public int Completed { get; set; }

        public int TypedErrors { get; set; }

        public Dictionary<string, int> ByError { get; } = new Dictionary<string, int>();

        public TimeSpan Slowest { get; set; }

        public long MostAllocated { get; set; }

        public TimeSpan Elapsed { get; set; }

        public override string ToString() =>
            $"{Completed} went through, {TypedErrors} typed errors ({string.Join("; ", ByError.OrderByDescending(kv => kv.Value).Take(12).Select(kv => $"{kv.Key}: {kv.Value}"))}), " +
            $"slowest case {Slowest.TotalMilliseconds:F0} ms, most allocated {MostAllocated >> 10} KiB, {Elapsed.TotalSeconds:F1} s in all";
    }

    /// <summary>
    /// The one mutation fuzz loop of the test suite (issue 4: "no crash, hang or unbounded allocation";
    /// issue 19: one harness). Every case is mutated, exercised and restored; the only acceptable failure
    /// is an <see cref="AzureLinuxImageException"/>; each case has a time and an allocation bound; the loop
    /// has a watchdog. Writers exercised here commit through <see cref="BoundedSink"/>, so a write outside
    /// the volume fails the case like an untyped exception.
    /// </summary>
    internal static class FuzzHarness
    {
        private const int MaxReported = 5;

        public static FuzzOutcome Run(FuzzRun run)
        {
            var outcome = new FuzzOutcome();
            var failures = new List<string>();
            int current = -1;
            var total = Stopwatch.StartNew();
            Task task = Task.Factory.StartNew(() => Loop(run, outcome, failures, i => current = i), TaskCreationOptions.LongRunning);
            if (!task.Wait(run.Watchdog))
            {
                Assert.Fail($"{run.Name}: case {Volatile.Read(ref current)} (seed {run.Seed}) did not finish within {run.Watchdog} (hang?)");
            }
            task.GetAwaiter().GetResult();
            outcome.Elapsed = total.Elapsed;
            Assert.True(failures.Count == 0, $"{run.Name}: {failures.Count} failing case(s) (only typed errors may come out, within {run.PerCaseTime.TotalSeconds:F0} s and {run.PerCaseAllocation >> 20} MiB each)\n\n" + string.Join("\n\n", failures));
            return outcome;
        }

        private static void Loop(FuzzRun run, FuzzOutcome outcome, List<string> failures, Action<int> starting)
        {
            var random = new Random(run.Seed);
            var watch = new Stopwatch();
            for (int i = 0; i < run.Cases && failures.Count < MaxReported; i++)
            {
                starting(i);
                string? failure = null;
                long before = 0;
                try
                {
                    run.Mutate(random, i);
                    before = GC.GetAllocatedBytesForCurrentThread();
                    watch.Restart();
                    try
                    {
                        run.Exercise(random, i);
                        outcome.Completed++;
                    }
                    catch (AzureLinuxImageException e)
                    {
                        outcome.TypedErrors++;
                        string kind = run.Classify(e);
                        outcome.ByError[kind] = outcome.ByError.TryGetValue(kind, out int n) ? n + 1 : 1;
                    }
                    catch (Exception e)
                    {
                        failure = $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}";
                    }
                    watch.Stop();
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    outcome.Slowest = watch.Elapsed > outcome.Slowest ? watch.Elapsed : outcome.Slowest;
                    outcome.MostAllocated = Math.Max(outcome.MostAllocated, allocated);
                    if (failure == null && watch.Elapsed > run.PerCaseTime)
                    {
                        failure = $"took {watch.Elapsed.TotalSeconds:F1} s";
                    }
                    if (failure == null && allocated > run.PerCaseAllocation)
                    {
                        failure = $"allocated {allocated >> 20} MiB";
                    }
                    if (failure != null)
                    {
                        failures.Add($"{run.Name} case {i} (seed {run.Seed}): {failure}\ndamage: {run.Describe()}");
                    }
                }
                finally
                {
                    run.Restore();
                }
            }
        }

        /// <summary>
        /// The sink under a fuzzed writer's <see cref="StagedBlockDevice"/>: every committed write must land
        /// inside the volume (a write outside it throws, which the harness reports as an untyped failure); the
        /// bytes are dropped, so the pristine image serves the next case.
        /// </summary>
        internal sealed class BoundedSink : IBlockDeviceSink
        {
            private readonly long length;

            public BoundedSink(long length)
            {
                this.length = length;
            }

            public int Writes { get; private set; }

            public void Write(long offset, ReadOnlySpan<byte> data)
            {
                if (offset < 0 || offset + data.Length > length)
                {
                    throw new InvalidOperationException($"a write of [{offset}, {offset + data.Length}) lands outside the {length}-byte volume");
                }
                Writes++;
            }

            public void Flush()
            {
            }
        }
    }
}
