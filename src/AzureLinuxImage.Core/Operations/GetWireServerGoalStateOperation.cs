using System.Threading;
using System.Threading.Tasks;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Operations
{
    /// <summary>Get-WireServerGoalState / azlinux goalstate: fetch the goal state (refetched until it has a RoleInstance).</summary>
    public sealed class GetWireServerGoalStateOperation
    {
        private readonly WireServerOptions _options;
        private readonly IProvisioningHost _host;

        /// <summary>Creates the operation.</summary>
        public GetWireServerGoalStateOperation(WireServerOptions options, IProvisioningHost? host = null)
        {
            _options = options;
            _host = host ?? new SilentProvisioningHost();
        }

        /// <summary>Runs the operation.</summary>
        public async Task<WireServerGoalStateResult> RunAsync(CancellationToken cancellationToken)
        {
            ResolvedEndpoint endpoint = WireServerEndpoint.Resolve(_options.Endpoint, _options.Root);
            _host.Verbose($"Wire server: {endpoint.Uri} ({endpoint.Source}{(endpoint.LeaseFile != null ? ", " + endpoint.LeaseFile : string.Empty)}).");
            var session = new RetrySession(_options.Policy ?? RetryPolicy.WireServerDefault, cancellationToken);
            using var http = ProvisioningHttpClient.Create();
            var client = new WireServerClient(http, endpoint.Uri, _options.AgentName);
            GoalState goalState = await client.GetGoalStateAsync(session).ConfigureAwait(false);
            _host.Verbose($"Goal state: incarnation {goalState.Incarnation}, container {goalState.ContainerId}, instance {goalState.InstanceId} ({session.Attempts} attempt(s)).");
            return new WireServerGoalStateResult
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
}
