using System;
using System.Collections.Generic;
using System.Management.Automation;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>ConvertTo-FixedVhd: any readable image to an Azure-valid fixed VHD, size rounded up to a whole MiB.</summary>
    [Cmdlet(VerbsData.ConvertTo, "FixedVhd", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(DiskImageInfo))]
    public sealed class ConvertToFixedVhdCommand : ImagePathCmdlet
    {
        private readonly HashSet<string> written = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Output file, or a folder to write &lt;name&gt;.vhd into. Default: next to the source.</summary>
        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>Overwrite an existing destination.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Keep the source size (rounded to 512 bytes) instead of rounding up to a whole MiB; Azure refuses unaligned sizes.</summary>
        [Parameter]
        public SwitchParameter SkipAlignment { get; set; }

        /// <summary>Skip flushing the output to disk before the atomic rename: faster; a power failure soon after may leave an incomplete file.</summary>
        [Parameter]
        public SwitchParameter NoFlush { get; set; }

        /// <summary>No Azure Pipelines / GitHub Actions logging commands even when TF_BUILD or GITHUB_ACTIONS is set (issue 23).</summary>
        [Parameter]
        public SwitchParameter NoPipelineLogging
        {
            get => PipelineLoggingDisabled;
            set => PipelineLoggingDisabled = value;
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string? destination = Destination == null ? null : ResolveOutputPath(Destination);
            foreach (string file in InputFiles())
            {
                ForEachItem(file, () =>
                {
                    string output = ConvertToFixedVhd.ResolveDestination(file, destination);
                    if (!written.Add(output))
                    {
                        throw new Errors.AzureLinuxImageException("DestinationUsedTwice", Errors.ErrorKind.InvalidArgument,
                            $"{output} was already written by this command for another input; give a folder as -Destination.", output);
                    }
                    DiskImageInfo? info = ConvertToFixedVhd.Run(file, output, Force, SkipAlignment, Context, flush: !NoFlush);
                    if (info != null)
                    {
                        WriteObject(info);
                    }
                });
            }
        }
    }
}
