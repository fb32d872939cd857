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
            yield return new ReadinessRule("EarlyPrintkRootDelay", Area, "earlyprintk and rootdelay on the command line", "R-BOOT-1", ReadinessSeverity.Warning,
                "The command line also has earlyprintk=ttyS0 and rootdelay=300 as the seed article asks (Red Hat's current article drops rootdelay, hence a warning).",
                EarlyPrintk);
            yield return new ReadinessRule("QuietBoot", Area, "No quiet or rhgb boot", "R-BOOT-2", ReadinessSeverity.Warning,
                "quiet and rhgb hide boot messages from the serial console; crashkernel=auto reserves 128 MB or more.",
                Quiet);
            yield return new ReadinessRule("ForbiddenKernelArguments", Area, "No arguments Azure's documentation says to remove", "AZ-CMDLINE", ReadinessSeverity.Warning,
                "libata.atapi_enabled=0 and reserve=0x1f0,0x8 must be absent (they hide the provisioning DVD).",
                Forbidden);
            yield return new ReadinessRule("BootConfigurationInSync", Area, "grub.cfg matches /etc/default/grub", "AZ-CMDLINE", ReadinessSeverity.Warning,
                "The arguments of /etc/default/grub are those of the generated grub.cfg; otherwise grub-mkconfig was not rerun after an edit and the edit has no effect.",
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

        /// <summary>How to add arguments on this image: grubby for BLS, /etc/default/grub otherwise.</summary>
        internal static string AddArguments(ReadinessContext ctx, string arguments)
        {
            BootConfiguration? boot = ctx.Facts.Boot.Value;
            if (boot != null && boot.UsesBls)
            {
                return $"grubby --update-kernel=ALL --args=\"{arguments}\"";
            }
            return $"In /etc/default/grub append \"{arguments}\" to GRUB_CMDLINE_LINUX, then run: {ctx.RegenerateGrub}";
        }

        internal static string RemoveArguments(ReadinessContext ctx, IEnumerable<string> arguments)
        {
            string args = string.Join(" ", arguments);
            BootConfiguration? boot = ctx.Facts.Boot.Value;
            if (boot != null && boot.UsesBls)
            {
                return $"grubby --update-kernel=ALL --remove-args=\"{args}\"";
            }
            return $"Remove \"{args}\" from GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then run: {ctx.RegenerateGrub}";
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
                AddArguments(ctx, $"console={port},115200n8 earlyprintk={port},115200 rootdelay=300"));
        }

        private static RuleOutcome EarlyPrintk(ReadinessContext ctx)
        {
            (KernelCommandLine? cmd, RuleOutcome? early) = CommandLine(ctx);
            if (cmd == null)
            {
                return early!;
            }
            string port = SerialPort(ctx);
            var missing = new List<string>();
            if (!cmd.Values("earlyprintk").Any(v => v.StartsWith(port, StringComparison.Ordinal)))
            {
                missing.Add($"earlyprintk={port},115200");
            }
            if (!cmd.Has("rootdelay"))
            {
                missing.Add("rootdelay=300");
            }
            if (missing.Count == 0)
            {
                return Outcome.Pass($"earlyprintk and rootdelay={cmd.Value("rootdelay")} are set.", cmd.Source);
            }
            return Outcome.Fail($"The command line lacks {string.Join(" and ", missing)}.", cmd.Source, AddArguments(ctx, string.Join(" ", missing)));
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
            foreach (string key in new[] { "GRUB_CMDLINE_LINUX_DEFAULT", "GRUB_CMDLINE_LINUX" })
            {
                string? v = boot.DefaultGrub.Get(key);
                if (v != null && KernelCommandLine.Split(v).Any(bad.Contains) && boot.DefaultGrubLines.TryGetValue(key, out int line))
                {
                    where = new SourceLine("/etc/default/grub", line);
                    break;
                }
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
                return Outcome.Pass($"{b.GrubConfigPath} has the arguments of /etc/default/grub.", b.DefaultEntry.CommandLine.Source);
            }
            string only = string.Join(" ", b.Disagreements.Where(d => d[0] == '+').Select(d => d.Substring(1)));
            string extra = string.Join(" ", b.Disagreements.Where(d => d[0] == '-').Select(d => d.Substring(1)));
            string msg = (only.Length > 0 ? $"/etc/default/grub has {only} that {b.GrubConfigPath} lacks" : string.Empty) +
                (only.Length > 0 && extra.Length > 0 ? "; " : string.Empty) +
                (extra.Length > 0 ? $"{b.GrubConfigPath} has {extra} that /etc/default/grub does not" : string.Empty);
            return Outcome.Fail(msg + " (grub-mkconfig was not rerun).", b.DefaultEntry.CommandLine.Source, $"Run: {ctx.RegenerateGrub}");
        }
    }
}
