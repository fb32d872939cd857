using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Operations
{
    /// <summary>Options of Test-LinuxImageReadiness / azlinux test.</summary>
    public sealed class LinuxImageReadinessOptions
    {
        /// <summary>The disk image to inspect; exclusive with <see cref="RootPath"/>.</summary>
        public string? ImagePath { get; set; }

        /// <summary>A Linux root folder to inspect (a mounted image or a chroot); exclusive with <see cref="ImagePath"/>.</summary>
        public string? RootPath { get; set; }

        /// <summary>1 or 2 for the VM generation the image is meant for; null for Auto (whichever the disk supports).</summary>
        public int? Generation { get; set; }

        /// <summary>The provisioning agent the image is meant to use.</summary>
        public ProvisioningAgentChoice ProvisioningAgent { get; set; }

        /// <summary>Rule ids to run (wildcards allowed); all when empty.</summary>
        public IList<string> Rules { get; set; } = new List<string>();

        /// <summary>Rule ids to skip (wildcards allowed).</summary>
        public IList<string> ExcludeRules { get; set; } = new List<string>();

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => ImagePath ?? RootPath ?? string.Empty;
    }

    /// <summary>Opens a disk image as one Linux root view (partitions, LVM, fstab mounts) plus its disk facts; tests pass their own.</summary>
    internal delegate InspectedImage LinuxImageOpener(string imagePath, IOperationContext context);

    /// <summary>Test-LinuxImageReadiness / azlinux test: facts from the image, every selected rule, one finding per rule.</summary>
    internal static class TestLinuxImageReadiness
    {
        /// <summary>Agent names as users write them: auto, waagent, cloud-init (or cloudinit), none; any case.</summary>
        public static ProvisioningAgentChoice ParseProvisioningAgent(string? text)
        {
            string value = (text ?? "auto").Trim().ToLowerInvariant();
            return value switch
            {
                "auto" => ProvisioningAgentChoice.Auto,
                "waagent" => ProvisioningAgentChoice.Waagent,
                "cloud-init" or "cloudinit" => ProvisioningAgentChoice.CloudInit,
                "none" => ProvisioningAgentChoice.None,
                _ => throw new AzureLinuxImageException("InvalidProvisioningAgent", ErrorKind.InvalidArgument, $"Provisioning agent '{text}' is not known: use auto, waagent, cloud-init or none."),
            };
        }

        private static string Describe(IList<string> patterns) => patterns.Count == 0 ? "all" : string.Join(", ", patterns);

        public static IReadOnlyList<ReadinessFinding> Run(LinuxImageReadinessOptions options, IOperationContext context,
            LinuxImageOpener? imageOpener = null)
        {
            if ((options.ImagePath == null) == (options.RootPath == null))
            {
                throw new AzureLinuxImageException("ImageOrRootRequired", ErrorKind.InvalidArgument, "Give either an image path or a root folder (-RootPath), not both.");
            }
            VmGeneration.Require(options.Generation);
            IReadOnlyList<string> unknownRules = ReadinessRules.Unmatched(options.Rules.Concat(options.ExcludeRules));
            if (unknownRules.Count > 0)
            {
                throw new AzureLinuxImageException("UnknownRule", ErrorKind.InvalidArgument,
                    $"No rule is named {string.Join(", ", unknownRules)}. Rules: {string.Join(", ", ReadinessRules.All.Select(r => r.Id))}.");
            }
            IReadOnlyList<ReadinessRule> rules = ReadinessRules.Select(options.Rules, options.ExcludeRules);
            if (rules.Count == 0)
            {
                // An empty selection would report nothing and so "pass": a usage error, not a result.
                throw new AzureLinuxImageException("NoRuleSelected", ErrorKind.InvalidArgument,
                    $"The rule selection (include: {Describe(options.Rules)}; exclude: {Describe(options.ExcludeRules)}) leaves no rule to check.");
            }
            string path;
            InspectedImage view;
            if (options.RootPath != null)
            {
                path = options.RootPath;
                view = new InspectedImage(new HostDirectoryFileSystem(options.RootPath), null);
            }
            else
            {
                path = options.ImagePath!;
                context.Verbose($"Opening {path}");
                view = (imageOpener ?? OpenImage)(path, context);
            }
            using (view)
            {
                var facts = new LinuxFacts(view.Root, view.Disk);
                if (!facts.LooksLikeLinuxRoot)
                {
                    throw new AzureLinuxImageException("NotALinuxRoot", ErrorKind.InvalidArgument,
                        $"{view.Root.Description} is not a Linux root (it needs /etc, /bin or /usr/bin, and /etc/fstab, /etc/hosts or /etc/os-release).", path);
                }
                var ctx = new ReadinessContext(facts, options.Generation, options.ProvisioningAgent);
                var findings = new List<ReadinessFinding>();
                int done = 0;
                foreach (ReadinessRule rule in rules)
                {
                    context.Cancellation.ThrowIfCancellationRequested();
                    context.Progress("Testing Linux image readiness", rule.Id, done++, rules.Count);
                    findings.AddRange(ReadinessChecker.Run(path, ctx, new[] { rule }));
                }
                context.Progress("Testing Linux image readiness", "done", rules.Count, rules.Count);
                OsIdentity? os = facts.Os.Value;
                context.Verbose($"{path}: {os?.PrettyName ?? "unknown distribution"}, {findings.Count(f => f.Status == ReadinessStatus.Fail)} failed, " +
                    $"{findings.Count(f => f.Status == ReadinessStatus.Warning)} warnings of {findings.Count} rules.");
                return findings;
            }
        }

        /// <summary>The Linux view of Linux/LinuxImageInspection, its warnings passed on as they are found.</summary>
        private static InspectedImage OpenImage(string path, IOperationContext context)
        {
            InspectedImage view = LinuxImageInspection.Open(path);
            foreach (string w in view.Warnings)
            {
                context.Warning(w);
            }
            return view;
        }
    }
}
