using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Disks.Vhd;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Rehearsal;
using AzureLinuxImage.Tests.Upload;
using Xunit;

namespace AzureLinuxImage.Tests.Publish
{
    /// <summary>
    /// Issue 26's proof: Publish-LinuxImage's flow against the Resource Manager test double over HTTPS, whose
    /// disks are page blobs in a real Azurite, with the real Debian 12 images of build-debian-image.sh
    /// --bootable (GPT hybrid, MBR BIOS-only, stock). The uploaded bytes are compared with azlinux convert's.
    /// </summary>
    public sealed class PublishTests : IClassFixture<ArmDoubleFixture>, IClassFixture<BootableImagesFixture>
    {
        private const string Group = "rg-publish";
        private readonly ArmDoubleFixture arm;
        private readonly BootableImagesFixture images;

        public PublishTests(ArmDoubleFixture arm, BootableImagesFixture images)
        {
            this.arm = arm;
            this.images = images;
        }

        private string Image(string name)
        {
            arm.Require();
            // AZLI_PUBLISH_IMAGES: a folder with ready-gpt.raw, ready-mbr.raw and stock-gpt.raw built beforehand.
            string? prebuilt = Environment.GetEnvironmentVariable("AZLI_PUBLISH_IMAGES");
            string file = name switch { "gpt" => "ready-gpt.raw", "mbr" => "ready-mbr.raw", _ => "stock-gpt.raw" };
            if (!string.IsNullOrEmpty(prebuilt) && File.Exists(Path.Combine(prebuilt, file)))
            {
                return Path.Combine(prebuilt, file);
            }
            if (Environment.UserName != "root" || ExternalTool.Find("debootstrap") == null)
            {
                ExternalTool.Unavailable("build-debian-image.sh needs root and debootstrap.");
            }
            return name switch
            {
                "gpt" => images.Image("ready-gpt", "--azure-ready", "--bootable"),
                "mbr" => images.Image("ready-mbr", "--azure-ready", "--bootable", "--table", "mbr"),
                _ => images.Image("stock-gpt", "--bootable"),
            };
        }

        private PublishOptions Options(string disk)
        {
            var o = new PublishOptions
            {
                SubscriptionId = arm.Subscription,
                ResourceGroupName = Group,
                Location = "westeurope",
                DiskName = disk,
                Credential = ArmDoubleFixture.Token,
                ResourceManagerUrl = arm.Url,
                ArmTransport = arm.Transport(),
                ThreadCount = 4,
            };
            o.Upload.RetryBudget = TimeSpan.FromSeconds(60);
            return o;
        }


        private string Id(string relative) => $"/subscriptions/{arm.Subscription}/resourceGroups/{Group}/providers/Microsoft.Compute/{relative}";

        private List<string> CallsAfter(int index) => arm.Calls().Skip(index).Select(c => $"{(string)c!["method"]!} {(string)c["path"]!}").ToList();

        private void AssertNoSecret(RecordingContext context, LinuxImagePublishResult? result)
        {
            string sig = AzuriteFixture.Signature();
            var texts = context.Lines.ToList();
            if (result != null)
            {
                texts.Add(JsonSerializer.Serialize(result));
            }
            foreach (string t in texts)
            {
                Assert.DoesNotContain(ArmDoubleFixture.Token, t);
                Assert.DoesNotContain("sig=", t);
                Assert.DoesNotContain(Uri.UnescapeDataString(sig), t);
            }
        }

        /// <summary>azlinux convert's output for the image (the oracle of the uploaded bytes).</summary>
        private static string Converted(string image, TempDirectory tmp)
        {
            string vhd = tmp.File("converted.vhd");
            ToolResult r = AzLinux.Run("convert", image, vhd);
            Assert.True(r.ExitCode == 0, r.StdErr);
            return vhd;
        }

        private static void AssertSameAsConverted(Uri blob, string converted)
        {
            long length = new FileInfo(converted).Length;
            long first = ArmDoubleFixture.FirstDifferenceAsync(blob, converted, length - VhdFooter.Size).GetAwaiter().GetResult();
            Assert.True(first == -1, $"the uploaded disk differs from azlinux convert's output at byte {first} (-2: other length)");
        }

