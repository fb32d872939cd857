using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Provisioning;
using Xunit;
using static AzureLinuxImage.Tests.Provisioning.ProvisioningFixtures;

namespace AzureLinuxImage.Tests.Provisioning
{
    /// <summary>
    /// Throttling answers (issue 16) against a real HTTP listener on 127.0.0.1 that counts requests:
    /// Retry-After (seconds or HTTP date) is honoured within the budget, repeated 429/503 back off
    /// exponentially, and a 200 health answer is a success whatever its body.
    /// </summary>
    public class ThrottlingTests
    {
        private static WireServerReadyOptions Ready(LocalFabric fabric, RetryPolicy policy) => new WireServerReadyOptions
        {
            Endpoint = fabric.Endpoint,
            AgentName = Agent,
            Policy = policy,
            State = HealthState.Ready,
            CheckPreprovisioning = false,
            Root = "/nonexistent-root-for-tests",
        };

        private static double[] PostGaps(LocalFabric fabric)
        {
            var posts = fabric.Requests.Where(r => r.Method == "POST").ToList();
            return posts.Skip(1).Select((r, i) => (r.At - posts[i].At).TotalSeconds).ToArray();
        }

        [Theory]
        [InlineData(429)]
        [InlineData(503)]
        public void RetryAfterInSecondsIsWaitedFor(int status)
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Throttled(status, "2"), Reply.Status(200));

            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric, Fast()), new RecordingContext());

            Assert.True(result.Accepted);
            double gap = Assert.Single(PostGaps(fabric));
            Assert.InRange(gap, 1.9, 10);
        }

        [Fact]
        public void RetryAfterAsAnHttpDateIsWaitedFor()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, _ => Reply.Throttled(429, DateTimeOffset.UtcNow.AddSeconds(3).ToString("r", CultureInfo.InvariantCulture)));
            var clock = Stopwatch.StartNew();

            // Every answer is throttled with a date 3 s ahead; within a 5 s budget at most two POSTs fit.
            var e = Assert.Throws<AzureLinuxImageException>(() => SendWireServerReady.Run(Ready(fabric, Fast(budget: 5)), new RecordingContext()));

            Assert.Equal("WireServerUnreachable", e.ErrorId);
            double[] gaps = PostGaps(fabric);
            // Two POSTs (one gap) or, when the date's whole second falls early, three; never the 1 s pace.
            Assert.InRange(gaps.Length, 1, 2);
            // An HTTP date has whole seconds: each wait is between 2 and 3 s.
            Assert.All(gaps, g => Assert.InRange(g, 1.5, 10));
            Assert.InRange(clock.Elapsed.TotalSeconds, 1.5, 12);
        }

        [Fact]
        public void ARetryAfterBeyondTheBudgetEndsAtOnceNamingIt()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Throttled(429, "3600"));
            var clock = Stopwatch.StartNew();

            var e = Assert.Throws<AzureLinuxImageException>(() => SendWireServerReady.Run(Ready(fabric, Fast(budget: 20)), new RecordingContext()));

            Assert.Equal("WireServerUnreachable", e.ErrorId);
            Assert.Contains("Retry-After", e.Message);
            Assert.Single(fabric.Requests, r => r.Method == "POST");
            Assert.InRange(clock.Elapsed.TotalSeconds, 0, 8);
        }

        [Theory]
        [InlineData(429)]
        [InlineData(503)]
        public void RepeatedThrottlingBacksOffExponentially(int status)
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(status));

            // 0.05 s doubling: 0.05+0.1+0.2+0.4+0.8+1.6 = 3.15 s, so at most 7 POSTs in 3.5 s (a fixed 0.05 s pause: ~70).
            var e = Assert.Throws<AzureLinuxImageException>(() =>
                SendWireServerReady.Run(Ready(fabric, Fast(budget: 3.5, throttle: 0.05)), new RecordingContext()));

            Assert.Equal("WireServerUnreachable", e.ErrorId);
            int posts = fabric.Requests.Count(r => r.Method == "POST");
            Assert.InRange(posts, 3, 8);
            double[] gaps = PostGaps(fabric);
            Assert.True(gaps.Last() >= 0.35, string.Join(", ", gaps));
        }

        [Fact]
        public void ThrottlingOfTheGoalStateBacksOffToo()
        {
            using var fabric = new LocalFabric().On("GET", GoalStateTarget, Reply.Status(429));
            Assert.Throws<AzureLinuxImageException>(() =>
                GetWireServerGoalState.Run(new WireServerOptions { Endpoint = fabric.Endpoint, AgentName = Agent, Policy = Fast(budget: 3.5, throttle: 0.05) }, new RecordingContext()));
            Assert.InRange(fabric.Requests.Count, 3, 8);
        }

        [Fact]
        public void AHealthAnswer200WithAnOversizedBodyIsASuccess()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200, new string('x', WireServerClient.MaxResponseBytes + 4096)));

            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric, Fast()), new RecordingContext());

            Assert.True(result.Accepted);
            Assert.Equal(200, result.HttpStatus);
            Assert.Single(fabric.Requests, r => r.Method == "POST");
        }
    }
}
