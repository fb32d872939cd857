using System.Management.Automation;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Install-AgentlessProvisioning: writes and enables a first-boot unit that reports the VM ready to Azure once
    /// (R-NOAGENT), with a POSIX sh reporter using the image's curl or wget (or azlinux when installed in it).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Install, "AgentlessProvisioning", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LinuxImageChange))]
    public sealed class InstallAgentlessProvisioningCommand : WritableImageCmdlet
    {
        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            foreach ((string target, bool isRoot) in Targets())
            {
                ForEachItem(target, () =>
                {
                    var options = new InstallAgentlessProvisioningOptions
                    {
                        ImagePath = isRoot ? null : target,
                        RootPath = isRoot ? target : null,
                        Destination = isRoot ? null : DestinationPath,
                        Force = Force,
                    };
                    WriteObject(InstallAgentlessProvisioning.Run(options, Context), enumerateCollection: true);
                });
            }
        }
    }
}
