using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Repair-LinuxImage: applies the safe offline fix of every failing readiness finding to an image or root folder
    /// and outputs each change (file, line, before, after); findings that need a package, a kernel or a rebuild are
    /// output as NotFixed with their remediation.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Repair, "LinuxImage", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LinuxImageChange))]
    public sealed class RepairLinuxImageCommand : WritableImageCmdlet
    {
        /// <summary>Only fix these rules (ids, wildcards allowed).</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Rule { get; set; }

        /// <summary>Leave these rules alone (ids, wildcards allowed).</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? ExcludeRule { get; set; }

        /// <summary>The provisioning agent the image is meant to use, as for Test-LinuxImageReadiness.</summary>
        [Parameter]
        public ProvisioningAgentChoice ProvisioningAgent { get; set; } = ProvisioningAgentChoice.Auto;

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            foreach ((string target, bool isRoot) in Targets())
            {
                ForEachItem(target, () =>
                {
                    var options = new RepairLinuxImageOptions
                    {
                        ImagePath = isRoot ? null : target,
                        RootPath = isRoot ? target : null,
                        Destination = isRoot ? null : DestinationPath,
                        Force = Force,
                        Rules = Rule?.ToList() ?? new List<string>(),
                        ExcludeRules = ExcludeRule?.ToList() ?? new List<string>(),
                        ProvisioningAgent = ProvisioningAgent,
                    };
                    WriteObject(RepairLinuxImage.Run(options, Context), enumerateCollection: true);
                });
            }
        }
    }
}
