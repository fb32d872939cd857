using System;
using System.Collections.Generic;

namespace AzureLinuxImage.Linux
{
    /// <summary>One partition (or LVM logical volume) of the OS disk, as the disk layer saw it.</summary>
    internal sealed record PartitionFact
    {
        /// <summary>Partition number (1-based) or, for a logical volume, 0.</summary>
        public int Number { get; init; }

        /// <summary>"vg/lv" for a logical volume; the GPT name otherwise.</summary>
        public string? Name { get; init; }

        public long StartLba { get; init; }

        public long SizeBytes { get; init; }

        /// <summary>GPT partition type GUID; null on MBR.</summary>
        public Guid? GptType { get; init; }

        /// <summary>MBR partition type byte; null on GPT.</summary>
        public byte? MbrType { get; init; }

        public Guid? PartUuid { get; init; }

        /// <summary>A Linux swap signature ("SWAPSPACE2" at the end of the first page) is there.</summary>
        public bool HasSwapSignature { get; init; }

        public bool IsLogicalVolume { get; init; }

        public bool IsLvmPhysicalVolume { get; init; }

        /// <summary>ext4, xfs, vfat ... when a superblock was recognized.</summary>
        public string? FileSystemType { get; init; }

        public string? FileSystemUuid { get; init; }

        public string? FileSystemLabel { get; init; }
    }

    /// <summary>
    /// What the readiness rules need to know about the disk that holds the root (partitions, LVM, ESP), mapped
    /// by LinuxImageInspection from the disk and partition layers; absent for -RootPath, where the disk rules
    /// report NotApplicable.
    /// </summary>
    internal sealed record DiskLayoutFacts
    {
        /// <summary>Container format as DiskFormats names it (vhd, vhdx, raw ...).</summary>
        public string Format { get; init; } = "raw";

        /// <summary>Container variant (fixed, dynamic, differencing ...).</summary>
        public string? Variant { get; init; }

        /// <summary>"gpt", "mbr" or "none".</summary>
        public string PartitionTable { get; init; } = "none";

        public long VirtualSize { get; init; }

        public int LogicalSectorSize { get; init; } = 512;

        /// <summary>MBR sector 0 holds boot code (not all zeros before the partition table).</summary>
        public bool HasMbrBootCode { get; init; }

        public IReadOnlyList<PartitionFact> Partitions { get; init; } = Array.Empty<PartitionFact>();

        /// <summary>The root file system lives on an LVM logical volume (R-PART-1).</summary>
        public bool RootOnLvm { get; init; }

        /// <summary>Removable-media boot loaders found on the ESP, as paths (/EFI/BOOT/BOOTX64.EFI).</summary>
        public IReadOnlyList<string> EfiBootLoaders { get; init; } = Array.Empty<string>();

        /// <summary>Whether the EFI boot loaders carry an Authenticode signature; null when not checked.</summary>
        public bool? EfiBootLoadersSigned { get; init; }

        /// <summary>The EFI binaries on the ESP (/EFI/*/*.efi) with their PE machine, kind and signature (issue 26).</summary>
        public IReadOnlyList<EfiBinaryFact> EfiBinaries { get; init; } = Array.Empty<EfiBinaryFact>();

        /// <summary>"GRUB" when sector 0's boot code is GRUB's boot.img (it carries the string), else null.</summary>
        public string? MbrBootLoaderName { get; init; }

        /// <summary>The GPT BIOS boot partition's first sector holds code (grub-install embeds core.img there); null without one.</summary>
        public bool? BiosBootPartitionHasCode { get; init; }

        /// <summary>GPT type of the BIOS boot partition (grub's core.img on GPT, Gen1).</summary>
        public static readonly Guid BiosBootType = new Guid("21686148-6449-6E6F-744E-656564454649");

        /// <summary>GPT type of the EFI system partition (Gen2).</summary>
        public static readonly Guid EfiSystemType = new Guid("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");

        /// <summary>GPT type of Linux swap.</summary>
        public static readonly Guid LinuxSwapType = new Guid("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F");
    }
}
