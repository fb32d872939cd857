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

        /// <summary>The images or root folders of this pipeline item, each with whether it is a folder.</summary>
        protected IEnumerable<(string Target, bool IsRoot)> Targets() => ParameterSetName == RootPathSet
            ? ResolveInputPaths(new[] { RootPath }, literal: true).Select(p => (p, true))
            : InputFiles().Select(p => (p, false));
    }
}
