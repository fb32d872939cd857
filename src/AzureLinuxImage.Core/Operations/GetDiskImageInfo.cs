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
            info.NotReadyReasons = reasons;
            info.AzureUploadReady = reasons.Count == 0;
            info.Warnings = warnings;
            return info;
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
