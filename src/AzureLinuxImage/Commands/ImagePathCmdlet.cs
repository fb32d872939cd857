using System.Collections.Generic;
using System.Management.Automation;

namespace AzureLinuxImage.Commands
{
    /// <summary>A cmdlet that takes disk images by -Path (wildcards) or -LiteralPath, from the pipeline too.</summary>
    public abstract class ImagePathCmdlet : AzureLinuxImageCmdlet
    {
        /// <summary>Parameter set of -Path.</summary>
        protected const string PathSet = "Path";

        /// <summary>Parameter set of -LiteralPath.</summary>
        protected const string LiteralPathSet = "LiteralPath";

        /// <summary>Image files; wildcards allowed. Objects with a Path property (the module's results) bind here.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = null!;

        /// <summary>Image files, taken literally. Get-Item / Get-ChildItem output binds here through PSPath.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = null!;

        /// <summary>The input files of this pipeline item.</summary>
        protected IEnumerable<string> InputFiles() => ParameterSetName == LiteralPathSet
            ? ResolveInputPaths(LiteralPath, literal: true)
            : ResolveInputPaths(Path, literal: false);
    }
}
