using System;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Azure.Arm;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Upload;
using Xunit;

namespace AzureLinuxImage.Tests.Publish
{
    /// <summary>
    /// The overall deadline of one Resource Manager long-running operation (PublishOptions.OperationTimeout),
    /// against the ARM test double's stall switch: a stuck operation ends with ArmOperationTimedOut naming what,
    /// where, the last state and the time; one that finishes inside the deadline is never failed for it, even
    /// when its Retry-After reaches past it. The publish-level proof (the failure report and the re-run) is in
    /// PublishTests, which has the images.
    /// </summary>
    public sealed class OperationTimeoutTests : IClassFixture<ArmDoubleFixture>
    {
        private readonly ArmDoubleFixture arm;

        public OperationTimeoutTests(ArmDoubleFixture arm)
        {
            this.arm = arm;
        }

        private string Id(string relative) => $"/subscriptions/{arm.Subscription}/resourceGroups/rg-timeout/providers/Microsoft.Compute/{relative}";

        private ArmClient Client(TimeSpan timeout, RecordingContext context)
        {
            arm.Require();
            var options = new ArmClientOptions { Transport = arm.Transport() };
            return new ArmClient(arm.Url, AzureCredentials.Resolve(ArmDoubleFixture.Token, false, false)!, options, context, timeout);
        }

        private static object Gallery => new { location = "westeurope", properties = new { description = "timeout test" } };

