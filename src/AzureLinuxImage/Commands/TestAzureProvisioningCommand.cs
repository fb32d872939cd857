using System;
using System.Management.Automation;
using System.Text;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Test-AzureProvisioning: boots a copy-on-write overlay of the image under QEMU as Azure would
    /// (Hyper-V SMBIOS, ovf-env.xml CD, emulated wire server, HostGAPlugin and IMDS) and reports
    /// whether the guest's agent reported Ready, when, and what it changed. The image is never written.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "AzureProvisioning", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(ProvisioningRehearsal))]
    public sealed class TestAzureProvisioningCommand : ImagePathCmdlet
    {
        /// <summary>1: SeaBIOS, provisioning CD on IDE (default). 2: OVMF UEFI, CD on virtio-scsi.</summary>
        [Parameter]
        [ValidateSet("1", "2")]
        public int Generation { get; set; } = 1;

        /// <summary>qemu-system-x86_64 or its folder; default: found on PATH.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? QemuPath { get; set; }

        /// <summary>Seconds from power-on to wait for Ready.</summary>
        [Parameter]
        [ValidateRange(10, 86400)]
        public int TimeoutSec { get; set; } = 600;

        /// <summary>Host name ovf-env.xml asks for.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string HostName { get; set; } = "rehearsal-vm";

        /// <summary>Admin user ovf-env.xml asks for (-AdminUsername, as issue 22 and ARM's osProfile name it).</summary>
        [Parameter]
        [Alias("AdminUsername")]
        [ValidateNotNullOrEmpty]
        public string UserName { get; set; } = "azureuser";

        /// <summary>SSH public key (OpenSSH text) for the admin user.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? SshPublicKey { get; set; }

        /// <summary>Goal state incarnation the guest must echo in its Ready report.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Incarnation { get; set; } = 1;

        /// <summary>Folder to keep the serial log, overlay and provisioning CD in; default a temporary folder, deleted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? WorkDirectory { get; set; }

        /// <summary>Use TCG even when /dev/kvm is usable.</summary>
        [Parameter]
        public SwitchParameter NoKvm { get; set; }

        /// <summary>File the serial console is written to as it arrives (tail -f it); kept whatever the outcome.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? SerialLog { get; set; }

        /// <summary>Replace an existing -SerialLog file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Custom data (text, UTF-8) placed base64-encoded in ovf-env.xml, as Azure's osProfile.customData.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? CustomData { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string? serialLog = SerialLog == null ? null : ResolveOutputPath(SerialLog);
            foreach (string file in InputFiles())
            {
                ForEachItem(file, () =>
                {
                    var options = new RehearsalOptions
                    {
                        ImagePath = file,
                        Generation = Generation,
                        QemuPath = QemuPath == null ? null : GetUnresolvedProviderPathFromPSPath(QemuPath),
                        Timeout = TimeSpan.FromSeconds(TimeoutSec),
                        HostName = HostName,
                        UserName = UserName,
                        SshPublicKey = SshPublicKey,
                        Incarnation = Incarnation,
                        WorkDirectory = WorkDirectory == null ? null : GetUnresolvedProviderPathFromPSPath(WorkDirectory),
                        NoKvm = NoKvm,
                        SerialLog = serialLog,
                        OverwriteSerialLog = Force,
                        CustomData = CustomData == null ? null : new UTF8Encoding(false).GetBytes(CustomData),
                    };
                    ProvisioningRehearsal result = TestAzureProvisioning.Run(options, Context);
                    if (!string.IsNullOrEmpty(result.Accelerator) && (result.Ready || result.Failure != null || result.Requests.Count > 0))
                    {
                        WriteObject(result);
                    }
                });
            }
        }
    }
}
