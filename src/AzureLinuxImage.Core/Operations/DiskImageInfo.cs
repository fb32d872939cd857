using System;
using System.Collections.Generic;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Partitions.Lvm;

namespace AzureLinuxImage.Operations
{
    /// <summary>What Get-DiskImageInfo (and the writers, as their output) say about a disk image.</summary>
    public sealed class DiskImageInfo
    {
        /// <summary>Full path of the image file; pipes into the next cmdlet's -Path.</summary>
        public string Path { get; internal set; } = string.Empty;

        /// <summary>
        /// <see cref="Path"/> again, under the name the cmdlets that change files inside an image bind from the
        /// pipeline (Set-WaagentConfig -ImagePath): a converted image pipes in as an image, not as a file to guess.
        /// </summary>
        public string ImagePath => Path;

        /// <summary>Container format, detected by content.</summary>
        public DiskFormat Format { get; internal set; }

        /// <summary>Fixed, dynamic or differencing.</summary>
        public DiskVariant Variant { get; internal set; }

        /// <summary>Size of the virtual disk in bytes.</summary>
        public long VirtualSize { get; internal set; }

        /// <summary>Whether <see cref="VirtualSize"/> is a whole number of MiB (R-DISK-2).</summary>
        public bool IsMiBAligned { get; internal set; }

        /// <summary>Bytes of the virtual disk that may hold data (from the container's map or the file system's sparse map).</summary>
        public long AllocatedBytes { get; internal set; }

        /// <summary>Size of the image file itself.</summary>
        public long FileSize { get; internal set; }

        /// <summary>Logical sector size the guest sees.</summary>
        public int LogicalSectorSize { get; internal set; }

        /// <summary>Physical sector size the container reports.</summary>
        public int PhysicalSectorSize { get; internal set; }

        /// <summary>Creator application recorded by the container (VHD "win ", "qemu" ...), when any.</summary>
        public string? CreatorApplication { get; internal set; }

        /// <summary>Parents of a differencing image, nearest first.</summary>
        public IReadOnlyList<string> ParentChain { get; internal set; } = Array.Empty<string>();

        /// <summary>MBR, GPT or none.</summary>
        public PartitionStyle PartitionStyle { get; internal set; }

        /// <summary>The partitions of the MBR or GPT, in table order (logical MBR partitions numbered from 5).</summary>
        public IReadOnlyList<PartitionInfo> Partitions { get; internal set; } = Array.Empty<PartitionInfo>();

        /// <summary>LVM2 logical volumes found on the image's physical volumes.</summary>
        public IReadOnlyList<LogicalVolumeInfo> LogicalVolumes { get; internal set; } = Array.Empty<LogicalVolumeInfo>();

        /// <summary>Every partition, logical volume (or the whole disk) with the file system, swap or PV its signature shows, UUID and label.</summary>
        public IReadOnlyList<VolumeInfo> Volumes { get; internal set; } = Array.Empty<VolumeInfo>();

        /// <summary>The Linux root and the mounts of its /etc/fstab, as found in the image (empty when no root was found).</summary>
        public IReadOnlyList<MountInfo> Mounts { get; internal set; } = Array.Empty<MountInfo>();

        /// <summary>Whether Azure accepts this file as it is for a page blob / managed disk upload.</summary>
        public bool AzureUploadReady { get; internal set; }

        /// <summary>Why <see cref="AzureUploadReady"/> is false (empty when it is true).</summary>
        public IReadOnlyList<string> NotReadyReasons { get; internal set; } = Array.Empty<string>();

        /// <summary>Things to know that do not block the upload (e.g. an OS disk over 2 TiB needs Generation 2).</summary>
        public IReadOnlyList<string> Warnings { get; internal set; } = Array.Empty<string>();

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => System.FormattableString.Invariant($"{Path} ({Format} {Variant}, {VirtualSize} bytes)");
    }
}
