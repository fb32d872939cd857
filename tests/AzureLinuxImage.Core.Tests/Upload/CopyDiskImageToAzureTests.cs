using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Disks.Vhd;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Upload
{
    /// <summary>Uploads to a real Azurite (issue 8, "Proof"): content, bytes on the wire, refusals, resume, faults, secrets.</summary>
    public sealed class CopyDiskImageToAzureTests : IClassFixture<AzuriteFixture>, IDisposable
    {
        private const long MiB = 1024 * 1024;
        private readonly AzuriteFixture azurite;
        private readonly TempDirectory temp = new TempDirectory();

        public CopyDiskImageToAzureTests(AzuriteFixture azurite)
        {
            this.azurite = azurite;
            azurite.Require();
        }

        public void Dispose() => temp.Dispose();

        [Theory]
        [InlineData("raw")]
        [InlineData("vpc")]
        [InlineData("vpc-fixed")]
        public async Task Upload_equals_our_fixed_vhd_and_sends_only_data(string format)
        {
            string source = Source(format);
            var (transport, counter) = UploadTestKit.Transport();
            var context = new RecordingContext();
            Uri blob = azurite.BlobUrl($"equal-{format}.vhd");

            AzureUploadResult result = CopyDiskImageToAzure.Run(source, blob, UploadTestKit.Options(transport), context)!;

            string expectedPath = temp.File($"expected-{format}.vhd");
            ConvertToFixedVhd.Run(source, expectedPath, force: true, skipAlignment: false, new SilentContext());
            byte[] expected = File.ReadAllBytes(expectedPath);
            byte[] uploaded = await UploadTestKit.DownloadAsync(blob);
            AssertSameVhd(expected, uploaded);
            Assert.Equal(expected.Length, result.BlobLength);

            long allocated;
            using (DiskImage image = DiskImage.Open(source))
            {
                allocated = image.GetAllocatedRanges().Sum(r => r.Length);
            }
            Assert.True(counter.PageBytes <= (1.05 * allocated) + 512, $"{counter.PageBytes} bytes sent for {allocated} allocated");
            Assert.Equal(counter.PageBytes, result.BytesSent);
            Assert.Equal(result.BlobLength - result.BytesSent, result.BytesSkipped);
            Assert.DoesNotContain('?', result.Destination);
            Assert.True(context.Completed, "a Completed progress record");
            AssertNoSecret(context);
        }

        [Fact]
        public async Task ComputeMd5_is_the_md5_of_the_blob_and_set_as_its_content_md5()
        {
            string source = Source("raw");
            var (transport, _) = UploadTestKit.Transport();
            Uri blob = azurite.BlobUrl("md5.vhd");
            UploadOptions options = UploadTestKit.Options(transport);
            options.ComputeMd5 = true;

            AzureUploadResult result = CopyDiskImageToAzure.Run(source, blob, options, new RecordingContext())!;

            byte[] uploaded = await UploadTestKit.DownloadAsync(blob);
            string md5 = Convert.ToBase64String(MD5.HashData(uploaded));
            Assert.Equal(md5, result.Md5);
            Assert.Equal(md5, await UploadTestKit.ContentMd5Async(blob));
        }

        [Fact]
        public async Task A_managed_disk_of_the_wrong_size_is_refused_before_any_write()
        {
            string source = Source("raw");
            // A managed disk's upload URL: md-* host (connected to Azurite by the test transport), disk already there.
            Uri disk = azurite.BlobUrl("wrong-size-disk", host: "md-impexp-test.z1.blob.storage.azure.net");
            await UploadTestKit.CreatePageBlobAsync(azurite.BlobUrl("wrong-size-disk"), 64 * MiB + 512);
            var (transport, counter) = UploadTestKit.Transport();
            var context = new RecordingContext();

            var e = Assert.Throws<AzureLinuxImageException>(() => CopyDiskImageToAzure.Run(source, disk, UploadTestKit.Options(transport), context));

            Assert.Equal("ManagedDiskSizeMismatch", e.ErrorId);
            long needed = AzureDiskRules.RoundUpToMiB(new FileInfo(source).Length) + 512;
            Assert.Contains($"UploadSizeInBytes {needed}", e.Message);
            Assert.Equal(0, counter.Puts);
            Assert.DoesNotContain(AzuriteFixture.Signature(), e.Message);
            AssertNoSecret(context);
        }

        [Fact]
        public async Task An_existing_blob_is_refused_without_Force_and_its_stale_pages_cleared_with_it()
        {
            string source = Source("raw");
            long blobLength = AzureDiskRules.RoundUpToMiB(new FileInfo(source).Length) + 512;
            Uri blob = azurite.BlobUrl("stale.vhd");
            await UploadTestKit.CreatePageBlobAsync(blob, blobLength);
            // Stale data where the source has nothing, and inside a source data range.
            await UploadTestKit.PutPageAsync(blob, 5 * MiB, Files.Random(64 * 1024, 7));
            await UploadTestKit.PutPageAsync(blob, MiB + 4096, Files.Random(8192, 8));
            await UploadTestKit.PutPageAsync(blob, 20 * MiB, Files.Random(4096, 9));

            var (t1, c1) = UploadTestKit.Transport();
            var refused = Assert.Throws<AzureLinuxImageException>(() => CopyDiskImageToAzure.Run(source, blob, UploadTestKit.Options(t1), new RecordingContext()));
            Assert.Equal("BlobExists", refused.ErrorId);
            Assert.Equal(0, c1.Puts);

            var (t2, _) = UploadTestKit.Transport();
            UploadOptions options = UploadTestKit.Options(t2);
            options.Force = true;
            AzureUploadResult result = CopyDiskImageToAzure.Run(source, blob, options, new RecordingContext())!;

            string expectedPath = temp.File("stale-expected.vhd");
            ConvertToFixedVhd.Run(source, expectedPath, force: true, skipAlignment: false, new SilentContext());
            AssertSameVhd(File.ReadAllBytes(expectedPath), await UploadTestKit.DownloadAsync(blob));
            Assert.True(result.BytesCleared >= 64 * 1024, $"cleared {result.BytesCleared}");

            // The overwritten blob now records this source: -Resume accepts it and has nothing left to send.
            var (t3, _) = UploadTestKit.Transport();
            UploadOptions resume = UploadTestKit.Options(t3);
            resume.Resume = true;
            AzureUploadResult again = CopyDiskImageToAzure.Run(source, blob, resume, new RecordingContext())!;
            Assert.Equal(0, again.BytesSent);
        }

        [Fact]
        public async Task An_interrupted_overwrite_of_another_blob_cannot_be_resumed()
        {
            string source = Source("raw", dataMiB: 8);
            long blobLength = AzureDiskRules.RoundUpToMiB(new FileInfo(source).Length) + 512;
            Uri blob = azurite.BlobUrl("overwrite-cancel.vhd");
            await UploadTestKit.CreatePageBlobAsync(blob, blobLength);
            await UploadTestKit.PutPageAsync(blob, 25 * MiB, Files.Random(4096, 5));
            using var cts = new CancellationTokenSource();
            var (t1, _) = UploadTestKit.Transport();
            UploadOptions force = UploadTestKit.Options(t1, threads: 1);
            force.Force = true;
            var context = new RecordingContext(cts.Token, (done, total) =>
            {
                if (done > 2 * MiB)
                {
                    cts.Cancel();
                }
            });
            Assert.ThrowsAny<OperationCanceledException>(() => CopyDiskImageToAzure.Run(source, blob, force, context));

            var (t2, c2) = UploadTestKit.Transport();
            UploadOptions resume = UploadTestKit.Options(t2);
            resume.Resume = true;
            var e = Assert.Throws<AzureLinuxImageException>(() => CopyDiskImageToAzure.Run(source, blob, resume, new RecordingContext()));
            Assert.Equal("ResumeSourceMismatch", e.ErrorId);
            Assert.Equal(0, c2.Puts);
        }

        [Fact]
        public async Task A_managed_disk_of_the_right_size_is_overwritten_in_place()
        {
            string source = Source("vpc");
            long blobLength;
            using (DiskImage image = DiskImage.Open(source))
            {
                blobLength = AzureDiskRules.RoundUpToMiB(image.VirtualSize) + 512;
            }
            await UploadTestKit.CreatePageBlobAsync(azurite.BlobUrl("right-size-disk"), blobLength);
            await UploadTestKit.PutPageAsync(azurite.BlobUrl("right-size-disk"), 3 * MiB, Files.Random(4096, 3));
            Uri disk = azurite.BlobUrl("right-size-disk", host: "md-impexp-test.z1.blob.storage.azure.net");
            var (transport, _) = UploadTestKit.Transport();

            AzureUploadResult result = CopyDiskImageToAzure.Run(source, disk, UploadTestKit.Options(transport), new RecordingContext())!;

            string expectedPath = temp.File("disk-expected.vhd");
            ConvertToFixedVhd.Run(source, expectedPath, force: true, skipAlignment: false, new SilentContext());
            AssertSameVhd(File.ReadAllBytes(expectedPath), await UploadTestKit.DownloadAsync(azurite.BlobUrl("right-size-disk")));
            Assert.StartsWith("http://md-impexp-test.z1.blob.storage.azure.net:", result.Destination);
        }

        [Fact]
        public async Task Cancelled_then_resumed_upload_is_complete_and_resends_nothing_already_there()
        {
            // Enough data that the bounded queue makes reading wait for acknowledged pages: the cancel
            // comes after the service has confirmed at least one page, whatever the timing.
            string source = Source("raw", dataMiB: 48);
            Uri blob = azurite.BlobUrl("resume.vhd");
            using var cts = new CancellationTokenSource();
            var (t1, c1) = UploadTestKit.Transport();
            var context = new RecordingContext(cts.Token, (done, total) =>
            {
                if (c1.PageBytes > 0)
                {
                    cts.Cancel();
                }
            });
            Assert.ThrowsAny<OperationCanceledException>(() => CopyDiskImageToAzure.Run(source, blob, UploadTestKit.Options(t1, threads: 2), context));

            // A request whose body was all sent before the cancel may still be committed by the service after it.
            await Task.Delay(1000, TestContext.Current.CancellationToken);
            var probe = new PageBlobClient(blob, null, new PageBlobClientOptions());
            long present = (await probe.GetPageRangesAsync(CancellationToken.None)).Sum(r => r.Length);
            Assert.True(present > 0, "the first run wrote something");

            var (t2, c2) = UploadTestKit.Transport();
            UploadOptions options = UploadTestKit.Options(t2);
            options.Resume = true;
            AzureUploadResult resumed = CopyDiskImageToAzure.Run(source, blob, options, new RecordingContext())!;

            Assert.True(resumed.Resumed);
            string expectedPath = temp.File("resume-expected.vhd");
            ConvertToFixedVhd.Run(source, expectedPath, force: true, skipAlignment: false, new SilentContext());
            AssertSameVhd(File.ReadAllBytes(expectedPath), await UploadTestKit.DownloadAsync(blob));

            // A full upload of the same source to a fresh blob: resumed + already there = full, nothing twice.
            var (t3, c3) = UploadTestKit.Transport();
            CopyDiskImageToAzure.Run(source, azurite.BlobUrl("resume-full.vhd"), UploadTestKit.Options(t3), new RecordingContext());
            Assert.Equal(c3.PageBytes, present + c2.PageBytes);
        }

        [Fact]
        public void Resume_refuses_a_blob_written_from_another_source()
        {
            string source = Source("raw");
            Uri blob = azurite.BlobUrl("resume-other.vhd");
            var (t1, _) = UploadTestKit.Transport();
            CopyDiskImageToAzure.Run(source, blob, UploadTestKit.Options(t1), new RecordingContext());
            File.SetLastWriteTimeUtc(source, DateTime.UtcNow.AddDays(-3));

            var (t2, c2) = UploadTestKit.Transport();
            UploadOptions options = UploadTestKit.Options(t2);
            options.Resume = true;
            var e = Assert.Throws<AzureLinuxImageException>(() => CopyDiskImageToAzure.Run(source, blob, options, new RecordingContext()));
            Assert.Equal("ResumeSourceMismatch", e.ErrorId);
            Assert.Contains("sourcemtime", e.Message);
            Assert.Equal(0, c2.Puts);
        }

        [Fact]
        public async Task Upload_through_a_proxy_that_injects_503_500_and_timeouts_completes_and_backs_off()
        {
            string source = Source("raw", dataMiB: 8);
            using var proxy = new FaultProxy(azurite.Port, seed: 11);
            Uri blob = azurite.BlobUrl("faults.vhd", port: proxy.Port);
            var (transport, _) = UploadTestKit.Transport();
            UploadOptions options = UploadTestKit.Options(transport);
            options.ClientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(2);
            var context = new RecordingContext();

            AzureUploadResult result = CopyDiskImageToAzure.Run(source, blob, options, context)!;

            string expectedPath = temp.File("faults-expected.vhd");
            ConvertToFixedVhd.Run(source, expectedPath, force: true, skipAlignment: false, new SilentContext());
            AssertSameVhd(File.ReadAllBytes(expectedPath), await UploadTestKit.DownloadAsync(azurite.BlobUrl("faults.vhd")));
            Assert.True(proxy.Busy > 0 && proxy.Timeouts > 0 && proxy.InternalErrors > 0, $"faults injected: {proxy.Busy} busy, {proxy.InternalErrors} 500, {proxy.Timeouts} timeouts");
            Assert.Contains(context.Lines, l => l.Contains("asked to slow down"));
            AssertNoSecret(context);
            Assert.True(result.BytesSent > 0);
        }

        [Fact]
        public async Task WhatIf_checks_the_destination_and_writes_nothing()
        {
            string source = Source("raw");
            Uri blob = azurite.BlobUrl("whatif.vhd");
            var (transport, counter) = UploadTestKit.Transport();
            var context = new RecordingContext { Confirm = false };

            AzureUploadResult? result = CopyDiskImageToAzure.Run(source, blob, UploadTestKit.Options(transport), context);

            Assert.Null(result);
            Assert.Equal(0, counter.Puts);
            Assert.Null(await new PageBlobClient(blob, null, new PageBlobClientOptions()).GetPropertiesAsync(CancellationToken.None));
            Assert.Contains(context.Lines, l => l.StartsWith("ShouldProcess http://127.0.0.1:", StringComparison.Ordinal) && !l.Contains('?'));
        }

        [Fact]
        public void Concurrency_halves_on_busy_answers_and_grows_back_to_the_maximum()
        {
            var limiter = new AdaptiveConcurrency(8);
            limiter.OnThrottled();
            Assert.Equal(4, limiter.Limit);
            limiter.OnThrottled(); // the same burst: one signal
            Assert.Equal(4, limiter.Limit);
            for (int i = 0; i < 1000 && limiter.Limit < 8; i++)
            {
                limiter.OnSucceeded();
            }
            Assert.Equal(8, limiter.Limit);
            Assert.Equal(4, limiter.LowestLimit);
        }

        [Fact]
        public void A_bad_signature_is_refused_with_the_signature_redacted()
        {
            string source = Source("raw");
            var bad = new Uri(azurite.BlobUrl("bad-sig.vhd").ToString().Replace("sig=", "sig=AAAA"));
            var (transport, _) = UploadTestKit.Transport();
            var e = Assert.Throws<BlobRequestException>(() => CopyDiskImageToAzure.Run(source, bad, UploadTestKit.Options(transport), new RecordingContext()));
            Assert.Equal(403, e.Status);
            Assert.DoesNotContain("AAAA", e.Message);
            Assert.DoesNotContain(AzuriteFixture.Signature(), e.ToString());
        }

        [Fact]
        public async Task Cli_upload_killed_with_SIGKILL_then_resumed_is_complete_and_resends_nothing()
        {
            string source = Source("raw", dataMiB: 48);
            Uri blob = azurite.BlobUrl("cli-kill.vhd");
            var probe = new PageBlobClient(blob, null, new PageBlobClientOptions());
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[] { Repository.CliDll, "upload", source, blob.ToString(), "--threads", "1" })
            {
                psi.ArgumentList.Add(a);
            }
            using (var first = System.Diagnostics.Process.Start(psi)!)
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (DateTime.UtcNow < deadline && !first.HasExited)
                {
                    BlobState? state = await probe.GetPropertiesAsync(CancellationToken.None);
                    if (state != null && (await probe.GetPageRangesAsync(CancellationToken.None)).Sum(r => r.Length) >= 8 * MiB)
                    {
                        break;
                    }
                    await Task.Delay(20, TestContext.Current.CancellationToken);
                }
                first.Kill(); // SIGKILL on Unix: no cleanup runs.
                first.WaitForExit();
            }
            await Task.Delay(1000, TestContext.Current.CancellationToken);
            long present = (await probe.GetPageRangesAsync(CancellationToken.None)).Sum(r => r.Length);
            Assert.True(present > 0, "the killed run wrote something");

            ToolResult resumed = AzLinux.Run("upload", source, blob.ToString(), "--resume", "--json");
            Assert.True(resumed.ExitCode == 0, resumed.StdErr);
            using var json = System.Text.Json.JsonDocument.Parse(resumed.StdOut);
            long sent = json.RootElement.GetProperty("bytesSent").GetInt64();
            Assert.True(json.RootElement.GetProperty("resumed").GetBoolean());
            Assert.DoesNotContain("?", json.RootElement.GetProperty("destination").GetString());
            Assert.DoesNotContain(AzuriteFixture.Signature(), resumed.StdOut + resumed.StdErr);

            string expectedPath = temp.File("cli-expected.vhd");
            ConvertToFixedVhd.Run(source, expectedPath, force: true, skipAlignment: false, new SilentContext());
            AssertSameVhd(File.ReadAllBytes(expectedPath), await UploadTestKit.DownloadAsync(blob));
            var (t3, c3) = UploadTestKit.Transport();
            CopyDiskImageToAzure.Run(source, azurite.BlobUrl("cli-full.vhd"), UploadTestKit.Options(t3), new RecordingContext());
            Assert.Equal(c3.PageBytes, present + sent);
            Assert.True(sent > 0, $"the kill came after the upload finished ({present} bytes there)");
        }

        [Theory]
        [InlineData("https://a.blob.core.windows.net/c/d.vhd?sv=2021&sr=b&sig=abc%2Bdef%3D&se=x", "https://a.blob.core.windows.net/c/d.vhd?sv=2021&sr=b&sig=REDACTED&se=x")]
        [InlineData("Authorization: Bearer eyJ0eXAi.eyJhdWQ.sig", "Authorization: Bearer REDACTED")]
        [InlineData("no secrets here", "no secrets here")]
        public void Redaction_replaces_signatures_and_tokens(string text, string expected)
        {
            Assert.Equal(expected, SecretRedaction.Redact(text));
        }

        private static void AssertSameVhd(byte[] expected, byte[] actual)
        {
            Assert.Equal(expected.Length, actual.Length);
            int data = expected.Length - VhdFooter.Size;
            int first = Enumerable.Range(0, data).FirstOrDefault(i => expected[i] != actual[i], -1);
            Assert.True(first < 0, $"first difference at byte {first}");
            // Footers differ only in time stamp, unique id and so checksum: the rest must be equal.
            VhdFooter e = VhdFooter.TryParse(expected.AsSpan(data), out string p1) ?? throw new InvalidOperationException(p1);
            VhdFooter a = VhdFooter.TryParse(actual.AsSpan(data), out string p2) ?? throw new InvalidOperationException(p2);
            Assert.Equal(e.CurrentSize, a.CurrentSize);
            Assert.Equal(e.OriginalSize, a.OriginalSize);
            Assert.Equal(e.DiskType, a.DiskType);
            Assert.Equal(e.Geometry, a.Geometry);
            Assert.Equal(e.DataOffset, a.DataOffset);
        }

        private static void AssertNoSecret(RecordingContext context)
        {
            string sig = AzuriteFixture.Signature();
            string decoded = Uri.UnescapeDataString(sig);
            foreach (string line in context.Lines)
            {
                Assert.DoesNotContain(sig, line);
                Assert.DoesNotContain(decoded, line);
            }
        }

        /// <summary>
        /// A sparse raw image of an unaligned size (not a whole MiB, not even 512-aligned at the tail) with
        /// random data, a data block with zero pages inside, and data up to the last byte; other formats
        /// made from it by qemu-img.
        /// </summary>
        private string Source(string format, int dataMiB = 1)
        {
            string raw = temp.File($"source-{format}-{dataMiB}.raw");
            long size = (Math.Max(30, dataMiB + 12) * MiB) + 1536 + 100;
            Files.CreateSparse(raw, size);
            Files.WriteAt(raw, MiB, Files.Random(dataMiB * (int)MiB, 1));
            Files.WriteAt(raw, 9 * MiB + 4096, Files.Random(300 * 1024, 2));
            byte[] holes = Files.Random(4096, 3);
            Array.Clear(holes, 512, 3072);
            Files.WriteAt(raw, 20 * MiB, holes);
            Files.WriteAt(raw, size - 1024, Files.Random(1024, 4));
            if (format == "raw")
            {
                return raw;
            }
            string output = temp.File($"source-{format}-{dataMiB}.vhd");
            if (format == "vpc-fixed")
            {
                ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", raw, output);
            }
            else
            {
                ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vpc", "-o", "force_size=on", raw, output);
            }
            return output;
        }
    }
}
