using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Operations
{
    /// <summary>Options of Repair-LinuxImage / azlinux fix.</summary>
    internal sealed class RepairLinuxImageOptions
    {
        /// <summary>The disk image to fix; exclusive with <see cref="RootPath"/>.</summary>
        public string? ImagePath { get; set; }

        /// <summary>A Linux root folder to fix.</summary>
        public string? RootPath { get; set; }

        /// <summary>Rule ids to fix (wildcards allowed); all when empty.</summary>
        public IList<string> Rules { get; set; } = new List<string>();

        /// <summary>Rule ids to leave alone (wildcards allowed).</summary>
        public IList<string> ExcludeRules { get; set; } = new List<string>();

        /// <summary>The provisioning agent the image is meant to use (as for Test-LinuxImageReadiness).</summary>
        public ProvisioningAgentChoice ProvisioningAgent { get; set; }

        /// <summary>Write a changed copy of the image here instead of changing it in place (images only).</summary>
        public string? Destination { get; set; }

        /// <summary>With <see cref="Destination"/>: replace an existing file.</summary>
        public bool Force { get; set; }
    }

    /// <summary>
    /// Repair-LinuxImage / azlinux fix (issue 18): runs the readiness rules on the image, applies the safe offline fix
    /// of each failing finding through the staged writer, checks the rules again on the staged result, and commits.
    /// A finding that needs a package, a kernel, an initramfs rebuild or a decision is reported NotFixed with its
    /// remediation; nothing is faked.
    /// </summary>
    internal static class RepairLinuxImage
    {
        /// <summary>Rules that only generalize clears (Clear-LinuxImageState), never Repair.</summary>
        private static readonly HashSet<string> GeneralizeRules = new HashSet<string>(StringComparer.Ordinal)
        {
            "NoStaleProvisioningState", "NoDhcpLeases", "NoPasswordHashes", "NoAuthorizedKeys", "NoShellHistory", "MachineIdBlank", "DbusMachineIdBlank", "SshHostKeysRegenerated",
        };

        public static IReadOnlyList<LinuxImageChange> Run(RepairLinuxImageOptions options, IOperationContext context)
        {
            IReadOnlyList<string> unknownRules = ReadinessRules.Unmatched(options.Rules.Concat(options.ExcludeRules));
            if (unknownRules.Count > 0)
            {
                throw new AzureLinuxImageException("UnknownRule", ErrorKind.InvalidArgument,
                    $"No rule is named {string.Join(", ", unknownRules)}. Rules: {string.Join(", ", ReadinessRules.All.Select(r => r.Id))}.");
            }
            IReadOnlyList<ReadinessRule> rules = ReadinessRules.Select(options.Rules, options.ExcludeRules);
            return WriteOperation.Execute(options.ImagePath, options.RootPath, options.Destination, options.Force, "Repair the Linux image", context,
                target => Fix(target, rules, options, context));
        }

        private static ImageEditor Fix(WritableTarget target, IReadOnlyList<ReadinessRule> rules, RepairLinuxImageOptions options, IOperationContext context)
        {
            var ed = new ImageEditor(target.Writer, target.Source, "Repair");
            context.Progress("Repairing Linux image", "checking", 0, 3);
            var before = Check(target, rules, options);
            var failing = before.Where(f => f.Finding.Status == ReadinessStatus.Fail || f.Finding.Status == ReadinessStatus.Warning).ToList();
            var attempted = new HashSet<string>(StringComparer.Ordinal);
            context.Progress("Repairing Linux image", "fixing", 1, 3);
            var fixer = new RepairFixes(ed, target, before.ToDictionary(f => f.Finding.RuleId, f => f.Finding), before.Count == 0 ? null : before[0].Context);
            foreach (string id in fixer.Apply(failing.Select(f => f.Finding).ToList()))
            {
                attempted.Add(id);
            }
            context.Cancellation.ThrowIfCancellationRequested();
            context.Progress("Repairing Linux image", "checking the result", 2, 3);
            var after = Check(target, rules, options).ToDictionary(f => f.Finding.RuleId, f => f.Finding);
            foreach (ReadinessFinding f in failing.Select(x => x.Finding))
            {
                ReadinessFinding now = after[f.RuleId];
                if (now.Status == ReadinessStatus.Fail || now.Status == ReadinessStatus.Warning)
                {
                    if (!ed.Changes.Any(c => c.RuleId == f.RuleId && c.Action == LinuxImageChangeAction.NotFixed))
                    {
                        string why = GeneralizeRules.Contains(f.RuleId)
                            ? "Generalizing clears this: Clear-LinuxImageState (azlinux generalize)."
                            : attempted.Contains(f.RuleId) ? "Partly fixed offline; still " + now.Status + ": " + now.Message : now.Message;
                        ed.NotFixed(f.RuleId, now.EvidenceFile, now.EvidenceLine, why,
                            GeneralizeRules.Contains(f.RuleId) ? "Clear-LinuxImageState -Path <image> (azlinux generalize <image>)" : now.Remediation);
                    }
                }
            }
            // A fix can expose another rule (Provisioning.Agent=waagent makes waagent provision, which needs eject): said, not hidden.
            var wasFailing = new HashSet<string>(failing.Select(f => f.Finding.RuleId), StringComparer.Ordinal);
            foreach (ReadinessFinding now in after.Values.Where(f => (f.Status == ReadinessStatus.Fail || f.Status == ReadinessStatus.Warning) && !wasFailing.Contains(f.RuleId)))
            {
                ed.NotFixed(now.RuleId, now.EvidenceFile, now.EvidenceLine, "Fails once the changes above are made: " + now.Message, now.Remediation);
            }
            context.Progress("Repairing Linux image", "done", 3, 3);
            return ed;
        }

        private sealed record Checked(ReadinessFinding Finding, ReadinessContext Context);

        private static List<Checked> Check(WritableTarget target, IReadOnlyList<ReadinessRule> rules, RepairLinuxImageOptions options)
        {
            var facts = new LinuxFacts(target.Writer, target.Disk);
            var ctx = new ReadinessContext(facts, null, options.ProvisioningAgent);
            return ReadinessChecker.Run(target.Source, ctx, rules).Select(f => new Checked(f, ctx)).ToList();
        }
    }
}
