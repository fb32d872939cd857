using System;
using System.IO;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 2 (a): a 4 GiB dynamic VHD holding ~1 GiB of data to an aligned fixed VHD. Compared with
    /// `qemu-img convert -O vpc -o subformat=fixed,force_size` and with the seed's raw round trip
    /// (convert to raw, resize to a whole MiB, convert raw to fixed VPC). Goal: ≥ 1.3× qemu-img, ≤ 100 MB peak.
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

        /// <summary>Times ours and qemu-img's on <paramref name="source"/>; prints the figures and ratios.</summary>
        public static void Compare(Bench bench, string source, string qemuFormat)
        {
            long rounded = (VirtualSize + (1 << 20) - 1) / (1 << 20) * (1 << 20);
            var ours = Bench.Best(3, () => bench.Run(Bench.Azlinux, "convert", source, bench.File("ours.vhd"), "--force"));
            var qemu = Bench.Best(3, () =>
            {
                File.Delete(bench.File("qemu.vhd"));
                return bench.Run("qemu-img", "convert", "-f", qemuFormat, "-O", "vpc", "-o", "subformat=fixed,force_size=on", source, bench.File("qemu.vhd"));
            });
            // azlinux flushes to disk before its atomic rename; qemu-img convert's default cache mode is
            // 'unsafe' (no flush at all), so it is timed with 'writeback' (flush at the end) as well.
            var qemuFlushed = Bench.Best(3, () =>
            {
                File.Delete(bench.File("qemu.vhd"));
                return bench.Run("qemu-img", "convert", "-t", "writeback", "-f", qemuFormat, "-O", "vpc", "-o", "subformat=fixed,force_size=on", source, bench.File("qemu.vhd"));
            });
            var seed = Bench.Best(3, () =>
            {
                File.Delete(bench.File("rt.raw"));
                File.Delete(bench.File("rt.vhd"));
                var a = bench.Run("qemu-img", "convert", "-f", qemuFormat, "-O", "raw", source, bench.File("rt.raw"));
                var b = bench.Run("qemu-img", "resize", "-f", "raw", bench.File("rt.raw"), rounded.ToString());
                var c = bench.Run("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", bench.File("rt.raw"), bench.File("rt.vhd"));
                return (a.Seconds + b.Seconds + c.Seconds, Math.Max(a.PeakMiB, Math.Max(b.PeakMiB, c.PeakMiB)));
            });
            Console.WriteLine($"source: {Path.GetFileName(source)} ({qemuFormat}), {VirtualSize} bytes virtual, ~1 GiB data");
            Console.WriteLine($"azlinux convert           {ours.Seconds,7:0.00} s  peak {ours.PeakMiB,6:0} MiB");
            Console.WriteLine($"qemu-img convert (fixed)  {qemu.Seconds,7:0.00} s  peak {qemu.PeakMiB,6:0} MiB  -> ours is {qemu.Seconds / ours.Seconds:0.00}x qemu-img's speed (qemu without any flush)");
            Console.WriteLine($"qemu-img -t writeback     {qemuFlushed.Seconds,7:0.00} s  peak {qemuFlushed.PeakMiB,6:0} MiB  -> ours is {qemuFlushed.Seconds / ours.Seconds:0.00}x (both flush to disk)");
            Console.WriteLine($"seed raw round trip       {seed.Seconds,7:0.00} s  peak {seed.PeakMiB,6:0} MiB  -> ours is {seed.Seconds / ours.Seconds:0.00}x the round trip's speed");
        }
    }
}