        [Fact]
        public void A_stuck_operation_stops_at_the_deadline_naming_what_where_the_last_state_and_the_time()
        {
            string path = Id("galleries/stuck");
            // Never finishes, and asks for 30 s between polls: only the deadline can end the wait, and quickly.
            arm.Stall("galleries/stuck", seconds: -1, retryAfter: 30);
            var context = new RecordingContext();
            ArmClient client = Client(TimeSpan.FromSeconds(1.5), context);
            var clock = Stopwatch.StartNew();

            var e = Assert.Throws<ArmOperationTimedOutException>(() => client.SendAndWait("PUT", path, "2023-07-03", Gallery, "creating the gallery"));

            clock.Stop();
            Assert.Equal("ArmOperationTimedOut", e.ErrorId);
            Assert.Equal(ErrorKind.OperationTimeout, e.Kind);
            Assert.Equal("creating the gallery", e.What);
            Assert.Equal(path, e.Path);
            Assert.Equal("InProgress", e.LastState);
            Assert.InRange(e.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the deadline of 1.5 s ended the wait only after {clock.Elapsed}");
            Assert.Contains("Creating the gallery (PUT " + path + ")", e.Message);
            Assert.Contains("still reported it InProgress after 1.", e.Message);
            Assert.Contains("operation timeout (1.5 s)", e.Message);
            Assert.Contains("may still complete in Azure", e.Message);
            Assert.Contains("Run the same command again to resume", e.Message);
            Assert.Contains("-OperationTimeout (--operation-timeout)", e.Message);
            Assert.DoesNotContain(ArmDoubleFixture.Token, e.Message);
            // Azure kept it: the resource reads Creating, and reads Succeeded once the operation ends.
            Assert.Equal("Creating", (string?)arm.State()[path]!["properties"]!["provisioningState"]);
            arm.Release("galleries/stuck", 0);
            Assert.Equal("Succeeded", (string?)arm.State()[path]!["properties"]!["provisioningState"]);
        }

        [Fact]
        public void An_operation_ending_inside_the_deadline_succeeds_even_when_its_Retry_After_reaches_past_it()
        {
            string path = Id("galleries/slow");
            // Done 1 s after it starts, but the server asks to wait 30 s: the wait is cut to the 3 s left and the
            // GET after it, inside the deadline's last moment, sees Succeeded.
            arm.Stall("galleries/slow", seconds: 1, retryAfter: 30);
            var context = new RecordingContext();
            ArmClient client = Client(TimeSpan.FromSeconds(3), context);
            var clock = Stopwatch.StartNew();

            JsonElement? gallery = client.SendAndWait("PUT", path, "2023-07-03", Gallery, "creating the gallery");

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
            Assert.Equal(path, gallery!.Value.GetProperty("id").GetString());
            Assert.Equal("Succeeded", ArmClient.ProvisioningStateOf(gallery.Value));
            Assert.Contains(client.Calls, c => c.StartsWith("GET /operations/", StringComparison.Ordinal));
        }

        [Fact]
        public void A_resource_left_mid_operation_is_waited_for_under_the_deadline()
        {
            string path = Id("galleries/earlier");
            arm.Stall("galleries/earlier", seconds: -1, retryAfter: 1);
            var context = new RecordingContext();
            Assert.Throws<ArmOperationTimedOutException>(() => Client(TimeSpan.FromSeconds(1), context).SendAndWait("PUT", path, "2023-07-03", Gallery, "creating the gallery"));
            JsonElement creating = JsonSerializer.Deserialize<JsonElement>(arm.State()[path]!.ToJsonString());
            Assert.Equal("Creating", ArmClient.ProvisioningStateOf(creating));

            // Still stuck: the wait on the resource itself stops at the deadline too.
            var stuck = Assert.Throws<ArmOperationTimedOutException>(() => Client(TimeSpan.FromSeconds(1), context).WaitWhileProvisioning(path, "2023-07-03", creating, "the gallery"));
            Assert.Equal("Creating", stuck.LastState);
            Assert.Contains("The gallery (GET " + path + ")", stuck.Message);

            // Azure finishes 2 s later: the wait sees it.
            arm.Release("galleries/earlier", 2);
            ArmClient client = Client(TimeSpan.FromSeconds(60), context);
            JsonElement done = client.WaitWhileProvisioning(path, "2023-07-03", creating, "the gallery");
            Assert.Equal("Succeeded", ArmClient.ProvisioningStateOf(done));
            Assert.True(client.Calls.Count(c => c == "GET " + path) >= 1);
        }

        [Theory]
        [InlineData("45s", 45)]
        [InlineData("90m", 5400)]
        [InlineData("2h", 7200)]
        [InlineData("1.5h", 5400)]
        [InlineData("1d", 86400)]
        [InlineData("01:30:00", 5400)]
        [InlineData(" 00:00:02 ", 2)]
        public void The_CLI_durations_parse(string text, int seconds)
        {
            Assert.Equal(TimeSpan.FromSeconds(seconds), PublishOptions.ParseTimeout(text, "--operation-timeout"));
        }

        [Theory]
        [InlineData("0")]
        [InlineData("0s")]
        [InlineData("-5m")]
        [InlineData("-00:10:00")]
        [InlineData("00:00:00")]
        [InlineData("90")]
        [InlineData("ten minutes")]
        [InlineData("m")]
        [InlineData("5x")]
        [InlineData("NaNh")]
        [InlineData("1e300d")]
        [InlineData("")]
        public void Zero_negative_and_unreadable_durations_are_refused_naming_the_option(string text)
        {
            var e = Assert.Throws<AzureLinuxImageException>(() => PublishOptions.ParseTimeout(text, "--operation-timeout"));
            Assert.Equal("InvalidOperationTimeout", e.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
            Assert.Contains("--operation-timeout", e.Message);
        }

        [Fact]
        public void The_CLI_refuses_a_zero_operation_timeout_before_anything_runs()
        {
            ToolResult r = AzLinux.Run("publish", "/nonexistent/image.raw", "--resource-group", "rg", "--location", "westeurope", "--disk", "d",
                "--access-token-file", "/nonexistent/token", "--operation-timeout", "0");

            Assert.Equal(1, r.ExitCode);
            Assert.Contains("azlinux: InvalidOperationTimeout: --operation-timeout '0' is not a positive duration", r.StdErr);
        }
    }
}
