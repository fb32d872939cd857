using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 21: list the whole root of the same Debian 12 content through GPT + btrfs (the Fedora layout of
    /// build-debian-image.sh --fs btrfs: subvolumes root and home, zstd, /boot on ext4) and through GPT + ext4.
    /// Goal: btrfs within 2x of ext4. In-process, warm (best of three after a first run that pays for JIT).
    /// </summary>
    internal static class BtrfsViewBenchmark
    {
        public static void Run(Bench bench)
        {
            string script = LinuxViewBenchmark.FindImageScript();
            string ext4 = bench.File("debian12-ext4.raw");
            string btrfs = bench.File("debian12-btrfs.raw");
            bench.Run("/bin/bash", script, ext4);
            bench.Run("/bin/bash", script, btrfs, "--fs", "btrfs");
            var e = Measure(ext4);
            var b = Measure(btrfs);
            Console.WriteLine($"ext4  (GPT, one file system):           {e.Entries} entries, open+list first {e.First * 1000,6:0} ms, warm {e.Warm * 1000,6:0} ms");
            Console.WriteLine($"btrfs (GPT, subvolumes + /boot ext4):   {b.Entries} entries, open+list first {b.First * 1000,6:0} ms, warm {b.Warm * 1000,6:0} ms");
            Console.WriteLine($"ratio btrfs / ext4 (warm): {b.Warm / e.Warm:0.00}x (goal <= 2.00x); per entry {b.Warm / b.Entries * 1e6:0.0} us vs {e.Warm / e.Entries * 1e6:0.0} us");
        }

        private static (int Entries, double First, double Warm) Measure(string disk)
        {
            var (entries, first) = ListOnce(disk);
            double warm = Enumerable.Range(0, 3).Select(_ => ListOnce(disk).Seconds).Min();
            return (entries, first, warm);
        }

        private static (int Entries, double Seconds) ListOnce(string disk)
        {
            var sw = Stopwatch.StartNew();
            int entries = 0;
            using (LinuxImage image = LinuxImage.Open(disk))
            {
                IFileSystem fs = image.RequireFileSystem();
                var pending = new Stack<string>();
                pending.Push("/");
                while (pending.Count > 0)
                {
                    foreach (FileEntry e in fs.List(pending.Pop()))
                    {
                        entries++;
                        if (e.Type == FileEntryType.Directory)
                        {
                            pending.Push(e.Path);
                        }
                    }
                }
            }
            return (entries, sw.Elapsed.TotalSeconds);
        }
    }
}
