using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Readiness
{
    /// <summary>Kernel, drivers and initial ramdisk (R-KERNEL, R-INITRD, R-PART-3, AZURE-LINUX.md "kernel" and "initrd").</summary>
    internal static class KernelRules
    {
        private static readonly string[] RequiredInInitrd = { "hv_vmbus", "hv_storvsc", "hv_netvsc" };

        public static IEnumerable<ReadinessRule> All()
        {
            yield return new ReadinessRule("HyperVDrivers", "Kernel", "Hyper-V drivers available", "R-KERNEL-2", ReadinessSeverity.Error,
                "The default kernel has hv_vmbus, hv_storvsc and hv_netvsc as modules or built in (modules.dep, modules.builtin, /boot/config-<version>); hv_utils and hyperv_keyboard are expected too.",
                HyperVDrivers);
            yield return new ReadinessRule("NumaOffOnOldKernels", "Kernel", "numa=off on kernels older than 2.6.37", "R-KERNEL-1", ReadinessSeverity.Error,
                "Kernels before 2.6.37 (RHEL kernels before 2.6.32-504) mishandle NUMA on Hyper-V and need numa=off; on newer kernels numa=off only disables NUMA and is a warning.",
                NumaOff);
            yield return new ReadinessRule("KernelVersion", "Kernel", "Kernel recent enough for the Hyper-V fixes", "R-KERNEL-3", ReadinessSeverity.Warning,
                "Custom kernels should be 3.8 or newer so that the storvsc and ata_piix fixes the article lists are present.",
                Version);
            yield return new ReadinessRule("UdfAvailable", "Kernel", "UDF can be mounted", "R-PART-3", ReadinessSeverity.Error,
                "udf is a module or built in, and is not blacklisted (blacklist udf, install udf /bin/true in modprobe.d, module_blacklist= on the command line): provisioning data arrives on UDF media.",
                Udf);
            yield return new ReadinessRule("NvmeDriver", "Kernel", "NVMe driver available", "AZ-KERNEL", ReadinessSeverity.Warning,
                "nvme and nvme_core are modules or built in, for VM sizes whose disks are NVMe.",
                Nvme);
            yield return new ReadinessRule("AcceleratedNetworking", "Kernel", "Accelerated networking drivers", "AZ-KERNEL", ReadinessSeverity.Info,
                "mana (in-tree since 6.2) or mlx5_core/mlx4_en for accelerated networking.",
                AccelNet);
            yield return new ReadinessRule("InitrdHyperVDrivers", "Initrd", "Hyper-V drivers in the initramfs", "R-INITRD-1", ReadinessSeverity.Error,
                "The default kernel's initramfs holds hv_vmbus, hv_storvsc and hv_netvsc unless they are built in; an initramfs built on another hypervisor often lacks them and the root disk is never found.",
                InitrdHyperV);
            yield return new ReadinessRule("InitrdNvme", "Initrd", "NVMe driver in the initramfs", "AZ-INITRD", ReadinessSeverity.Warning,
                "nvme is built in or in the initramfs, so that the root disk is found on NVMe VM sizes.",
                InitrdNvme);
        }

        private static RuleOutcome? KernelOrUnknown(ReadinessContext ctx, out KernelInfo? kernel)
        {
            kernel = null;
            RuleOutcome? unknown = Outcome.UnknownIf(("the installed kernels", ctx.Facts.Kernels.Error));
            if (unknown != null)
            {
                return unknown;
            }
            kernel = ctx.Facts.DefaultKernel;
            if (kernel == null)
            {
                return Outcome.FailAt("No kernel was found (/boot/vmlinuz-*, /usr/lib/modules/*/vmlinuz).", "/boot",
                    ctx.PackageInstall("linux-image-cloud-amd64", "kernel"));
            }
            return null;
        }

        private static SourceLine? KernelEvidence(KernelInfo k) => k.ImagePath == null ? (SourceLine?)null : new SourceLine(k.ImagePath, 0);

        private static RuleOutcome HyperVDrivers(ReadinessContext ctx)
        {
            RuleOutcome? early = KernelOrUnknown(ctx, out KernelInfo? k);
            if (early != null)
            {
                return early;
            }
            var missing = RequiredInInitrd.Where(d => k!.Driver(d) == DriverAvailability.Missing).ToList();
            var optional = new[] { "hv_utils", "hyperv_keyboard" }.Where(d => k!.Driver(d) == DriverAvailability.Missing).ToList();
            string where = k!.ModulesDirectory == null ? " (no modules directory and no config file were found for it)" : string.Empty;
            if (missing.Count > 0)
            {
                return Outcome.Fail($"Kernel {k.Version} lacks {string.Join(", ", missing)}{where}: the VM cannot see its disk or network in Azure.", KernelEvidence(k),
                    "Install a kernel with the Hyper-V drivers (CONFIG_HYPERV, CONFIG_HYPERV_STORAGE, CONFIG_HYPERV_NET): " + ctx.PackageInstall("linux-image-cloud-amd64", "kernel") +
                    "; on RHEL 6.0-6.3 install the Linux Integration Services package.");
            }
            string summary = string.Join(", ", RequiredInInitrd.Select(d => $"{d} ({k.Driver(d).ToString().ToLowerInvariant()})"));
            if (optional.Count > 0)
            {
                return Outcome.Warn($"Kernel {k.Version} has {summary} but lacks {string.Join(", ", optional)} (time sync, shutdown and keyboard integration).", KernelEvidence(k),
                    "Build the kernel with CONFIG_HYPERV_UTILS and CONFIG_HYPERV_KEYBOARD, or install the distribution's cloud kernel.");
            }
            return Outcome.Pass($"Kernel {k.Version} has {summary}.", KernelEvidence(k));
        }

        private static RuleOutcome NumaOff(ReadinessContext ctx)
        {
            RuleOutcome? early = KernelOrUnknown(ctx, out KernelInfo? k);
            if (early != null)
            {
                return early;
            }
            KernelVersion v = k!.Version;
            bool needs = v.IsRhel ? v.IsOlderThan(2, 6, 32, 504) : v.IsOlderThan(2, 6, 37);
            if (!needs)
            {
                KernelCommandLine? line = ctx.Facts.Boot.Value?.EffectiveCommandLine;
                if (line != null && line.Value("numa") == "off")
                {
                    // The article's numa=off is for old kernels only; on a kernel that handles NUMA it only takes NUMA away from large VM sizes.
                    return Outcome.Warn($"numa=off is set but kernel {v} handles NUMA on Hyper-V (2.6.37 or newer, or RHEL 2.6.32-504 or newer): it only disables NUMA on larger VM sizes.",
                        line.Source, BootRules.RemoveArguments(ctx, new[] { "numa=off" }));
                }
                return Outcome.Pass($"Kernel {v} handles NUMA on Hyper-V (2.6.37 or newer, or RHEL 2.6.32-504 or newer).", KernelEvidence(k));
            }
            KernelCommandLine? cmd = ctx.Facts.Boot.Value?.EffectiveCommandLine;
            if (cmd == null)
            {
                return Outcome.Unknown($"Kernel {v} needs numa=off, and no boot configuration was found to check it.");
            }
            if (cmd.Value("numa") == "off")
            {
                return Outcome.Pass($"Kernel {v} is older than 2.6.37 and numa=off is set.", cmd.Source);
            }
            return Outcome.Fail($"Kernel {v} is older than 2.6.37{(v.IsRhel ? " (RHEL: 2.6.32-504)" : string.Empty)} and the command line lacks numa=off: larger VM sizes hang at boot.",
                cmd.Source, BootRules.AddArguments(ctx, "numa=off"));
        }

        private static RuleOutcome Version(ReadinessContext ctx)
        {
            RuleOutcome? early = KernelOrUnknown(ctx, out KernelInfo? k);
            if (early != null)
            {
                return early;
            }
            return k!.Version.IsOlderThan(3, 8, 0)
                ? Outcome.Fail($"Kernel {k.Version} is older than 3.8: the storvsc and ata_piix fixes the article lists may be missing.", KernelEvidence(k),
                    "Use the distribution's current kernel, or a custom kernel 3.8 or newer with the Hyper-V fixes.")
                : Outcome.Pass($"Kernel {k.Version} is 3.8 or newer.", KernelEvidence(k));
        }

        private static RuleOutcome Udf(ReadinessContext ctx)
        {
            RuleOutcome? early = KernelOrUnknown(ctx, out KernelInfo? k) ?? Outcome.UnknownIf(("modprobe.d", ctx.Facts.Modprobe.Error));
            if (early != null)
            {
                return early;
            }
            IReadOnlyList<SourceLine> blocked = ctx.Facts.Modprobe.Value!.BlockedBy("udf");
            if (blocked.Count > 0)
            {
                string files = string.Join(" ", blocked.Select(b => b.File).Distinct());
                return Outcome.Fail($"udf is blacklisted ({Outcome.List(blocked)}): the agent cannot mount the provisioning media.", blocked[0],
                    $"Delete the 'blacklist udf' / 'install udf ...' lines: sed -i -E '/^\\s*(blacklist|install)\\s+udf(\\s|$)/d' {files}; then run: {ctx.RebuildInitramfs}");
            }
            KernelCommandLine? cmd = ctx.Facts.Boot.Value?.EffectiveCommandLine;
            string? onCmdline = cmd?.Values("module_blacklist").Concat(cmd.Values("modprobe.blacklist")).FirstOrDefault(v => v.Split(',').Contains("udf"));
            if (onCmdline != null)
            {
                return Outcome.Fail("udf is blacklisted on the kernel command line.", cmd!.Source, BootRules.RemoveArguments(ctx, new[] { "udf from module_blacklist=/modprobe.blacklist=" }));
            }
            DriverAvailability udf = k!.Driver("udf");
            if (udf == DriverAvailability.Missing)
            {
                return Outcome.Fail($"Kernel {k.Version} has no udf module and does not build it in.", KernelEvidence(k),
                    "Use a kernel with CONFIG_UDF_FS=m or =y (the distribution's cloud kernel has it).");
            }
            return Outcome.Pass($"udf is {(udf == DriverAvailability.BuiltIn ? "built in" : "a module")} and not blacklisted.", KernelEvidence(k));
        }

        private static RuleOutcome Nvme(ReadinessContext ctx)
        {
            RuleOutcome? early = KernelOrUnknown(ctx, out KernelInfo? k);
            if (early != null)
            {
                return early;
            }
            var missing = new[] { "nvme", "nvme_core" }.Where(d => k!.Driver(d) == DriverAvailability.Missing).ToList();
            return missing.Count == 0
                ? Outcome.Pass($"Kernel {k!.Version} has nvme ({k.Driver("nvme").ToString().ToLowerInvariant()}).", KernelEvidence(k))
                : Outcome.Fail($"Kernel {k!.Version} lacks {string.Join(", ", missing)}: VM sizes with NVMe disks will not boot.", KernelEvidence(k),
                    "Use a kernel with CONFIG_BLK_DEV_NVME and CONFIG_NVME_CORE.");
        }

        private static RuleOutcome AccelNet(ReadinessContext ctx)
        {
            RuleOutcome? early = KernelOrUnknown(ctx, out KernelInfo? k);
            if (early != null)
            {
                return early;
            }
            var present = new[] { "mana", "mlx5_core", "mlx4_en" }.Where(d => k!.Driver(d) != DriverAvailability.Missing).ToList();
            return present.Count > 0
                ? Outcome.Pass($"Kernel {k!.Version} has {string.Join(", ", present)}.", KernelEvidence(k))
                : Outcome.Fail($"Kernel {k!.Version} has neither mana nor mlx5_core/mlx4_en: accelerated networking will not work.", KernelEvidence(k),
                    "Use a kernel with CONFIG_MICROSOFT_MANA (6.2+) or CONFIG_MLX5_CORE, or create VMs without accelerated networking.");
        }

        private static string InitrdRemediation(ReadinessContext ctx, IEnumerable<string> modules)
        {
            string list = string.Join(" ", modules);
            return ctx.IsRedHatFamily
                ? $"echo 'add_drivers+=\" {list} \"' > /etc/dracut.conf.d/azure.conf && dracut -f --regenerate-all"
                : $"printf '%s\\n' {list} >> /etc/initramfs-tools/modules && update-initramfs -u -k all";
        }

        private static RuleOutcome InitrdModules(ReadinessContext ctx, string[] modules, string purpose)
        {
            RuleOutcome? early = KernelOrUnknown(ctx, out KernelInfo? k);
            if (early != null)
            {
                return early;
            }
            var needed = modules.Where(m => k!.Driver(m) != DriverAvailability.BuiltIn).ToList();
            if (needed.Count == 0)
            {
                return Outcome.Pass($"{string.Join(", ", modules)} {(modules.Length == 1 ? "is" : "are")} built into kernel {k!.Version}.", KernelEvidence(k!));
            }
            if (k!.InitrdPath == null)
            {
                return Outcome.FailAt($"Kernel {k.Version} has no initramfs in /boot and {string.Join(", ", needed)} are not built in.", "/boot",
                    InitrdRemediation(ctx, needed));
            }
            Fact<IReadOnlyList<InitramfsInfo>> facts = ctx.Facts.Initramfs;
            InitramfsInfo? info = facts.Value?.FirstOrDefault(i => i.Path == k.InitrdPath);
            if (!facts.Known || info == null)
            {
                return Outcome.Unknown($"{k.InitrdPath} could not be read: {facts.Error ?? "not listed"}");
            }
            if (!info.Readable)
            {
                return Outcome.Unknown($"{k.InitrdPath} ({info.Compression}) could not be read: {info.Error}");
            }
            var missing = needed.Where(m => !info.HasModule(m)).ToList();
            var evidence = new SourceLine(k.InitrdPath, 0);
            if (missing.Count > 0)
            {
                return Outcome.Fail($"{k.InitrdPath} ({info.Compression}, {info.EntryCount} entries) lacks {string.Join(", ", missing)}{purpose}.", evidence,
                    InitrdRemediation(ctx, missing));
            }
            return Outcome.Pass($"{k.InitrdPath} ({info.Compression}) holds {string.Join(", ", needed)}.", evidence);
        }

        private static RuleOutcome InitrdHyperV(ReadinessContext ctx) =>
            InitrdModules(ctx, RequiredInInitrd, ": the root disk is not found when the VM boots in Azure");

        private static RuleOutcome InitrdNvme(ReadinessContext ctx) =>
            InitrdModules(ctx, new[] { "nvme" }, ": NVMe VM sizes cannot find the root disk");
    }
}
