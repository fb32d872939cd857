using System.Management.Automation;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>Get-DiskImageInfo: format, sizes, sectors, parents, partition style and Azure upload readiness of an image.</summary>
    [Cmdlet(VerbsCommon.Get, "DiskImageInfo", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(DiskImageInfo))]
    public sealed class GetDiskImageInfoCommand : ImagePathCmdlet
    {
        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            foreach (string file in InputFiles())
            {
                ForEachItem(file, () => WriteObject(GetDiskImageInfo.Run(file, Context)));
            }
        }
    }
}
