using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// The readiness gate of a publish (issue 26): every rule runs; the disk-format rules that the upload's
    /// own conversion satisfies (FixedVhd R-DISK-1, SizeWholeMiB R-DISK-2: the aligned fixed VHD is what is
    /// sent) do not count; any other failure refuses the publish unless forced.
    /// </summary>
    internal static class PublishReadinessGate
    {
        /// <summary>Rules met by the conversion on the way: their failures are about the source's container only.</summary>
        public static readonly IReadOnlyCollection<string> MetByConversion = new[] { "FixedVhd", "SizeWholeMiB" };

        /// <summary>The failures that block; throws ImageNotReady unless <paramref name="force"/> (then warns).</summary>
        public static IReadOnlyList<ReadinessFinding> Check(string imagePath, int? generation, bool force, IOperationContext context)
        {
            var options = new LinuxImageReadinessOptions { ImagePath = imagePath, Generation = generation };
            List<ReadinessFinding> failures = TestLinuxImageReadiness.Run(options, context)
                .Where(f => f.Status == ReadinessStatus.Fail && !MetByConversion.Contains(f.RuleId))
                .ToList();
            if (failures.Count == 0)
            {
                return failures;
            }
            string list = string.Join("; ", failures.Select(f => $"{f.RuleId}: {f.Message}"));
            if (!force)
            {
                throw new AzureLinuxImageException("ImageNotReady", ErrorKind.InvalidArgument,
                    $"{imagePath} fails {failures.Count} readiness rule(s): {list}. Fix them (Repair-LinuxImage / azlinux fix), or use -Force (--force) to publish anyway. Nothing was sent to Azure.", imagePath);
            }
            context.Warning($"Publishing despite {failures.Count} failed readiness rule(s) (-Force): {list}");
            return failures;
        }
    }
}
