using System;
using System.Management.Automation;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Send-WireServerReady: reports the VM Ready (or NotReady with a sub-status) to the Azure wire
    /// server, echoing the goal state's incarnation, as images without a provisioning agent must at
    /// first boot (R-NOAGENT-3).
    /// </summary>
    [Cmdlet(VerbsCommunications.Send, "WireServerReady", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(WireServerReadyResult))]
    public sealed class SendWireServerReadyCommand : WireServerCmdlet
    {
        /// <summary>Report NotReady instead of Ready.</summary>
        [Parameter]
        public SwitchParameter NotReady { get; set; }

        /// <summary>Sub-status of a NotReady report (default ProvisioningFailed).</summary>
        [Parameter]
        public ProvisioningSubStatus SubStatus { get; set; } = ProvisioningSubStatus.ProvisioningFailed;

        /// <summary>Why provisioning failed; escaped and shortened below the fabric's 4096-character limit.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Description { get; set; }

        /// <summary>Set the hostname from IMDS compute/osProfile/computerName (else compute/name) before reporting.</summary>
        [Parameter]
        public SwitchParameter Hostname { get; set; }

        /// <summary>The Instance Metadata Service endpoint (default 169.254.169.254).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ImdsEndpoint { get; set; }

        /// <summary>Do not ask IMDS whether the VM is pre-provisioned before reporting Ready.</summary>
        [Parameter]
        public SwitchParameter SkipPreprovisioningCheck { get; set; }

        /// <summary>The root of the file system to use for lease files, etc/hostname and the KVP pool (default /).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Root { get; set; } = "/";

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string root = ResolveOutputPath(Root);
            var options = new WireServerReadyOptions
            {
                Endpoint = Endpoint,
                AgentName = AgentName,
                Policy = Policy,
                State = NotReady ? HealthState.NotReady : HealthState.Ready,
                // Only what the user gave: Core decides the defaults and refuses details without -NotReady.
                SubStatus = MyInvocation.BoundParameters.ContainsKey(nameof(SubStatus)) ? SubStatus : (ProvisioningSubStatus?)null,
                Description = Description,
                SetHostname = Hostname,
                CheckPreprovisioning = !SkipPreprovisioningCheck,
                ImdsEndpoint = ImdsEndpoint,
                Root = root,
            };
            HealthState state;
            ProvisioningSubStatus? subStatus;
            try
            {
                (state, subStatus, _) = SendWireServerReady.ValidateReport(options);
            }
            catch (AzureLinuxImageException e)
            {
                ThrowTerminatingError(ToErrorRecord(e, null));
                return;
            }
            // -WhatIf asks before anything goes out: no IMDS, goal state or report request, no output (issue 15).
            string action = (state == HealthState.Ready ? "Report Ready" : $"Report NotReady/{subStatus}") +
                (Hostname ? " after setting the hostname from IMDS" : string.Empty);
            if (!ShouldProcess(Target, action))
            {
                return;
            }
            ForEachItem(Target, () =>
            {
                WireServerReadyResult result = SendWireServerReady.Run(options, new ConfirmedContext(Context));
                if (result.HostnameNote != null)
                {
                    // The name Azure DNS knows stays the old one until the lease is renewed: worth a warning.
                    WriteWarning(result.HostnameNote);
                }
                WriteObject(result);
            });
        }

        /// <summary>The user confirmed the whole report above: the operation's own steps need not ask again.</summary>
        private sealed class ConfirmedContext : IOperationContext
        {
            private readonly IOperationContext inner;

            public ConfirmedContext(IOperationContext inner) => this.inner = inner;

            public System.Threading.CancellationToken Cancellation => inner.Cancellation;

            public bool ShouldProcess(string target, string action) => true;

            public void Progress(string activity, string status, long done, long total) => inner.Progress(activity, status, done, total);

            public void Verbose(string message) => inner.Verbose(message);

            public void Warning(string message) => inner.Warning(message);
        }
    }
}
