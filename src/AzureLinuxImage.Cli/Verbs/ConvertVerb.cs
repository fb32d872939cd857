using System.CommandLine;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux convert &lt;src&gt; [dest] [--force] [--skip-alignment] [--no-flush] [--json]: ConvertTo-FixedVhd.</summary>
    internal static class ConvertVerb
    {
        public static Command Create()
        {
            var source = new Argument<string>("source") { Description = "Image to convert." };
            var destination = new Argument<string?>("destination") { Description = "Output .vhd file or folder (default: next to the source).", Arity = ArgumentArity.ZeroOrOne };
            var force = new Option<bool>("--force") { Description = "Overwrite an existing destination." };
            var skip = new Option<bool>("--skip-alignment") { Description = "Do not round the size up to a whole MiB (Azure will refuse the result)." };
            var noFlush = new Option<bool>("--no-flush")
            {
                Description = "Do not flush the output to disk before renaming it into place: faster; a crash or Ctrl+C still leaves no partial file, but a power failure soon after may.",
            };
            var json = new Option<bool>("--json") { Description = "Write the output's description as JSON." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("convert", "Convert any readable image to an Azure-valid fixed VHD (size rounded up to a whole MiB).")
            {
                source, destination, force, skip, noFlush, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                using var context = new CliContext(parse, verbose: parse.GetValue(verbose));
                DiskImageInfo info = ConvertToFixedVhd.Run(parse.GetValue(source)!, parse.GetValue(destination), parse.GetValue(force), parse.GetValue(skip), context,
                    flush: !parse.GetValue(noFlush))!;
                if (parse.GetValue(json))
                {
                    CliJson.Write(info);
                }
                else
                {
                    DiskInfoText.Write(info);
                }
                return 0;
            }));
            return command;
        }
    }
}
