using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// The features of an image definition derived from the image (issue 26): each feature of an image definition from
    /// the facts the readiness check already reads (Linux/DiskLayout, KernelFacts, InitramfsFacts, EfiBinaries,
    /// KernelImageHeader) and Clear-LinuxImageState's own list, with the file or partition that shows it.
    /// </summary>
    internal static class ImageFeatureRules
    {
        internal const string GenerationRule = "AZ-BOOT: Generation 2 boots UEFI from the ESP's EFI/BOOT/BOOTX64.EFI (BOOTAA64.EFI on Arm64); Generation 1 boots BIOS from MBR boot code or a GPT BIOS boot partition";
        internal const string ArchitectureRule = "AZ-ARCH: x64 or Arm64, as the default kernel is built";
        internal const string SecurityRule = "AZ-BOOT: Trusted Launch boots with Secure Boot, which starts only a shim signed by Microsoft's UEFI CA that then starts a signed grub";
        internal const string ControllerRule = "AZ-KERNEL, AZ-INITRD: NVMe only when the default kernel can mount its root from an NVMe disk (nvme built in or in its initramfs)";
        internal const string NetworkRule = "AZ-KERNEL: accelerated networking needs the MANA (mana) or Mellanox ConnectX-4/5 (mlx5_core) driver";
        internal const string OsStateRule = "R-SYS-3: generalized only when nothing Clear-LinuxImageState removes remains";

        /// <summary>Root-folder path of a mounted ESP, where a root folder (no disk) keeps its EFI binaries.</summary>
        internal const string MountedEsp = "/boot/efi";

        /// <summary>
        /// Reads the facts of <paramref name="image"/> and derives every feature. <paramref name="generation"/>
        /// is -Generation (null: V2 for hybrid images). Throws AzureLinuxImageException (id
        /// GenerationNotSupported) when the asked generation has no loader in the image.
        /// </summary>
        public static ImageFeatures Derive(InspectedImage image, int? generation)
        {
            VmGeneration.Require(generation);
            var facts = new LinuxFacts(image.Root, image.Disk);
            ImageFeature architecture = Architecture(facts);
            bool arm = architecture.Value == "Arm64";
            IReadOnlyList<EfiBinaryFact> efi = image.Disk != null ? image.Disk.EfiBinaries : EfiBinaries.Read(image.Root, MountedEsp);
            ImageFeature hyperV = HyperVGeneration(facts, efi, arm, generation);
            return new ImageFeatures(hyperV, architecture, SecurityType(efi, arm, hyperV.Value == "V2", image.Disk == null),
                DiskControllerTypes(facts), AcceleratedNetwork(facts), OsState(image));
        }

        // ---- Architecture ----

        internal static ImageFeature Architecture(LinuxFacts facts)
        {
            KernelInfo? k = facts.DefaultKernel;
            KernelImageHeader? header = k?.ImagePath == null ? null : KernelImageHeader.Read(facts.Root, k.ImagePath);
            string? name;
            string evidence;
            if (header != null)
            {
                name = header.Architecture;
                evidence = $"{header.File} (the default kernel) is an {name} {header.Format}";
            }
            else
            {
                ElfArchitecture? elf = facts.Architecture.Value;
                if (elf == null)
                {
                    throw new AzureLinuxImageException("ArchitectureUnknown", ErrorKind.InvalidData,
                        $"{facts.Root.Description}: neither the default kernel{(k?.ImagePath != null ? " (" + k.ImagePath + ")" : string.Empty)} nor /bin/sh has a header that names its machine; the image definition's Architecture cannot be told.");
                }
                name = elf.Name;
                evidence = $"{elf.File} is an ELF {name} binary ({(k?.ImagePath == null ? "no kernel image was found" : k.ImagePath + " has no header this module recognizes")})";
            }
            string value = name switch
            {
                "x86_64" => "x64",
                "aarch64" => "Arm64",
                _ => throw new AzureLinuxImageException("ArchitectureNotSupported", ErrorKind.NotSupported,
                    $"{facts.Root.Description}: {evidence}; Azure runs x64 and Arm64 images only."),
            };
            return new ImageFeature("Architecture", value, evidence, ArchitectureRule);
        }

        // ---- HyperVGeneration ----

        /// <summary>Whether the image has a BIOS loader, and what shows it (or why not).</summary>
        internal static (bool Ok, string Evidence) BiosLoader(LinuxFacts facts, bool arm)
        {
            if (arm)
            {
                return (false, "Arm64 has no BIOS boot");
            }
            DiskLayoutFacts? d = facts.Disk;
            if (d == null)
            {
                // A root folder has no boot sector: grub-install's BIOS core in /boot is the closest fact.
                string? core = new[] { "/boot/grub/i386-pc/core.img", "/boot/grub2/i386-pc/core.img" }.FirstOrDefault(facts.Root.IsFile);
                return core != null ? (true, $"{core} (grub-install's BIOS core; a root folder has no boot sector to check)") : (false, "no /boot/grub/i386-pc/core.img (a root folder has no boot sector)");
            }
            (bool gen1, bool _, string _) = DiskRules.Generations(d, arm);
            string code = d.MbrBootLoaderName != null ? $"{d.MbrBootLoaderName}'s boot code" : "boot code";
            if (d.PartitionTable == "mbr")
            {
                return gen1 ? (true, $"sector 0 (MBR) holds {code}") : (false, "sector 0 (MBR) holds no boot code");
            }
            if (d.PartitionTable != "gpt")
            {
                return (false, "the disk has no partition table");
            }
            PartitionFact? biosBoot = d.Partitions.FirstOrDefault(p => p.GptType == DiskLayoutFacts.BiosBootType);
            if (!gen1 || biosBoot == null)
            {
                return (false, "the GPT disk has no BIOS boot partition (type 21686148-…)");
            }
            if (!d.HasMbrBootCode)
            {
                return (false, $"BIOS boot partition {biosBoot.Number} is there but the protective MBR holds no boot code");
            }
            if (d.BiosBootPartitionHasCode == false)
            {
                return (false, $"BIOS boot partition {biosBoot.Number} is empty (no GRUB core image) though sector 0 holds {code}");
            }
            return (true, $"sector 0 holds {code} and BIOS boot partition {biosBoot.Number} holds its core image");
        }

        /// <summary>Whether the image has the EFI loader a new VM's firmware starts (the removable-media path), and what shows it.</summary>
        internal static (bool Ok, EfiBinaryFact? Loader, string Evidence) EfiLoader(LinuxFacts facts, IReadOnlyList<EfiBinaryFact> efi, bool arm)
        {
            string name = arm ? "BOOTAA64.EFI" : "BOOTX64.EFI";
            ushort machine = arm ? PeImage.MachineArm64 : PeImage.MachineAmd64;
            DiskLayoutFacts? d = facts.Disk;
            string where = d == null ? $"{MountedEsp} (the root folder's ESP)" : "the ESP";
            if (d != null)
            {
                (bool _, bool gen2, string why) = DiskRules.Generations(d, arm);
                if (!gen2)
                {
                    string reason = d.PartitionTable != "gpt" ? $"the disk is {d.PartitionTable.ToUpperInvariant()}, not GPT" : !d.Partitions.Any(p => p.GptType == DiskLayoutFacts.EfiSystemType) ? "the GPT disk has no ESP" : $"the ESP has no EFI/BOOT/{name}";
                    return (false, null, reason);
                }
            }
            EfiBinaryFact? loader = efi.FirstOrDefault(b => string.Equals(b.Path, "/EFI/BOOT/" + name, StringComparison.OrdinalIgnoreCase));
            if (loader == null)
            {
                return (false, null, $"{where} has no EFI/BOOT/{name}");
            }
            if (loader.Machine != machine)
            {
                return (false, loader, $"{loader.Path} on {where} is {(loader.Machine == null ? "not a PE image" : "built for " + PeImage.NameOf(loader.Machine.Value))}, not {PeImage.NameOf(machine)}");
            }
            string partition = d == null ? string.Empty : " (partition " + d.Partitions.First(p => p.GptType == DiskLayoutFacts.EfiSystemType).Number + ")";
            return (true, loader, $"{loader.Path} on {where}{partition} is an {PeImage.NameOf(machine)} EFI loader{(loader.Kind != null ? " (" + loader.Kind + ")" : string.Empty)}");
        }

        internal static ImageFeature HyperVGeneration(LinuxFacts facts, IReadOnlyList<EfiBinaryFact> efi, bool arm, int? generation)
        {
            (bool bios, string biosWhy) = BiosLoader(facts, arm);
            (bool uefi, EfiBinaryFact? _, string uefiWhy) = EfiLoader(facts, efi, arm);
            string loaders = $"BIOS: {(bios ? "yes, " : "no, ")}{biosWhy}; UEFI: {(uefi ? "yes, " : "no, ")}{uefiWhy}";
            string source = facts.Root.Description;
            if (generation == 1)
            {
                if (!bios)
                {
                    throw NotSupported(source, 1, loaders, arm
                        ? "Arm64 VMs are Generation 2 only: publish without -Generation or with -Generation 2."
                        : "Install grub for BIOS (on GPT: a 1 MiB BIOS boot partition, type EF02, and grub-install --target=i386-pc), or publish as Generation 2.");
                }
                return new ImageFeature("HyperVGeneration", "V1", $"-Generation 1 asked; {biosWhy}" + (uefi ? $" (the image also has a UEFI loader: {uefiWhy})" : string.Empty), GenerationRule);
            }
            if (generation == 2)
            {
                if (!uefi)
                {
                    throw NotSupported(source, 2, loaders, $"Add a FAT ESP (type EF00) with EFI/BOOT/{(arm ? "BOOTAA64.EFI" : "BOOTX64.EFI")} (grub-install --target={(arm ? "arm64-efi" : "x86_64-efi")} --removable), or publish as Generation 1.");
                }
                return new ImageFeature("HyperVGeneration", "V2", $"-Generation 2 asked; {uefiWhy}" + (bios ? $" (the image also boots BIOS: {biosWhy})" : string.Empty), GenerationRule);
            }
            if (uefi)
            {
                return new ImageFeature("HyperVGeneration", "V2", uefiWhy + (bios ? $"; the image also boots BIOS ({biosWhy}): hybrid, V2 unless -Generation 1" : string.Empty), GenerationRule);
            }
            if (bios)
            {
                return new ImageFeature("HyperVGeneration", "V1", $"{biosWhy}; no UEFI loader ({uefiWhy})", GenerationRule);
            }
            throw new AzureLinuxImageException("GenerationNotSupported", ErrorKind.InvalidArgument,
                $"{source}: the image boots as neither generation ({loaders}). Install grub for BIOS or UEFI before publishing.", source);
        }

        private static AzureLinuxImageException NotSupported(string source, int generation, string loaders, string fix) =>
            new AzureLinuxImageException("GenerationNotSupported", ErrorKind.InvalidArgument,
                $"{source}: Generation {generation} was asked for but the image has no {(generation == 1 ? "BIOS" : "UEFI")} loader ({loaders}). {fix}", source);

        // ---- SecurityType ----

        internal static ImageFeature SecurityType(IReadOnlyList<EfiBinaryFact> efi, bool arm, bool gen2, bool rootFolder)
        {
            const string Standard = "Standard";
            string where = rootFolder ? MountedEsp : "the ESP";
            if (!gen2)
            {
                return new ImageFeature("SecurityType", Standard, "Generation 1 (BIOS): Trusted Launch needs Generation 2 with Secure Boot", SecurityRule);
            }
            string name = arm ? "BOOTAA64.EFI" : "BOOTX64.EFI";
            string grubName = arm ? "grubaa64.efi" : "grubx64.efi";
            EfiBinaryFact? loader = efi.FirstOrDefault(b => string.Equals(b.Path, "/EFI/BOOT/" + name, StringComparison.OrdinalIgnoreCase));
            if (loader == null)
            {
                return new ImageFeature("SecurityType", Standard, $"{where} has no EFI/BOOT/{name}", SecurityRule);
            }
            if (loader.Kind != "shim")
            {
                return new ImageFeature("SecurityType", Standard,
                    $"{loader.Describe()} is not shim: Secure Boot starts only a loader signed by Microsoft's UEFI CA (Debian: shim-signed)", SecurityRule);
            }
            if (!loader.Signed)
            {
                return new ImageFeature("SecurityType", Standard, $"{loader.Describe()}: Secure Boot refuses an unsigned loader", SecurityRule);
            }
            if (loader.SigningCa == null)
            {
                return new ImageFeature("SecurityType", Standard,
                    $"{loader.Describe()}: its signature names no Microsoft UEFI CA, and Azure's Secure Boot db trusts only those", SecurityRule);
            }
            // shim starts grub from its own directory; with its fallback (fb*.efi) next to it, from the vendor directory the fallback's BOOT*.CSV names.
            string dir = loader.Path.Substring(0, loader.Path.LastIndexOf('/') + 1);
            bool fallback = efi.Any(b => b.Path.StartsWith(dir, StringComparison.OrdinalIgnoreCase) && b.Kind == "shim fallback");
            List<EfiBinaryFact> grubs = efi.Where(b => b.Path.EndsWith("/" + grubName, StringComparison.OrdinalIgnoreCase)
                && (b.Path.StartsWith(dir, StringComparison.OrdinalIgnoreCase) || (fallback && efi.Any(s => s.Kind == "shim" && s.Signed && SameDirectory(s.Path, b.Path))))).ToList();
            if (grubs.Count == 0)
            {
                return new ImageFeature("SecurityType", Standard, $"{loader.Describe()} is a signed shim, but no {grubName} is next to it for it to start", SecurityRule);
            }
            EfiBinaryFact? grub = grubs.FirstOrDefault(g => g.Signed) ?? grubs[0];
            if (!grub.Signed)
            {
                return new ImageFeature("SecurityType", Standard,
                    $"{loader.Describe()} is a signed shim, but {grub.Describe()}: shim refuses an unsigned grub under Secure Boot (Debian: grub-efi-amd64-signed)", SecurityRule);
            }
            return new ImageFeature("SecurityType", "TrustedLaunchSupported", $"{loader.Describe()} starts {grub.Describe()}: a signed shim chain on {where}", SecurityRule);
        }

        private static bool SameDirectory(string a, string b) =>
            string.Equals(a.Substring(0, a.LastIndexOf('/') + 1), b.Substring(0, b.LastIndexOf('/') + 1), StringComparison.OrdinalIgnoreCase);

        // ---- DiskControllerTypes ----

        internal static ImageFeature DiskControllerTypes(LinuxFacts facts)
        {
            const string Scsi = "SCSI", Both = "SCSI, NVMe";
            KernelInfo? k = facts.DefaultKernel;
            if (k == null)
            {
                return new ImageFeature("DiskControllerTypes", Scsi, "no kernel was found in /boot or /lib/modules, so no NVMe driver either", ControllerRule);
            }
            DriverAvailability nvme = k.Driver("nvme");
            if (nvme == DriverAvailability.Missing)
            {
                return new ImageFeature("DiskControllerTypes", Scsi, $"kernel {k.Version.Text} has no nvme driver (modules, modules.builtin{(k.ConfigPath != null ? ", " + k.ConfigPath : string.Empty)})", ControllerRule);
            }
            var inInitrd = new List<string>();
            var missing = new List<string>();
            InitramfsInfo? initrd = facts.Initramfs.Value?.FirstOrDefault(i => i.KernelVersion == k.Version.Text);
            foreach (string module in new[] { "nvme", "nvme_core" })
            {
                DriverAvailability a = k.Driver(module);
                if (a == DriverAvailability.BuiltIn || (a == DriverAvailability.Missing && module == "nvme_core"))
                {
                    continue;
                }
                if (initrd != null && initrd.Readable && initrd.HasModule(module))
                {
                    inInitrd.Add(module);
                }
                else
                {
                    missing.Add(module);
                }
            }
            if (missing.Count > 0)
            {
                string why = k.InitrdPath == null ? "it has no initramfs"
                    : initrd == null || !initrd.Readable ? $"{k.InitrdPath} could not be read{(initrd?.Error != null ? ": " + initrd.Error : string.Empty)}"
                    : $"{initrd.Path} does not hold {string.Join(" or ", missing)}";
                return new ImageFeature("DiskControllerTypes", Scsi,
                    $"{string.Join(" and ", missing)} {(missing.Count > 1 ? "are modules" : "is a module")} of kernel {k.Version.Text} but {why}: the root on an NVMe OS disk would not be found at boot", ControllerRule);
            }
            string evidence = inInitrd.Count == 0
                ? $"nvme is built into kernel {k.Version.Text} ({DriverSource(k, "nvme")})"
                : $"{string.Join(" and ", inInitrd)} {(inInitrd.Count > 1 ? "are" : "is")} in {initrd!.Path}, the initramfs of the default kernel {k.Version.Text}";
            if (inInitrd.Count > 0 && k.Driver("nvme") == DriverAvailability.BuiltIn)
            {
                evidence = $"nvme is built into kernel {k.Version.Text} ({DriverSource(k, "nvme")}) and {string.Join(" and ", inInitrd)} {(inInitrd.Count > 1 ? "are" : "is")} in {initrd!.Path}";
            }
            return new ImageFeature("DiskControllerTypes", Both, evidence, ControllerRule);
        }

        /// <summary>The file that shows how a driver is available: modules.builtin, modules.dep (or the module tree), or the kernel config.</summary>
        internal static string DriverSource(KernelInfo k, string module)
        {
            string name = KernelInfo.ModuleName(module);
            if (k.Builtins.Contains(name))
            {
                return k.ModulesDirectory + "/modules.builtin";
            }
            if (k.Modules.Contains(name))
            {
                return k.ModulesDirectory + "/modules.dep";
            }
            return KernelInfo.ConfigSymbols.TryGetValue(name, out string? symbol) && k.ConfigPath != null
                ? $"{symbol}={k.Config.Get(symbol)} in {k.ConfigPath}"
                : "not found";
        }

        // ---- IsAcceleratedNetworkSupported ----

        internal static ImageFeature AcceleratedNetwork(LinuxFacts facts)
        {
            KernelInfo? k = facts.DefaultKernel;
            if (k == null)
            {
                return new ImageFeature("IsAcceleratedNetworkSupported", "False", "no kernel was found, so neither mana nor mlx5_core", NetworkRule);
            }
            var present = new List<string>();
            foreach (string module in new[] { "mana", "mlx5_core" })
            {
                DriverAvailability a = k.Driver(module);
                if (a != DriverAvailability.Missing)
                {
                    present.Add($"{module} ({(a == DriverAvailability.BuiltIn ? "built in" : "module")}, {DriverSource(k, module)})");
                }
            }
            return present.Count > 0
                ? new ImageFeature("IsAcceleratedNetworkSupported", "True", $"kernel {k.Version.Text} has {string.Join(" and ", present)}", NetworkRule)
                : new ImageFeature("IsAcceleratedNetworkSupported", "False", $"kernel {k.Version.Text} has neither mana nor mlx5_core ({k.ModulesDirectory ?? "no modules directory"})", NetworkRule);
        }

        // ---- OsState ----

        internal static ImageFeature OsState(InspectedImage image)
        {
            IReadOnlyList<LinuxImageChange> remaining = ClearLinuxImageState.Remaining(image.Root, image.Disk, new SilentContext());
            if (remaining.Count == 0)
            {
                return new ImageFeature("OsState", "Generalized",
                    "none of Clear-LinuxImageState's items remain (machine-id empty, no SSH host keys, no agent, cloud-init or azure-init state, no leases, no shell history)", OsStateRule);
            }
            List<string> items = remaining.Select(c => c.ItemPath ?? string.Empty).Where(p => p.Length > 0).Distinct().ToList();
            string shown = string.Join(", ", items.Take(6)) + (items.Count > 6 ? $" and {items.Count - 6} more" : string.Empty);
            string rules = string.Join(", ", remaining.Select(c => c.RuleId).Where(r => r != null).Distinct());
            return new ImageFeature("OsState", "Specialized",
                $"Clear-LinuxImageState would still change {items.Count} item(s): {shown} ({rules}); run it to publish a generalized image", OsStateRule);
        }
    }
}
