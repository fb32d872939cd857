using System.CommandLine;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux agentless &lt;image&gt; | --root DIR [--dry-run] [--json]: Install-AgentlessProvisioning.</summary>
    internal static class AgentlessVerb
    {
        public static Command Create()
        {
            var image = new Argument<string?>("image") { Description = "Disk image to change in place (or use --root).", Arity = ArgumentArity.ZeroOrOne };
            var root = new Option<string?>("--root") { Description = "A Linux root folder (a mounted or extracted image) instead of an image." };
            var destination = new Option<string?>("--destination") { Description = "Write a changed copy of the image here; the image itself is not changed." };
            var force = new Option<bool>("--force") { Description = "With --destination: replace an existing file." };
            var dryRun = new Option<bool>("--dry-run") { Description = "Show what would be written; write nothing." };
            var json = new Option<bool>("--json") { Description = "Write the changes as JSON on stdout." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("agentless", "Install and enable a first-boot unit that reports the VM ready to Azure once, for images without an agent (a POSIX sh reporter using the image's curl or wget, or azlinux).")
            {
                image, root, destination, force, dryRun, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                string? imagePath = parse.GetValue(image);
                string? rootPath = parse.GetValue(root);
                if ((imagePath == null) == (rootPath == null))
                {
                    throw new AzureLinuxImageException("ImageOrRootRequired", ErrorKind.InvalidArgument, "Give an image or --root DIR (one of them).");
                }
                var options = new InstallAgentlessProvisioningOptions
                {
                    ImagePath = imagePath,
                    RootPath = rootPath,
                    Destination = parse.GetValue(destination),
                    Force = parse.GetValue(force),
                };
                bool dry = parse.GetValue(dryRun);
                using var context = new CliContext(parse, dryRun: dry, verbose: parse.GetValue(verbose));
                return ChangeText.Write(InstallAgentlessProvisioning.Run(options, context), parse.GetValue(json), dry, parse.GetValue(destination) ?? imagePath ?? rootPath!);
            }));
            return command;
        }
    }
}
