using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Azure.Core.Pipeline;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Upload;

namespace AzureLinuxImage.Tests.Publish
{
    /// <summary>
    /// A real Azurite plus the Resource Manager test double (tests/AzureLinuxImage.ArmDouble) in a child
    /// process, over HTTPS on 127.0.0.1 with a certificate it made at start. In-process callers trust that
    /// certificate through <see cref="Transport"/> (a custom root, test code); child processes through
    /// SSL_CERT_FILE (<see cref="TrustEnvironment"/>), which .NET on Linux reads as its root store.
    /// </summary>
    public sealed class ArmDoubleFixture : AzuriteFixture, Xunit.IAsyncLifetime
    {
        public const string Token = "test-arm-token-7f3c";

        private Process? process;
        private TempDirectory? dir;

        public Uri Url { get; private set; } = null!;

        public string CaPath { get; private set; } = null!;

        public string Subscription { get; private set; } = null!;

        public X509Certificate2 Ca { get; private set; } = null!;

        public new async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            if (FindAzurite() == null)
            {
                return;
            }
            dir = new TempDirectory();
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[] { Repository.ArmDoubleDll, "--azurite", $"http://127.0.0.1:{Port}/", "--token", Token, "--dir", dir.Path })
            {
                psi.ArgumentList.Add(a);
            }
            process = Process.Start(psi)!;
            process.ErrorDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            Task<string?> line = process.StandardOutput.ReadLineAsync();
            if (await Task.WhenAny(line, Task.Delay(TimeSpan.FromSeconds(60))) != line || line.Result == null)
            {
                throw new InvalidOperationException("The ARM test double did not start.");
            }
            JsonNode info = JsonNode.Parse(line.Result)!;
            Url = new Uri((string)info["url"]!);
            CaPath = (string)info["ca"]!;
            Subscription = (string)info["subscription"]!;
            Ca = X509Certificate2.CreateFromPem(File.ReadAllText(CaPath));
        }

        public new async ValueTask DisposeAsync()
        {
            if (process != null)
            {
                try
                {
                    process.StandardInput.Close();
                    if (!process.WaitForExit(10000))
                    {
                        process.Kill(true);
                    }
                }
                catch (InvalidOperationException)
                {
                }
                process.Dispose();
            }
            dir?.Dispose();
            await base.DisposeAsync();
        }

        /// <summary>Trusts exactly the double's certificate as a root (a custom trust store, no bypass).</summary>
        public bool Trust(X509Certificate2? certificate)
        {
            if (certificate == null)
            {
                return false;
            }
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(Ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate);
        }

        public HttpClient Http() => new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, c, _, _) => Trust(c as X509Certificate2) },
        });

        /// <summary>The transport a test gives PublishOptions.ArmTransport.</summary>
        public HttpPipelineTransport Transport() => new HttpClientTransport(Http());

        /// <summary>Environment for a child azlinux: the double's certificate as the only root (SSL_CERT_FILE).</summary>
        public IReadOnlyDictionary<string, string?> TrustEnvironment() => new Dictionary<string, string?> { ["SSL_CERT_FILE"] = CaPath };

        public JsonArray Calls()
        {
            using HttpClient http = Http();
            return JsonNode.Parse(http.GetStringAsync(new Uri(Url, "_double/calls")).GetAwaiter().GetResult())!.AsArray();
        }

        public JsonObject State()
        {
            using HttpClient http = Http();
            return JsonNode.Parse(http.GetStringAsync(new Uri(Url, "_double/state")).GetAwaiter().GetResult())!.AsObject();
        }

        public void Fault(string method, string pathContains, int status, int retryAfter, int count = 1)
        {
            using HttpClient http = Http();
            string body = JsonSerializer.Serialize(new { method, pathContains, status, retryAfter, count });
            http.PostAsync(new Uri(Url, "_double/faults"), new StringContent(body, Encoding.UTF8, "application/json")).GetAwaiter().GetResult().EnsureSuccessStatusCode();
        }

        /// <summary>
        /// The next <paramref name="count"/> long-running operations on a resource whose id contains
        /// <paramref name="pathContains"/> stay InProgress for <paramref name="seconds"/> (-1: until <see cref="Release"/>),
        /// answering Retry-After <paramref name="retryAfter"/>; a PUT's resource reads provisioningState Creating meanwhile,
        /// then both end with <paramref name="outcome"/> (Succeeded or Failed).
        /// </summary>
        public void Stall(string pathContains, int seconds, int retryAfter, int count = 1, string outcome = "Succeeded") =>
            Control("_double/stall", new { pathContains, seconds, retryAfter, count, outcome });

        /// <summary>Stalled operations on resources whose id contains <paramref name="pathContains"/> end <paramref name="afterSeconds"/> from now.</summary>
        public void Release(string pathContains, int afterSeconds) => Control("_double/release", new { pathContains, afterSeconds });

        private void Control(string relative, object body)
        {
            using HttpClient http = Http();
            http.PostAsync(new Uri(Url, relative), new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json")).GetAwaiter().GetResult().EnsureSuccessStatusCode();
        }

        /// <summary>An ARM call of the test itself (seeding a definition, say), with the token.</summary>
        public JsonNode? Arm(string method, string path, object? body, string api = "2023-07-03")
        {
            using HttpClient http = Http();
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(Url, path.TrimStart('/') + "?api-version=" + api));
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
            if (body != null)
            {
                request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
            }
            using HttpResponseMessage r = http.SendAsync(request).GetAwaiter().GetResult();
            string text = r.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if ((int)r.StatusCode >= 400)
            {
                throw new InvalidOperationException($"{method} {path}: {(int)r.StatusCode} {text}");
            }
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }

        /// <summary>The page blob in Azurite behind a disk of the double.</summary>
        public Uri DiskBlob(string resourceGroup, string disk) => BlobUrl($"{resourceGroup}-{disk}.vhd");

        /// <summary>Whether the blob exists.</summary>
        public bool BlobExists(Uri blob)
        {
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Head, blob);
            request.Headers.Add("x-ms-version", "2021-08-06");
            using HttpResponseMessage r = http.SendAsync(request).GetAwaiter().GetResult();
            return r.IsSuccessStatusCode;
        }

        /// <summary>Compares the blob with a file, streamed in 4 MiB pieces; returns the first differing offset or -1.</summary>
        public static async Task<long> FirstDifferenceAsync(Uri blob, string file, long length)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
            using var request = new HttpRequestMessage(HttpMethod.Get, blob);
            request.Headers.Add("x-ms-version", "2021-08-06");
            using HttpResponseMessage r = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            r.EnsureSuccessStatusCode();
            if (r.Content.Headers.ContentLength != new FileInfo(file).Length)
            {
                return -2;
            }
            using Stream remote = await r.Content.ReadAsStreamAsync();
            using FileStream local = File.OpenRead(file);
            byte[] a = new byte[4 << 20], b = new byte[4 << 20];
            long offset = 0;
            while (offset < length)
            {
                int n = (int)Math.Min(a.Length, length - offset);
                await remote.ReadExactlyAsync(a, 0, n);
                await local.ReadExactlyAsync(b, 0, n);
                if (!a.AsSpan(0, n).SequenceEqual(b.AsSpan(0, n)))
                {
                    for (int i = 0; i < n; i++)
                    {
                        if (a[i] != b[i])
                        {
                            return offset + i;
                        }
                    }
                }
                offset += n;
            }
            return -1;
        }
    }
}
