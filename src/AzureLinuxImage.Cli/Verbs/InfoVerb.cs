using System.CommandLine;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux info &lt;image&gt; [--json]: Get-DiskImageInfo.</summary>
    internal static class InfoVerb
    {
        public static Command Create()
        {
            var image = new Argument<string>("image") { Description = "Disk image file (raw, VHD, and the other formats this version reads)." };
            var json = new Option<bool>("--json") { Description = "Write JSON instead of text." };
            var command = new Command("info", "Describe a disk image and whether Azure takes it as it is.") { image, json };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                using var context = new CliContext(parse);
                DiskImageInfo info = GetDiskImageInfo.Run(parse.GetValue(image)!, context);
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
