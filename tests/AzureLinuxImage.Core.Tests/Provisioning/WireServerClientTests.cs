using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Xml;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Provisioning;
using Xunit;
using static AzureLinuxImage.Tests.Provisioning.ProvisioningFixtures;

namespace AzureLinuxImage.Tests.Provisioning
{
    /// <summary>The wire server protocol against a real HTTP server on 127.0.0.1 serving the real samples.</summary>
    public class WireServerClientTests
    {
        private static WireServerReadyOptions Ready(LocalFabric fabric, RetryPolicy? policy = null, HealthState state = HealthState.Ready,
            ProvisioningSubStatus? subStatus = null, string? description = null) => new WireServerReadyOptions
            {
                Endpoint = fabric.Endpoint,
                AgentName = Agent,
                Policy = policy ?? Fast(),
                State = state,
                SubStatus = subStatus,
                Description = description,
                // These tests are about the wire server; IMDS has its own tests.
                CheckPreprovisioning = false,
                Root = "/nonexistent-root-for-tests",
            };

        private static void AssertGoalStateRequest(RecordedRequest r)
        {
            Assert.Equal("GET", r.Method);
            Assert.Equal(GoalStateTarget, r.Target);
            Assert.Equal("2012-11-30", r.Header("x-ms-version"));
            Assert.Equal(Agent, r.Header("x-ms-agent-name"));
            Assert.Equal("", r.Body);
        }

        private static void AssertHealthRequest(RecordedRequest r, string expectedBody)
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal(HealthTarget, r.Target);
            Assert.Equal("2012-11-30", r.Header("x-ms-version"));
            Assert.Equal(Agent, r.Header("x-ms-agent-name"));
            Assert.Equal("text/xml;charset=utf-8", r.Header("Content-Type"));
            Assert.Null(r.Header("Expect"));
            Assert.Equal(expectedBody, r.Body);
        }

