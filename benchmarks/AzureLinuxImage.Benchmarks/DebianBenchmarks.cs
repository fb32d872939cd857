using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Disks;
using AzureLinuxImage.IO;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 20: real data instead of random runs. The Debian 12 root of tests/fixtures/build-debian-image.sh
    /// (GPT, ext4, ~0.55 GiB of files with the zero sectors and small gaps a file system has) in an 8 GiB
    /// disk, converted from each format against qemu-img, and uploaded to Azurite against a plain PUT of
    /// the same data bytes. The raw disk is built once and kept at $AZLI_BENCH_DEBIAN_RAW (default
    /// /var/tmp/azli-bench-debian12-8g.raw): building it takes minutes and root.
    /// </summary>
    internal static class DebianBenchmarks
    {
        private const long MiB = 1 << 20;
        private const string Data = "Debian 12 ext4 root (GPT) in 8 GiB";

        public static void ConvertVhd(Bench bench) => Convert(bench, "vpc", "debian.vhd", "-o", "subformat=dynamic,force_size=on");

        public static void ConvertVhdx(Bench bench) => Convert(bench, "vhdx", "debian.vhdx", "-o", "subformat=dynamic");

        public static void ConvertQcow2(Bench bench) => Convert(bench, "qcow2", "debian.qcow2");

        public static void ConvertVmdk(Bench bench) => Convert(bench, "vmdk", "debian.vmdk");

        /// <summary>
        /// The upload of the issue: the 8 GiB dynamic VHDX (as Hyper-V hands it over) to a new page blob,
        /// against a plain PUT (one Put Blob) and a sequential 4 MiB Put Page upload of the same number of
        /// data bytes, the tools taking turns each round; then the merge threshold swept (requests against
        /// bytes, the measure behind <see cref="UploadOptions.DefaultMergeGapBytes"/>).
        /// </summary>
        public static void Upload(Bench bench)
        {
            string vhdx = bench.File("debian.vhdx");
            bench.Run("qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic", DebianRaw(bench), vhdx);
            (long allocated, long nonZero) = Measure(vhdx);
            long ideal = (allocated + (4 * MiB) - 1) / (4 * MiB);
            string plainFile = bench.File("plain.bin");
            WriteDataBytes(vhdx, plainFile, allocated);

            // Azurite in memory does not give back a deleted blob's memory at once: a fresh one per round.
            int runs = ConvertBenchmark.Runs;
            var ours = new List<(double Seconds, int Requests, long Bytes)>();
            var plain = new List<double>();
            var sequential = new List<double>();
            var tools = new Action<int>[]
            {
                port => ours.Add(Ours(port, vhdx, UploadOptions.DefaultMergeGapBytes, UploadOptions.DefaultThreadCount)),
                port => plain.Add(PlainPut(port, plainFile)),
                port => sequential.Add(SequentialPutPage(port, plainFile)),
            };
            for (int round = 0; round < runs; round++)
            {
                WithAzurite(port =>
                {
                    for (int j = 0; j < tools.Length; j++)
                    {
                        tools[(round + j) % tools.Length](port);
                    }
                });
            }

            Console.WriteLine($"source: {Path.GetFileName(vhdx)} (dynamic VHDX), {Data}; {allocated / (double)MiB:F1} MiB allocated, {nonZero / (double)MiB:F1} MiB in non-zero sectors; {runs} runs each; load: {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine($"ours ({UploadOptions.DefaultThreadCount} threads, merge gap {UploadOptions.DefaultMergeGapBytes / 1024} KiB): min {ours.Min(o => o.Seconds):0.00} s  median {Bench.Median(ours.Select(o => o.Seconds)):0.00} s  [{string.Join(" ", ours.Select(o => o.Seconds.ToString("0.00")))}]");
            Console.WriteLine($"  requests {ours[0].Requests} (ceil(allocated / 4 MiB) = {ideal}: {ours[0].Requests / (double)ideal:0.00}x), bytes sent {ours[0].Bytes} ({ours[0].Bytes / (double)allocated:0.000}x allocated)");
            Console.WriteLine($"plain PUT of {allocated} bytes (one Put Blob): min {plain.Min():0.00} s  median {Bench.Median(plain):0.00} s  [{string.Join(" ", plain.Select(x => x.ToString("0.00")))}]");
            Console.WriteLine($"sequential 4 MiB Put Page of the same bytes: min {sequential.Min():0.00} s  median {Bench.Median(sequential):0.00} s");
            double minRatio = ours.Min(o => o.Seconds) / plain.Min(), medianRatio = Bench.Median(ours.Select(o => o.Seconds)) / Bench.Median(plain);
            Console.WriteLine($"goal wall <= 1.5x plain PUT: {minRatio:0.00}x min, {medianRatio:0.00}x median -> {(medianRatio <= 1.5 ? "met" : "NOT met")}");
            Console.WriteLine($"goal bytes <= 1.05x allocated: {ours[0].Bytes / (double)allocated:0.000}x -> {(ours[0].Bytes <= 1.05 * allocated ? "met" : "NOT met")}");
            Console.WriteLine($"goal requests <= 2x ceil(data / 4 MiB): {ours[0].Requests / (double)ideal:0.00}x -> {(ours[0].Requests <= 2 * ideal ? "met" : "NOT met")}");

            Console.WriteLine("merge threshold sweep (best of 2):");
            foreach (long gap in new long[] { 0, 4096, 16384, 65536, 262144, 1048576 })
            {
                WithAzurite(port =>
                {
                    var a = Ours(port, vhdx, gap, UploadOptions.DefaultThreadCount);
                    var b = Ours(port, vhdx, gap, UploadOptions.DefaultThreadCount);
                    Console.WriteLine($"  gap {gap / 1024,5} KiB: {a.Requests,6} requests, {a.Bytes / (double)allocated:0.000}x allocated, {Math.Min(a.Seconds, b.Seconds):0.00} s");
                });
            }
            WithAzurite(port =>
            {
                var cli = bench.Run(Bench.Azlinux, "upload", vhdx, UploadBenchmark.Blob(port, "cli.vhd").ToString());
                Console.WriteLine($"azlinux upload (CLI process): {cli.Seconds:F2} s, peak RSS {cli.PeakMiB:F0} MiB");
            });
        }

        private static void WithAzurite(Action<int> body)
        {
            using Process azurite = UploadBenchmark.StartAzurite(out int port);
            try
            {
                UploadBenchmark.CreateContainer(port);
                body(port);
            }
            finally
            {
                azurite.Kill(true);
                azurite.WaitForExit();
            }
        }

        /// <summary>The kept Debian raw disk; built on first use.</summary>
        internal static string DebianRaw(Bench bench)
        {
            string path = Environment.GetEnvironmentVariable("AZLI_BENCH_DEBIAN_RAW") ?? "/var/tmp/azli-bench-debian12-8g.raw";
            if (!File.Exists(path))
            {
                DirectoryInfo? repo = new DirectoryInfo(AppContext.BaseDirectory);
                while (repo != null && !File.Exists(Path.Combine(repo.FullName, "AzureLinuxImage.sln")))
                {
                    repo = repo.Parent;
                }
                string script = Path.Combine(repo?.FullName ?? ".", "tests", "fixtures", "build-debian-image.sh");
                bench.Run("bash", script, path, "--size-mib", "8192");
            }
            return path;
        }

        private static void Convert(Bench bench, string format, string name, params string[] options)
        {
            string image = bench.File(name);
            var args = new List<string> { "convert", "-f", "raw", "-O", format };
            args.AddRange(options);
            args.Add(DebianRaw(bench));
            args.Add(image);
            bench.Run("qemu-img", args.ToArray());
            Console.WriteLine($"load before: {File.ReadAllText("/proc/loadavg").Trim()}");
            ConvertBenchmark.Compare(bench, image, format, Data);
            Console.WriteLine($"load after: {File.ReadAllText("/proc/loadavg").Trim()}");
        }

        private static (double Seconds, int Requests, long Bytes) Ours(int port, string source, long gap, int threads)
        {
            var (transport, counter) = UploadBenchmark.Transport();
            var options = new UploadOptions { ThreadCount = threads, Transport = transport, MergeGapBytes = gap };
            var sw = Stopwatch.StartNew();
            AzureUploadResult result = CopyDiskImageToAzure.Run(source, UploadBenchmark.Blob(port, "ours.vhd"), options, new SilentContext())!;
            double seconds = sw.Elapsed.TotalSeconds;
            Delete(port, "ours.vhd");
            return (seconds, result.Requests, result.BytesSent);
        }

        /// <summary>One Put Blob of the data bytes, streamed from a file: what curl -T does.</summary>
        private static double PlainPut(int port, string file)
        {
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var request = new HttpRequestMessage(HttpMethod.Put, UploadBenchmark.Blob(port, "plain.bin")) { Content = new StreamContent(stream, 1 << 20) };
            request.Headers.Add("x-ms-version", "2021-08-06");
            request.Headers.Add("x-ms-blob-type", "BlockBlob");
            request.Content.Headers.ContentLength = stream.Length;
            var sw = Stopwatch.StartNew();
            using HttpResponseMessage r = http.Send(request);
            r.EnsureSuccessStatusCode();
            double seconds = sw.Elapsed.TotalSeconds;
            Delete(port, "plain.bin");
            return seconds;
        }

        private static double SequentialPutPage(int port, string file)
        {
            var (transport, _) = UploadBenchmark.Transport();
            double seconds = UploadBenchmark.PlainSequential(file, UploadBenchmark.Blob(port, "sequential.vhd"), transport);
            Delete(port, "sequential.vhd");
            return seconds;
        }

        /// <summary>Allocated bytes (the image's own map less file holes) and bytes in non-zero 512-byte sectors.</summary>
        private static (long Allocated, long NonZero) Measure(string path)
        {
            using DiskImage image = DiskImage.Open(path);
            long allocated = 0, nonZero = 0;
            var buffer = new byte[4 * MiB];
            foreach (ByteRange r in image.GetAllocatedRanges())
            {
                allocated += r.Length;
                for (long pos = r.Offset; pos < r.End;)
                {
                    int n = (int)Math.Min(buffer.Length, r.End - pos);
                    image.Read(pos, buffer, 0, n);
                    for (int i = 0; i + 512 <= n; i += 512)
                    {
                        if (!ZeroDetection.IsAllZero(new ReadOnlySpan<byte>(buffer, i, 512)))
                        {
                            nonZero += 512;
                        }
                    }
                    pos += n;
                }
            }
            return (allocated, nonZero);
        }

        /// <summary>The image's allocated bytes one after the other, padded to 512: the plain uploads' payload.</summary>
        private static void WriteDataBytes(string path, string output, long allocated)
        {
            using DiskImage image = DiskImage.Open(path);
            using var f = new FileStream(output, FileMode.Create, FileAccess.Write);
            var buffer = new byte[4 * MiB];
            foreach (ByteRange r in image.GetAllocatedRanges())
            {
                for (long pos = r.Offset; pos < r.End;)
                {
                    int n = (int)Math.Min(buffer.Length, r.End - pos);
                    image.Read(pos, buffer, 0, n);
                    f.Write(buffer, 0, n);
                    pos += n;
                }
            }
            f.SetLength((allocated + 511) / 512 * 512);
        }

        private static void Delete(int port, string name)
        {
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Delete, UploadBenchmark.Blob(port, name));
            request.Headers.Add("x-ms-version", "2021-08-06");
            using HttpResponseMessage r = http.Send(request);
        }
    }
}
