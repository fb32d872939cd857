using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux ls &lt;image&gt; [path] [--json] [--recursive]: Get-LinuxImageItem.</summary>
    internal static class LsVerb
    {
        public static Command Create()
        {
            var image = new Argument<string>("image") { Description = "Disk image file, or a folder holding a Linux root (a mounted image or a chroot)." };
            var path = new Argument<string>("path") { Description = "Absolute path inside the image (default /). A directory is listed; anything else is shown itself.", DefaultValueFactory = _ => "/" };
            var json = new Option<bool>("--json") { Description = "Write JSON instead of text." };
            var recursive = new Option<bool>("--recursive", "-R") { Description = "List subdirectories too (links to directories are not followed)." };
            var command = new Command("ls", "List a directory inside a Linux disk image, without mounting it.") { image, path, json, recursive };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                using var context = new CliContext(parse);
                string source = parse.GetValue(image)!;
                bool isRoot = Directory.Exists(source);
                IEnumerable<LinuxImageItem> items = GetLinuxImageItem.Run(isRoot ? null : source, isRoot ? source : null, parse.GetValue(path)!, parse.GetValue(recursive), context);
                if (parse.GetValue(json))
                {
                    CliJson.Write(new List<LinuxImageItem>(items));
                    return 0;
                }
                var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
                foreach (LinuxImageItem i in items)
                {
                    string when = i.Modified?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-";
                    string name = parse.GetValue(recursive) ? i.ItemPath : i.Name;
                    output.WriteLine($"{i.ModeString} {i.Uid,5} {i.Gid,5} {i.Size,12} {when} {name}{(i.LinkTarget != null ? " -> " + i.LinkTarget : string.Empty)}");
                }
                output.Flush();
                return 0;
            }));
            return command;
        }
    }
}
