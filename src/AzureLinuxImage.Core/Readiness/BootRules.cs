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
