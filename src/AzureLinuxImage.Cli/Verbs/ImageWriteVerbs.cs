using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>
    /// azlinux write IMAGE PATH [FILE|-], rm IMAGE PATH, mkdir IMAGE PATH, ln IMAGE TARGET PATH: offline
    /// changes inside a fixed VHD or raw image (Set-LinuxImageContent, Remove-LinuxImageItem,
    /// New-LinuxImageItem). Each takes --destination/-o (a changed copy; the image untouched), --force,
    /// --dry-run (list exactly what would change), --verbose (the bytes and inodes too) and --json.
    /// </summary>
    internal static class ImageWriteVerbs
    {
        /// <summary>Standard input up to this size stays in memory; more goes to a temporary file (the content is staged twice).</summary>
        private const int InMemoryInput = 16 << 20;

        public static Command Write()
        {
            var image = new Argument<string>("image") { Description = "Disk image file (fixed VHD or raw)." };
            var path = new Argument<string>("path") { Description = "Absolute path of the file inside the image (created or replaced; a link is followed inside the image)." };
            var file = new Argument<string?>("file") { Description = "File on this machine with the new content; standard input when absent or '-'.", Arity = ArgumentArity.ZeroOrOne };
            var mode = new Option<string?>("--mode") { Description = "Octal permissions of a created file (default 0644); a replaced file keeps its own." };
            var uid = new Option<uint?>("--uid") { Description = "Owner of a created file (default 0)." };
            var gid = new Option<uint?>("--gid") { Description = "Group of a created file (default 0)." };
            var common = new CommonOptions();
            var command = new Command("write", "Create or replace a file inside a Linux disk image, offline (owner, mode and xattrs of a replaced file kept).") { image, path, file, mode, uid, gid };
            common.AddTo(command);
            command.SetAction(parse => CliErrors.Run(() =>
            {
                string? source = parse.GetValue(file);
                string? spool = null;
                try
                {
                    Func<Stream> content;
                    if (source == null || source == "-")
                    {
                        (content, spool) = ReadStandardInput();
                    }
                    else
                    {
                        string full = Path.GetFullPath(source);
                        if (!File.Exists(full))
                        {
                            throw new AzureLinuxImageException("InputFileNotFound", ErrorKind.NotFound, $"{full} does not exist.", full);
                        }
                        content = () => new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
                    }
                    NewItemAttributes? attributes = Attributes(parse.GetValue(mode), parse.GetValue(uid), parse.GetValue(gid), 0x1A4);
                    return common.Run(parse, context => SetLinuxImageContent.Run(parse.GetValue(image)!, parse.GetValue(path)!, content, attributes, parse.GetValue(common.Destination), parse.GetValue(common.Force), context));
                }
                finally
                {
                    if (spool != null)
                    {
                        File.Delete(spool);
                    }
                }
            }));
            return command;
        }

        public static Command Remove()
        {
            var image = new Argument<string>("image") { Description = "Disk image file (fixed VHD or raw)." };
            var path = new Argument<string>("path") { Description = "Absolute path inside the image; a link is removed, not its target." };
            var recursive = new Option<bool>("--recursive", "-r") { Description = "Remove a directory with everything in it." };
            var common = new CommonOptions();
            var command = new Command("rm", "Remove a file, link or directory inside a Linux disk image, offline.") { image, path, recursive };
            common.AddTo(command);
            command.SetAction(parse => CliErrors.Run(() => common.Run(parse, context =>
                RemoveLinuxImageItem.Run(parse.GetValue(image)!, parse.GetValue(path)!, parse.GetValue(recursive), parse.GetValue(common.Destination), parse.GetValue(common.Force), context))));
            return command;
        }

        public static Command MakeDirectory()
        {
            var image = new Argument<string>("image") { Description = "Disk image file (fixed VHD or raw)." };
            var path = new Argument<string>("path") { Description = "Absolute path of the new directory inside the image." };
            var parents = new Option<bool>("--parents", "-p") { Description = "Create missing parent directories too." };
            var mode = new Option<string?>("--mode") { Description = "Octal permissions (default 0755)." };
            var uid = new Option<uint?>("--uid") { Description = "Owner (default 0)." };
            var gid = new Option<uint?>("--gid") { Description = "Group (default 0)." };
            var common = new CommonOptions();
            var command = new Command("mkdir", "Create a directory inside a Linux disk image, offline.") { image, path, parents, mode, uid, gid };
            common.AddTo(command);
            command.SetAction(parse => CliErrors.Run(() =>
            {
                NewItemAttributes attributes = Attributes(parse.GetValue(mode), parse.GetValue(uid), parse.GetValue(gid), 0x1ED) ?? new NewItemAttributes { Mode = 0x1ED };
                return common.Run(parse, context => NewLinuxImageItem.Run(parse.GetValue(image)!, parse.GetValue(path)!, LinuxImageItemType.Directory, null, null, attributes,
                    parse.GetValue(parents), parse.GetValue(common.Destination), parse.GetValue(common.Force), context));
            }));
            return command;
        }

        public static Command Link()
        {
            var image = new Argument<string>("image") { Description = "Disk image file (fixed VHD or raw)." };
            var target = new Argument<string>("target") { Description = "What the link points at, stored as given." };
            var path = new Argument<string>("path") { Description = "Absolute path of the new symbolic link inside the image." };
            var common = new CommonOptions();
            var command = new Command("ln", "Create a symbolic link inside a Linux disk image, offline (like ln -s).") { image, target, path };
            common.AddTo(command);
            command.SetAction(parse => CliErrors.Run(() => common.Run(parse, context =>
                NewLinuxImageItem.Run(parse.GetValue(image)!, parse.GetValue(path)!, LinuxImageItemType.SymbolicLink, parse.GetValue(target), null, new NewItemAttributes { Mode = 0x1FF },
                    false, parse.GetValue(common.Destination), parse.GetValue(common.Force), context))));
            return command;
        }

        private static NewItemAttributes? Attributes(string? mode, uint? uid, uint? gid, uint defaultMode)
        {
            if (mode == null && uid == null && gid == null)
            {
                return null;
            }
            uint parsed = defaultMode;
            if (mode != null)
            {
                try
                {
                    parsed = Convert.ToUInt32(mode, 8);
                }
                catch (Exception e) when (e is FormatException || e is OverflowException || e is ArgumentException)
                {
                    parsed = uint.MaxValue;
                }
                if (parsed > 0xFFF)
                {
                    throw new AzureLinuxImageException("InvalidMode", ErrorKind.InvalidArgument, $"'{mode}' is not an octal mode from 0 to 7777 (such as 0644).");
                }
            }
            return new NewItemAttributes { Mode = parsed, Uid = uid ?? 0, Gid = gid ?? 0 };
        }

        /// <summary>Standard input, read once and replayable: in memory when small, else in a temporary file (returned for deletion).</summary>
        private static (Func<Stream> Content, string? Spool) ReadStandardInput()
        {
            using Stream stdin = Console.OpenStandardInput();
            var memory = new MemoryStream();
            var buffer = new byte[81920];
            int n;
            while ((n = stdin.Read(buffer, 0, buffer.Length)) > 0)
            {
                memory.Write(buffer, 0, n);
                if (memory.Length > InMemoryInput)
                {
                    string spool = Path.Combine(Path.GetTempPath(), "azlinux-write-" + Guid.NewGuid().ToString("N") + ".tmp");
                    using (var file = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                    {
                        memory.Position = 0;
                        memory.CopyTo(file);
                        stdin.CopyTo(file);
                    }
                    return (() => new FileStream(spool, FileMode.Open, FileAccess.Read, FileShare.Read), spool);
                }
            }
            byte[] bytes = memory.ToArray();
            return (() => new MemoryStream(bytes, writable: false), null);
        }

        /// <summary>The options every write verb shares, and how a result is printed.</summary>
        private sealed class CommonOptions
        {
            public Option<string?> Destination { get; } = new Option<string?>("--destination", "-o") { Description = "Write a changed copy of the image to this file; the image itself is not changed." };

            public Option<bool> Force { get; } = new Option<bool>("--force") { Description = "With --destination: replace an existing file." };

            public Option<bool> DryRun { get; } = new Option<bool>("--dry-run") { Description = "List exactly what would change; write nothing." };

            public Option<bool> Verbose { get; } = new Option<bool>("--verbose") { Description = "Also list the bytes (and inodes) each volume would get." };

            public Option<bool> Json { get; } = new Option<bool>("--json") { Description = "Write the result as JSON." };

            public void AddTo(Command command)
            {
                command.Options.Add(Destination);
                command.Options.Add(Force);
                command.Options.Add(DryRun);
                command.Options.Add(Verbose);
                command.Options.Add(Json);
            }

            public int Run(ParseResult parse, Func<CliContext, LinuxImageWriteResult> body)
            {
                LinuxImageWriteResult result;
                using (var context = new CliContext(parse, parse.GetValue(DryRun), parse.GetValue(Verbose)))
                {
                    result = body(context);
                }
                if (parse.GetValue(Json))
                {
                    CliJson.Write(result);
                    return 0;
                }
                foreach (ItemChange c in result.Changes)
                {
                    Console.Out.WriteLine((result.Written ? string.Empty : "would: ") + c.ToString());
                }
                Console.Error.WriteLine(result.Written
                    ? string.Format(CultureInfo.InvariantCulture, "{0}: {1} change(s), {2} bytes written.", result.Path, result.Changes.Count, result.BytesWritten)
                    : $"{result.Path}: nothing written.");
                return 0;
            }
        }
    }
}
