using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using Azure.Core.Pipeline;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 8: a 2 GiB dynamic VHD holding ~0.6 GiB of data uploaded to Azurite (npm azurite@3.35.0 in
    /// /opt/azurite) by Copy-DiskImageToAzure's operation, against a plain sequential full-size upload
    /// of the same image's fixed VHD (every 4 MiB page sent in order, one request at a time, as a naive
    /// uploader does). Bytes on the wire are counted by a handler under both.
    /// </summary>
    internal static class UploadBenchmark
    {
        private const long VirtualSize = 2L << 30;
        private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

        public static void Run(Bench bench)
        {
            string raw = bench.File("source.raw");
            using (var f = new FileStream(raw, FileMode.Create, FileAccess.Write))
            {
                f.SetLength(VirtualSize);
                var rng = new Random(8);
                var chunk = new byte[1 << 20];
                // ~600 MiB of data in 12 runs of 50 MiB, spread like a file system's groups.
                for (int run = 0; run < 12; run++)
                {
                    f.Position = (long)run * (VirtualSize / 12) / (1 << 20) * (1 << 20);
                    for (int mib = 0; mib < 50; mib++)
                    {
                        rng.NextBytes(chunk);
                        f.Write(chunk);
                    }
                }
            }
            string vhd = bench.File("source.vhd");
            bench.Run("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on", raw, vhd);
            File.Delete(raw);

            using Process azurite = StartAzurite(out int port);
            try
            {
                CreateContainer(port);
                var (transport, counter) = Transport();
                var options = new UploadOptions { ThreadCount = 8, Transport = transport };
                var sw = Stopwatch.StartNew();
                AzureUploadResult result = CopyDiskImageToAzure.Run(vhd, Blob(port, "ours.vhd"), options, new SilentContext())!;
                double ours = sw.Elapsed.TotalSeconds;
                long oursBytes = counter.Bytes;

                string fixedVhd = bench.File("fixed.vhd");
                ConvertToFixedVhd.Run(vhd, fixedVhd, true, false, new SilentContext());
                var (plainTransport, plainCounter) = Transport();
                double plain = PlainSequential(fixedVhd, Blob(port, "plain.vhd"), plainTransport);
                long plainBytes = plainCounter.Bytes;
                File.Delete(fixedVhd);

                var cli = bench.Run(Bench.Azlinux, "upload", vhd, Blob(port, "cli.vhd").ToString(), "--threads", "8");

                Console.WriteLine($"image: dynamic VHD, {VirtualSize >> 20} MiB virtual, {new FileInfo(vhd).Length >> 20} MiB file");
                Console.WriteLine($"ours (8 threads): {oursBytes / 1048576.0:F1} MiB sent in {result.Requests} requests in {ours:F2} s ({result.BytesSkipped / 1048576.0:F1} MiB skipped)");
                Console.WriteLine($"plain sequential full-size upload: {plainBytes / 1048576.0:F1} MiB sent in {plain:F2} s");
                Console.WriteLine($"ratios: bytes sent {plainBytes / (double)oursBytes:F2}x fewer, time {plain / ours:F2}x faster");
                Console.WriteLine($"azlinux upload (CLI process): {cli.Seconds:F2} s, peak RSS {cli.PeakMiB:F0} MiB");
            }
            finally
            {
                azurite.Kill(true);
                azurite.WaitForExit();
            }
        }

        internal static double PlainSequential(string fixedVhd, Uri blob, HttpClientTransport transport)
        {
            var options = new PageBlobClientOptions { Transport = transport };
            var client = new PageBlobClient(blob, null, options);
            var sw = Stopwatch.StartNew();
            long length = new FileInfo(fixedVhd).Length;
            client.CreateAsync(length, new System.Collections.Generic.Dictionary<string, string>(), CancellationToken.None).GetAwaiter().GetResult();
            using var f = new FileStream(fixedVhd, FileMode.Open, FileAccess.Read);
            var buffer = new byte[4 << 20];
            for (long pos = 0; pos < length;)
            {
                int n = (int)Math.Min(buffer.Length, length - pos);
                f.ReadExactly(buffer, 0, n);
                client.PutPagesAsync(pos, buffer, 0, n, CancellationToken.None).GetAwaiter().GetResult();
                pos += n;
            }
            return sw.Elapsed.TotalSeconds;
        }

        internal static (HttpClientTransport, CountingHandler) Transport()
        {
            var counter = new CountingHandler(new SocketsHttpHandler());
            return (new HttpClientTransport(new HttpClient(counter) { Timeout = Timeout.InfiniteTimeSpan }), counter);
        }

        internal static Process StartAzurite(out int port)
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            var psi = new ProcessStartInfo("/opt/azurite/node_modules/.bin/azurite-blob") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
            foreach (string a in new[] { "--blobHost", "127.0.0.1", "--blobPort", port.ToString(), "--inMemoryPersistence", "--loose", "--skipApiVersionCheck", "--disableProductStyleUrl", "--disableTelemetry" })
            {
                psi.ArgumentList.Add(a);
            }
            var p = Process.Start(psi)!;
            var ready = new ManualResetEventSlim();
            p.OutputDataReceived += (_, e) => { if (e.Data?.Contains("successfully listen") == true) { ready.Set(); } };
            p.ErrorDataReceived += (_, _) => { };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            if (!ready.Wait(TimeSpan.FromSeconds(60)))
            {
                p.Kill(true);
                throw new InvalidOperationException("Azurite did not start (npm install --prefix /opt/azurite azurite@3.35.0).");
            }
            return p;
        }

        internal static string Sas()
        {
            const string expiry = "2099-01-01T00:00:00Z";
            string toSign = string.Join("\n", "devstoreaccount1", "rwdlac", "b", "sco", string.Empty, expiry, string.Empty, string.Empty, "2019-12-12", string.Empty);
            using var hmac = new HMACSHA256(Convert.FromBase64String(Key));
            string sig = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(toSign)));
            return $"sv=2019-12-12&ss=b&srt=sco&sp=rwdlac&se={Uri.EscapeDataString(expiry)}&sig={Uri.EscapeDataString(sig)}";
        }

        internal static Uri Blob(int port, string name) => new Uri($"http://127.0.0.1:{port}/devstoreaccount1/bench/{name}?{Sas()}");

        internal static void CreateContainer(int port)
        {
            using var http = new HttpClient();
            using var r = http.PutAsync(new Uri($"http://127.0.0.1:{port}/devstoreaccount1/bench?restype=container&{Sas()}"), new ByteArrayContent(Array.Empty<byte>())).GetAwaiter().GetResult();
            r.EnsureSuccessStatusCode();
        }

        internal sealed class CountingHandler : DelegatingHandler
        {
            private long bytes;
            private int requests;

            public CountingHandler(HttpMessageHandler inner)
                : base(inner)
            {
            }

            public long Bytes => Interlocked.Read(ref bytes);

            /// <summary>Requests sent, retries included.</summary>
            public int Requests => Volatile.Read(ref requests);

            protected override System.Threading.Tasks.Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                Interlocked.Add(ref bytes, request.Content?.Headers.ContentLength ?? 0);
                Interlocked.Increment(ref requests);
                return base.SendAsync(request, cancellationToken);
            }
        }
    }
}