        [Fact]
        public void Publishes_the_Debian_image_to_disk_image_gallery_definition_and_version_with_features_from_the_image()
        {
            string image = Image("gpt");
            int before = arm.Calls().Count;
            var context = new RecordingContext();
            PublishOptions o = Options("debian-gpt");
            o.ImageName = "debian-img";
            o.GalleryName = "gal";
            o.GalleryImageDefinition = "debian12";
            o.GalleryImageVersion = "1.0.0";
            o.Publisher = "contoso";
            o.Offer = "debian";
            o.Sku = "12";
            o.TargetRegions.Add(new TargetRegion("westeurope", 2));
            o.TargetRegions.Add(new TargetRegion("northeurope"));

            LinuxImagePublishResult result = PublishLinuxImage.Run(image, o, context)!;

            Assert.Equal(Id("disks/debian-gpt"), result.DiskId);
            Assert.Equal(Id("images/debian-img"), result.ImageId);
            Assert.Equal(Id("galleries/gal/images/debian12/versions/1.0.0"), result.GalleryImageVersionId);
            // The hybrid GPT image (BIOS boot partition and an ESP with BOOTX64.EFI) is V2 by default, x64 from the kernel's ELF.
            Assert.Equal("V2", result.Features.HyperVGeneration.Value);
            Assert.Equal("x64", result.Features.Architecture.Value);
            Assert.All(result.Features.All, f => Assert.False(string.IsNullOrWhiteSpace(f.Evidence), f.Name + " has no evidence"));
            Assert.All(result.Features.All, f => Assert.False(string.IsNullOrWhiteSpace(f.Rule), f.Name + " names no rule"));
            Assert.Equal(new[] { Id("disks/debian-gpt"), Id("images/debian-img"), Id("galleries/gal"), Id("galleries/gal/images/debian12"), Id("galleries/gal/images/debian12/versions/1.0.0") }, result.Created);
            Assert.Contains(result.Steps, s => s.Name == "Upload" && s.Duration > TimeSpan.Zero);
            Assert.False(result.Resumed);

            JsonObject state = arm.State();
            JsonNode disk = state[Id("disks/debian-gpt")]!;
            Assert.Equal("Unattached", (string?)disk["properties"]!["diskState"]);
            Assert.Equal("Upload", (string?)disk["properties"]!["creationData"]!["createOption"]);
            Assert.Equal(result.Upload!.BlobLength, (long)disk["properties"]!["creationData"]!["uploadSizeBytes"]!);
            Assert.Equal("Linux", (string?)disk["properties"]!["osType"]);
            Assert.Equal("V2", (string?)disk["properties"]!["hyperVGeneration"]);
            Assert.Equal(result.Features.DiskControllerTypes.Value, (string?)disk["properties"]!["supportedCapabilities"]!["diskControllerTypes"]);
            JsonNode definition = state[Id("galleries/gal/images/debian12")]!;
            Assert.Equal("V2", (string?)definition["properties"]!["hyperVGeneration"]);
            Assert.Equal(result.Features.OsState.Value, (string?)definition["properties"]!["osState"]);
            var declared = definition["properties"]!["features"]!.AsArray().ToDictionary(f => (string)f!["name"]!, f => (string)f!["value"]!);
            Assert.Equal(result.Features.DiskControllerTypes.Value, declared["DiskControllerTypes"]);
            JsonNode version = state[Id("galleries/gal/images/debian12/versions/1.0.0")]!;
            Assert.Equal(Id("disks/debian-gpt"), (string?)version["properties"]!["storageProfile"]!["osDiskImage"]!["source"]!["id"]);
            Assert.Equal(2, version["properties"]!["publishingProfile"]!["targetRegions"]!.AsArray().Count);

            // Every definition check happened before the disk was created; grant, upload and revoke in that order.
            List<string> calls = CallsAfter(before);
            int firstPut = calls.FindIndex(c => c.StartsWith("PUT", StringComparison.Ordinal));
            int galleryCheck = calls.IndexOf("GET " + Id("galleries/gal"));
            Assert.True(galleryCheck >= 0 && galleryCheck < firstPut, string.Join("\n", calls));
            Assert.Equal("PUT " + Id("disks/debian-gpt"), calls[firstPut]);
            Assert.True(calls.IndexOf("POST " + Id("disks/debian-gpt/beginGetAccess")) < calls.IndexOf("POST " + Id("disks/debian-gpt/endGetAccess")));
            Assert.Contains(calls, c => c.StartsWith("GET /operations/", StringComparison.Ordinal));
            Assert.Equal(calls.Count, result.ArmRequests);

            using var tmp = new TempDirectory();
            AssertSameAsConverted(arm.DiskBlob(Group, "debian-gpt"), Converted(image, tmp));
            AssertNoSecret(context, result);
        }

