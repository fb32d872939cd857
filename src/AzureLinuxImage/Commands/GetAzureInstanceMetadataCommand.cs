using System;
using System.Management.Automation;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Commands
{
    /// <summary>Get-AzureInstanceMetadata: the Instance Metadata Service document, or one value of it as text.</summary>
    [Cmdlet(VerbsCommon.Get, "AzureInstanceMetadata")]
    [OutputType(typeof(InstanceMetadataResult))]
    public sealed class GetAzureInstanceMetadataCommand : AzureLinuxImageCmdlet
    {
        /// <summary>A value path such as compute/osProfile/computerName; omitted: the whole extended document.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        /// <summary>The api-version asked first; 2019-06-01 is used when IMDS refuses it with 400.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ApiVersion { get; set; } = "2021-08-01";

        /// <summary>The IMDS endpoint (default 169.254.169.254).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Endpoint { get; set; }

        /// <summary>Total time allowed, retries included (default 300 s).</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            RetryPolicy policy = MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec))
                ? RetryPolicy.ImdsDefault.WithTotalBudget(TimeSpan.FromSeconds(TimeoutSec))
                : RetryPolicy.ImdsDefault;
            var options = new InstanceMetadataOptions { Path = Path, ApiVersion = ApiVersion, Endpoint = Endpoint, Policy = policy };
            ForEachItem(Endpoint ?? "instance metadata", () => WriteObject(GetInstanceMetadata.Run(options, Context)));
        }
    }
}
