using System;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>What the fabric answered to an accepted health report.</summary>
    internal sealed record HealthPostOutcome(GoalState GoalState, int HttpStatus, string Body, int GoalStateFetches);

    /// <summary>
    /// The wire server protocol (PROTOCOL.md "Goal state", "Health report"): fetch the goal state, post
    /// the health report with its Incarnation echoed, refetch and rebuild on a stale goal state, retry
    /// transient failures inside the session's budget.
    /// </summary>
    internal sealed class WireServerClient
    {
        public const string ProtocolVersion = "2012-11-30";
        public const int MaxResponseBytes = ProvisioningXml.MaxDocumentBytes;

        /// <summary>A goal state that stays malformed after this many answers is an error, not a transient.</summary>
        public const int MaxMalformedGoalStates = 3;

        private readonly HttpClient _http;

        public WireServerClient(HttpClient http, Uri endpoint, string agentName)
        {
            _http = http;
            Endpoint = endpoint;
            AgentName = ValidateAgentName(agentName);
        }

        public Uri Endpoint { get; }
        public string AgentName { get; }

        public Uri GoalStateUri => new UriBuilder(Endpoint) { Path = "/machine/", Query = "comp=goalstate" }.Uri;
        public Uri HealthUri => new UriBuilder(Endpoint) { Path = "/machine", Query = "comp=health" }.Uri;

        private string Target => $"The wire server at {Endpoint}";

        /// <summary>Fetches goal states until one has a RoleInstance (none right after boot).</summary>
        public async Task<GoalState> GetGoalStateAsync(RetrySession session)
        {
            int malformed = 0;
            // Once the fabric has answered without a RoleInstance, running out of time means "not ready yet".
            string unreachable = "WireServerUnreachable";
            while (true)
            {
                HttpAttempt attempt = await session.SendAsync(_http, () =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Get, GoalStateUri);
                    AddProtocolHeaders(request);
                    return request;
                }, MaxResponseBytes, Target).ConfigureAwait(false);

                if (attempt.Status == null)
                {
                    await session.PauseAsync(false, unreachable, Target, attempt.Problem!).ConfigureAwait(false);
                    continue;
                }
                int status = attempt.Status.Value;
                if (status == 200)
                {
                    GoalState goalState;
                    try
                    {
                        goalState = GoalStateParser.Parse(attempt.Body);
                    }
                    catch (AzureLinuxImageException e) when (e.Kind == ErrorKind.InvalidData)
                    {
                        // A truncated answer during early boot is plausible once; a fabric that keeps
                        // sending garbage is not waited for until the budget ends.
                        if (++malformed >= MaxMalformedGoalStates)
                        {
                            throw;
                        }
                        await session.PauseAsync(false, unreachable, Target, e.Message).ConfigureAwait(false);
                        continue;
                    }
                    if (!goalState.HasRoleInstance)
                    {
                        unreachable = "GoalStateNotReady";
                        await session.PauseAsync(false, "GoalStateNotReady", Target, "the goal state has no RoleInstance yet").ConfigureAwait(false);
                        continue;
                    }
                    session.Succeeded();
                    return goalState;
                }
                if (IsRetryable(status))
                {
                    await session.PauseAsync(IsThrottling(status), unreachable, Target, Describe(attempt), attempt.RetryAfter).ConfigureAwait(false);
                    continue;
                }
                throw Rejected("the goal state request", attempt);
            }
        }

        /// <summary>
        /// Posts a health report built from <paramref name="goalState"/> (or a freshly fetched one).
        /// 410 Gone or 400 InvalidContainerConfiguration: the goal state is stale, so it is fetched again
        /// and the report rebuilt, never resent as it was.
        /// </summary>
        public async Task<HealthPostOutcome> ReportHealthAsync(RetrySession session, GoalState? goalState,
            HealthState state, ProvisioningSubStatus? subStatus, string? description)
        {
            int fetches = 0;
            if (goalState == null)
            {
                goalState = await GetGoalStateAsync(session).ConfigureAwait(false);
                fetches++;
            }
            int staleInARow = 0;
            while (true)
            {
                string body = HealthReport.Build(goalState, state, subStatus, description);
                byte[] payload = new UTF8Encoding(false).GetBytes(body);
                HttpAttempt attempt = await session.SendAsync(_http, () =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Post, HealthUri);
                    AddProtocolHeaders(request);
                    var content = new ByteArrayContent(payload);
                    // Exactly as the agents send it (no space after the semicolon).
                    content.Headers.TryAddWithoutValidation("Content-Type", "text/xml;charset=utf-8");
                    request.Content = content;
                    return request;
                }, MaxResponseBytes, Target, successBodyUnused: true).ConfigureAwait(false);

                if (attempt.Status == null)
                {
                    await session.PauseAsync(false, "WireServerUnreachable", Target, attempt.Problem!).ConfigureAwait(false);
                    continue;
                }
                int status = attempt.Status.Value;
                if (status == 200 || status == 201 || status == 202)
                {
                    session.Succeeded();
                    return new HealthPostOutcome(goalState, status, body, fetches);
                }
                if (IsStale(attempt))
                {
                    // The first stale answer is refetched at once, later ones after the backoff.
                    if (++staleInARow > 1)
                    {
                        await session.PauseAsync(false, "WireServerUnreachable", Target, Describe(attempt) + " (stale goal state)").ConfigureAwait(false);
                    }
                    goalState = await GetGoalStateAsync(session).ConfigureAwait(false);
                    fetches++;
                    continue;
                }
                staleInARow = 0;
                if (IsRetryable(status))
                {
                    await session.PauseAsync(IsThrottling(status), "WireServerUnreachable", Target, Describe(attempt), attempt.RetryAfter).ConfigureAwait(false);
                    continue;
                }
                throw Rejected("the health report", attempt);
            }
        }

        private void AddProtocolHeaders(HttpRequestMessage request)
        {
            request.Headers.TryAddWithoutValidation("x-ms-version", ProtocolVersion);
            request.Headers.TryAddWithoutValidation("x-ms-agent-name", AgentName);
            // .NET Framework adds "Expect: 100-continue" to POSTs and waits for it; the fabric never asked for it.
            request.Headers.ExpectContinue = false;
        }

        internal static bool IsStale(HttpAttempt attempt) =>
            attempt.Status == 410
            || (attempt.Status == 400 && Encoding.UTF8.GetString(attempt.Body).IndexOf("InvalidContainerConfiguration", StringComparison.Ordinal) >= 0);

        /// <summary>WALinuxAgent's retried statuses (PROTOCOL.md "Retries").</summary>
        internal static bool IsRetryable(int status) =>
            status == 205 || status == 206 || status == 403 || status == 429 || (status >= 500 && status <= 504) || status == 507;

        internal static bool IsThrottling(int status) => status == 403 || status == 429 || status == 503;

        private static string Describe(HttpAttempt attempt)
        {
            string excerpt = attempt.BodyExcerpt(120);
            return excerpt.Length == 0 ? $"HTTP {attempt.Status}" : $"HTTP {attempt.Status}: {excerpt}";
        }

        private AzureLinuxImageException Rejected(string what, HttpAttempt attempt) =>
            new AzureLinuxImageException("WireServerRejected", ErrorKind.InvalidData,
                $"{Target} refused {what} with HTTP {attempt.Status}: '{attempt.BodyExcerpt()}'. This status is not transient; nothing was retried.");

        /// <summary>The agent name goes into a header: printable ASCII only, so it can never inject one.</summary>
        internal static string ValidateAgentName(string agentName)
        {
            string name = (agentName ?? string.Empty).Trim();
            if (name.Length == 0 || name.Length > 128)
            {
                throw new AzureLinuxImageException("InvalidAgentName", ErrorKind.InvalidArgument,
                    "The agent name must be 1 to 128 characters long.");
            }
            foreach (char c in name)
            {
                if (c < 0x20 || c > 0x7E)
                {
                    throw new AzureLinuxImageException("InvalidAgentName", ErrorKind.InvalidArgument,
                        "The agent name may hold printable ASCII characters only (it is sent as the x-ms-agent-name header).");
                }
            }
            return name;
        }
    }
}