        [Fact]
        public void A_BIOS_only_MBR_image_gives_V1_and_throttled_ARM_calls_are_retried_after_Retry_After()
        {
            string image = Image("mbr");
            arm.Fault("PUT", "/disks/debian-mbr", 429, 2);
            arm.Fault("POST", "/disks/debian-mbr/beginGetAccess", 503, 2);
            int before = arm.Calls().Count;
            var context = new RecordingContext();
            PublishOptions o = Options("debian-mbr");
            o.ImageName = "debian-mbr-img";

            LinuxImagePublishResult result = PublishLinuxImage.Run(image, o, context)!;

            Assert.Equal("V1", result.Features.HyperVGeneration.Value);
            JsonObject state = arm.State();
            Assert.Equal("V1", (string?)state[Id("disks/debian-mbr")]!["properties"]!["hyperVGeneration"]);
            Assert.Equal("V1", (string?)state[Id("images/debian-mbr-img")]!["properties"]!["hyperVGeneration"]);
            JsonArray calls = arm.Calls();
            foreach (string path in new[] { Id("disks/debian-mbr"), Id("disks/debian-mbr/beginGetAccess") })
            {
                var attempts = calls.Skip(before).Where(c => (string)c!["path"]! == path && (string)c["method"]! != "GET").ToList();
                Assert.True(attempts.Count == 2, $"{path}: {attempts.Count} attempts");
                Assert.True((int)attempts[0]!["status"]! >= 429);
                long gap = (long)attempts[1]!["ms"]! - (long)attempts[0]!["ms"]!;
                Assert.True(gap >= 1900, $"{path} was retried after {gap} ms, before its Retry-After of 2 s");
            }
            AssertNoSecret(context, result);
        }

        [Fact]
        public void A_definition_declaring_V2_is_refused_for_a_BIOS_only_image_before_any_disk_or_byte()
        {
            string image = Image("mbr");
            arm.Arm("PUT", Id("galleries/gal-v2"), new { location = "westeurope", properties = new { } });
            arm.Arm("PUT", Id("galleries/gal-v2/images/gen2"), new
            {
                location = "westeurope",
                properties = new { osType = "Linux", osState = "Specialized", hyperVGeneration = "V2", identifier = new { publisher = "p", offer = "o", sku = "s" } },
            });
            int before = arm.Calls().Count;
            PublishOptions o = Options("refused-disk");
            o.GalleryName = "gal-v2";
            o.GalleryImageDefinition = "gen2";
            o.GalleryImageVersion = "1.0.0";

            var e = Assert.Throws<AzureLinuxImageException>(() => PublishLinuxImage.Run(image, o, new RecordingContext()));

            Assert.Equal("DefinitionMismatch", e.ErrorId);
            Assert.Contains("declares V2", e.Message);
            Assert.Contains("the image is V1", e.Message);
            List<string> calls = CallsAfter(before);
            Assert.All(calls, c => Assert.StartsWith("GET ", c));
            Assert.False(arm.State().ContainsKey(Id("disks/refused-disk")));
            Assert.False(arm.BlobExists(arm.DiskBlob(Group, "refused-disk")));
        }

