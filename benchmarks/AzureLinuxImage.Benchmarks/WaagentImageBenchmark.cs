using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 17: change waagent.conf inside the 8 GiB Debian 12 image (GPT, ext4), end to end: open the
    /// image, find the root through the partition table and fstab, stage the edit (dry pass for -WhatIf's
    /// list), commit it with its flushes. Goal: under 200 ms, with no pass over the image. Measured in
    /// process (warm, best of 5) and as the published `azlinux waagent set` process (start-up included,
    /// best of 5), and compared with the tool way on Linux: losetup + mount + sed -i + umount (root only;
    /// skipped when mounting is not possible). The alternative on Windows, booting the VM on Hyper-V to
    /// edit the file and shutting it down, takes minutes. $AZLI_DEBIAN_IMAGE_8G reuses a built disk.
    /// </summary>
    internal static class WaagentImageBenchmark
    {
        public static void Run(Bench bench)
        {
            string? disk = Environment.GetEnvironmentVariable("AZLI_DEBIAN_IMAGE_8G");
            if (string.IsNullOrEmpty(disk) || !File.Exists(disk))
            {
                disk = bench.File("debian12-8g.raw");
                bench.Run("/bin/bash", LinuxViewBenchmark.FindImageScript(), disk, "--size-mib", "8192");
            }
            Console.WriteLine($"image: {disk}, {new FileInfo(disk).Length / (1024.0 * 1024 * 1024):0.0} GiB virtual");

            // In process: alternate the swap size so every run really changes and commits.
            var times = new List<double>();
            long bytes = 0;
            for (int i = 0; i < 6; i++)
            {
                var options = new SetWaagentConfigOptions { ImagePath = disk };
                options.Settings.Add(new KeyValuePair<string, string?>("ResourceDisk.SwapSizeMB", (1024 + (i % 2) * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                var sw = Stopwatch.StartNew();
                WaagentConfigChangeResult r = SetWaagentConfig.Run(options, new SilentContext());
                times.Add(sw.Elapsed.TotalMilliseconds);
                if (!r.Written)
                {
                    throw new InvalidOperationException("the edit was not written");
                }
                bytes = r.ImageChange!.BytesWritten;
            }
            Console.WriteLine($"in process  : first {times[0],6:0} ms (JIT), warm best {times.Skip(1).Min(),6:0} ms, median {Median(times.Skip(1)),6:0} ms; {bytes} bytes written (goal < 200 ms)");

            int n = 0;
            var cli = Bench.Best(5, () => bench.Run(Bench.Azlinux, "waagent", "set", disk, $"ResourceDisk.SwapSizeMB={3000 + (n++ % 2)}"));
            Console.WriteLine($"azlinux CLI : best {cli.Seconds * 1000,6:0} ms end to end (process start-up included), peak {cli.PeakMiB:0} MiB");

            long offset;
            using (LinuxImage image = LinuxImage.Open(disk))
            {
                offset = image.Table.Partitions.Single(p => p.Name == "rootfs").Offset;
            }
            string mnt = bench.File("mnt");
            Directory.CreateDirectory(mnt);
            try
            {
                var mount = Bench.Best(3, () =>
                {
                    var sw = Stopwatch.StartNew();
                    bench.Run("mount", "-o", $"loop,offset={offset}", disk, mnt);
                    bench.Run("sed", "-i", "s/^ResourceDisk.SwapSizeMB=.*/ResourceDisk.SwapSizeMB=2048/", Path.Combine(mnt, "etc/waagent.conf"));
                    bench.Run("umount", mnt);
                    return (sw.Elapsed.TotalSeconds, 0);
                });
                Console.WriteLine($"mount+sed+umount (root, Linux only): best {mount.Seconds * 1000,6:0} ms");
                Console.WriteLine($"ratio (mount+sed+umount / azlinux in process, warm): {mount.Seconds * 1000 / times.Skip(1).Min():0.0}x");
            }
            catch (Exception e) when (e is InvalidOperationException || e is System.ComponentModel.Win32Exception)
            {
                Console.WriteLine($"mount+sed+umount: skipped ({e.Message.Split('\n')[0]})");
            }
            Console.WriteLine("booting the VM to edit the file (Hyper-V, then shut down and convert again): minutes");
        }

        private static double Median(IEnumerable<double> values)
        {
            var v = values.OrderBy(x => x).ToList();
            return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
        }
    }
}
