using System;
using System.Management.Automation;
using System.Runtime.InteropServices;
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
            bool details = MyInvocation.BoundParameters.ContainsKey(nameof(SubStatus)) || Description != null;
            if (details && !NotReady)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("-SubStatus and -Description go with -NotReady."),
                    "InvalidHealthReport", ErrorCategory.InvalidArgument, null));
            }
            string root = ResolveOutputPath(Root);
            // The running system's name is only changed inside the VM itself: on Linux, at the real root.
            bool applyHostname = Hostname && root == "/" && RuntimeInformation.IsOSPlatform(OSPlatform.Linux);
            var options = new WireServerReadyOptions
            {
                Endpoint = Endpoint,
                AgentName = AgentName,
                Policy = Policy,
                State = NotReady ? HealthState.NotReady : HealthState.Ready,
                SubStatus = NotReady ? SubStatus : (ProvisioningSubStatus?)null,
                Description = NotReady ? Description : null,
                SetHostname = Hostname,
                ApplyHostname = applyHostname,
                CheckPreprovisioning = !SkipPreprovisioningCheck,
                ImdsEndpoint = ImdsEndpoint,
                Root = root,
            };
            ForEachItem(Target, () =>
            {
                WireServerReadyResult result = SendWireServerReady.Run(options, Context);
                if (result.HostnameNote != null)
                {
                    // The name Azure DNS knows stays the old one until the lease is renewed: worth a warning.
                    WriteWarning(result.HostnameNote);
                }
                WriteObject(result);
            });
        }
    }
}
