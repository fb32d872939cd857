using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using AzureLinuxImage.Disks.Vhd;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Upload
{
    /// <summary>
    /// Issue 8: "with a different Azure.Core loaded in the default context, our upload still works and
    /// uses ours". The host (tests/AzureLinuxImage.IsolationHost) has Azure.Core 1.44.1 in its default
    /// context and loads the laid-out module by path, as PowerShell 7 does.
    /// </summary>
    public sealed class ModuleIsolationTests : IClassFixture<AzuriteFixture>, IDisposable
    {
        private const long MiB = 1024 * 1024;
        private readonly AzuriteFixture azurite;
        private readonly TempDirectory temp = new TempDirectory();

        public ModuleIsolationTests(AzuriteFixture azurite)
        {
            this.azurite = azurite;
            azurite.Require();
        }

        public void Dispose() => temp.Dispose();

        [Fact]
        public async Task With_another_Azure_Core_in_the_default_context_the_upload_uses_the_modules_own()
        {
            string source = temp.File("source.raw");
            Files.CreateSparse(source, 24 * MiB + 512);
            Files.WriteAt(source, 3 * MiB, Files.Random(2 * (int)MiB, 11));
            Uri blob = azurite.BlobUrl("isolated.vhd");

            ToolResult run = ExternalTool.Run("dotnet", new[] { Repository.IsolationHostDll, Repository.ModuleBin, source, blob.ToString() }, check: false);
            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            using JsonDocument report = JsonDocument.Parse(run.StdOut);
            JsonElement r = report.RootElement;

            Assert.Equal("1.44.1.0", r.GetProperty("hostAzureCore").GetProperty("version").GetString());
            JsonElement bound = r.GetProperty("boundAzureCore");
            Assert.Equal(typeof(global::Azure.Core.TokenCredential).Assembly.GetName().Version!.ToString(), bound.GetProperty("version").GetString());
            Assert.Equal(Path.Combine(Repository.ModuleDependencies, "Azure.Core.dll"), bound.GetProperty("location").GetString());
            Assert.Equal("AzureLinuxImage dependencies", bound.GetProperty("context").GetString());
            Assert.Equal("AzureLinuxImage dependencies", r.GetProperty("azureAssembly").GetProperty("context").GetString());
            // Both Azure.Core versions side by side; the module's Core once, shared with its dependencies.
            var loaded = r.GetProperty("loaded").EnumerateArray().Select(e => (Name: e.GetProperty("name").GetString(), Context: e.GetProperty("context").GetString())).ToList();
            Assert.Equal(2, loaded.Count(a => a.Name == "Azure.Core"));
            Assert.Equal(new[] { "Default" }, loaded.Where(a => a.Name == "AzureLinuxImage.Core").Select(a => a.Context));
            // The Blob SDK the upload runs on (issue 19) loads beside the module's Azure.Core, never in the default context.
            Assert.Equal(new[] { "AzureLinuxImage dependencies" }, loaded.Where(a => a.Name == "Azure.Storage.Blobs").Select(a => a.Context));

            string expected = temp.File("expected.vhd");
            ConvertToFixedVhd.Run(source, expected, force: true, skipAlignment: false, new SilentContext());
            byte[] want = File.ReadAllBytes(expected);
            byte[] got = await UploadTestKit.DownloadAsync(blob);
            Assert.Equal(want.Length, got.Length);
            Assert.True(want.AsSpan(0, want.Length - VhdFooter.Size).SequenceEqual(got.AsSpan(0, got.Length - VhdFooter.Size)), "the blob's data differs from our fixed VHD");
            Assert.Equal(2 * MiB + VhdFooter.Size, r.GetProperty("bytesSent").GetInt64()); // the data and the footer

            // Another module's TokenCredential is accepted and asked for the storage scope.
            Assert.Equal("token-from-the-host's-azure-core", r.GetProperty("credentialToken").GetString());
            Assert.Equal(new[] { "https://storage.azure.com/.default" }, r.GetProperty("credentialScopes").EnumerateArray().Select(e => e.GetString()));
        }
    }
}
