using System.Collections.Generic;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.Operations
{
    /// <summary>What Azure requires of an uploaded disk file (R-DISK-1, R-DISK-2, AZURE-LINUX.md "disk").</summary>
    internal static class AzureDiskRules
    {
        public const long MiB = 1024 * 1024;
        public const long MinSize = 20 * MiB;
        public const long MaxSize = 32L * 1024 * 1024 * MiB;
        public const long Gen1OsDiskLimit = 2L * 1024 * 1024 * MiB;

        public static long RoundUpToMiB(long size) => (size + MiB - 1) / MiB * MiB;

        public static long RoundUpToSector(long size) => (size + 511) / 512 * 512;

        public static void Evaluate(DiskImageInfo info, List<string> reasons, List<string> warnings)
        {
            if (info.Format != DiskFormat.Vhd || info.Variant != DiskVariant.Fixed)
            {
                reasons.Add($"Azure takes only fixed VHD files; this is {Describe(info)} (R-DISK-1). Run ConvertTo-FixedVhd.");
            }
            if (!info.IsMiBAligned)
            {
                reasons.Add($"the virtual size {info.VirtualSize} bytes is not a whole number of MiB (R-DISK-2). Run Resize-VhdAligned or ConvertTo-FixedVhd.");
            }
            if (info.VirtualSize < MinSize || info.VirtualSize > MaxSize)
            {
                reasons.Add($"the virtual size {info.VirtualSize} bytes is outside what Azure uploads accept (20 MiB .. 32 TiB).");
            }
            if (info.LogicalSectorSize != 512)
            {
                reasons.Add($"the disk has {info.LogicalSectorSize}-byte logical sectors; its partition table is in {info.LogicalSectorSize}-byte LBAs, which the 512-byte sectors of an Azure VHD will not match.");
            }
            if (info.VirtualSize > Gen1OsDiskLimit)
            {
                if (info.PartitionStyle == PartitionStyle.Mbr)
                {
                    reasons.Add("an OS disk over 2 TiB needs a Generation 2 VM, which boots from GPT; this disk is MBR-partitioned.");
                }
                else
                {
                    warnings.Add("as an OS disk, a disk over 2 TiB needs a Generation 2 VM.");
                }
            }
        }

        private static string Describe(DiskImageInfo info) => info.Format == DiskFormat.Raw
            ? "a raw image"
            : $"a {info.Variant.ToString().ToLowerInvariant()} {info.Format.ToString().ToUpperInvariant()}";
    }
}