        [Fact]
        public void ReportsReadyWithExactRequests()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));

            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric), new RecordingContext());

            var requests = fabric.Requests;
            Assert.Equal(2, requests.Count);
            AssertGoalStateRequest(requests[0]);
            AssertHealthRequest(requests[1], ReadyBody("1"));
            Assert.Equal($"127.0.0.1:{fabric.Port}", requests[1].Header("Host"));
            Assert.True(result.Accepted);
            Assert.True(result.Sent);
            Assert.Equal(200, result.HttpStatus);
            Assert.Equal("1", result.Incarnation);
            Assert.Equal(ContainerId, result.ContainerId);
            Assert.Equal(InstanceId, result.InstanceId);
            Assert.Equal(HealthState.Ready, result.State);
            Assert.Equal(2, result.Attempts);
            Assert.Equal(1, result.GoalStateFetches);
            Assert.Equal(EndpointSource.Explicit, result.EndpointSource);
            Assert.Equal(fabric.Endpoint + "/", result.Endpoint);
        }

        [Theory]
        [InlineData(201)]
        [InlineData(202)]
        public void CreatedAndAcceptedCountAsSuccess(int status)
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(status));
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric), new RecordingContext());
            Assert.Equal(status, result.HttpStatus);
            Assert.Equal(2, fabric.Requests.Count);
        }

        [Fact]
        public void GoalStateIsReadWithExactRequest()
        {
            using var fabric = new LocalFabric().On("GET", GoalStateTarget, Reply.Status(200, GoalStateWithIncarnation(5)));
            WireServerGoalStateResult g = GetWireServerGoalState.Run(
                new WireServerOptions { Endpoint = fabric.Endpoint, AgentName = Agent, Policy = Fast() }, new RecordingContext());
            AssertGoalStateRequest(Assert.Single(fabric.Requests));
            Assert.Equal("5", g.Incarnation);
            Assert.Equal(ContainerId, g.ContainerId);
            Assert.Equal(InstanceId, g.InstanceId);
            Assert.Equal("Started", g.RoleState);
            Assert.Equal("Started", g.ExpectedState);
            Assert.Equal("http://168.63.129.16:80/sharedconfiguri/", g.Configuration["SharedConfig"]);
            Assert.Equal(1, g.Attempts);
        }

        [Fact]
        public void RefusedConnectionsAtBootAreRetriedUntilTheServerListens()
        {
            using var fabric = new LocalFabric(startAfter: TimeSpan.FromSeconds(1.5))
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            var clock = Stopwatch.StartNew();
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric, Fast(requestTimeout: 1, budget: 8, backoff: 0.2)), new RecordingContext());
            clock.Stop();

            Assert.True(result.Accepted);
            Assert.True(result.Attempts >= 3, $"{result.Attempts} attempts");
            // Cannot succeed before the listener starts; never waits past the budget.
            Assert.InRange(clock.Elapsed.TotalSeconds, 1.4, 8.0);
            Assert.Equal(new[] { "GET " + GoalStateTarget, "POST " + HealthTarget }, fabric.Requests.Select(r => r.ToString()));
            Assert.True(fabric.Requests[0].At >= fabric.StartedAt);
        }

        private static void AssertGetsThenOnePost(LocalFabric fabric, int minimumGets)
        {
            var requests = fabric.Requests;
            Assert.True(requests.Count >= minimumGets + 1, string.Join(", ", requests));
            Assert.All(requests.Take(requests.Count - 1), AssertGoalStateRequest);
            AssertHealthRequest(requests[requests.Count - 1], ReadyBody("1"));
        }

        [Fact]
        public void AHungRequestTimesOutAndIsRetried()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Hang, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            var clock = Stopwatch.StartNew();
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric, Fast(requestTimeout: 0.5)), new RecordingContext());
            Assert.True(result.Accepted);
            AssertGetsThenOnePost(fabric, minimumGets: 2);
            Assert.Equal(fabric.Requests.Count, result.Attempts);
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.45, 8.0);
        }

        [Fact]
        public void ASlowBodyCountsAgainstTheRequestTimeout()
        {
            // 1179 bytes at 40 bytes per 150 ms: about 4.5 s, far beyond the 0.6 s timeout.
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Slow(200, GoalStateXml, TimeSpan.FromMilliseconds(150), 40), Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            var clock = Stopwatch.StartNew();
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric, Fast(requestTimeout: 0.6)), new RecordingContext());
            Assert.True(result.Accepted);
            AssertGetsThenOnePost(fabric, minimumGets: 2);
            // The slow body would have needed about 4.5 s: the timeout cut it.
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.55, 4.0);
        }

        [Fact]
        public void ASlowBodyWithinTheTimeoutIsRead()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Slow(200, GoalStateXml, TimeSpan.FromMilliseconds(20), 200))
                .On("POST", HealthTarget, Reply.Status(200));
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric, Fast(requestTimeout: 3)), new RecordingContext());
            Assert.Equal(2, result.Attempts);
        }

        [Fact]
        public void TransientStatusesResendTheSameReport()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(500), Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(500), Reply.Status(503), Reply.Status(429), Reply.Drop, Reply.Status(200));
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric), new RecordingContext());
            var requests = fabric.Requests;
            Assert.Equal(new[] { "GET", "GET", "POST", "POST", "POST", "POST", "POST" }, requests.Select(r => r.Method));
            foreach (RecordedRequest post in requests.Where(r => r.Method == "POST"))
            {
                AssertHealthRequest(post, ReadyBody("1"));
            }
            Assert.Equal(7, result.Attempts);
            Assert.Equal(200, result.HttpStatus);
        }

        [Fact]
        public void GoneMeansStaleGoalStateFetchAgainAndEchoTheNewIncarnation()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml), Reply.Status(200, GoalStateWithIncarnation(2)))
                .On("POST", HealthTarget, Reply.Status(410), Reply.Status(200));
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric), new RecordingContext());
            var requests = fabric.Requests;
            Assert.Equal(new[] { "GET", "POST", "GET", "POST" }, requests.Select(r => r.Method));
            AssertHealthRequest(requests[1], ReadyBody("1"));
            AssertHealthRequest(requests[3], ReadyBody("2"));
            Assert.Equal("2", result.Incarnation);
            Assert.Equal(2, result.GoalStateFetches);
            Assert.Equal(ReadyBody("2"), result.Body);
        }

        [Fact]
        public void InvalidContainerConfigurationMeansStaleGoalState()
        {
            const string error = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><Code>InvalidContainerConfiguration</Code><Message>stale</Message></Error>";
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateWithIncarnation(3)), Reply.Status(200, GoalStateWithIncarnation(4)))
                .On("POST", HealthTarget, Reply.Status(400, error), Reply.Status(200));
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric), new RecordingContext());
            var requests = fabric.Requests;
            Assert.Equal(new[] { "GET", "POST", "GET", "POST" }, requests.Select(r => r.Method));
            AssertHealthRequest(requests[1], ReadyBody("3"));
            AssertHealthRequest(requests[3], ReadyBody("4"));
            Assert.Equal("4", result.Incarnation);
        }

        [Fact]
        public void AnyOtherBadRequestIsFinalAndNotResent()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(400, "<Error><Code>BadRequest</Code></Error>"));
            var e = Assert.Throws<AzureLinuxImageException>(() => SendWireServerReady.Run(Ready(fabric), new RecordingContext()));
            Assert.Equal("WireServerRejected", e.ErrorId);
            Assert.Contains("400", e.Message);
            Assert.Equal(new[] { "GET", "POST" }, fabric.Requests.Select(r => r.Method));
        }

        [Fact]
        public void MalformedGoalStateOnceIsRetried()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml.Substring(0, 300)), Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric), new RecordingContext());
            Assert.Equal(new[] { "GET", "GET", "POST" }, fabric.Requests.Select(r => r.Method));
            Assert.Equal(ReadyBody("1"), fabric.Requests[2].Body);
        }

        [Fact]
        public void AGoalStateThatStaysMalformedIsATypedErrorAndNothingIsPosted()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, "<GoalState><Incarnation>1</Incarnation><Container>"));
            var e = Assert.Throws<AzureLinuxImageException>(() => SendWireServerReady.Run(Ready(fabric), new RecordingContext()));
            Assert.Equal("InvalidGoalState", e.ErrorId);
            Assert.Equal(WireServerClient.MaxMalformedGoalStates, fabric.Requests.Count);
            Assert.All(fabric.Requests, r => Assert.Equal("GET", r.Method));
        }

        [Fact]
        public void AGoalStateWithoutRoleInstanceIsFetchedAgain()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateWithoutRoleInstance), Reply.Status(200, GoalStateWithoutRoleInstance), Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric), new RecordingContext());
            Assert.Equal(new[] { "GET", "GET", "GET", "POST" }, fabric.Requests.Select(r => r.Method));
            AssertHealthRequest(fabric.Requests[3], ReadyBody("1"));
            Assert.Equal(InstanceId, result.InstanceId);
        }

        [Fact]
        public void TheBudgetBoundsTheTotalTimeWhenTheServerNeverAnswers()
        {
            using var fabric = new LocalFabric().On("GET", GoalStateTarget, Reply.Hang);
            var clock = Stopwatch.StartNew();
            var e = Assert.Throws<AzureLinuxImageException>(() =>
                SendWireServerReady.Run(Ready(fabric, Fast(requestTimeout: 0.4, budget: 1.5, backoff: 0.1)), new RecordingContext()));
            clock.Stop();
            Assert.Equal("WireServerUnreachable", e.ErrorId);
            Assert.Equal(ErrorKind.ResourceUnavailable, e.Kind);
            Assert.Contains("no complete response", e.Message);
            Assert.InRange(clock.Elapsed.TotalSeconds, 1.2, 4.5);
            Assert.InRange(fabric.Requests.Count, 1, 4);
        }

        [Fact]
        public void TheBudgetBoundsTheTotalTimeWhenNothingListens()
        {
            using var fabric = new LocalFabric(startAfter: TimeSpan.FromMinutes(10));
            var clock = Stopwatch.StartNew();
            var e = Assert.Throws<AzureLinuxImageException>(() =>
                SendWireServerReady.Run(Ready(fabric, Fast(requestTimeout: 0.5, budget: 1, backoff: 0.1)), new RecordingContext()));
            Assert.Equal("WireServerUnreachable", e.ErrorId);
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.85, 4.0);
            Assert.Empty(fabric.Requests);
        }

        [Fact]
        public void TheGoalStateThatNeverGetsARoleInstanceEndsWithinTheBudget()
        {
            using var fabric = new LocalFabric().On("GET", GoalStateTarget, Reply.Status(200, GoalStateWithoutRoleInstance));
            var clock = Stopwatch.StartNew();
            var e = Assert.Throws<AzureLinuxImageException>(() =>
                GetWireServerGoalState.Run(new WireServerOptions { Endpoint = fabric.Endpoint, AgentName = Agent, Policy = Fast(budget: 1.5, backoff: 0.1) }, new RecordingContext()));
            Assert.Equal("GoalStateNotReady", e.ErrorId);
            Assert.InRange(clock.Elapsed.TotalSeconds, 1.3, 5.0);
            Assert.True(fabric.Requests.Count >= 2);
        }

        [Fact]
        public void CancellationDuringARequestIsHonouredAtOnce()
        {
            using var fabric = new LocalFabric().On("GET", GoalStateTarget, Reply.Hang);
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            var clock = Stopwatch.StartNew();
            Assert.ThrowsAny<OperationCanceledException>(() =>
                SendWireServerReady.Run(Ready(fabric, Fast(requestTimeout: 30, budget: 60)), new RecordingContext(cancellation: cts.Token)));
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.25, 3.0);
        }

        [Fact]
        public void CancellationDuringABackoffPauseIsHonouredAtOnce()
        {
            using var fabric = new LocalFabric().On("GET", GoalStateTarget, Reply.Status(500));
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));
            var clock = Stopwatch.StartNew();
            Assert.ThrowsAny<OperationCanceledException>(() =>
                SendWireServerReady.Run(Ready(fabric, Fast(requestTimeout: 5, budget: 60, backoff: 30)), new RecordingContext(cancellation: cts.Token)));
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.35, 3.0);
            Assert.Single(fabric.Requests);
        }

        [Fact]
        public void AnOversizedAnswerIsRefusedWithoutRetry()
        {
            using var fabric = new LocalFabric().On("GET", GoalStateTarget, Reply.Status(200, new string('x', WireServerClient.MaxResponseBytes + 10)));
            var e = Assert.Throws<AzureLinuxImageException>(() => SendWireServerReady.Run(Ready(fabric), new RecordingContext()));
            Assert.Equal("ResponseTooLarge", e.ErrorId);
            Assert.Single(fabric.Requests);
        }

        [Fact]
        public void NotReadyReportCarriesTheTrimmedEscapedDescription()
        {
            string description = string.Concat(Enumerable.Repeat("disk <sdb> & \U0001F600 failed; ", 400));
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            WireServerReadyResult result = SendWireServerReady.Run(
                Ready(fabric, state: HealthState.NotReady, subStatus: ProvisioningSubStatus.ProvisioningFailed, description: description), new RecordingContext());
            string body = fabric.Requests[1].Body;
            var doc = new XmlDocument();
            doc.LoadXml(body);
            Assert.Equal("NotReady", doc.SelectSingleNode("//State")!.InnerText);
            Assert.Equal("ProvisioningFailed", doc.SelectSingleNode("//SubStatus")!.InnerText);
            string sent = doc.SelectSingleNode("//Description")!.InnerText;
            Assert.EndsWith("...", sent);
            Assert.StartsWith(sent.Substring(0, sent.Length - 3), description, StringComparison.Ordinal);
            int start = body.IndexOf("<Description>", StringComparison.Ordinal) + "<Description>".Length;
            int escapedLength = body.IndexOf("</Description>", StringComparison.Ordinal) - start;
            Assert.InRange(escapedLength, 3000, 4000);
            Assert.Equal(ProvisioningSubStatus.ProvisioningFailed, result.SubStatus);
        }

        [Fact]
        public void WhatIfFetchesTheGoalStateButPostsNothing()
        {
            using var fabric = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateWithIncarnation(9)))
                .On("POST", HealthTarget, Reply.Status(200));
            var context = new RecordingContext(allow: false);
            WireServerReadyResult result = SendWireServerReady.Run(Ready(fabric), context);
            Assert.Equal(new[] { "GET" }, fabric.Requests.Select(r => r.Method));
            Assert.False(result.Sent);
            Assert.False(result.Accepted);
            Assert.Null(result.HttpStatus);
            Assert.Equal(ReadyBody("9"), result.Body);
            Assert.Contains(context.Asked, a => a.Contains("Report Ready") && a.Contains(HealthTarget));
        }

        [Fact]
        public void HeaderInjectionThroughTheAgentNameIsRefused()
        {
            using var fabric = new LocalFabric();
            var options = new WireServerReadyOptions { Endpoint = fabric.Endpoint, AgentName = "x\r\nX-Evil: 1", CheckPreprovisioning = false, Policy = Fast() };
            Assert.Equal("InvalidAgentName", Assert.Throws<AzureLinuxImageException>(() => SendWireServerReady.Run(options, new RecordingContext())).ErrorId);
            Assert.Empty(fabric.Requests);
        }

        [Fact]
        public void TheHttpHandlerNeverUsesAProxy()
        {
            using var handler = ProvisioningHttpClient.CreateHandler();
            Assert.False(handler.UseProxy);
            Assert.Null(handler.Proxy);
            Assert.False(handler.AllowAutoRedirect);
        }
    }
}
