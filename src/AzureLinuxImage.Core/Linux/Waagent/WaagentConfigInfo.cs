using System.Collections.Generic;

namespace AzureLinuxImage.Linux.Waagent
{
    /// <summary>How serious a <see cref="WaagentConfigProblem"/> is.</summary>
    public enum WaagentProblemSeverity
    {
        /// <summary>The agent will not do what the file seems to ask (or cannot read it at all).</summary>
        Error,
        /// <summary>Probably a mistake, or a conflict with another agent.</summary>
        Warning,
        /// <summary>Worth knowing, harmless.</summary>
        Information,
    }

    /// <summary>Something found in a waagent.conf, with the line it is about.</summary>
    public sealed class WaagentConfigProblem
    {
        /// <summary>Creates a problem.</summary>
        public WaagentConfigProblem(WaagentProblemSeverity severity, string code, string? key, int? lineNumber, string message)
        {
            Severity = severity;
            Code = code;
            Key = key;
            LineNumber = lineNumber;
            Message = message;
        }

        /// <summary>How serious it is.</summary>
        public WaagentProblemSeverity Severity { get; }

        /// <summary>A stable identifier such as <c>InvalidValue</c>, <c>DuplicateKey</c>, <c>RemovedOption</c>, <c>ProvisioningAgentConflict</c>.</summary>
        public string Code { get; }

        /// <summary>The option concerned, when there is one.</summary>
        public string? Key { get; }

        /// <summary>1-based line number in the file, when the problem is on a line.</summary>
        public int? LineNumber { get; }

        /// <summary>What is wrong and what to do.</summary>
        public string Message { get; }

        /// <inheritdoc />
        public override string ToString() => LineNumber.HasValue ? $"{Severity} {Code} (line {LineNumber}): {Message}" : $"{Severity} {Code}: {Message}";
    }

    /// <summary>One option of waagent.conf: set in the file (with its line) or defaulted by the agent.</summary>
    public sealed class WaagentSetting
    {
        /// <summary>Creates a setting.</summary>
        public WaagentSetting(string key, string? value, string? defaultValue, string? effectiveValue, bool isSet, int? lineNumber, bool isDocumented, string? type, string? description)
        {
            Key = key;
            Value = value;
            DefaultValue = defaultValue;
            EffectiveValue = effectiveValue;
            IsSet = isSet;
            LineNumber = lineNumber;
            IsDocumented = isDocumented;
            Type = type;
            Description = description;
        }

        /// <summary>The key, exactly as the agent matches it (case-sensitive).</summary>
        public string Key { get; }

        /// <summary>The value as the agent reads it from the file; null when the key is absent.</summary>
        public string? Value { get; }

        /// <summary>What the agent uses when the key is absent; null when that means "unset".</summary>
        public string? DefaultValue { get; }

        /// <summary>What the agent actually uses: the value, or the default when absent, "None" or unreadable.</summary>
        public string? EffectiveValue { get; }

        /// <summary>Whether a Key=Value line for this option is in the file.</summary>
        public bool IsSet { get; }

        /// <summary>The line the agent takes (the last one for a duplicated key); null when defaulted.</summary>
        public int? LineNumber { get; }

        /// <summary>Whether this is one of the agent's documented options.</summary>
        public bool IsDocumented { get; }

        /// <summary>Switch, Integer or String for a documented option; null for an unknown key.</summary>
        public string? Type { get; }

        /// <summary>What the option does.</summary>
        public string? Description { get; }
    }

    /// <summary>
    /// The Azure Linux Agent's configuration as the agent will see it (Get-WaagentConfig). Exactly one of
    /// <see cref="Path"/>, <see cref="RootPath"/> and <see cref="ImagePath"/> is set, so the object pipes into
    /// Set-WaagentConfig with the right parameter set.
    /// </summary>
    public sealed class WaagentConfigInfo
    {
        /// <summary>The configuration file on this machine, when read with -Path; after Set-WaagentConfig on an image, the image (as <see cref="ImagePath"/>), so the result pipes into the image cmdlets.</summary>
        public string? Path { get; init; }

        /// <summary>The Linux root folder, when read with -RootPath.</summary>
        public string? RootPath { get; init; }

        /// <summary>The disk image, when read with -ImagePath.</summary>
        public string? ImagePath { get; init; }

        /// <summary>The file read: a host path, or /etc/waagent.conf inside the root or image.</summary>
        public string ConfigPath { get; init; } = string.Empty;

        /// <summary>Which agent provisions the VM: auto, waagent, cloud-init or disabled.</summary>
        public string? ProvisioningAgent { get; init; }

        /// <summary>Provisioning.RegenerateSshHostKeyPair.</summary>
        public bool RegenerateSshHostKeyPair { get; init; }

        /// <summary>Provisioning.DeleteRootPassword.</summary>
        public bool DeleteRootPassword { get; init; }

        /// <summary>ResourceDisk.Format.</summary>
        public bool ResourceDiskFormat { get; init; }

        /// <summary>ResourceDisk.Filesystem.</summary>
        public string? ResourceDiskFilesystem { get; init; }

        /// <summary>ResourceDisk.MountPoint.</summary>
        public string? ResourceDiskMountPoint { get; init; }

        /// <summary>ResourceDisk.EnableSwap.</summary>
        public bool ResourceDiskEnableSwap { get; init; }

        /// <summary>ResourceDisk.SwapSizeMB.</summary>
        public long ResourceDiskSwapSizeMB { get; init; }

        /// <summary>AutoUpdate.Enabled.</summary>
        public bool AutoUpdateEnabled { get; init; }

        /// <summary>Extensions.Enabled.</summary>
        public bool ExtensionsEnabled { get; init; }

        /// <summary>OS.RootDeviceScsiTimeout in seconds; null leaves the kernel's.</summary>
        public long? OSRootDeviceScsiTimeout { get; init; }

        /// <summary>Whether the agent will put swap on the resource disk: Format=y, EnableSwap=y and SwapSizeMB &gt; 0.</summary>
        public bool SwapOnResourceDisk => ResourceDiskFormat && ResourceDiskEnableSwap && ResourceDiskSwapSizeMB > 0;

        /// <summary>R-AGENT-5 holds: Format=y, Filesystem=ext4, MountPoint=/mnt/resource, EnableSwap=y, SwapSizeMB &gt; 0.</summary>
        public bool MeetsAzureRecommendation => SwapOnResourceDisk && ResourceDiskFilesystem == "ext4" && ResourceDiskMountPoint == "/mnt/resource";

        /// <summary>Every documented option and every other key in the file, in catalogue then file order.</summary>
        public IReadOnlyList<WaagentSetting> Settings { get; init; } = new WaagentSetting[0];

        /// <summary>Invalid values, duplicates, removed options, unknown keys and conflicts with other agents.</summary>
        public IReadOnlyList<WaagentConfigProblem> Problems { get; init; } = new WaagentConfigProblem[0];

        /// <summary>Number of lines in the file.</summary>
        public int LineCount { get; init; }

        /// <summary>LF, CRLF, Mixed or None.</summary>
        public string LineEndings { get; init; } = "None";

        /// <summary>Whether the file starts with a UTF-8 byte order mark.</summary>
        public bool HasByteOrderMark { get; init; }

        /// <summary>Whether the last line ends with a newline.</summary>
        public bool EndsWithNewline { get; init; }
    }
}
