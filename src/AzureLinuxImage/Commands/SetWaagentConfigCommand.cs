using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using AzureLinuxImage.Linux.Waagent;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Set-WaagentConfig: changes /etc/waagent.conf safely — values validated first, only the concerned lines
    /// edited, written atomically with mode and owner kept; -AzureRecommended applies R-AGENT-5.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "WaagentConfig", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(WaagentConfigInfo))]
    public sealed class SetWaagentConfigCommand : AzureLinuxImageCmdlet
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";
        private const string RootPathSet = "RootPath";
        private const string ImagePathSet = "ImagePath";
        private const string InputObjectSet = "InputObject";

        /// <summary>
        /// waagent.conf files; wildcards allowed. Not mandatory in its set: -ImagePath shares the default set
        /// (see there), so a missing target is reported by the cmdlet (TargetRequired) rather than prompted for.
        /// </summary>
        [Parameter(Position = 0, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = null!;

        /// <summary>waagent.conf files, taken literally; Get-Item output binds here through PSPath.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = null!;

        /// <summary>A Linux root folder whose /etc/waagent.conf is changed; a link leaving the root is refused.</summary>
        [Parameter(Mandatory = true, ParameterSetName = RootPathSet)]
        [ValidateNotNullOrEmpty]
        public string RootPath { get; set; } = null!;

        /// <summary>
        /// A disk image (fixed VHD or raw) whose /etc/waagent.conf is changed offline. Binds from the pipeline
        /// by its ImagePath property: ConvertTo-FixedVhd's and Get-DiskImageInfo's output (DiskImageInfo),
        /// Get-WaagentConfig's and -PassThru's of an image. Such objects carry a Path too, which binds -Path
        /// in the default set; -ImagePath is in that set as well (optional) so that it binds alongside and
        /// wins: an image is taken as an image by its property, never guessed from its content (PowerShell
        /// resolves a typed -ImagePath to the default set too, where it is handled the same way). A file
        /// piped in by PSPath alone (Get-Item) binds -LiteralPath and is recognised by content.
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = ImagePathSet, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string ImagePath { get; set; } = null!;

        /// <summary>For an image: write a changed copy to this file instead; the image itself is not changed.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>With -Destination: replace an existing file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>The output of Get-WaagentConfig: the file, root or image it was read from is changed.</summary>
        [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
        [ValidateNotNull]
        public WaagentConfigInfo InputObject { get; set; } = null!;

        /// <summary>ResourceDisk.Format: format and mount the resource disk.</summary>
        [Parameter]
        public bool ResourceDiskFormat { get; set; }

        /// <summary>ResourceDisk.Filesystem.</summary>
        [Parameter]
        [ValidateSet("ext3", "ext4", "xfs")]
        public string? ResourceDiskFilesystem { get; set; }

        /// <summary>ResourceDisk.MountPoint (an absolute path).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ResourceDiskMountPoint { get; set; }

        /// <summary>ResourceDisk.EnableSwap.</summary>
        [Parameter]
        public bool ResourceDiskEnableSwap { get; set; }

        /// <summary>ResourceDisk.SwapSizeMB.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int ResourceDiskSwapSizeMB { get; set; }

        /// <summary>Provisioning.Agent.</summary>
        [Parameter]
        [ValidateSet("auto", "waagent", "cloud-init", "disabled")]
        public string? ProvisioningAgent { get; set; }

        /// <summary>Provisioning.RegenerateSshHostKeyPair.</summary>
        [Parameter]
        public bool RegenerateSshHostKeyPair { get; set; }

        /// <summary>Provisioning.DeleteRootPassword.</summary>
        [Parameter]
        public bool DeleteRootPassword { get; set; }

        /// <summary>AutoUpdate.Enabled.</summary>
        [Parameter]
        public bool AutoUpdate { get; set; }

        /// <summary>OS.RootDeviceScsiTimeout in seconds.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int OSRootDeviceScsiTimeout { get; set; }

        /// <summary>Any other option: @{ 'Key' = 'Value' }; $true/$false become y/n; $null removes the key.</summary>
        [Parameter]
        [ValidateNotNull]
        public Hashtable? Setting { get; set; }

        /// <summary>R-AGENT-5: ResourceDisk.Format=y, Filesystem=ext4, MountPoint=/mnt/resource, EnableSwap=y, SwapSizeMB.</summary>
        [Parameter]
        public SwitchParameter AzureRecommended { get; set; }

        /// <summary>Swap size for -AzureRecommended (default 2048); alone, it sets ResourceDisk.SwapSizeMB.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int SwapSizeMB { get; set; }

        /// <summary>Accept keys in -Setting that are not documented options of the agent.</summary>
        [Parameter]
        public SwitchParameter AllowUnknownKey { get; set; }

        /// <summary>Write the configuration after the change to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        private bool pathOnCommandLine;

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            pathOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Path));
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string set = ParameterSetName;
            bool imageBound = MyInvocation.BoundParameters.ContainsKey(nameof(ImagePath));
            if (set == PathSet && imageBound)
            {
                if (pathOnCommandLine)
                {
                    WriteError(ToErrorRecord(new Errors.AzureLinuxImageException("PathAndImagePath", Errors.ErrorKind.InvalidArgument,
                        "Give -Path (waagent.conf files) or -ImagePath (a disk image), not both."), ImagePath));
                    return;
                }
                // An object with both properties (DiskImageInfo: Path is the image as well) is an image.
                set = ImagePathSet;
            }
            else if (set == PathSet && Path == null)
            {
                WriteError(ToErrorRecord(new Errors.AzureLinuxImageException("TargetRequired", Errors.ErrorKind.InvalidArgument,
                    "Give waagent.conf files (-Path, -LiteralPath), a Linux root folder (-RootPath) or a disk image (-ImagePath)."), null));
                return;
            }
            // (file, root, image) per target.
            var targets = new List<(string? File, string? Root, string? Image)>();
            if (set == ImagePathSet || (set == InputObjectSet && InputObject.ImagePath != null))
            {
                targets.Add((null, null, ResolveOutputPath(set == ImagePathSet ? ImagePath : InputObject.ImagePath!)));
            }
            else if (set == RootPathSet || (set == InputObjectSet && InputObject.RootPath != null))
            {
                targets.Add((null, ResolveOutputPath(set == RootPathSet ? RootPath : InputObject.RootPath!), null));
            }
            else if (set == InputObjectSet)
            {
                targets.Add((InputObject.Path ?? InputObject.ConfigPath, null, null));
            }
            else
            {
                bool literal = set == LiteralPathSet;
                foreach (string file in ResolveInputPaths(literal ? LiteralPath : Path, literal))
                {
                    // A disk image piped in by its Path (ConvertTo-FixedVhd, Get-DiskImageInfo) is changed inside.
                    bool image = System.IO.File.Exists(file) && !GetWaagentConfig.IsConfigText(file);
                    targets.Add(image ? (null, null, file) : (file, null, null));
                }
            }
            foreach (var target in targets)
            {
                ForEachItem(target.File ?? target.Root ?? target.Image!, () =>
                {
                    SetWaagentConfigOptions options = Options(target.File, target.Root, target.Image);
                    WaagentConfigChangeResult result = SetWaagentConfig.Run(options, Context);
                    // Declined (-WhatIf, -Confirm no): nothing changed, nothing to pass on.
                    if (PassThru && (result.Written || !result.Changed))
                    {
                        WriteObject(result.Config);
                    }
                });
            }
        }

        /// <summary>-Setting first, then the named parameters (a named parameter wins over the same key in -Setting).</summary>
        private SetWaagentConfigOptions Options(string? path, string? root, string? image)
        {
            var options = new SetWaagentConfigOptions
            {
                Path = path,
                RootPath = root,
                ImagePath = image,
                Destination = Destination == null ? null : ResolveOutputPath(Destination),
                Force = Force,
                AzureRecommended = AzureRecommended,
                AllowUnknownKeys = AllowUnknownKey,
                SwapSizeMB = MyInvocation.BoundParameters.ContainsKey(nameof(SwapSizeMB)) ? SwapSizeMB : (long?)null,
            };
            if (Setting != null)
            {
                foreach (DictionaryEntry e in Setting)
                {
                    object? value = e.Value is PSObject ps ? ps.BaseObject : e.Value;
                    options.Settings.Add(new KeyValuePair<string, string?>(
                        Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? string.Empty,
                        WaagentSettingParameters.ValueText(value is SwitchParameter sw ? sw.IsPresent : value)));
                }
            }
            var bound = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, object> p in MyInvocation.BoundParameters)
            {
                object? value = p.Value is PSObject ps ? ps.BaseObject : p.Value;
                bound[p.Key] = value is SwitchParameter sw ? sw.IsPresent : value;
            }
            WaagentSettingParameters.AddBound(options, bound);
            return options;
        }
    }
}
