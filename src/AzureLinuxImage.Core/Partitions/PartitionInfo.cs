using System;

namespace AzureLinuxImage.Partitions
{
    /// <summary>What a partition's type code or GUID says it holds.</summary>
    public enum PartitionKind
    {
        /// <summary>A type this module does not name.</summary>
        Unknown,
        /// <summary>Linux file system data (MBR 0x83, GPT 0FC63DAF-… or a discoverable-partition root/usr/home/srv GUID).</summary>
        LinuxFileSystem,
        /// <summary>Linux swap (MBR 0x82, GPT 0657FD6D-…).</summary>
        LinuxSwap,
        /// <summary>Linux LVM physical volume (MBR 0x8E, GPT E6D6D379-…).</summary>
        LinuxLvm,
        /// <summary>Linux software RAID member (MBR 0xFD, GPT A19D880F-…).</summary>
        LinuxRaid,
        /// <summary>Linux extended boot partition (GPT BC13C2FF-…).</summary>
        LinuxExtendedBoot,
        /// <summary>EFI system partition (MBR 0xEF, GPT C12A7328-…).</summary>
        EfiSystem,
        /// <summary>BIOS boot partition for GRUB's core image on GPT disks (GPT 21686148-…).</summary>
        BiosBoot,
        /// <summary>Microsoft basic data (GPT EBD0A0A2-…; MBR 0x07, FAT types 0x01/0x04/0x06/0x0B/0x0C/0x0E).</summary>
        MicrosoftBasicData,
        /// <summary>Microsoft reserved (GPT E3C9E316-…).</summary>
        MicrosoftReserved,
        /// <summary>An MBR extended partition (0x05, 0x0F, 0x85): a container of logical partitions.</summary>
        Extended,
    }

    /// <summary>One partition of a disk image.</summary>
    public sealed class PartitionInfo
    {
        /// <summary>Creates a description of a partition.</summary>
        public PartitionInfo(int number, PartitionStyle scheme, long offset, long length, PartitionKind kind, string typeId, string typeName)
        {
            Number = number;
            Scheme = scheme;
            Offset = offset;
            Length = length;
            Kind = kind;
            TypeId = typeId;
            TypeName = typeName;
        }

        /// <summary>The number Linux gives the partition: 1-4 primary and 5+ logical on MBR, the table slot + 1 on GPT.</summary>
        public int Number { get; }

        /// <summary>The table the partition comes from.</summary>
        public PartitionStyle Scheme { get; }

        /// <summary>Byte offset of the first sector on the disk.</summary>
        public long Offset { get; }

        /// <summary>Length in bytes.</summary>
        public long Length { get; }

        /// <summary>What the type says the partition holds.</summary>
        public PartitionKind Kind { get; }

        /// <summary>The raw type: "0x83" on MBR, the type GUID on GPT.</summary>
        public string TypeId { get; }

        /// <summary>A readable name for the type, e.g. "Linux filesystem", "EFI System".</summary>
        public string TypeName { get; }

        /// <summary>GPT: the partition's unique GUID (PARTUUID). MBR: null (Linux derives PARTUUID from the disk signature, see <see cref="MbrPartUuid"/>).</summary>
        public Guid? UniqueId { get; internal set; }

        /// <summary>MBR: the PARTUUID Linux gives this partition ("xxxxxxxx-NN" from the disk signature); null on GPT.</summary>
        public string? MbrPartUuid { get; internal set; }

        /// <summary>GPT partition name (PARTLABEL); null on MBR.</summary>
        public string? Name { get; internal set; }

        /// <summary>MBR: a logical partition inside the extended one.</summary>
        public bool IsLogical { get; internal set; }

        /// <summary>MBR: the boot (active) flag. GPT: attribute bit 2, legacy BIOS bootable.</summary>
        public bool Bootable { get; internal set; }

        /// <summary>GPT attribute bits as stored.</summary>
        public ulong Attributes { get; internal set; }

        /// <summary>The PARTUUID fstab and the kernel command line use for this partition.</summary>
        public string? PartUuid => UniqueId.HasValue ? UniqueId.Value.ToString("D") : MbrPartUuid;

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => System.FormattableString.Invariant($"{Number}: {Name ?? TypeName}, {Length} bytes at {Offset}");
    }
}
