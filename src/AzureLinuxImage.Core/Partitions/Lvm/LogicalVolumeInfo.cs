namespace AzureLinuxImage.Partitions.Lvm
{
    /// <summary>An LVM2 logical volume found in the image.</summary>
    public sealed class LogicalVolumeInfo
    {
        /// <summary>Creates a description of a logical volume.</summary>
        public LogicalVolumeInfo(string volumeGroup, string name, long size, string segmentType, bool readable, string? reason)
        {
            VolumeGroup = volumeGroup;
            Name = name;
            Size = size;
            SegmentType = segmentType;
            Readable = readable;
            Reason = reason;
        }

        /// <summary>Volume group name.</summary>
        public string VolumeGroup { get; }

        /// <summary>Logical volume name.</summary>
        public string Name { get; }

        /// <summary>Size in bytes.</summary>
        public long Size { get; }

        /// <summary>"linear", "striped", or the unsupported type found ("thin-pool", "raid1" ...).</summary>
        public string SegmentType { get; }

        /// <summary>Whether this module can read the volume's content.</summary>
        public bool Readable { get; }

        /// <summary>Why the volume cannot be read, when it cannot.</summary>
        public string? Reason { get; }

        /// <summary>The /dev/VG/LV path.</summary>
        public string DevicePath => "/dev/" + VolumeGroup + "/" + Name;

        /// <summary>The /dev/mapper name: VG-LV with dashes inside either name doubled.</summary>
        public string MapperPath => "/dev/mapper/" + VolumeGroup.Replace("-", "--") + "-" + Name.Replace("-", "--");

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => System.FormattableString.Invariant($"{DevicePath} ({SegmentType}, {Size} bytes)");
    }
}