        [Fact]
        public void Failing_readiness_blocks_with_the_failures_listed_and_Force_overrides_it()
        {
            string image = Image("stock");
            int before = arm.Calls().Count;

            var e = Assert.Throws<AzureLinuxImageException>(() => PublishLinuxImage.Run(image, Options("stock"), new RecordingContext()));
            Assert.Equal("ImageNotReady", e.ErrorId);
            Assert.Contains("SerialConsole", e.Message);
            // The raw container's FixedVhd failure is met by the conversion on the way: not a reason to refuse.
            Assert.DoesNotContain("FixedVhd", e.Message);
            Assert.Empty(CallsAfter(before));

            PublishOptions forced = Options("stock");
            forced.Force = true;
            var context = new RecordingContext { Confirm = false };
            Assert.Null(PublishLinuxImage.Run(image, forced, context));
            Assert.Contains(context.Lines, l => l.StartsWith("Warning Publishing despite", StringComparison.Ordinal) && l.Contains("SerialConsole"));
            Assert.Empty(CallsAfter(before));
        }

        [Fact]
        public void WhatIf_lists_every_call_and_makes_none()
        {
            string image = Image("gpt");
            int before = arm.Calls().Count;
            PublishOptions o = Options("whatif-disk");
            o.ImageName = "whatif-img";
            o.GalleryName = "gal";
            o.GalleryImageDefinition = "debian12";
            o.GalleryImageVersion = "9.9.9";
            var context = new RecordingContext { Confirm = false };

            Assert.Null(PublishLinuxImage.Run(image, o, context));

            Assert.Empty(CallsAfter(before));
            string plan = context.Lines.Single(l => l.StartsWith("ShouldProcess", StringComparison.Ordinal));
            foreach (string call in new[] { "PUT " + Id("disks/whatif-disk"), "POST " + Id("disks/whatif-disk/beginGetAccess"), "POST " + Id("disks/whatif-disk/endGetAccess"),
                "PUT " + Id("images/whatif-img"), "PUT " + Id("galleries/gal/images/debian12/versions/9.9.9"), "GET " + Id("galleries/gal/images/debian12") })
            {
                Assert.Contains(call, plan);
            }
        }

        [Fact]
        public void An_upload_interrupted_part_way_is_reported_and_completes_on_rerun()
        {
            string image = Image("gpt");
            using var cancel = new CancellationTokenSource();
            var interrupted = new RecordingContext(cancel.Token, (done, total) =>
            {
                // Only the upload's progress counts bytes (readiness counts rules).
                if (total > (1 << 20) && done > total / 3)
                {
                    cancel.Cancel();
                }
            });
            var e = Assert.Throws<AzureLinuxImageException>(() => PublishLinuxImage.Run(image, Options("resumed-disk"), interrupted));
            Assert.Equal("PublishFailed", e.ErrorId);
            Assert.Equal(ErrorKind.Cancelled, e.Kind);
            Assert.Contains("stopped at step Upload", e.Message);
            Assert.Contains("created " + Id("disks/resumed-disk"), e.Message);
            Assert.Contains("az resource delete --ids " + Id("disks/resumed-disk"), e.Message);
            Assert.Contains("Nothing was deleted", e.Message);
            Assert.Equal("ActiveUpload", (string?)arm.State()[Id("disks/resumed-disk")]!["properties"]!["diskState"]);

            var context = new RecordingContext();
            LinuxImagePublishResult result = PublishLinuxImage.Run(image, Options("resumed-disk"), context)!;

            Assert.True(result.Resumed);
            Assert.True(result.Upload!.Resumed);
            Assert.Empty(result.Created);
            Assert.True(result.Upload.BytesSent < result.Upload.BlobLength, "the re-run sent everything again");
            Assert.Equal("Unattached", (string?)arm.State()[Id("disks/resumed-disk")]!["properties"]!["diskState"]);
            using var tmp = new TempDirectory();
            AssertSameAsConverted(arm.DiskBlob(Group, "resumed-disk"), Converted(image, tmp));
            AssertNoSecret(context, result);
        }

