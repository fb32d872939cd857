using System.CommandLine;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux resize &lt;vhd&gt; [--size BYTES] [--dry-run] [--json]: Resize-VhdAligned.</summary>
    internal static class ResizeVerb
    {
        public static Command Create()
        {
            var vhd = new Argument<string>("vhd") { Description = "Fixed VHD to resize in place." };
            var size = new Option<long?>("--size") { Description = "New size in bytes, rounded up to a whole MiB (default: the current size rounded up)." };
            var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be done; change nothing." };
            var json = new Option<bool>("--json") { Description = "Write the result as JSON." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("resize", "Resize a fixed VHD in place to a whole MiB, moving a GPT backup with it.") { vhd, size, dryRun, json, verbose };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                using var context = new CliContext(parse, parse.GetValue(dryRun), parse.GetValue(verbose));
                DiskImageInfo? info = ResizeVhdAligned.Run(parse.GetValue(vhd)!, parse.GetValue(size), context);
                if (info == null)
                {
                    return 0;
                }
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
