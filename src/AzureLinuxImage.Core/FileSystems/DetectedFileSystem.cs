namespace AzureLinuxImage.FileSystems
{
    /// <summary>What a signature probe found on a partition, logical volume or whole disk.</summary>
    public enum FileSystemKind
    {
        /// <summary>No known signature.</summary>
        Unknown,
        /// <summary>ext2 (no journal).</summary>
        Ext2,
        /// <summary>ext3 (journal, no ext4-only features).</summary>
        Ext3,
        /// <summary>ext4.</summary>
        Ext4,
        /// <summary>XFS.</summary>
        Xfs,
        /// <summary>btrfs (read from its default subvolume, or the one fstab names).</summary>
        Btrfs,
        /// <summary>Linux swap (SWAPSPACE2).</summary>
        Swap,
        /// <summary>FAT12/16/32 (the EFI system partition).</summary>
        Vfat,
        /// <summary>An LVM2 physical volume.</summary>
        LvmPhysicalVolume,
        /// <summary>A Linux software RAID (md) member (recognised; not assembled).</summary>
        LinuxRaidMember,
    }

    /// <summary>A file system (or swap, or LVM PV) found by its signature, with the identity fstab refers to it by.</summary>
    public sealed class DetectedFileSystem
    {
        /// <summary>Creates a probe result.</summary>
        public DetectedFileSystem(FileSystemKind kind, string? uuid, string? label, string location)
        {
            Kind = kind;
            Uuid = uuid;
            Label = label;
            Location = location;
        }

        /// <summary>What was found.</summary>
        public FileSystemKind Kind { get; }

        /// <summary>The UUID as blkid prints it (fstab's UUID=); for vfat the volume serial "XXXX-XXXX".</summary>
        public string? Uuid { get; }

        /// <summary>The label (fstab's LABEL=), when set.</summary>
        public string? Label { get; }

        /// <summary>Where it is: "partition 2 of disk.vhd", "LVM volume vg0/root".</summary>
        public string Location { get; }

        /// <summary>The type name Linux uses in fstab and blkid: ext4, xfs, vfat, swap ...</summary>
        public string TypeName => Kind switch
        {
            FileSystemKind.Ext2 => "ext2",
            FileSystemKind.Ext3 => "ext3",
            FileSystemKind.Ext4 => "ext4",
            FileSystemKind.Xfs => "xfs",
            FileSystemKind.Btrfs => "btrfs",
            FileSystemKind.Swap => "swap",
            FileSystemKind.Vfat => "vfat",
            FileSystemKind.LvmPhysicalVolume => "LVM2_member",
            FileSystemKind.LinuxRaidMember => "linux_raid_member",
            _ => "unknown",
        };

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => TypeName + (Label == null ? string.Empty : " '" + Label + "'") + (Uuid == null ? string.Empty : " UUID=" + Uuid);
    }
}
