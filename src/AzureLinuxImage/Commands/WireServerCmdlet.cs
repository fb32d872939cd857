using System;
using System.Management.Automation;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Commands
{
    /// <summary>Parameters shared by the wire server cmdlets: endpoint, agent name and time budget.</summary>
    public abstract class WireServerCmdlet : AzureLinuxImageCmdlet
    {
        /// <summary>The wire server: host, host:port or http URL. Default: DHCP option 245 from the lease files, else 168.63.129.16.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Endpoint { get; set; }

        /// <summary>The x-ms-agent-name header.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string AgentName { get; set; } = WireServerOptions.DefaultAgentName;

        /// <summary>Total time allowed, retries included (default 1200 s, the agents' first-boot budget).</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; }

        /// <summary>The wire server retry policy, shortened to -TimeoutSec when given.</summary>
        private protected RetryPolicy Policy =>
            MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec))
                ? RetryPolicy.WireServerDefault.WithTotalBudget(TimeSpan.FromSeconds(TimeoutSec))
                : RetryPolicy.WireServerDefault;

        /// <summary>The error target: the endpoint asked for, or what it defaults to.</summary>
        private protected string Target => Endpoint ?? "wire server";
    }
}
