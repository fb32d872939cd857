using System.Linq;
using System.Management.Automation;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Clear-LinuxImageState: generalizes an image or root folder offline (machine-id, SSH host keys, DHCP leases,
    /// agent, cloud-init and azure-init state, shell histories; opt-in build users, password locks and logs) and
    /// outputs every removed or changed item.
    /// </summary>
    [Cmdlet(VerbsCommon.Clear, "LinuxImageState", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LinuxImageChange))]
    public sealed class ClearLinuxImageStateCommand : WritableImageCmdlet
    {
        /// <summary>Build users to delete with their home and authorized_keys, as waagent -deprovision+user does.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? RemoveUser { get; set; }

        /// <summary>Lock every usable password hash in /etc/shadow (as passwd -l).</summary>
        [Parameter]
        public SwitchParameter LockPassword { get; set; }

        /// <summary>Empty the logs under /var/log and remove rotated logs and the journal.</summary>
        [Parameter]
        public SwitchParameter TruncateLog { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            foreach ((string target, bool isRoot) in Targets())
            {
                ForEachItem(target, () =>
                {
                    var options = new ClearLinuxImageStateOptions
                    {
                        ImagePath = isRoot ? null : target,
                        RootPath = isRoot ? target : null,
                        Destination = isRoot ? null : DestinationPath,
                        Force = Force,
                        RemoveUsers = RemoveUser?.ToList() ?? new System.Collections.Generic.List<string>(),
                        LockPasswords = LockPassword,
                        TruncateLogs = TruncateLog,
                    };
                    WriteObject(ClearLinuxImageState.Run(options, Context), enumerateCollection: true);
                });
            }
        }
    }
}
