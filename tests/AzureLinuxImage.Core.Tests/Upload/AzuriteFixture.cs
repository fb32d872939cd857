using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Upload
{
    /// <summary>
    /// A real Azurite blob service (npm azurite@3.35.0, installed by .ci/run into /opt/azurite) started
    /// on 127.0.0.1 on a free port for the tests of one class, in memory, with telemetry off (otherwise
    /// it tries to reach the internet). Missing Azurite fails under CI=true and skips otherwise.
    /// </summary>
    public class AzuriteFixture : IAsyncLifetime
    {
        public const string Account = "devstoreaccount1";

        /// <summary>The documented well-known key of Azurite's development account.</summary>
        public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

        private static readonly string[] Candidates =
        {
            Environment.GetEnvironmentVariable("AZURITE_BLOB") ?? string.Empty,
            "/opt/azurite/node_modules/.bin/azurite-blob",
        };

        private Process? process;
        private TempDirectory? workDir;
        private string? missing;

        public int Port { get; private set; }

        public string Container { get; } = "disks";

        public static string? FindAzurite()
        {
            foreach (string c in Candidates)
            {
                if (c.Length > 0 && File.Exists(c))
                {
                    return c;
                }
            }
            return ExternalTool.Find("azurite-blob");
        }

        /// <summary>Skips (or under CI fails) the calling test when Azurite is not installed.</summary>
        public void Require()
        {
            if (missing == null)
            {
                return;
            }
            ExternalTool.Unavailable(missing);
        }

        public async ValueTask InitializeAsync()
        {
            string? exe = FindAzurite();
            if (exe == null)
            {
                missing = "Azurite is not installed (npm install --prefix /opt/azurite azurite@3.35.0).";
                return;
            }
            workDir = new TempDirectory();
            for (int attempt = 0; attempt < 3 && process == null; attempt++)
            {
                int port = FreePort();
                var psi = new ProcessStartInfo(exe)
                {
                    WorkingDirectory = workDir.Path,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                foreach (string a in new[] { "--blobHost", "127.0.0.1", "--blobPort", port.ToString(),
                    "--inMemoryPersistence", "--loose", "--skipApiVersionCheck", "--disableProductStyleUrl", "--disableTelemetry" }.Concat(ExtraArguments(workDir.Path)))
                {
                    psi.ArgumentList.Add(a);
                }
                var p = Process.Start(psi)!;
                var ready = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                p.OutputDataReceived += (_, e) => { if (e.Data != null && e.Data.Contains("successfully listen")) { ready.TrySetResult(true); } };
                p.ErrorDataReceived += (_, e) => { };
                p.EnableRaisingEvents = true;
                p.Exited += (_, _) => ready.TrySetResult(false);
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                Task done = await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromSeconds(30)));
                if (done == ready.Task && ready.Task.Result)
                {
                    process = p;
                    Port = port;
                }
                else
                {
                    Stop(p);
                }
            }
            if (process == null)
            {
                throw new InvalidOperationException($"Azurite at {exe} did not start.");
            }
            using HttpClient http = Client();
            using HttpResponseMessage r = await http.PutAsync(ContainerUrl("restype=container"), new ByteArrayContent(Array.Empty<byte>()));
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        public ValueTask DisposeAsync()
        {
            if (process != null)
            {
                Stop(process);
            }
            workDir?.Dispose();
            return ValueTask.CompletedTask;
        }

        /// <summary>The blob's URL with an account SAS (signed here from the documented string-to-sign).</summary>
        public Uri BlobUrl(string name, string host = "127.0.0.1", int? port = null) =>
            new Uri($"{Scheme}://{host}:{port ?? Port}/{Account}/{Container}/{name}?{AccountSas()}");

        /// <summary>http, or https for a fixture that serves TLS.</summary>
        public virtual string Scheme => "http";

        /// <summary>An HTTP client that trusts this Azurite (its own certificate, when it serves TLS).</summary>
        public virtual HttpClient Client() => new HttpClient();

        /// <summary>Arguments added to Azurite's command line; files may go to <paramref name="workDir"/>.</summary>
        protected virtual string[] ExtraArguments(string workDir) => Array.Empty<string>();

        public Uri ContainerUrl(string extraQuery) => new Uri($"{Scheme}://127.0.0.1:{Port}/{Account}/{Container}?{extraQuery}&{AccountSas()}");

        /// <summary>
        /// Account SAS, version 2019-12-12: HMAC-SHA256 with the account key over
        /// account\npermissions\nservices\nresourceTypes\nstart\nexpiry\nip\nprotocol\nversion\n.
        /// </summary>
        public static string AccountSas()
        {
            const string permissions = "rwdlac";
            const string services = "b";
            const string types = "sco";
            const string expiry = "2099-01-01T00:00:00Z";
            const string version = "2019-12-12";
            string toSign = string.Join("\n", Account, permissions, services, types, string.Empty, expiry, string.Empty, string.Empty, version, string.Empty);
            using var hmac = new HMACSHA256(Convert.FromBase64String(AccountKey));
            string sig = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(toSign)));
            return $"sv={version}&ss={services}&srt={types}&sp={permissions}&se={Uri.EscapeDataString(expiry)}&sig={Uri.EscapeDataString(sig)}";
        }

        /// <summary>The signature value as it appears in URLs: what must never show up in any output.</summary>
        public static string Signature()
        {
            string sas = AccountSas();
            return sas.Substring(sas.IndexOf("sig=", StringComparison.Ordinal) + 4);
        }

        private static int FreePort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        private static void Stop(Process p)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(true);
                    p.WaitForExit(10000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            p.Dispose();
        }
    }
}
