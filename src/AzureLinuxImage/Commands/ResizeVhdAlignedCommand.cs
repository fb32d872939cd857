using System.Management.Automation;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>Resize-VhdAligned: grows (or shrinks) a fixed VHD in place to a whole MiB, moving a GPT backup with it.</summary>
    [Cmdlet(VerbsCommon.Resize, "VhdAligned", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(DiskImageInfo))]
    public sealed class ResizeVhdAlignedCommand : ImagePathCmdlet
    {
        /// <summary>New virtual size in bytes, rounded up to a whole MiB. Default: the current size rounded up.</summary>
        [Parameter]
        [ValidateRange(1, long.MaxValue)]
        public long SizeBytes { get; set; }

        /// <summary>Write the resized image's DiskImageInfo to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            long? size = MyInvocation.BoundParameters.ContainsKey(nameof(SizeBytes)) ? SizeBytes : (long?)null;
            foreach (string file in InputFiles())
            {
                ForEachItem(file, () =>
                {
                    DiskImageInfo? info = ResizeVhdAligned.Run(file, size, Context);
                    if (info != null && PassThru)
                    {
                        WriteObject(info);
                    }
                });
            }
        }
    }
}
