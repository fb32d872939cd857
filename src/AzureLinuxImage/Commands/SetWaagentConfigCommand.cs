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

        /// <summary>waagent.conf files; wildcards allowed.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
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

        /// <summary>A disk image: refused until ext4 write support exists (the error says so).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ImagePathSet)]
        [ValidateNotNullOrEmpty]
        public string ImagePath { get; set; } = null!;

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

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string set = ParameterSetName;
            string? image = set == ImagePathSet ? ImagePath : set == InputObjectSet ? InputObject.ImagePath : null;
            if (image != null)
            {
                ThrowTerminatingError(ToErrorRecord(SetWaagentConfig.ImageWriteNotSupported(image), image));
                return;
            }
            var targets = new List<KeyValuePair<string?, string?>>();
            if (set == RootPathSet || (set == InputObjectSet && InputObject.RootPath != null))
            {
                string root = ResolveOutputPath(set == RootPathSet ? RootPath : InputObject.RootPath!);
                targets.Add(new KeyValuePair<string?, string?>(null, root));
            }
            else if (set == InputObjectSet)
            {
                targets.Add(new KeyValuePair<string?, string?>(InputObject.Path ?? InputObject.ConfigPath, null));
            }
            else
            {
                bool literal = set == LiteralPathSet;
                foreach (string file in ResolveInputPaths(literal ? LiteralPath : Path, literal))
                {
                    targets.Add(new KeyValuePair<string?, string?>(file, null));
                }
            }
            foreach (KeyValuePair<string?, string?> target in targets)
            {
                ForEachItem(target.Key ?? target.Value!, () =>
                {
                    SetWaagentConfigOptions options = Options(target.Key, target.Value);
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
        private SetWaagentConfigOptions Options(string? path, string? root)
        {
            var options = new SetWaagentConfigOptions
            {
                Path = path,
                RootPath = root,
                AzureRecommended = AzureRecommended,
                AllowUnknownKeys = AllowUnknownKey,
                SwapSizeMB = Bound(nameof(SwapSizeMB)) ? SwapSizeMB : (long?)null,
            };
            if (Setting != null)
            {
                foreach (DictionaryEntry e in Setting)
                {
                    options.Settings.Add(new KeyValuePair<string, string?>(Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? string.Empty, ValueText(e.Value)));
                }
            }
            AddSwitch(options, nameof(ResourceDiskFormat), "ResourceDisk.Format", ResourceDiskFormat);
            AddText(options, nameof(ResourceDiskFilesystem), "ResourceDisk.Filesystem", ResourceDiskFilesystem);
            AddText(options, nameof(ResourceDiskMountPoint), "ResourceDisk.MountPoint", ResourceDiskMountPoint);
            AddSwitch(options, nameof(ResourceDiskEnableSwap), "ResourceDisk.EnableSwap", ResourceDiskEnableSwap);
            AddText(options, nameof(ResourceDiskSwapSizeMB), "ResourceDisk.SwapSizeMB", ResourceDiskSwapSizeMB.ToString(CultureInfo.InvariantCulture));
            AddText(options, nameof(ProvisioningAgent), "Provisioning.Agent", ProvisioningAgent);
            AddSwitch(options, nameof(RegenerateSshHostKeyPair), "Provisioning.RegenerateSshHostKeyPair", RegenerateSshHostKeyPair);
            AddSwitch(options, nameof(DeleteRootPassword), "Provisioning.DeleteRootPassword", DeleteRootPassword);
            AddSwitch(options, nameof(AutoUpdate), "AutoUpdate.Enabled", AutoUpdate);
            AddText(options, nameof(OSRootDeviceScsiTimeout), "OS.RootDeviceScsiTimeout", OSRootDeviceScsiTimeout.ToString(CultureInfo.InvariantCulture));
            return options;
        }

        private bool Bound(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);

        private void AddSwitch(SetWaagentConfigOptions options, string parameter, string key, bool value)
        {
            if (Bound(parameter))
            {
                options.Settings.Add(new KeyValuePair<string, string?>(key, value ? "y" : "n"));
            }
        }

        private void AddText(SetWaagentConfigOptions options, string parameter, string key, string? value)
        {
            if (Bound(parameter))
            {
                options.Settings.Add(new KeyValuePair<string, string?>(key, value));
            }
        }

        private static string? ValueText(object? value)
        {
            object? v = value is PSObject ps ? ps.BaseObject : value;
            return v switch
            {
                null => null,
                bool b => b ? "y" : "n",
                SwitchParameter s => s.IsPresent ? "y" : "n",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => v.ToString(),
            };
        }
    }
}
