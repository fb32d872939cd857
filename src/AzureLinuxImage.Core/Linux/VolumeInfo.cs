using System;
using System.Collections.Generic;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Btrfs;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Partitions.Lvm;

namespace AzureLinuxImage.Linux
{
    /// <summary>A place in the image that can hold a file system: a partition, an LVM logical volume or the whole disk, with what probing found there.</summary>
    public sealed class VolumeInfo
    {
        /// <summary>Creates a volume description.</summary>
        public VolumeInfo(string location, long size, PartitionInfo? partition, LogicalVolumeInfo? logicalVolume, DetectedFileSystem fileSystem)
        {
            Location = location;
            Size = size;
            Partition = partition;
            LogicalVolume = logicalVolume;
            FileSystem = fileSystem;
        }

        /// <summary>"partition 2 of disk.vhd", "LVM volume vg0/root", or the disk itself.</summary>
        public string Location { get; }

        /// <summary>Size in bytes.</summary>
        public long Size { get; }

        /// <summary>The partition, when the volume is one.</summary>
        public PartitionInfo? Partition { get; }

        /// <summary>The logical volume, when the volume is one.</summary>
        public LogicalVolumeInfo? LogicalVolume { get; }

        /// <summary>What the signature probe found.</summary>
        public DetectedFileSystem FileSystem { get; }

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => Location + ": " + FileSystem;
        /// <summary>On btrfs: its subvolumes and snapshots (empty otherwise).</summary>
        public IReadOnlyList<BtrfsSubvolumeInfo> Subvolumes { get; internal set; } = Array.Empty<BtrfsSubvolumeInfo>();
    }

    /// <summary>A mount of the image's /etc/fstab and how it was resolved.</summary>
    public sealed class MountInfo
    {
        /// <summary>Creates a mount description.</summary>
        public MountInfo(string mountPoint, string source, string type, string? location, bool mounted, string? problem)
        {
            MountPoint = mountPoint;
            Source = source;
            Type = type;
            Location = location;
            Mounted = mounted;
            Problem = problem;
        }

        /// <summary>Where it is mounted ("/", "/boot").</summary>
        public string MountPoint { get; }

        /// <summary>The fstab source (UUID=..., /dev/mapper/...), or the volume found for the root.</summary>
        public string Source { get; }

        /// <summary>File system type.</summary>
        public string Type { get; }

        /// <summary>The volume the source resolved to, when it did.</summary>
        public string? Location { get; }

        /// <summary>Whether the file system is part of the assembled view.</summary>
        public bool Mounted { get; }

        /// <summary>Why it is not, when it is not.</summary>
        public string? Problem { get; }

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => MountPoint + " <- " + Source + " (" + Type + ")" + (Problem == null ? string.Empty : ": " + Problem);
        /// <summary>On btrfs: the subvolume mounted there ("root", "@/home", or "5 (top level)").</summary>
        public string? Subvolume { get; internal set; }
    }
}
