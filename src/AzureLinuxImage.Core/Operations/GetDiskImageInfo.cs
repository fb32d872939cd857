using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.Operations
{
    /// <summary>Get-DiskImageInfo / azlinux info: describes an image and whether Azure takes it as is.</summary>
    internal static class GetDiskImageInfo
    {
        public static DiskImageInfo Run(string path, IOperationContext context)
        {
            using DiskImage image = DiskImage.Open(path);
            return Describe(image, context);
        }

        public static DiskImageInfo Describe(DiskImage image, IOperationContext context)
        {
            var info = new DiskImageInfo
            {
                Path = image.Path,
                Format = image.Format,
                Variant = image.Variant,
                VirtualSize = image.VirtualSize,
                IsMiBAligned = image.VirtualSize % AzureDiskRules.MiB == 0,
                FileSize = new FileInfo(image.Path).Length,
                LogicalSectorSize = image.LogicalSectorSize,
                PhysicalSectorSize = image.PhysicalSectorSize,
                CreatorApplication = image.CreatorApplication,
                PartitionStyle = PartitionTableProbe.Detect(image),
            };
            long allocated = 0;
            foreach (ByteRange r in image.GetAllocatedRanges())
            {
                context.Cancellation.ThrowIfCancellationRequested();
                allocated += r.Length;
            }
            info.AllocatedBytes = allocated;
            var chain = new List<string>();
            for (DiskImage? p = image.Parent; p != null; p = p.Parent)
            {
                chain.Add(p.Path);
            }
            info.ParentChain = chain;

            var reasons = new List<string>();
            var warnings = new List<string>(image.Warnings);
            DescribeContent(image, info, warnings);
            AzureDiskRules.Evaluate(info, reasons, warnings);
            DetectUnfinishedResize(image, info, reasons);
            info.NotReadyReasons = reasons;
            info.AzureUploadReady = reasons.Count == 0;
            info.Warnings = warnings;
            return info;
        }

        /// <summary>
        /// A GPT whose backup is not at the last LBA: what a resize stopped between its footer and its GPT
        /// writes leaves (no order of those writes avoids it: the footer and the primary header both change).
        /// Resize-VhdAligned run again finishes it (issue 16).
        /// </summary>
        private static void DetectUnfinishedResize(DiskImage image, DiskImageInfo info, List<string> reasons)
        {
            if (info.PartitionStyle != PartitionStyle.Gpt || image.LogicalSectorSize != 512 || image.VirtualSize < 1024)
            {
                return;
            }
            var sector = new byte[512];
            image.Read(512, sector, 0, sector.Length);
            ulong? misplaced = GptBackupRelocation.MisplacedBackupLba(sector, image.VirtualSize);
            if (misplaced != null)
            {
                reasons.Add($"the primary GPT puts its backup at LBA {misplaced}, not at the disk's last LBA {(image.VirtualSize / 512) - 1} (a resize that did not finish, or a disk grown by another tool). Run Resize-VhdAligned (azlinux resize) again to finish it.");
            }
        }

        /// <summary>Partitions, LVM volumes, probed file systems and fstab mounts; damage there is a warning, not a failure of the whole description.</summary>
        private static void DescribeContent(DiskImage image, DiskImageInfo info, List<string> warnings)
        {
            try
            {
                using LinuxImage linux = LinuxImage.Open(image, ownsDisk: false);
                info.Partitions = linux.Table.Partitions;
                info.LogicalVolumes = linux.LogicalVolumes;
                info.Volumes = linux.Volumes;
                info.Mounts = linux.Mounts;
                foreach (string w in linux.Warnings)
                {
                    if (!warnings.Contains(w))
                    {
                        warnings.Add(w);
                    }
                }
            }
            catch (AzureLinuxImageException e)
            {
                warnings.Add("The partitions and file systems could not be read: " + e.Message);
            }
        }
    }
}
