using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Linux.Waagent;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>
    /// azlinux waagent get &lt;file|--root DIR|image&gt; [--json] and azlinux waagent set &lt;file|--root DIR&gt;
    /// KEY=VALUE… [--azure-recommended] [--swap-size-mb N] [--unset KEY] [--allow-unknown] [--dry-run] [--json]:
    /// Get-WaagentConfig and Set-WaagentConfig.
    /// </summary>
    internal static class WaagentVerb
    {
        public static Command Create()
        {
            var command = new Command("waagent", "Read or change the Azure Linux Agent's /etc/waagent.conf safely.");
            command.Subcommands.Add(Get());
            command.Subcommands.Add(Set());
            return command;
        }

        private static Command Get()
        {
            var target = new Argument<string?>("file-or-image") { Description = "A waagent.conf file, or a disk image (told apart by content).", Arity = ArgumentArity.ZeroOrOne };
            var root = new Option<string?>("--root") { Description = "A Linux root folder; its /etc/waagent.conf is read, links confined to it." };
            var json = new Option<bool>("--json") { Description = "Write JSON instead of text." };
            var command = new Command("get", "Show every option as the agent will use it (set or defaulted), with problems and conflicts.") { target, root, json };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                string? file = parse.GetValue(target);
                string? rootDir = parse.GetValue(root);
                WaagentConfigInfo info;
                if ((file == null) == (rootDir == null))
                {
                    throw new AzureLinuxImageException("InvalidTarget", ErrorKind.InvalidArgument, "Give either a file (waagent.conf or a disk image) or --root DIR.");
                }
                if (rootDir != null)
                {
                    info = GetWaagentConfig.FromRoot(rootDir);
                }
                else if (GetWaagentConfig.IsConfigText(file!) || !File.Exists(file!))
                {
                    info = GetWaagentConfig.FromFile(file!);
                }
                else
                {
                    info = GetWaagentConfig.FromImage(file!);
                }
                if (parse.GetValue(json))
                {
                    CliJson.Write(info);
                }
                else
                {
                    WriteText(info);
                }
                return 0;
            }));
            return command;
        }

        private static Command Set()
        {
            var items = new Argument<string[]>("file-and-settings") { Description = "The waagent.conf file or a disk image (fixed VHD or raw; told apart by content) unless --root is given, then KEY=VALUE pairs.", Arity = ArgumentArity.ZeroOrMore };
            var destination = new Option<string?>("--destination", "-o") { Description = "For an image: write a changed copy to this file; the image itself is not changed." };
            var force = new Option<bool>("--force") { Description = "With --destination: replace an existing file." };
            var root = new Option<string?>("--root") { Description = "A Linux root folder whose /etc/waagent.conf is changed; a link leaving the root is refused." };
            var recommended = new Option<bool>("--azure-recommended") { Description = "R-AGENT-5: ResourceDisk.Format=y, Filesystem=ext4, MountPoint=/mnt/resource, EnableSwap=y, SwapSizeMB." };
            var swap = new Option<long?>("--swap-size-mb") { Description = "Swap size for --azure-recommended (default 2048); alone, sets ResourceDisk.SwapSizeMB." };
            var unset = new Option<string[]>("--unset") { Description = "Remove every line of KEY (repeatable).", AllowMultipleArgumentsPerToken = false };
            var allowUnknown = new Option<bool>("--allow-unknown") { Description = "Accept keys that are not documented options of the agent." };
            var dryRun = new Option<bool>("--dry-run") { Description = "Print the line diff; change nothing." };
            var json = new Option<bool>("--json") { Description = "Write the result as JSON." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("set", "Change waagent.conf: values validated first, only the concerned lines edited, written atomically (mode and owner kept).")
            {
                items, root, destination, force, recommended, swap, unset, allowUnknown, dryRun, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                List<string> args = (parse.GetValue(items) ?? Array.Empty<string>()).ToList();
                string? rootDir = parse.GetValue(root);
                var options = new SetWaagentConfigOptions
                {
                    RootPath = rootDir,
                    AzureRecommended = parse.GetValue(recommended),
                    SwapSizeMB = parse.GetValue(swap),
                    AllowUnknownKeys = parse.GetValue(allowUnknown),
                };
                if (rootDir == null)
                {
                    if (args.Count == 0 || args[0].Contains("="))
                    {
                        throw new AzureLinuxImageException("InvalidTarget", ErrorKind.InvalidArgument, "Give the waagent.conf file or disk image first (or --root DIR), then KEY=VALUE pairs.");
                    }
                    if (File.Exists(args[0]) && !GetWaagentConfig.IsConfigText(args[0]))
                    {
                        options.ImagePath = args[0];
                        options.Destination = parse.GetValue(destination);
                        options.Force = parse.GetValue(force);
                    }
                    else
                    {
                        options.Path = args[0];
                    }
                    args.RemoveAt(0);
                }
                WaagentSettingParameters.AddAssignments(options, args);
                foreach (string key in parse.GetValue(unset) ?? Array.Empty<string>())
                {
                    options.Settings.Add(new KeyValuePair<string, string?>(key, null));
                }
                if (!WaagentSettingParameters.HasEdits(options))
                {
                    throw new AzureLinuxImageException("NothingToSet", ErrorKind.InvalidArgument, "Nothing to change: give KEY=VALUE pairs, --unset KEY, --azure-recommended or --swap-size-mb.");
                }

                // --dry-run is the context declining, exactly as -WhatIf: one code path plans, warns and reports.
                WaagentConfigChangeResult result;
                using (var context = new CliContext(parse, parse.GetValue(dryRun), parse.GetValue(verbose)))
                {
                    result = SetWaagentConfig.Run(options, context);
                }
                string where = result.ImagePath != null ? $"{result.ImagePath}: {result.Path}" : result.Path;
                if (parse.GetValue(json))
                {
                    CliJson.Write(result);
                }
                else if (parse.GetValue(dryRun))
                {
                    Console.Out.Write(result.Changed ? result.Diff : "");
                    Console.Error.WriteLine(result.Changed ? $"dry run: {where} would change ({result.ChangedLineCount} line(s)); nothing written." : $"{where}: already as requested.");
                }
                else
                {
                    Console.Out.WriteLine(result.Written ? $"{where}: {result.ChangedLineCount} line(s) changed." : $"{where}: already as requested; nothing written.");
                }
                return 0;
            }));
            return command;
        }

        private static void WriteText(WaagentConfigInfo info)
        {
            var o = Console.Out;
            o.WriteLine(info.ImagePath != null ? $"{info.ImagePath}: {info.ConfigPath}" : info.RootPath != null ? $"{info.RootPath}: {info.ConfigPath}" : info.ConfigPath);
            o.WriteLine($"  Provisioning agent       {info.ProvisioningAgent}");
            o.WriteLine($"  Resource disk            format={YesNo(info.ResourceDiskFormat)} filesystem={info.ResourceDiskFilesystem} mount={info.ResourceDiskMountPoint}");
            o.WriteLine($"  Swap on resource disk    {YesNo(info.SwapOnResourceDisk)} (EnableSwap={YesNo(info.ResourceDiskEnableSwap)}, SwapSizeMB={info.ResourceDiskSwapSizeMB})");
            o.WriteLine($"  Meets R-AGENT-5          {YesNo(info.MeetsAzureRecommendation)}");
            o.WriteLine($"  File                     {info.LineCount} lines, {info.LineEndings} endings{(info.EndsWithNewline ? "" : ", no final newline")}{(info.HasByteOrderMark ? ", byte order mark" : "")}");
            o.WriteLine();
            int width = info.Settings.Max(s => s.Key.Length);
            foreach (WaagentSetting s in info.Settings)
            {
                string where = s.IsSet ? $"line {s.LineNumber}" : "default";
                o.WriteLine($"  {s.Key.PadRight(width)}  {s.EffectiveValue ?? "(unset)"}  [{where}]");
            }
            if (info.Problems.Count > 0)
            {
                o.WriteLine();
                foreach (WaagentConfigProblem p in info.Problems)
                {
                    o.WriteLine($"  {p}");
                }
            }
        }

        private static string YesNo(bool value) => value ? "yes" : "no";
    }
}