        [Fact]
        public void The_CLI_publishes_with_a_token_file_over_the_double_trusted_through_SSL_CERT_FILE()
        {
            string image = Image("gpt");
            using var tmp = new TempDirectory();
            string tokenFile = tmp.File("token.json");
            File.WriteAllText(tokenFile, JsonSerializer.Serialize(new { accessToken = ArmDoubleFixture.Token, expiresOn = "2099-01-01 00:00:00.000000", tokenType = "Bearer" }));
            var args = new[] { "publish", image, "--subscription", arm.Subscription, "--resource-group", Group, "--location", "westeurope",
                "--disk", "cli-disk", "--image", "cli-img", "--arm-endpoint", arm.Url.ToString(), "--access-token-file", tokenFile, "--json" };

            int before = arm.Calls().Count;
            ToolResult dry = Run(args.Concat(new[] { "--dry-run" }).ToArray());
            Assert.True(dry.ExitCode == 0, dry.StdErr);
            Assert.Contains("PUT " + Id("disks/cli-disk"), dry.StdErr);
            Assert.Empty(CallsAfter(before));

            ToolResult r = Run(args);
            Assert.True(r.ExitCode == 0, r.StdErr + r.StdOut);
            JsonNode json = JsonNode.Parse(r.StdOut)!;
            Assert.Equal(Id("disks/cli-disk"), (string?)json["diskId"]);
            Assert.Equal(Id("images/cli-img"), (string?)json["imageId"]);
            Assert.Equal("V2", (string?)json["features"]!["hyperVGeneration"]!["value"]);
            Assert.False(string.IsNullOrEmpty((string?)json["features"]!["hyperVGeneration"]!["evidence"]));
            Assert.DoesNotContain(ArmDoubleFixture.Token, r.StdOut + r.StdErr);
            Assert.DoesNotContain("sig=", r.StdOut + r.StdErr);
            AssertSameAsConverted(arm.DiskBlob(Group, "cli-disk"), Converted(image, tmp));
        }

