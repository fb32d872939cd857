using System;
using System.IO;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 7: the whole readiness check on the real Debian 12 image as a fixed VHD, zstd initramfs
    /// included, as a user runs it (`azlinux test image.vhd`, runtime start-up counted). Goal: ≤ 1 s wall.
    /// $AZLI_DEBIAN_IMAGE reuses a disk built by tests/fixtures/build-debian-image.sh.
    /// </summary>
    internal static class ReadinessBenchmark
    {
        public static void Run(Bench bench)
        {
            string? disk = Environment.GetEnvironmentVariable("AZLI_DEBIAN_IMAGE");
            if (string.IsNullOrEmpty(disk) || !File.Exists(disk))
            {
                disk = bench.File("debian12.raw");
                bench.Run("/bin/bash", LinuxViewBenchmark.FindImageScript(), disk);
            }
            string vhd = bench.File("debian12.vhd");
            ConvertToFixedVhd.Run(disk, vhd, true, false, new SilentContext());
            // azlinux test exits 1 when a rule fails (the stock image fails three): time it all the same.
            var runs = new double[5];
            for (int i = 0; i < runs.Length; i++)
            {
                runs[i] = bench.RunAllowingExit(1, Bench.Azlinux, "test", vhd, "--json").Seconds;
            }
            Array.Sort(runs);
            Console.WriteLine($"azlinux test debian12.vhd (GPT, ext4, zstd initrd): best {runs[0] * 1000:0} ms, median {runs[2] * 1000:0} ms wall, cold page cache (goal <= 1000 ms)");
        }
    }
}
