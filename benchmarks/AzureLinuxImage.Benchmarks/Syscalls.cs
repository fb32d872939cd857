using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>Issue 20: system calls of one run, counted by `strace -c -f` (all threads), per MiB of data copied.</summary>
    internal sealed class Syscalls
    {
        private readonly Dictionary<string, long> calls;

        private Syscalls(Dictionary<string, long> calls)
        {
            this.calls = calls;
        }

        /// <summary>Runs the command under strace -c -f (not timed: strace slows it).</summary>
        public static Syscalls Trace(Bench bench, string exe, params string[] args)
        {
            string log = bench.File("strace.txt");
            bench.RunWarm("strace", new[] { "-c", "-f", "-o", log, exe }.Concat(args).ToArray());
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (string line in File.ReadLines(log))
            {
                string[] t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // "% time  seconds  usecs/call  calls  [errors]  syscall"
                if (t.Length >= 5 && double.TryParse(t[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                    && long.TryParse(t[3], out long n))
                {
                    counts[t[^1]] = n;
                }
            }
            File.Delete(log);
            return new Syscalls(counts);
        }

        private long Count(params string[] names) => names.Sum(n => calls.TryGetValue(n, out long c) ? c : 0);

        public string PerMiB(double mib) =>
            $"total {Count("total"),6} ({Count("total") / mib:0.00}/MiB): reads {Count("pread64", "read", "preadv", "preadv2") / mib:0.00}/MiB, " +
            $"writes {Count("pwrite64", "write", "pwritev", "pwritev2") / mib:0.00}/MiB, futex {Count("futex") / mib:0.00}/MiB, " +
            $"sync_file_range {Count("sync_file_range")}, fsync+fdatasync {Count("fsync", "fdatasync")}, copy_file_range {Count("copy_file_range")}, io_uring_enter {Count("io_uring_enter")}";
    }
}
