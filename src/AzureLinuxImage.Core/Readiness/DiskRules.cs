using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Readiness
{
    /// <summary>Disk container, partitions, fstab and swap (R-DISK, R-PART-1, R-PART-2, AZURE-LINUX.md "disk", "boot", "swap").</summary>
    internal static class DiskRules
    {
        private const long MiB = 1024 * 1024;
        private const string NoDisk = "A root folder (-RootPath) has no disk to check.";

        public static IEnumerable<ReadinessRule> All()
        {
            yield return new ReadinessRule("FixedVhd", "Disk", "Fixed VHD container", "R-DISK-1", ReadinessSeverity.Error,
                "Azure accepts fixed VHDs only; VHDX, dynamic VHD and other formats must be converted before upload.",
                Fixed);
            yield return new ReadinessRule("SizeWholeMiB", "Disk", "Virtual size a whole number of MiB", "R-DISK-2", ReadinessSeverity.Error,
                "The virtual size is a multiple of 1,048,576 bytes; otherwise creating the image fails.",
                WholeMiB);
            yield return new ReadinessRule("SizeLimits", "Disk", "Disk size within Azure's limits", "AZ-DISK", ReadinessSeverity.Warning,
                "Between 20 MiB and 32 TiB; over 2 TiB needs Generation 2.",
                Limits);
            yield return new ReadinessRule("FirstPartitionAligned", "Disk", "First MiB free", "AZ-DISK", ReadinessSeverity.Warning,
                "The first partition starts at or after 1 MiB (LBA 2048 with 512-byte sectors).",
                Aligned);
            yield return new ReadinessRule("VmGeneration", "Disk", "Boots as the requested VM generation", "AZ-BOOT", ReadinessSeverity.Error,
                "Generation 1 needs BIOS boot (MBR boot code, or GPT with a BIOS boot partition); Generation 2 needs GPT with a FAT ESP holding EFI/BOOT/BOOTX64.EFI (BOOTAA64.EFI on Arm64). Reports which generations work.",
                Generation);
            yield return new ReadinessRule("SecureBootSigned", "Disk", "EFI boot loader signed for Trusted Launch", "AZ-BOOT", ReadinessSeverity.Warning,
                "The ESP's boot loaders carry an Authenticode signature (shim), as Trusted Launch with Secure Boot needs.",
                Signed);
            yield return new ReadinessRule("NoLvmOsDisk", "Disk", "Standard partitions for the root", "R-PART-1", ReadinessSeverity.Warning,
                "The root file system is on a partition rather than LVM (name clashes when the OS disk is attached to another VM for repair).",
                Lvm);
            yield return new ReadinessRule("FstabStableNames", "Disk", "fstab by UUID or LABEL", "AZ-BOOT", ReadinessSeverity.Error,
                "fstab names devices by UUID=, LABEL=, PARTUUID= or LVM names, never /dev/sdX or /dev/nvme… (fail for /, warning otherwise); with a disk, the names must resolve to it.",
                Fstab);
            yield return new ReadinessRule("NoSwapOnOsDisk", "Swap", "No swap on the OS disk", "R-PART-2", ReadinessSeverity.Error,
                "No swap line in fstab, no swap file, no enabled .swap unit, no swap partition (GPT type 0657FD6D-…, MBR 0x82, SWAPSPACE2 on partitions and LVs); resume= on the command line warns.",
                Swap);
        }

        private static RuleOutcome Fixed(ReadinessContext ctx)
        {
            DiskLayoutFacts? d = ctx.Facts.Disk;
            if (d == null)
            {
                return Outcome.NotApplicable(NoDisk);
            }
            if (d.Format == "vhd" && d.Variant == "fixed")
            {
                return Outcome.Pass("Fixed VHD.");
            }
            return Outcome.FailAt($"The image is {d.Format}{(d.Variant != null ? " (" + d.Variant + ")" : string.Empty)}; Azure accepts fixed VHD only.", "container",
                "ConvertTo-FixedVhd -Path <image> (or: qemu-img convert -O vpc -o subformat=fixed,force_size <image> <image>.vhd)");
        }

        private static RuleOutcome WholeMiB(ReadinessContext ctx)
        {
            DiskLayoutFacts? d = ctx.Facts.Disk;
            if (d == null)
            {
                return Outcome.NotApplicable(NoDisk);
            }
            if (d.VirtualSize % MiB == 0)
            {
                return Outcome.Pass($"{d.VirtualSize} bytes = {d.VirtualSize / MiB} MiB.");
            }
            long up = (d.VirtualSize + MiB - 1) / MiB * MiB;
            return Outcome.FailAt($"The virtual size {d.VirtualSize} bytes is not a whole number of MiB.", "virtual size",
                $"Resize-VhdAligned -Path <image> (rounds up to {up} bytes; or qemu-img resize -f raw <raw> {up} before converting).");
        }

        private static RuleOutcome Limits(ReadinessContext ctx)
        {
            DiskLayoutFacts? d = ctx.Facts.Disk;
            if (d == null)
            {
                return Outcome.NotApplicable(NoDisk);
            }
            const long TiB = 1024L * 1024 * MiB;
            if (d.VirtualSize < 20 * MiB || d.VirtualSize > 32 * TiB)
            {
                return Outcome.FailAt($"{d.VirtualSize} bytes is outside 20 MiB .. 32 TiB.", "virtual size", "Resize the disk into Azure's range.");
            }
            if (d.VirtualSize > 2 * TiB && ctx.Generation == 1)
            {
                return Outcome.FailAt("OS disks over 2 TiB need Generation 2.", "virtual size", "Use -Generation 2, or shrink the disk to 2 TiB.");
            }
            return Outcome.Pass($"{d.VirtualSize / MiB} MiB.");
        }

        private static RuleOutcome Aligned(ReadinessContext ctx)
        {
            DiskLayoutFacts? d = ctx.Facts.Disk;
            if (d == null)
            {
                return Outcome.NotApplicable(NoDisk);
            }
            PartitionFact? first = d.Partitions.Where(p => !p.IsLogicalVolume).OrderBy(p => p.StartLba).FirstOrDefault();
            if (first == null)
            {
                return Outcome.NotApplicable("The disk has no partitions.");
            }
            long start = first.StartLba * d.LogicalSectorSize;
            return start >= MiB
                ? Outcome.Pass($"Partition {first.Number} starts at LBA {first.StartLba}.")
                : Outcome.FailAt($"Partition {first.Number} starts at LBA {first.StartLba}, inside the first MiB.", $"partition {first.Number}",
                    "Recreate the partitions starting at LBA 2048 (sgdisk -a 2048 / parted -a optimal).");
        }

        /// <summary>(Gen1, Gen2) capability of the disk.</summary>
        internal static (bool Gen1, bool Gen2, string Why) Generations(DiskLayoutFacts d, bool arm)
        {
            bool gpt = d.PartitionTable == "gpt";
            bool biosBoot = gpt && d.Partitions.Any(p => p.GptType == DiskLayoutFacts.BiosBootType);
            bool gen1 = !arm && ((d.PartitionTable == "mbr" && d.HasMbrBootCode) || (biosBoot && d.HasMbrBootCode) || biosBoot);
            bool esp = gpt && d.Partitions.Any(p => p.GptType == DiskLayoutFacts.EfiSystemType);
            string loader = arm ? "BOOTAA64.EFI" : "BOOTX64.EFI";
            bool hasLoader = d.EfiBootLoaders.Any(l => l.EndsWith(loader, StringComparison.OrdinalIgnoreCase));
            bool gen2 = esp && hasLoader;
            string why = $"Generation 1: {(gen1 ? "yes" : "no")} ({(d.PartitionTable == "mbr" ? (d.HasMbrBootCode ? "MBR boot code" : "MBR without boot code") : biosBoot ? "BIOS boot partition" : "no BIOS boot partition")}); " +
                $"Generation 2: {(gen2 ? "yes" : "no")} ({(!gpt ? "not GPT" : !esp ? "no ESP" : hasLoader ? "ESP with " + loader : "ESP without EFI/BOOT/" + loader)})";
            return (gen1, gen2, why);
        }

        private static RuleOutcome Generation(ReadinessContext ctx)
        {
            DiskLayoutFacts? d = ctx.Facts.Disk;
            if (d == null)
            {
                return Outcome.NotApplicable(NoDisk);
            }
            bool arm = ctx.Facts.Architecture.Value?.Name == "aarch64";
            (bool gen1, bool gen2, string why) = Generations(d, arm);
            string fix1 = "Install grub for BIOS: on GPT add a 1 MiB BIOS boot partition (sgdisk -n 0:0:+1M -t 0:EF02) and run grub-install --target=i386-pc /dev/sdX";
            string fix2 = $"Add a FAT ESP (type EF00) and install the EFI loader as EFI/BOOT/{(arm ? "BOOTAA64.EFI" : "BOOTX64.EFI")} (grub-install --target={(arm ? "arm64-efi" : "x86_64-efi")} --removable)";
            if (ctx.Generation == 1 && !gen1)
            {
                return Outcome.FailAt($"Generation 1 was asked for but the disk cannot BIOS-boot. {why}.", "partition table", fix1);
            }
            if (ctx.Generation == 2 && !gen2)
            {
                return Outcome.FailAt($"Generation 2 was asked for but the disk cannot UEFI-boot. {why}.", "partition table", fix2);
            }
            if (!gen1 && !gen2)
            {
                return Outcome.FailAt($"The disk boots as neither generation. {why}.", "partition table", fix2);
            }
            return Outcome.Pass(why + ".");
        }

        private static RuleOutcome Signed(ReadinessContext ctx)
        {
            DiskLayoutFacts? d = ctx.Facts.Disk;
            if (d == null)
            {
                return Outcome.NotApplicable(NoDisk);
            }
            if (d.EfiBootLoaders.Count == 0 || ctx.Generation == 1)
            {
                return Outcome.NotApplicable("No EFI boot loader (Generation 1 only).");
            }
            if (d.EfiBootLoadersSigned == null)
            {
                return Outcome.Unknown("The EFI boot loaders' signatures were not checked.");
            }
            return d.EfiBootLoadersSigned.Value
                ? Outcome.Pass($"{string.Join(", ", d.EfiBootLoaders)} carry Authenticode signatures.")
                : Outcome.FailAt($"{string.Join(", ", d.EfiBootLoaders)} are unsigned: Trusted Launch with Secure Boot will not start them.", "ESP",
                    ctx.PackageInstall("shim-signed grub-efi-amd64-signed", "shim-x64 grub2-efi-x64") + ", then grub-install --uefi-secure-boot --removable, or create VMs with -SecurityType Standard.");
        }

        private static RuleOutcome Lvm(ReadinessContext ctx)
        {
            FstabLine? root = ctx.Facts.Fstab.Value?.Root;
            if (ctx.Facts.Disk?.RootOnLvm == true || (root != null && root.Naming == DeviceNaming.DeviceMapper))
            {
                return Outcome.Fail($"The root file system is on LVM{(root != null ? " (" + root.Device + ")" : string.Empty)}: volume group names clash when this OS disk is attached to a VM built from the same image.",
                    root?.Source, "Use a plain partition for / (or give the volume group a unique name per image: vgrename).");
            }
            if (ctx.Facts.Disk == null && root == null)
            {
                return Outcome.Unknown("There is no disk and no fstab root entry to tell where the root lives.");
            }
            return Outcome.Pass("The root file system is on a plain partition.", root?.Source);
        }

        private static RuleOutcome Fstab(ReadinessContext ctx)
        {
            Fact<Fstab> f = ctx.Facts.Fstab;
            if (!f.Known)
            {
                return Outcome.Unknown("fstab could not be read: " + f.Error);
            }
            Linux.Fstab fstab = f.Value!;
            if (!fstab.Found)
            {
                return Outcome.FailAt("There is no /etc/fstab.", "/etc/fstab", "Write /etc/fstab with the root by UUID: echo \"UUID=$(blkid -s UUID -o value <root device>) / ext4 defaults 0 1\" > /etc/fstab");
            }
            var kernelNamed = fstab.Entries.Where(e => e.Naming == DeviceNaming.KernelName && !e.IsNoAuto).ToList();
            FstabLine? rootBad = kernelNamed.FirstOrDefault(e => e.MountPoint == "/");
            string Fix(FstabLine e) => $"In /etc/fstab line {e.Source.Line} replace {e.Device} with UUID=$(blkid -s UUID -o value {e.Device}).";
            if (rootBad != null)
            {
                return Outcome.Fail($"fstab mounts / from {rootBad.Device}: the kernel name differs in Azure (sda/sdb order, nvme).", rootBad.Source, Fix(rootBad));
            }
            DiskLayoutFacts? d = ctx.Facts.Disk;
            if (d != null)
            {
                foreach (FstabLine e in fstab.Entries.Where(e => !e.IsNoAuto && (e.MountPoint == "/" || e.MountPoint.StartsWith("/boot", StringComparison.Ordinal))))
                {
                    bool resolves = e.Naming switch
                    {
                        DeviceNaming.Uuid => d.Partitions.Any(p => string.Equals(p.FileSystemUuid, e.Key, StringComparison.OrdinalIgnoreCase)),
                        DeviceNaming.Label => d.Partitions.Any(p => p.FileSystemLabel == e.Key),
                        DeviceNaming.PartUuid => d.Partitions.Any(p => p.PartUuid.HasValue && string.Equals(p.PartUuid.Value.ToString(), e.Key, StringComparison.OrdinalIgnoreCase)),
                        DeviceNaming.PartLabel => d.Partitions.Any(p => p.Name == e.Key),
                        _ => true,
                    };
                    if (!resolves)
                    {
                        return Outcome.Fail($"fstab mounts {e.MountPoint} from {e.Device}, which is on no partition of this disk: boot stops in emergency mode.", e.Source,
                            $"Set line {e.Source.Line} of /etc/fstab to the UUID of the partition that holds {e.MountPoint}.");
                    }
                }
            }
            if (kernelNamed.Count > 0)
            {
                return Outcome.Warn($"fstab names {string.Join(", ", kernelNamed.Select(e => e.Device))} by kernel name.", kernelNamed[0].Source, Fix(kernelNamed[0]));
            }
            FstabLine? root = fstab.Root;
            return root == null
                ? Outcome.Warn("fstab has no entry for /.", new SourceLine("/etc/fstab", 0), null)
                : Outcome.Pass($"fstab mounts / from {root.Device}{(d != null ? ", on this disk" : string.Empty)}.", root.Source);
        }

        private static RuleOutcome Swap(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("fstab", ctx.Facts.Fstab.Error), ("swap units", ctx.Facts.Swap.Error));
            if (unknown != null)
            {
                return unknown;
            }
            var problems = new List<string>();
            var fixes = new List<string>();
            SourceLine? evidence = null;
            string? structure = null;
            foreach (FstabLine e in ctx.Facts.Fstab.Value!.Entries.Where(e => e.IsSwap && !e.IsNoAuto))
            {
                problems.Add($"fstab line {e.Source.Line} swaps on {e.Device}");
                evidence ??= e.Source;
                fixes.Add($"sed -i '{e.Source.Line}s/^/# /' /etc/fstab");
            }
            SwapFacts swap = ctx.Facts.Swap.Value!;
            foreach (string file in swap.SwapFiles)
            {
                problems.Add($"swap file {file}");
                evidence ??= new SourceLine(file, 0);
                fixes.Add($"rm {file}");
            }
            foreach (UnitState u in swap.SwapUnits)
            {
                problems.Add($"swap unit {u.Name}{(u.Enabled ? " (enabled)" : string.Empty)}");
                evidence ??= new SourceLine(u.FilePath ?? "/etc/systemd/system/" + u.Name, 0);
                fixes.Add($"systemctl disable {u.Name}; rm -f /etc/systemd/system/{u.Name}");
            }
            if (ctx.Facts.Disk != null)
            {
                foreach (PartitionFact p in ctx.Facts.Disk.Partitions)
                {
                    bool typed = p.GptType == DiskLayoutFacts.LinuxSwapType || p.MbrType == 0x82;
                    if (typed || p.HasSwapSignature)
                    {
                        string what = p.IsLogicalVolume ? $"logical volume {p.Name}" : $"partition {p.Number}";
                        problems.Add($"{what} is swap ({(typed ? "type" : string.Empty)}{(typed && p.HasSwapSignature ? ", " : string.Empty)}{(p.HasSwapSignature ? "SWAPSPACE2" : string.Empty)})");
                        structure ??= what;
                        fixes.Add(p.IsLogicalVolume ? $"lvremove {p.Name}" : $"delete {what} (sgdisk -d {p.Number} / sfdisk --delete <disk> {p.Number}) and grow the root");
                    }
                }
            }
            if (problems.Count > 0)
            {
                string text = $"Swap on the OS disk: {string.Join("; ", problems)}. Swap belongs on the resource disk (waagent or cloud-init).";
                string fix = string.Join(" && ", fixes.Distinct());
                return evidence != null ? Outcome.Fail(text, evidence, fix) : Outcome.FailAt(text, structure!, fix);
            }
            KernelCommandLine? cmd = ctx.Facts.Boot.Value?.EffectiveCommandLine;
            if (cmd != null && cmd.Has("resume"))
            {
                return Outcome.Warn($"resume={cmd.Value("resume")} on the command line points at a swap device that will not exist.", cmd.Source,
                    BootRules.RemoveArguments(ctx, new[] { "resume=" + cmd.Value("resume") }));
            }
            if (swap.ResumeSettings.Count > 0)
            {
                SourceLine r = swap.ResumeSettings[0];
                return Outcome.Warn($"The initramfs waits for a resume device ({r}).", r, $"echo RESUME=none > {r.File} && {ctx.RebuildInitramfs}");
            }
            return Outcome.Pass(ctx.Facts.Disk == null ? "No swap in fstab, swap files or .swap units (partitions not checked for a root folder)." : "No swap on the OS disk.");
        }
    }
}
