using System.Management.Automation;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>Get-LinuxImageItem: lists a directory (or shows one entry) inside a Linux disk image, without mounting it.</summary>
    [Cmdlet(VerbsCommon.Get, "LinuxImageItem", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(LinuxImageItem))]
    public sealed class GetLinuxImageItemCommand : ImagePathCmdlet
    {
        /// <summary>Parameter set of -RootPath.</summary>
        private const string RootPathSet = "RootPath";

        /// <summary>A folder holding a Linux root (a mounted image or a chroot) instead of an image file.</summary>
        [Parameter(Mandatory = true, ParameterSetName = RootPathSet, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string RootPath { get; set; } = null!;

        /// <summary>Absolute path inside the image; a directory is listed, anything else is shown itself. Default: /.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageItemPathCompleter))]
        public string ItemPath { get; set; } = "/";

        /// <summary>Lists subdirectories too (symbolic links to directories are not followed).</summary>
        [Parameter]
        public SwitchParameter Recurse { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (ParameterSetName == RootPathSet)
            {
                foreach (string root in ResolveInputPaths(new[] { RootPath }, literal: true))
                {
                    ForEachItem(root, () =>
                    {
                        foreach (LinuxImageItem item in GetLinuxImageItem.Run(null, root, ItemPath, Recurse, Context))
                        {
                            WriteObject(item);
                        }
                    });
                }
                return;
            }
            foreach (string file in InputFiles())
            {
                ForEachItem(file, () =>
                {
                    foreach (LinuxImageItem item in GetLinuxImageItem.Run(file, null, ItemPath, Recurse, Context))
                    {
                        WriteObject(item);
                    }
                });
            }
        }
    }
}
