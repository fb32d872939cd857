using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using AzureLinuxImage.Compression;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 7: our zstd decoder against `zstd -d` on the real Debian 12 initrd (zstd, built by
    /// ../shared/scripts/build-debian-image.sh), both from the page cache, best of 5; then the whole
    /// initramfs listing (decode + cpio). `zstd` is timed as a process (start-up included, a few ms).
    /// </summary>
    internal static class ZstdBenchmark
    {
        private static double ParseTimes(string t)
        {
            // "0m0.071s"
            int m = t.IndexOf('m', StringComparison.Ordinal);
            return (double.Parse(t.Substring(0, m), System.Globalization.CultureInfo.InvariantCulture) * 60) +
                double.Parse(t.Substring(m + 1).TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);
        }

        public static void Run(Bench bench)
        {
            string? initrd = Directory.Exists("/var/tmp/debian12-rootfs/boot")
                ? Directory.GetFiles("/var/tmp/debian12-rootfs/boot", "initrd.img-*").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault()
                : null;
            if (initrd == null)
            {
                Console.WriteLine("skipped: /var/tmp/debian12-rootfs is not built (../shared/scripts/build-debian-image.sh)");
                return;
            }
            byte[] compressed = File.ReadAllBytes(initrd);
            var buffer = new byte[1 << 16];
            long produced = 0;
            double ours = double.MaxValue, oursCpu = double.MaxValue;
            var self = Process.GetCurrentProcess();
            for (int i = 0; i < 6; i++)
            {
                self.Refresh();
                TimeSpan cpu0 = self.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                using Stream s = Decompressors.Open(new MemoryStream(compressed, false), CompressionFormat.Zstd, DecompressionLimits.Default, initrd);
                produced = 0;
                int n;
                while ((n = s.Read(buffer, 0, buffer.Length)) > 0)
                {
                    produced += n;
                }
                if (i > 0)
                {
                    ours = Math.Min(ours, sw.Elapsed.TotalSeconds);
                    self.Refresh();
                    oursCpu = Math.Min(oursCpu, (self.TotalProcessorTime - cpu0).TotalSeconds);
                }
            }
            double tool = double.MaxValue, toolCpu = double.MaxValue;
            for (int i = 0; i < 6; i++)
            {
                // bash's `times` prints the children's user and system CPU time on its second line.
                var psi = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true };
                psi.ArgumentList.Add("-c");
                psi.ArgumentList.Add("zstd -d -q -f -o /dev/null \"$0\"; times");
                psi.ArgumentList.Add(initrd);
                var sw = Stopwatch.StartNew();
                using var p = Process.Start(psi)!;
                string[] lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                p.WaitForExit();
                double elapsed = sw.Elapsed.TotalSeconds;
                if (i > 0)
                {
                    tool = Math.Min(tool, elapsed);
                    toolCpu = Math.Min(toolCpu, lines[1].Split(' ').Sum(ParseTimes));
                }
            }
            double mib = produced / 1048576.0;
            Console.WriteLine($"initrd {Path.GetFileName(initrd)}: {compressed.Length / 1048576.0:0.0} MiB zstd -> {mib:0.0} MiB");
            // The machine may be shared: CPU time is the steadier measure, wall time is printed too.
            Console.WriteLine($"ours      wall {ours * 1000,7:0} ms ({mib / ours,5:0} MiB/s)  cpu {oursCpu * 1000,7:0} ms ({mib / oursCpu,5:0} MiB/s)");
            Console.WriteLine($"zstd -d   wall {tool * 1000,7:0} ms ({mib / tool,5:0} MiB/s)  cpu {toolCpu * 1000,7:0} ms ({mib / toolCpu,5:0} MiB/s) (process start-up included)");
            Console.WriteLine($"ratio ours/zstd: wall {ours / tool:0.00}x, cpu {oursCpu / toolCpu:0.00}x");

            double list = double.MaxValue;
            int entries = 0;
            for (int i = 0; i < 4; i++)
            {
                var sw = Stopwatch.StartNew();
                entries = Initramfs.ReadEntries(new MemoryStream(compressed, false), InitramfsLimits.Default, initrd).Count();
                if (i > 0)
                {
                    list = Math.Min(list, sw.Elapsed.TotalSeconds);
                }
            }
            Console.WriteLine($"Initramfs.ReadEntries: {entries} entries in {list * 1000:0} ms");
        }

        /// <summary>
        /// Every decoder against its tool on the same data: the Debian initrd's cpio recompressed the way
        /// mkinitramfs/dracut would (gzip -9, xz --check=crc32, lz4 -l, bzip2 -9), best of 3, CPU time.
        /// </summary>
        public static void AllDecoders(Bench bench)
        {
            string? initrd = Directory.Exists("/var/tmp/debian12-rootfs/boot")
                ? Directory.GetFiles("/var/tmp/debian12-rootfs/boot", "initrd.img-*").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault()
                : null;
            if (initrd == null)
            {
                Console.WriteLine("skipped: /var/tmp/debian12-rootfs is not built");
                return;
            }
            string cpio = bench.File("initrd.cpio");
            Shell($"zstd -d -q -c \"{initrd}\" > \"{cpio}\"");
            var formats = new (string Name, CompressionFormat Format, string Compress, string Decompress)[]
            {
                ("gzip -9", CompressionFormat.Gzip, "gzip -9 -n -c", "gzip -d -c"),
                ("xz crc32", CompressionFormat.Xz, "xz --check=crc32 -T1 -c", "xz -d -c -T1"),
                ("lz4 -l", CompressionFormat.Lz4Legacy, "lz4 -l -9 -q -c", "lz4 -d -q -c"),
                ("bzip2 -9", CompressionFormat.Bzip2, "bzip2 -9 -c", "bzip2 -d -c"),
                ("zstd -19", CompressionFormat.Zstd, "zstd -19 -q -c", "zstd -d -q -c"),
            };
            foreach (var f in formats)
            {
                string file = bench.File("initrd.z");
                Shell($"{f.Compress} < \"{cpio}\" > \"{file}\"");
                byte[] compressed = File.ReadAllBytes(file);
                var buffer = new byte[1 << 16];
                var self = Process.GetCurrentProcess();
                double ours = double.MaxValue;
                long produced = 0;
                for (int i = 0; i < 3; i++)
                {
                    self.Refresh();
                    TimeSpan cpu0 = self.TotalProcessorTime;
                    using Stream s = Decompressors.Open(new MemoryStream(compressed, false), f.Format, DecompressionLimits.Default, file);
                    produced = 0;
                    int n;
                    while ((n = s.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        produced += n;
                    }
                    self.Refresh();
                    ours = Math.Min(ours, (self.TotalProcessorTime - cpu0).TotalSeconds);
                }
                double tool = double.MaxValue;
                for (int i = 0; i < 3; i++)
                {
                    tool = Math.Min(tool, ShellCpu($"{f.Decompress} < \"{file}\" > /dev/null"));
                }
                double mib = produced / 1048576.0;
                Console.WriteLine($"{f.Name,-10} ours cpu {ours * 1000,6:0} ms ({mib / ours,4:0} MiB/s)  tool cpu {tool * 1000,6:0} ms ({mib / tool,4:0} MiB/s)  ratio {ours / tool:0.0}x");
                File.Delete(file);
            }
        }

        private static void Shell(string script)
        {
            var psi = new ProcessStartInfo("bash") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("set -e; " + script);
            using var p = Process.Start(psi)!;
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException(script + " failed");
            }
        }

        private static double ShellCpu(string script)
        {
            var psi = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true };
            psi.ArgumentList.Add("-c");
            // `times` (children's user and system CPU on its second line) goes to fd 3, a copy of stdout,
            // so the tool's own output can go to /dev/null.
            psi.ArgumentList.Add("exec 3>&1; " + script + "; times >&3");
            using var p = Process.Start(psi)!;
            string[] lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            p.WaitForExit();
            return lines[1].Split(' ').Sum(ParseTimes);
        }
    }
}
