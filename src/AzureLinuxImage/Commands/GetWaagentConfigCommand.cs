using System.Management.Automation;
using AzureLinuxImage.Linux.Waagent;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>Get-WaagentConfig: the Azure Linux Agent's settings as the agent will see them, each set or defaulted, with problems.</summary>
    [Cmdlet(VerbsCommon.Get, "WaagentConfig", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(WaagentConfigInfo))]
    public sealed class GetWaagentConfigCommand : AzureLinuxImageCmdlet
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";
        private const string RootPathSet = "RootPath";
        private const string ImagePathSet = "ImagePath";

        /// <summary>waagent.conf files, or disk images (a file that is not configuration text is read as an image); wildcards allowed.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = null!;

        /// <summary>waagent.conf files or disk images, taken literally; Get-Item output binds here through PSPath.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = null!;

        /// <summary>A Linux root folder (a mounted or extracted image); its /etc/waagent.conf is read, links confined to it.</summary>
        [Parameter(Mandatory = true, ParameterSetName = RootPathSet)]
        [ValidateNotNullOrEmpty]
        public string RootPath { get; set; } = null!;

        /// <summary>A disk image whose Linux root holds /etc/waagent.conf.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ImagePathSet)]
        [ValidateNotNullOrEmpty]
        public string ImagePath { get; set; } = null!;

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            switch (ParameterSetName)
            {
                case RootPathSet:
                    string root = ResolveOutputPath(RootPath);
                    ForEachItem(root, () => WriteObject(GetWaagentConfig.FromRoot(root)));
                    break;
                case ImagePathSet:
                    string image = ResolveOutputPath(ImagePath);
                    ForEachItem(image, () => WriteObject(GetWaagentConfig.FromImage(image)));
                    break;
                default:
                    bool literal = ParameterSetName == LiteralPathSet;
                    foreach (string file in ResolveInputPaths(literal ? LiteralPath : Path, literal))
                    {
                        // Images piped in (Get-Item disk.vhd, Get-DiskImageInfo output) bind here by Path/PSPath:
                        // by content, as azlinux waagent get does, a file that is no configuration text is an image.
                        ForEachItem(file, () => WriteObject(GetWaagentConfig.IsConfigText(file) ? GetWaagentConfig.FromFile(file) : GetWaagentConfig.FromImage(file)));
                    }
                    break;
            }
        }
    }
}
