using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Operations
{
    /// <summary>Get-WireServerGoalState / azlinux goalstate: fetch the goal state (refetched until it has a RoleInstance).</summary>
    internal static class GetWireServerGoalState
    {
        /// <summary>Runs on the caller's thread (context calls stay there); the HTTP work is awaited without a captured context.</summary>
        public static WireServerGoalStateResult Run(WireServerOptions options, IOperationContext context)
        {
            ResolvedEndpoint endpoint = WireServerEndpoint.Resolve(options.Endpoint, options.Root);
            context.Verbose($"Wire server: {endpoint.Uri} ({endpoint.Source}{(endpoint.LeaseFile != null ? ", " + endpoint.LeaseFile : string.Empty)}).");
            var session = new RetrySession(options.Policy ?? RetryPolicy.WireServerDefault, context.Cancellation);
            using var http = ProvisioningHttpClient.Create();
            var client = new WireServerClient(http, endpoint.Uri, options.AgentName);
            GoalState goalState = client.GetGoalStateAsync(session).GetAwaiter().GetResult();
            context.Verbose($"Goal state: incarnation {goalState.Incarnation}, container {goalState.ContainerId}, instance {goalState.InstanceId} ({session.Attempts} attempt(s)).");
            return ToResult(endpoint, goalState, session);
        }

        private static WireServerGoalStateResult ToResult(ResolvedEndpoint endpoint, GoalState goalState, RetrySession session) =>
            new WireServerGoalStateResult
            {
                Endpoint = endpoint.Uri.ToString(),
                EndpointSource = endpoint.Source,
                Version = goalState.Version,
                Incarnation = goalState.Incarnation,
                ExpectedState = goalState.ExpectedState,
                ContainerId = goalState.ContainerId,
                InstanceId = goalState.InstanceId!,
                RoleState = goalState.RoleState,
                Configuration = goalState.Configuration,
                Attempts = session.Attempts,
                Elapsed = session.Elapsed,
            };
    }
}
