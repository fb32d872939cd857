using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux fix &lt;image&gt; | --root DIR [--rule ID] [--exclude-rule ID] [--agent A] [--dry-run] [--json]: Repair-LinuxImage.</summary>
    internal static class FixVerb
    {
        public static Command Create()
        {
            var image = new Argument<string?>("image") { Description = "Disk image to fix in place (or use --root).", Arity = ArgumentArity.ZeroOrOne };
            var root = new Option<string?>("--root") { Description = "A Linux root folder (a mounted or extracted image) instead of an image." };
            var rule = new Option<string[]>("--rule") { Description = "Only fix these rules (repeatable, wildcards allowed).", AllowMultipleArgumentsPerToken = true };
            var exclude = new Option<string[]>("--exclude-rule") { Description = "Leave these rules alone (repeatable, wildcards allowed).", AllowMultipleArgumentsPerToken = true };
            var agent = new Option<string>("--agent") { Description = "Provisioning agent the image is meant to use: auto, waagent, cloud-init or none.", DefaultValueFactory = _ => "auto" };
            agent.AcceptOnlyFromAmong("auto", "waagent", "cloud-init", "none");
            var destination = new Option<string?>("--destination") { Description = "Write a changed copy of the image here; the image itself is not changed." };
            var force = new Option<bool>("--force") { Description = "With --destination: replace an existing file." };
            var dryRun = new Option<bool>("--dry-run") { Description = "Show what would change; write nothing." };
            var json = new Option<bool>("--json") { Description = "Write the changes as JSON on stdout." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("fix", "Apply the safe offline fix of every failing readiness finding (kernel command line, fstab, sudoers, udf, waagent.conf, network ...); list the rest with their remedy.")
            {
                image, root, rule, exclude, agent, destination, force, dryRun, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                string? imagePath = parse.GetValue(image);
                string? rootPath = parse.GetValue(root);
                if ((imagePath == null) == (rootPath == null))
                {
                    throw new AzureLinuxImageException("ImageOrRootRequired", ErrorKind.InvalidArgument, "Give an image or --root DIR (one of them).");
                }
                var options = new RepairLinuxImageOptions
                {
                    ImagePath = imagePath,
                    RootPath = rootPath,
                    Destination = parse.GetValue(destination),
                    Force = parse.GetValue(force),
                    Rules = parse.GetValue(rule)?.ToList() ?? new List<string>(),
                    ExcludeRules = parse.GetValue(exclude)?.ToList() ?? new List<string>(),
                    ProvisioningAgent = parse.GetValue(agent) switch
                    {
                        "waagent" => ProvisioningAgentChoice.Waagent,
                        "cloud-init" => ProvisioningAgentChoice.CloudInit,
                        "none" => ProvisioningAgentChoice.None,
                        _ => ProvisioningAgentChoice.Auto,
                    },
                };
                bool dry = parse.GetValue(dryRun);
                using var context = new CliContext(parse, dryRun: dry, verbose: parse.GetValue(verbose));
                IReadOnlyList<LinuxImageChange> changes = RepairLinuxImage.Run(options, context);
                return ChangeText.Write(changes, parse.GetValue(json), dry, parse.GetValue(destination) ?? imagePath ?? rootPath!);
            }));
            return command;
        }
    }
}
