using System;
using System.CommandLine;
using System.IO;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux cat &lt;image&gt; &lt;path&gt;: Get-LinuxImageContent, streamed to stdout byte for byte.</summary>
    internal static class CatVerb
    {
        public static Command Create()
        {
            var image = new Argument<string>("image") { Description = "Disk image file, or a folder holding a Linux root." };
            var path = new Argument<string>("path") { Description = "Absolute path of the file inside the image; links are followed inside the image." };
            var command = new Command("cat", "Write a file from inside a Linux disk image to standard output, without mounting it.") { image, path };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                using var context = new CliContext(parse);
                string source = parse.GetValue(image)!;
                bool isRoot = Directory.Exists(source);
                using Stream stdout = Console.OpenStandardOutput();
                GetLinuxImageContent.CopyTo(isRoot ? null : source, isRoot ? source : null, parse.GetValue(path)!, stdout, context);
                return 0;
            }));
            return command;
        }
    }
}
