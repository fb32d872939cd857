using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace AzureLinuxImage.Commands
{
    /// <summary>A cmdlet that changes an image in place (-Path/-LiteralPath) or a root folder (-RootPath).</summary>
    public abstract class WritableImageCmdlet : ImagePathCmdlet
    {
        /// <summary>Parameter set of -RootPath.</summary>
        protected const string RootPathSet = "RootPath";

        /// <summary>A Linux root folder (a mounted or extracted image, a chroot) instead of an image file.</summary>
        [Parameter(Mandatory = true, ParameterSetName = RootPathSet)]
        [ValidateNotNullOrEmpty]
        public string RootPath { get; set; } = null!;

        /// <summary>Write a changed copy of the image to this file instead of changing the image (images only; the source is never changed).</summary>
        [Parameter(ParameterSetName = PathSet)]
        [Parameter(ParameterSetName = LiteralPathSet)]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>With -Destination: replace an existing file.</summary>
        [Parameter(ParameterSetName = PathSet)]
        [Parameter(ParameterSetName = LiteralPathSet)]
        public SwitchParameter Force { get; set; }

        /// <summary>-Destination resolved against the current location; null when not given.</summary>
        protected string? DestinationPath => Destination == null ? null : ResolveOutputPath(Destination);

        /// <summary>The images or root folders of this pipeline item, each with whether it is a folder.</summary>
        protected IEnumerable<(string Target, bool IsRoot)> Targets() => ParameterSetName == RootPathSet
            ? ResolveInputPaths(new[] { RootPath }, literal: true).Select(p => (p, true))
            : InputFiles().Select(p => (p, false));
    }
}
