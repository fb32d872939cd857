using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Disks.Vhd;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Upload
{
    /// <summary>
    /// Issue 15's upload defects: the uploaded disk is the converted disk on partitioned images (the GPT
    /// backup, alternate LBA and protective MBR follow the rounded size), an unreachable destination is one
    /// typed error, and a credential never goes over http.
    /// </summary>
    public sealed class UploadDefectTests : IClassFixture<AzuriteFixture>, IDisposable
    {
        private const long MiB = 1024 * 1024;
        private readonly AzuriteFixture azurite;
        private readonly TempDirectory temp = new TempDirectory();

        public UploadDefectTests(AzuriteFixture azurite)
        {
            this.azurite = azurite;
        }

        public void Dispose() => temp.Dispose();

        [Theory]
        [InlineData("raw")]
        [InlineData("qcow2")]
        [InlineData("vpc")]
        public async Task A_gpt_disk_uploads_as_exactly_what_azlinux_convert_writes_and_sgdisk_finds_no_problem(string format)
        {
            azurite.Require();
            string source = GptSource(format);
            string converted = temp.File($"converted-{format}.vhd");
            ToolResult convert = AzLinux.Run("convert", source, converted, "--force");
            Assert.True(convert.ExitCode == 0, convert.StdErr);
            var (transport, _) = UploadTestKit.Transport();
            Uri blob = azurite.BlobUrl($"gpt-{format}.vhd");

            CopyDiskImageToAzure.Run(source, blob, UploadTestKit.Options(transport), new RecordingContext());

            byte[] expected = File.ReadAllBytes(converted);
            byte[] uploaded = await UploadTestKit.DownloadAsync(blob);
            Assert.Equal(expected.Length, uploaded.Length);
            int data = expected.Length - VhdFooter.Size;
            int first = Enumerable.Range(0, data).FirstOrDefault(i => expected[i] != uploaded[i], -1);
            Assert.True(first < 0, $"the uploaded disk differs from the converted one at byte {first} (sector {first / 512})");

            // The uploaded disk itself, without its footer, is a GPT disk sgdisk finds nothing wrong with.
            string flat = temp.File($"uploaded-{format}.raw");
            File.WriteAllBytes(flat, uploaded.AsSpan(0, data).ToArray());
            string verify = ExternalTool.Run(ExternalTool.Require("sgdisk", "gdisk"), new[] { "-v", flat }, check: false).StdOut;
            Assert.Contains("No problems found", verify);
            Assert.Equal(0, data % MiB);
        }

        [Fact]
        public void Connection_refused_after_the_retries_is_one_UploadFailed_error_naming_the_destination_without_its_secret()
        {
            string source = temp.File("refused.raw");
            Files.CreateSparse(source, 3 * MiB);
            var options = new UploadOptions { RetryBudget = TimeSpan.FromSeconds(5) };
            options.ClientOptions.Retry.MaxRetries = 1;
            options.ClientOptions.Retry.Delay = TimeSpan.FromMilliseconds(10);
            var destination = new Uri("http://127.0.0.1:9/acct/vhds/disk.vhd?sv=1&sig=secret-signature");

            var e = Assert.Throws<AzureLinuxImageException>(() => CopyDiskImageToAzure.Run(source, destination, options, new RecordingContext()));

            Assert.Equal("UploadFailed", e.ErrorId);
            Assert.Equal(ErrorKind.ResourceUnavailable, e.Kind);
            Assert.Contains("http://127.0.0.1:9/acct/vhds/disk.vhd", e.Message);
            Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("secret-signature", e.ToString());
        }

        [Fact]
        public void A_name_that_does_not_resolve_is_one_UploadFailed_error()
        {
            string source = temp.File("dns.raw");
            Files.CreateSparse(source, 3 * MiB);
            var options = new UploadOptions { RetryBudget = TimeSpan.FromSeconds(5) };
            options.ClientOptions.Retry.MaxRetries = 1;
            options.ClientOptions.Retry.Delay = TimeSpan.FromMilliseconds(10);
            // RFC 6761: .invalid never resolves; the resolver answers at once, nothing leaves the machine.
            var destination = new Uri("http://account.blob.invalid/vhds/disk.vhd?sig=secret-signature");

            var e = Assert.Throws<AzureLinuxImageException>(() => CopyDiskImageToAzure.Run(source, destination, options, new RecordingContext()));

            Assert.Equal("UploadFailed", e.ErrorId);
            Assert.Contains("http://account.blob.invalid/vhds/disk.vhd", e.Message);
            Assert.DoesNotContain("secret-signature", e.ToString());
        }

        [Fact]
        public void Cli_upload_to_a_refused_port_prints_one_line_and_exits_1()
        {
            string source = temp.File("cli-refused.raw");
            Files.CreateSparse(source, 3 * MiB);

            ToolResult r = AzLinux.Run("upload", source, "http://127.0.0.1:9/acct/vhds/disk.vhd?sv=1&sig=secret-signature");

            Assert.Equal(1, r.ExitCode);
            string[] lines = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, r.StdErr);
            Assert.StartsWith("azlinux: UploadFailed: ", lines[0]);
            Assert.DoesNotContain("secret-signature", r.StdErr + r.StdOut);
        }

        [Fact]
        public void A_credential_with_an_http_url_is_refused_before_anything_is_sent()
        {
            string source = temp.File("http-credential.raw");
            Files.CreateSparse(source, 3 * MiB);
            var (transport, counter) = UploadTestKit.Transport();
            UploadOptions options = UploadTestKit.Options(transport);
            options.Credential = "an-access-token";

            var e = Assert.Throws<AzureLinuxImageException>(() => CopyDiskImageToAzure.Run(source, new Uri("http://127.0.0.1:9/acct/vhds/disk.vhd"), options, new RecordingContext()));

            Assert.Equal("CredentialNeedsHttps", e.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
            Assert.Contains("https", e.Message);
            Assert.Empty(counter.Requests);
        }

        [Fact]
        public async Task Put_Blob_is_conditional_on_what_was_seen_so_a_blob_that_appeared_or_changed_is_not_replaced()
        {
            azurite.Require();
            Uri blob = azurite.BlobUrl("conditional.vhd");
            var client = new PageBlobClient(blob, null, new PageBlobClientOptions());
            var none = new System.Collections.Generic.Dictionary<string, string>();
            await client.CreateAsync(MiB, none, TestContext.Current.CancellationToken);
            BlobState seen = (await client.GetPropertiesAsync(TestContext.Current.CancellationToken))!;

            // Seen as absent (If-None-Match: *), but there: refused.
            var appeared = await Assert.ThrowsAsync<BlobRequestException>(() => client.CreateAsync(MiB, none, TestContext.Current.CancellationToken));
            Assert.Equal(409, appeared.Status);
            // Seen, then changed by someone else (If-Match on the old ETag): refused.
            await UploadTestKit.PutPageAsync(blob, 0, Files.Random(512, 1));
            var changed = await Assert.ThrowsAsync<BlobRequestException>(() => client.CreateAsync(2 * MiB, none, TestContext.Current.CancellationToken, seen));
            Assert.Equal(412, changed.Status);
            Assert.Equal(MiB, (await client.GetPropertiesAsync(TestContext.Current.CancellationToken))!.Length);
            // Seen as it is: replaced.
            BlobState now = (await client.GetPropertiesAsync(TestContext.Current.CancellationToken))!;
            await client.CreateAsync(2 * MiB, none, TestContext.Current.CancellationToken, now);
            Assert.Equal(2 * MiB, (await client.GetPropertiesAsync(TestContext.Current.CancellationToken))!.Length);
        }

        /// <summary>
        /// A GPT disk (sgdisk) of 40 MiB + 3 sectors, data in both partitions and the last partition ending
        /// at the last usable LBA, so rounding up to 41 MiB must move the backup; other formats by qemu-img.
        /// </summary>
        private string GptSource(string format)
        {
            string raw = temp.File($"gpt-{format}.raw");
            Files.CreateSparse(raw, (40 * MiB) + (3 * 512));
            ExternalTool.Run(ExternalTool.Require("sgdisk", "gdisk"), new[] { "-o", "-n", "1:2048:+4M", "-t", "1:EF00", "-n", "2:0:0", "-t", "2:8300", "-c", "2:rootfs", raw });
            Files.WriteAt(raw, 2048 * 512, Files.Random(64 * 1024, 1));
            Files.WriteAt(raw, 20 * MiB, Files.Random(1024 * 1024, 2));
            if (format == "raw")
            {
                return raw;
            }
            string output = temp.File($"gpt-{format}.{format}");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", format, raw, output);
            return output;
        }
    }
}