        [Fact]
        public void A_stuck_operation_stops_at_the_operation_timeout_with_what_exists_and_a_rerun_finishes_the_publish()
        {
            string image = Image("gpt");
            // The image's creation never ends (until released below) and asks for polls 1 s apart.
            arm.Stall("images/stuck-img", seconds: -1, retryAfter: 1);
            PublishOptions o = Options("stuck-disk");
            o.ImageName = "stuck-img";
            o.OperationTimeout = TimeSpan.FromSeconds(2);

            var e = Assert.Throws<AzureLinuxImageException>(() => PublishLinuxImage.Run(image, o, new RecordingContext()));

            // The publish's one failure report: the step, what this run created (the image too: Azure accepted its PUT),
            // how to remove it, that nothing was deleted; the timeout's own facts are in it and in the inner error.
            Assert.Equal("PublishFailed", e.ErrorId);
            Assert.Equal(ErrorKind.OperationTimeout, e.Kind);
            var timedOut = Assert.IsType<AzureLinuxImage.Azure.Arm.ArmOperationTimedOutException>(e.InnerException);
            Assert.Equal(Id("images/stuck-img"), timedOut.Path);
            Assert.Equal("InProgress", timedOut.LastState);
            Assert.InRange(timedOut.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
            Assert.Contains("stopped at step Image", e.Message);
            Assert.Contains("Creating the image (PUT " + Id("images/stuck-img") + ") did not finish within the operation timeout (2.0 s)", e.Message);
            Assert.Contains("may still complete in Azure", e.Message);
            Assert.Contains($"this run created {Id("disks/stuck-disk")}, {Id("images/stuck-img")}", e.Message);
            Assert.Contains($"az resource delete --ids {Id("images/stuck-img")} {Id("disks/stuck-disk")}", e.Message);
            Assert.Contains("Nothing was deleted", e.Message);
            JsonObject state = arm.State();
            Assert.Equal("Unattached", (string?)state[Id("disks/stuck-disk")]!["properties"]!["diskState"]);
            Assert.Equal("Creating", (string?)state[Id("images/stuck-img")]!["properties"]!["provisioningState"]);

            // Azure finishes the image 3 s from now; the same command, with the default deadline, waits for it and
            // completes the publish without uploading or creating anything again.
            arm.Release("images/stuck-img", 3);
            // One read of the image mid-operation is throttled: the wait goes on after Retry-After.
            arm.Fault("GET", "/images/stuck-img", 429, 1);
            int before = arm.Calls().Count;
            var context = new RecordingContext();
            PublishOptions again = Options("stuck-disk");
            again.ImageName = "stuck-img";
            LinuxImagePublishResult result = PublishLinuxImage.Run(image, again, context)!;

            Assert.Equal(Id("images/stuck-img"), result.ImageId);
            Assert.True(result.Resumed);
            Assert.Null(result.Upload);
            Assert.Empty(result.Created);
            Assert.Equal("Succeeded", (string?)arm.State()[Id("images/stuck-img")]!["properties"]!["provisioningState"]);
            List<string> calls = CallsAfter(before);
            Assert.True(calls.Count(c => c == "GET " + Id("images/stuck-img")) >= 2, string.Join("\n", calls));
            Assert.DoesNotContain(calls, c => c.StartsWith("PUT", StringComparison.Ordinal));
            Assert.Contains(context.Lines, l => l.StartsWith($"Verbose {Id("images/stuck-img")} is Creating: waiting", StringComparison.Ordinal));
            Assert.Contains(arm.Calls().Skip(before), c => (string)c!["method"]! == "GET" && (string)c["path"]! == Id("images/stuck-img") && (int)c["status"]! == 429);
        }

        [Fact]
        public void An_image_whose_creation_failed_in_Azure_is_sent_again_by_the_rerun()
        {
            string image = Image("gpt");
            arm.Stall("images/failed-img", seconds: 0, retryAfter: 0, outcome: "Failed");
            PublishOptions o = Options("failed-disk");
            o.ImageName = "failed-img";

            var e = Assert.Throws<AzureLinuxImageException>(() => PublishLinuxImage.Run(image, o, new RecordingContext()));
            Assert.Equal("PublishFailed", e.ErrorId);
            Assert.Contains("stopped at step Image", e.Message);
            Assert.Contains("the operation Failed", e.Message);
            Assert.Contains($"this run created {Id("disks/failed-disk")}, {Id("images/failed-img")}", e.Message);
            Assert.Equal("Failed", (string?)arm.State()[Id("images/failed-img")]!["properties"]!["provisioningState"]);

            int before = arm.Calls().Count;
            var context = new RecordingContext();
            PublishOptions again = Options("failed-disk");
            again.ImageName = "failed-img";
            LinuxImagePublishResult result = PublishLinuxImage.Run(image, again, context)!;

            Assert.Equal(Id("images/failed-img"), result.ImageId);
            Assert.Empty(result.Created);
            Assert.Contains(result.Steps, s => s.Name == "Image" && s.Detail == "sent again after Failed");
            Assert.Equal("Succeeded", (string?)arm.State()[Id("images/failed-img")]!["properties"]!["provisioningState"]);
            Assert.Contains("PUT " + Id("images/failed-img"), CallsAfter(before));
            Assert.Contains(context.Lines, l => l.StartsWith($"Warning {Id("images/failed-img")} exists with provisioningState Failed", StringComparison.Ordinal));
        }

        [Fact]
        public void The_CLI_takes_operation_timeout_90m_and_its_plan_says_so()
        {
            string image = Image("gpt");
            using var tmp = new TempDirectory();
            string tokenFile = tmp.File("token.json");
            File.WriteAllText(tokenFile, ArmDoubleFixture.Token);
            int before = arm.Calls().Count;

            ToolResult r = Run(new[] { "publish", image, "--subscription", arm.Subscription, "--resource-group", Group, "--location", "westeurope",
                "--disk", "cli-timeout-disk", "--arm-endpoint", arm.Url.ToString(), "--access-token-file", tokenFile, "--operation-timeout", "90m", "--dry-run" });

            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Contains("at most 1:30:00 each", r.StdErr);
            Assert.Empty(CallsAfter(before));
        }

        private ToolResult Run(string[] args) => AzLinux.Run(arm.TrustEnvironment(), args);

    }
}
