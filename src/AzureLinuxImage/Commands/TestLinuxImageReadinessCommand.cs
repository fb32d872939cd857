using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Commands
{
    /// <summary>Test-LinuxImageReadiness: checks an image or a root folder offline against every readiness rule; one finding per rule.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "LinuxImageReadiness", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(ReadinessFinding), typeof(bool))]
    public sealed class TestLinuxImageReadinessCommand : ImagePathCmdlet
    {
        private const string RootPathSet = "RootPath";

        /// <summary>A Linux root folder (a mounted or extracted image, a chroot) instead of an image file.</summary>
        [Parameter(Mandatory = true, ParameterSetName = RootPathSet)]
        [ValidateNotNullOrEmpty]
        public string RootPath { get; set; } = null!;

        /// <summary>The VM generation the image is for: 1 (BIOS), 2 (UEFI) or Auto (whichever the disk supports).</summary>
        [Parameter]
        [ValidateSet("1", "2", "Auto", IgnoreCase = true)]
        public string Generation { get; set; } = "Auto";

        /// <summary>The provisioning agent the image is meant to use; Auto accepts whichever it enables.</summary>
        [Parameter]
        public ProvisioningAgentChoice ProvisioningAgent { get; set; } = ProvisioningAgentChoice.Auto;

        /// <summary>Only these rules (ids, wildcards allowed).</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ReadinessRuleCompleter))]
        public string[]? Rule { get; set; }

        /// <summary>Skip these rules (ids, wildcards allowed).</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ReadinessRuleCompleter))]
        public string[]? ExcludeRule { get; set; }

        /// <summary>Return $true when no rule fails, $false otherwise, instead of the findings.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>No Azure Pipelines / GitHub Actions logging commands even when TF_BUILD or GITHUB_ACTIONS is set (issue 23).</summary>
        [Parameter]
        public SwitchParameter NoPipelineLogging
        {
            get => PipelineLoggingDisabled;
            set => PipelineLoggingDisabled = value;
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            IEnumerable<(string Target, bool IsRoot)> targets = ParameterSetName == RootPathSet
                ? ResolveInputPaths(new[] { RootPath }, literal: true).Select(p => (p, true))
                : InputFiles().Select(p => (p, false));
            foreach ((string target, bool isRoot) in targets)
            {
                ForEachItem(target, () =>
                {
                    var options = new LinuxImageReadinessOptions
                    {
                        ImagePath = isRoot ? null : target,
                        RootPath = isRoot ? target : null,
                        Generation = VmGeneration.Parse(Generation),
                        ProvisioningAgent = ProvisioningAgent,
                        Rules = Rule?.ToList() ?? new List<string>(),
                        ExcludeRules = ExcludeRule?.ToList() ?? new List<string>(),
                    };
                    IReadOnlyList<ReadinessFinding> findings = TestLinuxImageReadiness.Run(options, Context);
                    Context.ReportFindings(findings); // annotations under Azure Pipelines / GitHub Actions (issue 23)
                    if (Quiet)
                    {
                        WriteObject(findings.All(f => f.Status != ReadinessStatus.Fail));
                    }
                    else
                    {
                        WriteObject(findings, enumerateCollection: true);
                    }
                });
            }
        }
    }
}
