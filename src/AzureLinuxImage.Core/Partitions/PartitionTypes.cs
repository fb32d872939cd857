using System;
using System.Collections.Generic;

namespace AzureLinuxImage.Partitions
{
    /// <summary>
    /// Names of partition types. GPT GUIDs are from the UEFI spec (5.3.3) and the Discoverable
    /// Partitions Specification; MBR codes from the long-standing list fdisk prints.
    /// </summary>
    internal static class PartitionTypes
    {
        private static readonly Dictionary<Guid, (PartitionKind Kind, string Name)> Gpt = new Dictionary<Guid, (PartitionKind, string)>
        {
            [new Guid("0FC63DAF-8483-4772-8E79-3D69D8477DE4")] = (PartitionKind.LinuxFileSystem, "Linux filesystem"),
            [new Guid("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")] = (PartitionKind.LinuxFileSystem, "Linux root (x86-64)"),
            [new Guid("44479540-F297-41B2-9AF7-D131D5F0458A")] = (PartitionKind.LinuxFileSystem, "Linux root (x86)"),
            [new Guid("B921B045-1DF0-41C3-AF44-4C6F280D3FAE")] = (PartitionKind.LinuxFileSystem, "Linux root (ARM64)"),
            [new Guid("8484680C-9521-48C6-9C11-B0720656F69E")] = (PartitionKind.LinuxFileSystem, "Linux /usr (x86-64)"),
            [new Guid("B0E01050-EE5F-4390-949A-9101B17104E9")] = (PartitionKind.LinuxFileSystem, "Linux /usr (ARM64)"),
            [new Guid("933AC7E1-2EB4-4F13-B844-0E14E2AEF915")] = (PartitionKind.LinuxFileSystem, "Linux /home"),
            [new Guid("3B8F8425-20E0-4F3B-907F-1A25A76F98E8")] = (PartitionKind.LinuxFileSystem, "Linux /srv"),
            [new Guid("4D21B016-B534-45C2-A9FB-5C16E091FD2D")] = (PartitionKind.LinuxFileSystem, "Linux /var"),
            [new Guid("7EC6F557-3BC5-4ACA-B293-16EF5DF639D1")] = (PartitionKind.LinuxFileSystem, "Linux /var/tmp"),
            [new Guid("BC13C2FF-59E6-4262-A352-B275FD6F7172")] = (PartitionKind.LinuxExtendedBoot, "Linux extended boot"),
            [new Guid("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F")] = (PartitionKind.LinuxSwap, "Linux swap"),
            [new Guid("E6D6D379-F507-44C2-A23C-238F2A3DF928")] = (PartitionKind.LinuxLvm, "Linux LVM"),
            [new Guid("A19D880F-05FC-4D3B-A006-743F0F84911E")] = (PartitionKind.LinuxRaid, "Linux RAID"),
            [new Guid("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")] = (PartitionKind.EfiSystem, "EFI System"),
            [new Guid("21686148-6449-6E6F-744E-656564454649")] = (PartitionKind.BiosBoot, "BIOS boot"),
            [new Guid("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")] = (PartitionKind.MicrosoftBasicData, "Microsoft basic data"),
            [new Guid("E3C9E316-0B5C-4DB8-817D-F92DF00215AE")] = (PartitionKind.MicrosoftReserved, "Microsoft reserved"),
        };

        public static (PartitionKind Kind, string Name) ForGpt(Guid type) =>
            Gpt.TryGetValue(type, out var known) ? known : (PartitionKind.Unknown, "Unknown (" + type.ToString("D").ToUpperInvariant() + ")");

        public static (PartitionKind Kind, string Name) ForMbr(byte type)
        {
            switch (type)
            {
                case 0x83: return (PartitionKind.LinuxFileSystem, "Linux");
                case 0x82: return (PartitionKind.LinuxSwap, "Linux swap");
                case 0x8E: return (PartitionKind.LinuxLvm, "Linux LVM");
                case 0xFD: return (PartitionKind.LinuxRaid, "Linux RAID autodetect");
                case 0xEF: return (PartitionKind.EfiSystem, "EFI System");
                case 0xEA: return (PartitionKind.LinuxExtendedBoot, "Linux extended boot");
                case 0x07: return (PartitionKind.MicrosoftBasicData, "HPFS/NTFS/exFAT");
                case 0x01: return (PartitionKind.MicrosoftBasicData, "FAT12");
                case 0x04:
                case 0x06:
                case 0x0E: return (PartitionKind.MicrosoftBasicData, "FAT16");
                case 0x0B:
                case 0x0C: return (PartitionKind.MicrosoftBasicData, "W95 FAT32");
                case 0x05: return (PartitionKind.Extended, "Extended");
                case 0x0F: return (PartitionKind.Extended, "W95 Extended (LBA)");
                case 0x85: return (PartitionKind.Extended, "Linux extended");
                default: return (PartitionKind.Unknown, "Unknown (0x" + type.ToString("X2") + ")");
            }
        }

        public static bool IsExtended(byte type) => type == 0x05 || type == 0x0F || type == 0x85;
    }
}
