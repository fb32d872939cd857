using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core.Pipeline;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Tests.Upload
{
    /// <summary>Counts what goes on the wire: every request the upload's pipeline sends, with its body size.</summary>
    internal sealed class CountingHandler : DelegatingHandler
    {
        private long pageBytes;
        private int puts;

        public CountingHandler(HttpMessageHandler inner)
            : base(inner)
        {
        }

        public ConcurrentQueue<string> Requests { get; } = new ConcurrentQueue<string>();

        /// <summary>Body bytes of Put Page requests that the service acknowledged.</summary>
        public long PageBytes => Interlocked.Read(ref pageBytes);

        /// <summary>Write requests (PUT) sent, whatever their answer.</summary>
        public int Puts => Volatile.Read(ref puts);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Enqueue($"{request.Method} {request.RequestUri}");
            if (request.Method == HttpMethod.Put)
            {
                Interlocked.Increment(ref puts);
            }
            long length = request.Content?.Headers.ContentLength ?? 0;
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Put && request.RequestUri!.Query.Contains("comp=page") && response.IsSuccessStatusCode)
            {
                Interlocked.Add(ref pageBytes, length);
            }
            return response;
        }
    }

    /// <summary>Records everything an operation tells its caller, to look for secrets and progress.</summary>
    internal sealed class RecordingContext : IOperationContext
    {
        private readonly Action<long, long>? onProgress;

        public RecordingContext(CancellationToken cancellation = default, Action<long, long>? onProgress = null)
        {
            Cancellation = cancellation;
            this.onProgress = onProgress;
        }

        public CancellationToken Cancellation { get; }

        public ConcurrentQueue<string> Lines { get; } = new ConcurrentQueue<string>();

        public bool Completed { get; private set; }

        /// <summary>What ShouldProcess answers: false acts as -WhatIf.</summary>
        public bool Confirm { get; set; } = true;

        public bool ShouldProcess(string target, string action)
        {
            Lines.Enqueue($"ShouldProcess {target}: {action}");
            return Confirm;
        }

        public void Progress(string activity, string status, long done, long total)
        {
            Lines.Enqueue($"Progress {activity}: {status} {done}/{total}");
            Completed |= done >= total;
            onProgress?.Invoke(done, total);
        }

        public void Verbose(string message) => Lines.Enqueue("Verbose " + message);

        public void Warning(string message) => Lines.Enqueue("Warning " + message);
    }

    internal static class UploadTestKit
    {
        /// <summary>
        /// A transport to Azurite that counts bytes and connects every host name (md-*.blob...
        /// included: a managed disk's upload URL) to 127.0.0.1.
        /// </summary>
        public static (HttpClientTransport Transport, CountingHandler Counter) Transport(TimeSpan? timeout = null,
            System.Net.Security.RemoteCertificateValidationCallback? trust = null)
        {
            var sockets = new SocketsHttpHandler
            {
                SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = trust },
                ConnectCallback = async (context, token) =>
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        await socket.ConnectAsync(System.Net.IPAddress.Loopback, context.DnsEndPoint.Port, token);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            };
            var counter = new CountingHandler(sockets);
            var client = new HttpClient(counter) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            return (new HttpClientTransport(client), counter);
        }

        public static UploadOptions Options(HttpClientTransport transport, int threads = 4)
        {
            var options = new UploadOptions { ThreadCount = threads, ModuleVersion = "1.2.3.4", RetryBudget = TimeSpan.FromSeconds(60) };
            options.ClientOptions.Retry.Delay = TimeSpan.FromMilliseconds(20);
            options.ClientOptions.Retry.MaxDelay = TimeSpan.FromMilliseconds(200);
            options.ClientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
            options.Transport = transport;
            return options;
        }

        public static async Task<byte[]> DownloadAsync(Uri blob)
        {
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, blob);
            request.Headers.Add("x-ms-version", "2021-08-06");
            using HttpResponseMessage r = await http.SendAsync(request);
            r.EnsureSuccessStatusCode();
            return await r.Content.ReadAsByteArrayAsync();
        }

        public static async Task<string?> ContentMd5Async(Uri blob)
        {
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Head, blob);
            request.Headers.Add("x-ms-version", "2021-08-06");
            using HttpResponseMessage r = await http.SendAsync(request);
            r.EnsureSuccessStatusCode();
            return r.Content.Headers.ContentMD5 is { } md5 ? Convert.ToBase64String(md5) : null;
        }

        /// <summary>Put Blob of a page blob of <paramref name="length"/> bytes, outside the code under test.</summary>
        public static async Task CreatePageBlobAsync(Uri blob, long length)
        {
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Put, blob) { Content = new ByteArrayContent(Array.Empty<byte>()) };
            request.Headers.Add("x-ms-version", "2021-08-06");
            request.Headers.Add("x-ms-blob-type", "PageBlob");
            request.Headers.Add("x-ms-blob-content-length", length.ToString());
            using HttpResponseMessage r = await http.SendAsync(request);
            r.EnsureSuccessStatusCode();
        }

        /// <summary>Put Page of arbitrary bytes, outside the code under test: stale data to be cleared.</summary>
        public static async Task PutPageAsync(Uri blob, long offset, byte[] data)
        {
            using var http = new HttpClient();
            var builder = new UriBuilder(blob) { Query = blob.Query.TrimStart('?') + "&comp=page" };
            using var request = new HttpRequestMessage(HttpMethod.Put, builder.Uri) { Content = new ByteArrayContent(data) };
            request.Headers.Add("x-ms-version", "2021-08-06");
            request.Headers.Add("x-ms-page-write", "update");
            request.Headers.Add("x-ms-range", $"bytes={offset}-{offset + data.Length - 1}");
            using HttpResponseMessage r = await http.SendAsync(request);
            r.EnsureSuccessStatusCode();
        }
    }
}
