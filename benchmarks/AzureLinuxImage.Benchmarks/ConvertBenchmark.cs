using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 2 (a): a 4 GiB dynamic VHD holding ~1 GiB of data to an aligned fixed VHD. Compared with
    /// `qemu-img convert -O vpc -o subformat=fixed,force_size`, flushed and not, and with the seed's raw
    /// round trip (convert to raw, resize to a whole MiB, convert raw to fixed VPC). Goal: ≥ 1.3× qemu-img,
    /// ≤ 100 MB peak.
    /// </summary>
    internal static class ConvertBenchmark
    {
        public const long VirtualSize = (4L << 30) + (12345 * 512); // not a whole MiB, as qemu makes them

        /// <summary>A sparse raw file with ~1 GiB of incompressible data in 64 MiB runs spread over the disk.</summary>
        public static string MakeSource(Bench bench)
        {
            string raw = bench.File("source.raw");
            using var f = new FileStream(raw, FileMode.Create, FileAccess.Write);
            f.SetLength(VirtualSize);
            var rng = new Random(42);
            var chunk = new byte[1 << 20];
            for (int run = 0; run < 16; run++)
            {
                f.Position = (long)run * (VirtualSize / 16) / (1 << 20) * (1 << 20);
                for (int mib = 0; mib < 64; mib++)
                {
                    rng.NextBytes(chunk);
                    f.Write(chunk);
                }
            }
            return raw;
        }

        public static void DynamicVhd(Bench bench)
        {
            string raw = MakeSource(bench);
            string vhd = bench.File("source.vhd");
            bench.Run("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on", raw, vhd);
            File.Delete(raw);
            Compare(bench, vhd, "vpc");
        }

        /// <summary>
        /// Issue 3: the same disk as a dynamic VHDX with 32 MiB blocks (Hyper-V's default), as Hyper-V and
        /// Disk2VHD hand it over, to an aligned fixed VHD.
        /// </summary>
        public static void DynamicVhdx(Bench bench)
        {
            string raw = MakeSource(bench);
            string vhdx = bench.File("source.vhdx");
            bench.Run("qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=32M", raw, vhdx);
            File.Delete(raw);
            Compare(bench, vhdx, "vhdx");
        }

        /// <summary>Runs per tool; the disk of the development machine is noisy, so at least 5 (AZLI_BENCH_RUNS).</summary>
        internal static int Runs => int.TryParse(Environment.GetEnvironmentVariable("AZLI_BENCH_RUNS"), out int n) && n > 0 ? n : 5;

        /// <summary>
        /// Times ours and qemu-img's on <paramref name="source"/>, like for like: ours by default (flushed
        /// before the rename) against `qemu-img convert -t writeback` (one flush at the end), ours with
        /// --no-flush against qemu-img's default cache mode, 'unsafe', which never flushes. Every run starts
        /// with the previous run's output written out and deleted and the page cache dropped; the tools
        /// take turns within each round so that a slow spell of the disk does not fall on one tool only.
        /// Prints min and median of each, and the ratios (above 1: ours is faster).
        /// </summary>
        public static void Compare(Bench bench, string source, string qemuFormat, string data = "~1 GiB data")
        {
            long virtualSize;
            using (AzureLinuxImage.Disks.DiskImage image = AzureLinuxImage.Disks.DiskImage.Open(source))
            {
                virtualSize = image.VirtualSize;
            }
            long rounded = (virtualSize + (1 << 20) - 1) / (1 << 20) * (1 << 20);
            string ours = bench.File("ours.vhd"), qemu = bench.File("qemu.vhd");
            var tools = new (string Name, Func<(double, double)> Run)[]
            {
                ("azlinux convert", () => { File.Delete(ours); return bench.Run(Bench.Azlinux, "convert", source, ours); }),
                ("qemu-img -t writeback", () =>
                {
                    File.Delete(qemu);
                    return bench.Run("qemu-img", "convert", "-t", "writeback", "-f", qemuFormat, "-O", "vpc", "-o", "subformat=fixed,force_size=on", source, qemu);
                }),
                ("azlinux convert --no-flush", () => { File.Delete(ours); return bench.Run(Bench.Azlinux, "convert", source, ours, "--no-flush"); }),
                ("qemu-img (no flush)", () =>
                {
                    File.Delete(qemu);
                    return bench.Run("qemu-img", "convert", "-f", qemuFormat, "-O", "vpc", "-o", "subformat=fixed,force_size=on", source, qemu);
                }),
                ("seed raw round trip", () =>
                {
                    File.Delete(bench.File("rt.raw"));
                    File.Delete(bench.File("rt.vhd"));
                    var a = bench.Run("qemu-img", "convert", "-f", qemuFormat, "-O", "raw", source, bench.File("rt.raw"));
                    var b = bench.Run("qemu-img", "resize", "-f", "raw", bench.File("rt.raw"), rounded.ToString());
                    var c = bench.Run("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", bench.File("rt.raw"), bench.File("rt.vhd"));
                    return (a.Seconds + b.Seconds + c.Seconds, Math.Max(a.PeakMiB, Math.Max(b.PeakMiB, c.PeakMiB)));
                }),
            };
            var times = tools.Select(_ => new List<double>()).ToArray();
            var peaks = new double[tools.Length];
            for (int round = 0; round < Runs; round++)
            {
                for (int j = 0; j < tools.Length; j++)
                {
                    // Rotated each round: a spell of slow I/O (the disk's budget, the host's memory) must
                    // not always fall on the same tool, nor always on the run after the same one.
                    int t = (round + j) % tools.Length;
                    (double seconds, double peak) = tools[t].Run();
                    times[t].Add(seconds);
                    peaks[t] = Math.Max(peaks[t], peak);
                }
            }
            File.Delete(ours);
            File.Delete(qemu);
            File.Delete(bench.File("rt.raw"));
            File.Delete(bench.File("rt.vhd"));

            double Min(int t) => times[t].Min();
            double Median(int t)
            {
                double[] sorted = times[t].OrderBy(x => x).ToArray();
                int n = sorted.Length;
                return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
            }
            string Ratio(int theirs, int ourTool) => $"{Min(theirs) / Min(ourTool):0.00}x min, {Median(theirs) / Median(ourTool):0.00}x median";
            Console.WriteLine($"source: {Path.GetFileName(source)} ({qemuFormat}), {virtualSize} bytes virtual, {data}, {Runs} runs per tool, cold cache");
            for (int t = 0; t < tools.Length; t++)
            {
                Console.WriteLine($"{tools[t].Name,-28} min {Min(t),6:0.00} s  median {Median(t),6:0.00} s  peak {peaks[t],5:0} MiB  [{string.Join(" ", times[t].Select(x => x.ToString("0.00")))}]");
            }
            Console.WriteLine($"flushed:   ours is {Ratio(1, 0)} the speed of qemu-img -t writeback");
            Console.WriteLine($"unflushed: ours --no-flush is {Ratio(3, 2)} the speed of qemu-img's default");
            Console.WriteLine($"seed round trip: ours is {Ratio(4, 0)} its speed (--no-flush: {Ratio(4, 2)})");
        }
    }
}
