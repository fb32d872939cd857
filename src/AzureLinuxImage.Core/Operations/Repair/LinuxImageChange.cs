using System;

namespace AzureLinuxImage.Operations
{
    /// <summary>What was done to one item inside an image.</summary>
    public enum LinuxImageChangeAction
    {
        /// <summary>Lines of a file changed (Before/After hold the lines).</summary>
        Edited,
        /// <summary>A file, directory or link was created.</summary>
        Created,
        /// <summary>A file, directory or link was removed.</summary>
        Removed,
        /// <summary>A file was emptied (kept, with its owner and mode).</summary>
        Truncated,
        /// <summary>A failing finding has no safe offline fix: it needs a package, a kernel, a rebuild or a decision (see Remediation).</summary>
        NotFixed,
    }

    /// <summary>
    /// One change made (or, under -WhatIf / --dry-run, that would be made) by Repair-LinuxImage,
    /// Clear-LinuxImageState or Install-AgentlessProvisioning; or a finding left for the admin.
    /// </summary>
    public sealed class LinuxImageChange
    {
        /// <summary>The image file or root folder.</summary>
        public string Path { get; init; } = string.Empty;

        /// <summary>Repair, Generalize or Agentless.</summary>
        public string Operation { get; init; } = string.Empty;

        /// <summary>The readiness rule the change fixes (Repair), or the item class (Generalize: MachineId, SshHostKeys ...).</summary>
        public string? RuleId { get; init; }

        /// <summary>What was done.</summary>
        public LinuxImageChangeAction Action { get; init; }

        /// <summary>The file inside the image, absolute ('/etc/default/grub').</summary>
        public string? ItemPath { get; init; }

        /// <summary>The line of <see cref="ItemPath"/> before the change (1-based), or 0.</summary>
        public int Line { get; init; }

        /// <summary>The line (or lines) before the change; null for a created item.</summary>
        public string? Before { get; init; }

        /// <summary>The line (or lines) after the change; null for a removed line or item.</summary>
        public string? After { get; init; }

        /// <summary>Why, in one sentence.</summary>
        public string Description { get; init; } = string.Empty;

        /// <summary>For NotFixed: what the admin must do (a package to install, a command to run in the VM).</summary>
        public string? Remediation { get; init; }

        /// <summary>Whether the change was written into the image (false for -WhatIf / --dry-run and for NotFixed).</summary>
        public bool Applied { get; internal set; }

        /// <inheritdoc/>
        public override string ToString() =>
            $"{Action} {ItemPath}{(Line > 0 ? ":" + Line : string.Empty)}: {Description}";
    }
}
