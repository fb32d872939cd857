using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Readiness
{
    /// <summary>Kernel command line and boot configuration (R-BOOT, AZURE-LINUX.md "cmdline" and "boot").</summary>
    internal static class BootRules
    {
        private const string Area = "Boot";

        public static IEnumerable<ReadinessRule> All()
        {
            yield return new ReadinessRule("SerialConsole", Area, "Kernel console on the serial port", "R-BOOT-1", ReadinessSeverity.Error,
                "The default boot entry's command line has console=ttyS0 (ttyAMA0 on Arm64), so boot output reaches Azure's serial console and boot diagnostics.",
                SerialConsole);
            yield return new ReadinessRule("EarlyPrintk", Area, "earlyprintk on the serial port", "R-BOOT-1", ReadinessSeverity.Warning,
                "The command line has earlyprintk=ttyS0 as the seed article asks, when the default kernel is built with CONFIG_EARLY_PRINTK (read from its /boot/config-*); without it the parameter does nothing and is not asked for (Arm64 kernels have none).",
                EarlyPrintk);
            yield return new ReadinessRule("RootDelay", Area, "rootdelay does not sleep at every boot", "R-BOOT-1", ReadinessSeverity.Warning,
                "The seed article asks for rootdelay=300, meaning a maximum wait for the root device. What it does is read from the default kernel's initramfs: dracut's boot code (RHEL, Fedora, SUSE) bounds its wait by rd.retry and reads rootdelay, if at all, as a timeout (Pass); Debian 12's initramfs-tools runs an unconditional sleep \"$ROOTDELAY\" in /init before it even looks for the root, so rootdelay=300 costs five minutes at every boot, in Azure and anywhere (Warning, naming the initrd's script and line; its scripts/local already waits up to 30 s for the root without it). Absent is a Pass. Unknown when the initramfs cannot be read. The remediation never adds a parameter that sleeps.",
                RootDelay);
            yield return new ReadinessRule("QuietBoot", Area, "No quiet or rhgb boot", "R-BOOT-2", ReadinessSeverity.Warning,
                "quiet and rhgb hide boot messages from the serial console; crashkernel=auto reserves 128 MB or more.",
                Quiet);
            yield return new ReadinessRule("ForbiddenKernelArguments", Area, "No arguments Azure's documentation says to remove", "AZ-CMDLINE", ReadinessSeverity.Warning,
                "libata.atapi_enabled=0 and reserve=0x1f0,0x8 must be absent (they hide the provisioning DVD).",
                Forbidden);
            yield return new ReadinessRule("BootConfigurationInSync", Area, "grub.cfg matches /etc/default/grub", "AZ-CMDLINE", ReadinessSeverity.Warning,
                "The arguments of /etc/default/grub and /etc/default/grub.d/*.cfg (read as grub-mkconfig sources them: the last assignment wins) are those of the generated grub.cfg; otherwise grub-mkconfig was not rerun after an edit and the edit has no effect.",
                InSync);
        }

        private static (KernelCommandLine? Cmd, RuleOutcome? Early) CommandLine(ReadinessContext ctx)
        {
            Fact<BootConfiguration> boot = ctx.Facts.Boot;
            if (!boot.Known)
            {
                return (null, Outcome.Unknown("The boot configuration could not be read: " + boot.Error));
            }
            KernelCommandLine? cmd = boot.Value!.EffectiveCommandLine;
            if (cmd == null)
            {
                return (null, Outcome.Unknown("No boot configuration was found (grub.cfg, menu.lst, /boot/loader/entries, /etc/default/grub, /etc/kernel/cmdline)."));
            }
            return (cmd, null);
        }

        internal static string SerialPort(ReadinessContext ctx) => ctx.Facts.Architecture.Value?.Name == "aarch64" ? "ttyAMA0" : "ttyS0";

        /// <summary>
        /// How to add arguments on this image: grubby for BLS; otherwise the file whose GRUB_CMDLINE_LINUX assignment
        /// grub-mkconfig uses (the last one of /etc/default/grub and /etc/default/grub.d/*.cfg: an edit of an earlier
        /// one would be overridden).
        /// </summary>
        internal static string AddArguments(ReadinessContext ctx, string arguments)
        {
            BootConfiguration? boot = ctx.Facts.Boot.Value;
            if (boot != null && boot.UsesBls)
            {
                return $"grubby --update-kernel=ALL --args=\"{arguments}\"";
            }
            GrubAssignment? at = boot?.Defaults.Last("GRUB_CMDLINE_LINUX");
            string where = at == null ? GrubDefaults.MainFile : $"{at.Source.File} (line {at.Source.Line}, the assignment that decides it)";
            return $"In {where} append \"{arguments}\" to GRUB_CMDLINE_LINUX, then run: {ctx.RegenerateGrub}";
        }

        /// <summary>How to remove arguments: grubby for BLS; otherwise each assignment (file and line) that puts them on the command line.</summary>
        internal static string RemoveArguments(ReadinessContext ctx, IEnumerable<string> arguments)
        {
            List<string> list = arguments.ToList();
            string args = string.Join(" ", list);
            BootConfiguration? boot = ctx.Facts.Boot.Value;
            if (boot != null && boot.UsesBls)
            {
                return $"grubby --update-kernel=ALL --remove-args=\"{args}\"";
            }
            var edits = new List<string>();
            if (boot != null)
            {
                foreach (IGrouping<SourceLine, (string Arg, GrubAssignment At)> g in list
                    .SelectMany(arg => boot.Defaults.Contributing(arg).Select(at => (Arg: arg, At: at)))
                    .GroupBy(x => x.At.Source))
                {
                    edits.Add($"remove \"{string.Join(" ", g.Select(x => x.Arg).Distinct())}\" from {g.First().At.Key} at {g.Key}");
                }
            }
            if (edits.Count == 0)
            {
                string files = boot == null || boot.Defaults.Files.Count == 0 ? GrubDefaults.MainFile : string.Join(" and ", boot.Defaults.Files);
                return $"Remove \"{args}\" from GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT in {files}, then run: {ctx.RegenerateGrub}";
            }
            string text = string.Join("; ", edits);
            return char.ToUpperInvariant(text[0]) + text.Substring(1) + $", then run: {ctx.RegenerateGrub}";
        }

        private static RuleOutcome SerialConsole(ReadinessContext ctx)
        {
            (KernelCommandLine? cmd, RuleOutcome? early) = CommandLine(ctx);
            if (cmd == null)
            {
                return early!;
            }
            string port = SerialPort(ctx);
            List<string> consoles = cmd.Values("console").ToList();
            if (consoles.Any(c => c == port || c.StartsWith(port + ",", StringComparison.Ordinal)))
            {
                return Outcome.Pass($"The kernel console includes {port} ({string.Join(" ", consoles.Select(c => "console=" + c))}).", cmd.Source);
            }
            string found = consoles.Count == 0 ? "has no console= argument" : "sends the console to " + string.Join(", ", consoles);
            return Outcome.Fail($"The default boot entry's command line {found}: Azure's serial console and boot diagnostics stay blank.", cmd.Source,
                AddArguments(ctx, $"console={port},115200n8" + (EarlyPrintkSupported(ctx) == false ? string.Empty : $" earlyprintk={port},115200")));
        }

        /// <summary>CONFIG_EARLY_PRINTK of the default kernel: true, false, or null when its config is not in the image.</summary>
        internal static bool? EarlyPrintkSupported(ReadinessContext ctx)
        {
            KernelInfo? k = ctx.Facts.DefaultKernel;
            if (k == null || k.ConfigPath == null)
            {
                return ctx.Facts.Architecture.Value?.Name == "aarch64" ? false : (bool?)null;
            }
            return k.Config.TryGetValue("CONFIG_EARLY_PRINTK", out string? v) && v == "y";
        }

        private static RuleOutcome EarlyPrintk(ReadinessContext ctx)
        {
            (KernelCommandLine? cmd, RuleOutcome? early) = CommandLine(ctx);
            if (cmd == null)
            {
                return early!;
            }
            string port = SerialPort(ctx);
            bool? supported = EarlyPrintkSupported(ctx);
            KernelInfo? k = ctx.Facts.DefaultKernel;
            string config = k?.ConfigPath ?? "the kernel config";
            bool has = cmd.Values("earlyprintk").Any(v => v.StartsWith(port, StringComparison.Ordinal) || v.StartsWith("serial", StringComparison.Ordinal));
            if (supported == false)
            {
                return has
                    ? Outcome.Warn($"earlyprintk is set but kernel {k?.Version.Text ?? string.Empty} is built without CONFIG_EARLY_PRINTK ({config}): it does nothing.", cmd.Source,
                        RemoveArguments(ctx, cmd.Arguments.Where(a => a.StartsWith("earlyprintk", StringComparison.Ordinal)).Distinct()))
                    : Outcome.Pass($"Kernel {k?.Version.Text ?? string.Empty} has no CONFIG_EARLY_PRINTK ({config}): earlyprintk would do nothing, so it is not needed.", cmd.Source);
            }
            if (has)
            {
                return Outcome.Pass($"earlyprintk={cmd.Value("earlyprintk")} is set" + (supported == true ? $" and kernel {k!.Version.Text} has CONFIG_EARLY_PRINTK." : "."), cmd.Source);
            }
            return Outcome.Fail($"The command line lacks earlyprintk={port},115200" + (supported == true ? $" (kernel {k!.Version.Text} has CONFIG_EARLY_PRINTK)" : string.Empty) + ": the earliest boot messages never reach the serial console.",
                cmd.Source, AddArguments(ctx, $"earlyprintk={port},115200"));
        }

        private static RuleOutcome RootDelay(ReadinessContext ctx)
        {
            (KernelCommandLine? cmd, RuleOutcome? early) = CommandLine(ctx);
            if (cmd == null)
            {
                return early!;
            }
            string? value = cmd.Value("rootdelay");
            if (value == null)
            {
                return Outcome.Pass("rootdelay is not set: nothing sleeps at boot (initramfs-tools' scripts/local and dracut wait for the root device by themselves, bounded).", cmd.Source);
            }
            string seconds = int.TryParse(value, out int n) ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : value;
            KernelInfo? k = ctx.Facts.DefaultKernel;
            if (k == null)
            {
                return Outcome.Unknown($"rootdelay={value} is set, and no kernel was found to tell what its boot code does with it.");
            }
            if (k.InitrdPath == null)
            {
                // init/do_mounts.c prepare_namespace: without an initramfs the kernel itself sleeps root_delay seconds.
                return Outcome.Warn($"rootdelay={value} is set and kernel {k.Version.Text} has no initramfs: the kernel itself sleeps {seconds} s before mounting the root at every boot (init/do_mounts.c).",
                    cmd.Source, RemoveArguments(ctx, new[] { "rootdelay=" + value }));
            }
            if (!ctx.Facts.Initramfs.Known)
            {
                return Outcome.Unknown($"rootdelay={value} is set and the initramfs could not be read: " + ctx.Facts.Initramfs.Error);
            }
            InitramfsInfo? initrd = ctx.Facts.Initramfs.Value!.FirstOrDefault(i => i.KernelVersion == k.Version.Text);
            if (initrd == null || !initrd.Readable || initrd.RootDelay == null)
            {
                return Outcome.Unknown($"rootdelay={value} is set and {k.InitrdPath} could not be read{(initrd?.Error == null ? string.Empty : ": " + initrd.Error)}; what its boot code does with rootdelay is unknown.");
            }
            RootDelayFact f = initrd.RootDelay;
            switch (f.Handling)
            {
                case RootDelayHandling.Unconditional:
                    return Outcome.Warn($"rootdelay={value} makes every boot wait {seconds} s: the initramfs ({f.Generator}) runs '{f.Text}' at {initrd.Path}:{f.Script}:{f.Line} before it even looks for the root device, in Azure and everywhere else. " +
                        "The seed article meant a maximum wait for the root (R-BOOT-1); measured under QEMU, rootdelay=300 adds 300 s to a Debian 12 boot (AZURE-LINUX.md, \"Booting an image locally\")" +
                        (f.Generator == "initramfs-tools" ? ", while initramfs-tools' scripts/local already waits up to max(30, rootdelay) s for a missing root." : "."),
                        cmd.Source, RemoveArguments(ctx, new[] { "rootdelay=" + value }));
                case RootDelayHandling.Bounded:
                    return Outcome.Pass($"rootdelay={value} only bounds the wait for the root device in the initramfs ({f.Generator}: '{f.Text}' at {initrd.Path}:{f.Script}:{f.Line}).", cmd.Source);
                default:
                    return Outcome.Pass($"rootdelay={value} is set but the initramfs ({f.Generator}, {initrd.Path}) never reads it: it neither sleeps nor waits" +
                        (f.Generator == "dracut" ? " (dracut bounds its wait for the root by rd.retry)." : "."), cmd.Source);
            }
        }

        private static RuleOutcome Quiet(ReadinessContext ctx)
        {
            (KernelCommandLine? cmd, RuleOutcome? early) = CommandLine(ctx);
            if (cmd == null)
            {
                return early!;
            }
            var bad = cmd.Arguments.Where(a => a == "quiet" || a == "rhgb" || a == "crashkernel=auto" || a.StartsWith("splash", StringComparison.Ordinal)).Distinct().ToList();
            if (bad.Count == 0)
            {
                return Outcome.Pass("Neither quiet nor rhgb is on the command line.", cmd.Source);
            }
            SourceLine where = cmd.Source;
            BootConfiguration boot = ctx.Facts.Boot.Value!;
            GrubAssignment? decides = bad.SelectMany(boot.Defaults.Contributing).FirstOrDefault();
            if (decides != null && !boot.UsesBls)
            {
                where = decides.Source;
            }
            return Outcome.Fail($"The command line has {string.Join(" ", bad)}: boot messages are hidden from the serial console" +
                (bad.Contains("crashkernel=auto") ? "; crashkernel=auto reserves 128 MB or more" : string.Empty) + ".", where, RemoveArguments(ctx, bad));
        }

        private static RuleOutcome Forbidden(ReadinessContext ctx)
        {
            (KernelCommandLine? cmd, RuleOutcome? early) = CommandLine(ctx);
            if (cmd == null)
            {
                return early!;
            }
            var bad = cmd.Arguments.Where(a => a == "libata.atapi_enabled=0" || a.StartsWith("reserve=0x1f0", StringComparison.Ordinal)).ToList();
            return bad.Count == 0
                ? Outcome.Pass("No argument hides the provisioning media.", cmd.Source)
                : Outcome.Fail($"{string.Join(" ", bad)} keeps the kernel from seeing the DVD drive that carries ovf-env.xml.", cmd.Source, RemoveArguments(ctx, bad));
        }

        private static RuleOutcome InSync(ReadinessContext ctx)
        {
            Fact<BootConfiguration> boot = ctx.Facts.Boot;
            if (!boot.Known)
            {
                return Outcome.Unknown("The boot configuration could not be read: " + boot.Error);
            }
            BootConfiguration b = boot.Value!;
            if (b.DefaultGrubCommandLine == null || b.DefaultEntry?.CommandLine == null || b.UsesBls)
            {
                return Outcome.NotApplicable("There is no pair of /etc/default/grub and a generated grub.cfg to compare.");
            }
            if (b.Disagreements.Count == 0)
            {
                return Outcome.Pass($"{b.GrubConfigPath} has the arguments of {string.Join(" with ", b.Defaults.Files)}.", b.DefaultEntry.CommandLine.Source);
            }
            string only = string.Join(" ", b.Disagreements.Where(d => d[0] == '+').Select(d => d.Substring(1)));
            string extra = string.Join(" ", b.Disagreements.Where(d => d[0] == '-').Select(d => d.Substring(1)));
            string defaults = string.Join(" with ", b.Defaults.Files);
            string msg = (only.Length > 0 ? $"{defaults} {(b.Defaults.Files.Count > 1 ? "give" : "has")} {only} that {b.GrubConfigPath} lacks" : string.Empty) +
                (only.Length > 0 && extra.Length > 0 ? "; " : string.Empty) +
                (extra.Length > 0 ? $"{b.GrubConfigPath} has {extra} that {defaults} {(b.Defaults.Files.Count > 1 ? "do" : "does")} not give" : string.Empty);
            return Outcome.Fail(msg + " (grub-mkconfig was not rerun).", b.DefaultEntry.CommandLine.Source, $"Run: {ctx.RegenerateGrub}");
        }
    }
}
