using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux generalize &lt;image&gt; | --root DIR [--remove-user NAME] [--lock-passwords] [--truncate-logs] [--dry-run] [--json]: Clear-LinuxImageState.</summary>
    internal static class GeneralizeVerb
    {
        public static Command Create()
        {
            var image = new Argument<string?>("image") { Description = "Disk image to generalize in place (or use --root).", Arity = ArgumentArity.ZeroOrOne };
            var root = new Option<string?>("--root") { Description = "A Linux root folder (a mounted or extracted image) instead of an image." };
            var removeUser = new Option<string[]>("--remove-user") { Description = "Delete this build user with its home and authorized_keys (repeatable).", AllowMultipleArgumentsPerToken = true };
            var lockPasswords = new Option<bool>("--lock-passwords") { Description = "Lock every usable password hash in /etc/shadow (as passwd -l)." };
            var truncateLogs = new Option<bool>("--truncate-logs") { Description = "Empty the logs under /var/log; remove rotated logs and the journal." };
            var destination = new Option<string?>("--destination") { Description = "Write a changed copy of the image here; the image itself is not changed." };
            var force = new Option<bool>("--force") { Description = "With --destination: replace an existing file." };
            var dryRun = new Option<bool>("--dry-run") { Description = "Show what would be removed; write nothing." };
            var json = new Option<bool>("--json") { Description = "Write the changes as JSON on stdout." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("generalize", "Remove what ties the image to the VM it was built on (machine-id, SSH host keys, DHCP leases, agent and cloud-init state, histories), as waagent -deprovision does, offline.")
            {
                image, root, removeUser, lockPasswords, truncateLogs, destination, force, dryRun, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                string? imagePath = parse.GetValue(image);
                string? rootPath = parse.GetValue(root);
                if ((imagePath == null) == (rootPath == null))
                {
                    throw new AzureLinuxImageException("ImageOrRootRequired", ErrorKind.InvalidArgument, "Give an image or --root DIR (one of them).");
                }
                var options = new ClearLinuxImageStateOptions
                {
                    ImagePath = imagePath,
                    RootPath = rootPath,
                    Destination = parse.GetValue(destination),
                    Force = parse.GetValue(force),
                    RemoveUsers = parse.GetValue(removeUser)?.ToList() ?? new List<string>(),
                    LockPasswords = parse.GetValue(lockPasswords),
                    TruncateLogs = parse.GetValue(truncateLogs),
                };
                bool dry = parse.GetValue(dryRun);
                using var context = new CliContext(parse, dryRun: dry, verbose: parse.GetValue(verbose));
                return ChangeText.Write(ClearLinuxImageState.Run(options, context), parse.GetValue(json), dry, parse.GetValue(destination) ?? imagePath ?? rootPath!);
            }));
            return command;
        }
    }
}
