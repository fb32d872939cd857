namespace AzureLinuxImage.Readiness
{
    /// <summary>Outcome of one readiness rule.</summary>
    public enum ReadinessStatus
    {
        /// <summary>The image meets the requirement.</summary>
        Pass,
        /// <summary>The image does not meet a requirement whose absence stops boot or provisioning in Azure.</summary>
        Fail,
        /// <summary>The image works but deviates from a recommendation.</summary>
        Warning,
        /// <summary>The rule does not apply to this image (a root folder has no partition table, no agent is used ...).</summary>
        NotApplicable,
        /// <summary>The facts the rule needs could not be read.</summary>
        Unknown,
    }

    /// <summary>How much a failed rule matters.</summary>
    public enum ReadinessSeverity
    {
        /// <summary>The VM does not boot, cannot be reached, or Azure rejects the image.</summary>
        Error,
        /// <summary>A recommendation: failing it reports Warning, never Fail.</summary>
        Warning,
        /// <summary>Information (capabilities such as which VM generations work).</summary>
        Info,
    }

    /// <summary>One rule's finding for one image (Test-LinuxImageReadiness emits one per rule).</summary>
    public sealed class ReadinessFinding
    {
        /// <summary>Creates a finding.</summary>
        public ReadinessFinding(string path, string ruleId, string title, string area, string requirement, ReadinessSeverity severity,
            ReadinessStatus status, string message, string? evidenceFile, int evidenceLine, string? evidence, string? remediation)
        {
            Path = path;
            RuleId = ruleId;
            Title = title;
            Area = area;
            Requirement = requirement;
            Severity = severity;
            Status = status;
            Message = message;
            EvidenceFile = evidenceFile;
            EvidenceLine = evidenceLine;
            Evidence = evidence;
            Remediation = remediation;
        }

        /// <summary>The image file or root folder checked.</summary>
        public string Path { get; }

        /// <summary>Stable rule identifier (for -Rule and -ExcludeRule), e.g. SerialConsole.</summary>
        public string RuleId { get; }

        /// <summary>What the rule checks, in a few words.</summary>
        public string Title { get; }

        /// <summary>Area of the image: Disk, Boot, Kernel, Initrd, Agent, System, Network, Swap, Hygiene.</summary>
        public string Area { get; }

        /// <summary>The requirement cited: R-… from REQUIREMENTS.md, or AZ-… for Azure's current documentation.</summary>
        public string Requirement { get; }

        /// <summary>The rule's severity.</summary>
        public ReadinessSeverity Severity { get; }

        /// <summary>The outcome.</summary>
        public ReadinessStatus Status { get; }

        /// <summary>What was found, in one or two sentences.</summary>
        public string Message { get; }

        /// <summary>The file inside the image that shows it, when there is one.</summary>
        public string? EvidenceFile { get; }

        /// <summary>The line of <see cref="EvidenceFile"/> (1-based), or 0.</summary>
        public int EvidenceLine { get; }

        /// <summary>The evidence as text: "file:line", or a structure ("GPT partition 2").</summary>
        public string? Evidence { get; }

        /// <summary>The exact change that fixes it (a command or a file edit); null when nothing is to be done.</summary>
        public string? Remediation { get; }

        /// <inheritdoc/>
        public override string ToString() => $"{Status} {RuleId}: {Message}";
    }
}
