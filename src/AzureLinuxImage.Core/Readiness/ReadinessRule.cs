using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Readiness
{
    /// <summary>Which provisioning agent the image is meant to use (-ProvisioningAgent).</summary>
    public enum ProvisioningAgentChoice
    {
        /// <summary>Whatever the image enables.</summary>
        Auto,
        /// <summary>The Azure Linux Agent provisions.</summary>
        Waagent,
        /// <summary>cloud-init provisions (waagent may stay for extensions).</summary>
        CloudInit,
        /// <summary>No agent: a first-boot unit reports ready (R-NOAGENT).</summary>
        None,
    }

    /// <summary>What a rule returns before its metadata is attached.</summary>
    internal sealed class RuleOutcome
    {
        public RuleOutcome(ReadinessStatus status, string message, SourceLine? evidence = null, string? remediation = null, string? structure = null)
        {
            Status = status;
            Message = message;
            Evidence = evidence;
            Remediation = remediation;
            Structure = structure;
        }

        public ReadinessStatus Status { get; }

        public string Message { get; }

        public SourceLine? Evidence { get; }

        public string? Remediation { get; }

        /// <summary>Evidence that is not a file line (a partition, the disk footer).</summary>
        public string? Structure { get; }
    }

    /// <summary>Everything a rule may look at: facts, the options, and the distribution-specific commands for remediations.</summary>
    internal sealed class ReadinessContext
    {
        public ReadinessContext(LinuxFacts facts, int? generation, ProvisioningAgentChoice agent)
        {
            Facts = facts;
            Generation = generation;
            Agent = agent;
        }

        public LinuxFacts Facts { get; }

        /// <summary>1 or 2 when the user named the VM generation; null for Auto.</summary>
        public int? Generation { get; }

        public ProvisioningAgentChoice Agent { get; }

        private OsIdentity? Os => Facts.Os.Value;

        /// <summary>RHEL family (grub2-mkconfig, dracut) rather than Debian family (update-grub, update-initramfs).</summary>
        public bool IsRedHatFamily => Os != null && (Os.IsLike("rhel") || Os.IsLike("fedora") || Os.IsLike("centos") || Os.IsLike("suse") || Os.IsLike("sles") || Os.IsLike("opensuse"));

        public string GrubConfigPath => Facts.Boot.Value?.GrubConfigPath ?? (IsRedHatFamily ? "/boot/grub2/grub.cfg" : "/boot/grub/grub.cfg");

        /// <summary>The command that regenerates grub.cfg from /etc/default/grub on this distribution.</summary>
        public string RegenerateGrub => IsRedHatFamily ? $"grub2-mkconfig -o {GrubConfigPath}" : "update-grub";

        /// <summary>The command that rebuilds the initramfs of every kernel on this distribution.</summary>
        public string RebuildInitramfs => IsRedHatFamily ? "dracut -f --regenerate-all" : "update-initramfs -u -k all";

        public string PackageInstall(string debian, string redhat) =>
            IsRedHatFamily ? $"dnf install -y {redhat}" : $"apt-get install -y {debian}";
    }

    /// <summary>One readiness rule: metadata for the catalogue and reports, and the check over facts.</summary>
    internal sealed class ReadinessRule
    {
        public ReadinessRule(string id, string area, string title, string requirement, ReadinessSeverity severity, string description, Func<ReadinessContext, RuleOutcome> check)
        {
            Id = id;
            Area = area;
            Title = title;
            Requirement = requirement;
            Severity = severity;
            Description = description;
            Check = check;
        }

        public string Id { get; }

        public string Area { get; }

        public string Title { get; }

        /// <summary>R-… ids of REQUIREMENTS.md or AZ-… rows of AZURE-LINUX.md, comma-separated.</summary>
        public string Requirement { get; }

        public ReadinessSeverity Severity { get; }

        /// <summary>What is checked and how, for the catalogue (docs/rules.md).</summary>
        public string Description { get; }

        public Func<ReadinessContext, RuleOutcome> Check { get; }
    }

    /// <summary>Helpers rules use to build outcomes.</summary>
    internal static class Outcome
    {
        public static RuleOutcome Pass(string message, SourceLine? evidence = null) => new RuleOutcome(ReadinessStatus.Pass, message, evidence);

        /// <summary>A problem: Fail for Error rules, Warning for Warning/Info rules (the checker applies the severity).</summary>
        public static RuleOutcome Fail(string message, SourceLine? evidence, string remediation) => new RuleOutcome(ReadinessStatus.Fail, message, evidence, remediation);

        public static RuleOutcome FailAt(string message, string structure, string remediation) => new RuleOutcome(ReadinessStatus.Fail, message, null, remediation, structure);

        /// <summary>A warning even from an Error rule (a softer variant of the problem).</summary>
        public static RuleOutcome Warn(string message, SourceLine? evidence, string? remediation) => new RuleOutcome(ReadinessStatus.Warning, message, evidence, remediation);

        public static RuleOutcome NotApplicable(string message) => new RuleOutcome(ReadinessStatus.NotApplicable, message);

        public static RuleOutcome Unknown(string message) => new RuleOutcome(ReadinessStatus.Unknown, message);

        /// <summary>Unknown when any fact group could not be read; null when all are known.</summary>
        public static RuleOutcome? UnknownIf(params (string Name, string? Error)[] facts)
        {
            var failed = facts.Where(f => f.Error != null).ToList();
            return failed.Count == 0 ? null : Unknown(string.Join("; ", failed.Select(f => $"{f.Name} could not be read: {f.Error}")));
        }

        public static string List(IEnumerable<SourceLine> lines) => string.Join(", ", lines.Select(l => l.ToString()));
    }
}
