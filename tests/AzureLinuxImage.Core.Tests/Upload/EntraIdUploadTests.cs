using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Disks.Vhd;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Upload
{
    /// <summary>
    /// Azurite over TLS with OAuth ("--oauth basic": it checks a bearer token's issuer, audience and
    /// lifetime, not its signature), on a self-signed certificate made here with openssl for 127.0.0.1.
    /// </summary>
    public sealed class AzuriteOAuthFixture : AzuriteFixture
    {
        public X509Certificate2? Certificate { get; private set; }

        public override string Scheme => "https";

        public override HttpClient Client() => new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => Trusts(cert) });

        public bool Trusts(X509Certificate? cert) => cert != null && Certificate != null && cert.GetCertHashString() == Certificate.Thumbprint;

        protected override string[] ExtraArguments(string workDir)
        {
            string cert = Path.Combine(workDir, "azurite.crt"), key = Path.Combine(workDir, "azurite.key");
            if (!File.Exists(cert))
            {
                ExternalTool.Run(ExternalTool.Require("openssl", "openssl"), new[] { "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert });
                Certificate = X509Certificate2.CreateFromPem(File.ReadAllText(cert));
            }
            return new[] { "--oauth", "basic", "--cert", cert, "--key", key };
        }
    }

    /// <summary>Issue 19: Entra ID credentials through the Blob SDK's bearer policy, over https only.</summary>
    public sealed class EntraIdUploadTests : IClassFixture<AzuriteOAuthFixture>, IDisposable
    {
        private const long MiB = 1024 * 1024;
        private readonly AzuriteOAuthFixture azurite;
        private readonly TempDirectory temp = new TempDirectory();

        public EntraIdUploadTests(AzuriteOAuthFixture azurite)
        {
            this.azurite = azurite;
            azurite.Require();
        }

        public void Dispose() => temp.Dispose();

        [Fact]
        public async Task An_access_token_for_the_storage_audience_uploads_over_https_without_a_SAS()
        {
            string source = temp.File("entra.raw");
            Files.CreateSparse(source, 12 * MiB + 512);
            Files.WriteAt(source, 2 * MiB, Files.Random((int)MiB, 21));
            var blob = new Uri($"https://127.0.0.1:{azurite.Port}/{AzuriteFixture.Account}/{azurite.Container}/entra.vhd");
            var (transport, counter) = UploadTestKit.Transport(trust: (_, cert, _, _) => azurite.Trusts(cert));
            UploadOptions options = UploadTestKit.Options(transport);
            options.Credential = Token("https://storage.azure.com");
            var context = new RecordingContext();

            AzureUploadResult result = CopyDiskImageToAzure.Run(source, blob, options, context)!;

            Assert.Equal(MiB + VhdFooter.Size, result.BytesSent);
            Assert.DoesNotContain(counter.Requests, r => r.Contains("sig="));
            string expected = temp.File("entra-expected.vhd");
            ConvertToFixedVhd.Run(source, expected, force: true, skipAlignment: false, new SilentContext());
            byte[] want = File.ReadAllBytes(expected);
            using HttpClient http = azurite.Client();
            using var request = new HttpRequestMessage(HttpMethod.Get, azurite.BlobUrl("entra.vhd"));
            request.Headers.Add("x-ms-version", "2021-08-06");
            using HttpResponseMessage r = await http.SendAsync(request, TestContext.Current.CancellationToken);
            byte[] got = await r.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
            Assert.Equal(want.Length, got.Length);
            Assert.True(want.AsSpan(0, want.Length - VhdFooter.Size).SequenceEqual(got.AsSpan(0, got.Length - VhdFooter.Size)), "the blob's data differs from our fixed VHD");
            Assert.DoesNotContain(context.Lines, l => l.Contains(options.Credential.ToString()!.Split('.')[1]));
        }

        [Fact]
        public void A_token_for_another_audience_is_refused_by_the_service_and_nothing_is_written()
        {
            string source = temp.File("wrong-audience.raw");
            Files.CreateSparse(source, 4 * MiB);
            var blob = new Uri($"https://127.0.0.1:{azurite.Port}/{AzuriteFixture.Account}/{azurite.Container}/wrong-audience.vhd");
            var (transport, counter) = UploadTestKit.Transport(trust: (_, cert, _, _) => azurite.Trusts(cert));
            UploadOptions options = UploadTestKit.Options(transport);
            options.Credential = Token("https://management.azure.com");

            var e = Assert.Throws<BlobRequestException>(() => CopyDiskImageToAzure.Run(source, blob, options, new RecordingContext()));

            Assert.Equal(403, e.Status);
            Assert.Equal(0, counter.Puts);
        }

        /// <summary>An Entra-shaped access token (unsigned: Azurite's basic level does not verify signatures).</summary>
        private static string Token(string audience)
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            string Part(object o) => Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(o))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            string tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
            return Part(new { typ = "JWT", alg = "RS256" }) + "." + Part(new Dictionary { ["aud"] = audience, ["iss"] = $"https://sts.windows.net/{tenant}/", ["iat"] = now - 60, ["nbf"] = now - 60, ["exp"] = now + 3600, ["tid"] = tenant, ["oid"] = Guid.NewGuid().ToString() }) + ".c2lnbmF0dXJl";
        }

        private sealed class Dictionary : System.Collections.Generic.Dictionary<string, object>
        {
        }
    }
}
