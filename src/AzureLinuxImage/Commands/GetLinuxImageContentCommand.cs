using System.Management.Automation;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>Get-LinuxImageContent: the lines (or bytes) of a file inside a Linux disk image, without mounting it.</summary>
    [Cmdlet(VerbsCommon.Get, "LinuxImageContent", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(string), typeof(byte[]))]
    public sealed class GetLinuxImageContentCommand : ImagePathCmdlet
    {
        /// <summary>Parameter set of -RootPath.</summary>
        private const string RootPathSet = "RootPath";

        /// <summary>A folder holding a Linux root (a mounted image or a chroot) instead of an image file.</summary>
        [Parameter(Mandatory = true, ParameterSetName = RootPathSet, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string RootPath { get; set; } = null!;

        /// <summary>Absolute path of the file inside the image; links are followed inside the image.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageItemPathCompleter))]
        public string ItemPath { get; set; } = null!;

        /// <summary>Writes the content as one byte array instead of lines of text.</summary>
        [Parameter]
        public SwitchParameter AsByteStream { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (ParameterSetName == RootPathSet)
            {
                foreach (string root in ResolveInputPaths(new[] { RootPath }, literal: true))
                {
                    ForEachItem(root, () => Write(null, root));
                }
                return;
            }
            foreach (string file in InputFiles())
            {
                ForEachItem(file, () => Write(file, null));
            }
        }

        private void Write(string? image, string? root)
        {
            if (AsByteStream)
            {
                WriteObject(GetLinuxImageContent.ReadAllBytes(image, root, ItemPath, Context), enumerateCollection: false);
            }
            else
            {
                WriteObject(GetLinuxImageContent.ReadLines(image, root, ItemPath, Context), enumerateCollection: true);
            }
        }
    }
}
