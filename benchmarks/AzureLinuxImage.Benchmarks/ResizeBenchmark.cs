using System;
using System.Diagnostics;
using System.IO;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 2 (b): Resize-VhdAligned on fixed GPT VHDs of 10 GiB, 100 GiB and 1 TiB (sparse files), the
    /// backup GPT moved each time. Goal: under 50 ms, flat with size. In-process, so runtime start-up is not counted.
    /// </summary>
    internal static class ResizeBenchmark
    {
        public static void Run(Bench bench)
        {
            foreach (long gib in new[] { 10L, 100L, 1024L })
            {
                long size = gib << 30;
                string raw = bench.File($"d{gib}.raw");
                using (var f = new FileStream(raw, FileMode.Create))
                {
                    f.SetLength(size);
                }
                bench.Run("sgdisk", "-o", "-n", "1:2048:+1G", "-t", "1:8300", raw);
                string vhd = bench.File($"d{gib}.vhd");
                ConvertToFixedVhd.Run(raw, vhd, true, false, new SilentContext());
                File.Delete(raw);
                double best = double.MaxValue;
                for (int i = 1; i <= 5; i++)
                {
                    var sw = Stopwatch.StartNew();
                    ResizeVhdAligned.Run(vhd, size + (i * (1L << 20)), new SilentContext());
                    best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
                }
                Console.WriteLine($"resize {gib,5} GiB fixed VHD (GPT backup moved): best of 5 {best,6:0.0} ms");
                File.Delete(vhd);
            }
        }
    }
}
