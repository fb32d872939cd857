using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Base of the cmdlets that change an entry inside an image (issue 17): the image by -Path/-LiteralPath
    /// (from the pipeline too), the entry by -ItemPath, -Destination for a changed copy, -Force to replace
    /// that copy. Pipeline items are collected and applied at the end, one staging and one commit per
    /// image: the image is no longer open for reading by the command that listed the items
    /// (Get-LinuxImageItem | Remove-LinuxImageItem), and a pipeline of changes is one consistent commit.
    /// An item that fails is reported and the others still apply.
    /// </summary>
    public abstract class LinuxImageWriteCmdlet : ImagePathCmdlet
    {
        private readonly List<(string Image, string Item, string Action, Action<FileSystems.IFileSystemWriter> Edit)> pending =
            new List<(string, string, string, Action<FileSystems.IFileSystemWriter>)>();

        /// <summary>Absolute path of the entry inside the image.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string ItemPath { get; set; } = null!;

        /// <summary>Write a changed copy of the image to this file; the image itself is not changed.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>With -Destination: replace an existing file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Whether the result goes to the pipeline.</summary>
        private protected abstract bool WriteResult { get; }

        /// <summary>Queues the change <paramref name="makeEdit"/> makes (built now, from this record's parameters) for every input image.</summary>
        private protected void Queue(string action, Func<Action<FileSystems.IFileSystemWriter>> makeEdit)
        {
            foreach (string file in InputFiles())
            {
                ForEachItem(ItemPath, () => pending.Add((file, ItemPath, action, makeEdit())));
            }
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            var images = pending.Select(p => p.Image).Distinct(StringComparer.Ordinal).ToList();
            string? destination = Destination == null ? null : ResolveOutputPath(Destination);
            if (destination != null && images.Count > 1)
            {
                WriteError(ToErrorRecord(new AzureLinuxImageException("DestinationNeedsOneImage", ErrorKind.InvalidArgument,
                    $"-Destination takes the changes of one image, but {images.Count} images came in; change them one by one."), destination));
                base.EndProcessing();
                return;
            }
            foreach (string image in images)
            {
                var items = pending.Where(p => p.Image == image).ToList();
                ForEachItem(image, () =>
                {
                    string action = string.Join("; ", items.Select(i => i.Action));
                    LinuxImageWriteResult result = LinuxImageEdit.RunBatch(image, destination, Force, action,
                        items.Select(i => (i.Item, i.Edit)).ToList(),
                        (item, e) => WriteError(ToErrorRecord(e, item)), Context);
                    if (WriteResult && (result.Written || result.Changes.Count == 0))
                    {
                        WriteObject(result);
                    }
                });
            }
            pending.Clear();
            base.EndProcessing();
        }

        /// <summary>-Mode/-Uid/-Gid as the attributes of a created entry (null: the writer's defaults).</summary>
        private protected static NewItemAttributes? Attributes(string? mode, uint? uid, uint? gid, uint defaultMode)
        {
            if (mode == null && uid == null && gid == null)
            {
                return null;
            }
            return new NewItemAttributes { Mode = mode == null ? defaultMode : ParseMode(mode), Uid = uid ?? 0, Gid = gid ?? 0 };
        }

        private static uint ParseMode(string mode)
        {
            try
            {
                uint value = Convert.ToUInt32(mode, 8);
                if (value <= 0xFFF)
                {
                    return value;
                }
            }
            catch (FormatException)
            {
            }
            catch (OverflowException)
            {
            }
            throw new AzureLinuxImageException("InvalidMode", ErrorKind.InvalidArgument, $"'{mode}' is not an octal mode from 0 to 7777 (such as 0644).");
        }

        /// <summary>-Value as bytes: a byte array as is; anything else as lines, each ended by LF (unless <paramref name="noNewline"/>).</summary>
        private protected static byte[] ValueBytes(object[]? value, bool noNewline)
        {
            if (value == null)
            {
                return Array.Empty<byte>();
            }
            var items = new List<object?>();
            foreach (object? v in value)
            {
                object? b = v is PSObject ps ? ps.BaseObject : v;
                if (b is byte[] bytes)
                {
                    foreach (byte x in bytes)
                    {
                        items.Add(x);
                    }
                }
                else
                {
                    items.Add(b);
                }
            }
            if (items.Count > 0 && items.TrueForAll(i => i is byte))
            {
                return items.ConvertAll(i => (byte)i!).ToArray();
            }
            var text = new System.Text.StringBuilder();
            foreach (object? i in items)
            {
                text.Append(i is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : i?.ToString());
                if (!noNewline)
                {
                    text.Append('\n');
                }
            }
            return new System.Text.UTF8Encoding(false).GetBytes(text.ToString());
        }
    }

    /// <summary>Set-LinuxImageContent: creates or replaces a regular file inside an image, offline.</summary>
    [Cmdlet(VerbsCommon.Set, "LinuxImageContent", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LinuxImageWriteResult))]
    public sealed class SetLinuxImageContentCommand : LinuxImageWriteCmdlet
    {
        /// <summary>The new content: lines of text (each ended by LF), or a byte array.</summary>
        [Parameter]
        [AllowEmptyCollection]
        [AllowNull]
        public object[]? Value { get; set; }

        /// <summary>A file on this machine whose bytes become the content.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? InputFile { get; set; }

        /// <summary>With -Value: no LF after each line.</summary>
        [Parameter]
        public SwitchParameter NoNewline { get; set; }

        /// <summary>Octal permissions of a created file (default 0644); a replaced file keeps its own.</summary>
        [Parameter]
        public string? Mode { get; set; }

        /// <summary>Owner of a created file (default 0).</summary>
        [Parameter]
        public uint? Uid { get; set; }

        /// <summary>Group of a created file (default 0).</summary>
        [Parameter]
        public uint? Gid { get; set; }

        /// <summary>Write the result (the image, what changed) to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            bool hasValue = MyInvocation.BoundParameters.ContainsKey(nameof(Value));
            if (hasValue == (InputFile != null))
            {
                ThrowTerminatingError(ToErrorRecord(new AzureLinuxImageException("ContentRequired", ErrorKind.InvalidArgument, "Give the content with exactly one of -Value and -InputFile."), ItemPath));
                return;
            }
            Func<System.IO.Stream> content;
            if (InputFile != null)
            {
                string input = ResolveOutputPath(InputFile);
                if (!System.IO.File.Exists(input))
                {
                    ThrowTerminatingError(ToErrorRecord(new AzureLinuxImageException("InputFileNotFound", ErrorKind.NotFound, $"{input} does not exist.", input), input));
                    return;
                }
                content = () => new System.IO.FileStream(input, System.IO.FileMode.Open, System.IO.FileAccess.Read, System.IO.FileShare.Read);
            }
            else
            {
                byte[] bytes = ValueBytes(Value, NoNewline);
                content = () => new System.IO.MemoryStream(bytes, writable: false);
            }
            NewItemAttributes? attributes = Attributes(Mode, Uid, Gid, 0x1A4);
            Queue($"Write {ItemPath}", () => SetLinuxImageContent.Edit(ItemPath, content, attributes));
        }

        private protected override bool WriteResult => PassThru;
    }

    /// <summary>Remove-LinuxImageItem: removes a file, link or directory inside an image, offline.</summary>
    [Cmdlet(VerbsCommon.Remove, "LinuxImageItem", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LinuxImageWriteResult))]
    public sealed class RemoveLinuxImageItemCommand : LinuxImageWriteCmdlet
    {
        /// <summary>Remove a directory with everything in it.</summary>
        [Parameter]
        public SwitchParameter Recurse { get; set; }

        /// <summary>Write the result (the image, what changed) to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        private protected override bool WriteResult => PassThru;

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            bool recurse = Recurse;
            Queue($"Remove {ItemPath}", () => RemoveLinuxImageItem.Edit(ItemPath, recurse));
        }
    }

    /// <summary>New-LinuxImageItem: creates a directory, file or symbolic link inside an image, offline.</summary>
    [Cmdlet(VerbsCommon.New, "LinuxImageItem", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LinuxImageWriteResult))]
    public sealed class NewLinuxImageItemCommand : LinuxImageWriteCmdlet
    {
        /// <summary>What to create: File, Directory or SymbolicLink.</summary>
        [Parameter(Mandatory = true)]
        public LinuxImageItemType ItemType { get; set; }

        /// <summary>The link's target (stored as given), for -ItemType SymbolicLink.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Target { get; set; }

        /// <summary>Content of a new file: lines of text (each ended by LF), or a byte array.</summary>
        [Parameter]
        [AllowEmptyCollection]
        public object[]? Value { get; set; }

        /// <summary>Create missing parent directories (0755, owned like the item).</summary>
        [Parameter]
        public SwitchParameter CreateParent { get; set; }

        /// <summary>Octal permissions (default 0644 for files, 0755 for directories, 0777 for links).</summary>
        [Parameter]
        public string? Mode { get; set; }

        /// <summary>Owner (default 0).</summary>
        [Parameter]
        public uint? Uid { get; set; }

        /// <summary>Group (default 0).</summary>
        [Parameter]
        public uint? Gid { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            uint defaultMode = ItemType == LinuxImageItemType.Directory ? 0x1EDu : ItemType == LinuxImageItemType.SymbolicLink ? 0x1FFu : 0x1A4u;
            NewItemAttributes attributes = Attributes(Mode, Uid, Gid, defaultMode) ?? new NewItemAttributes { Mode = defaultMode };
            Func<System.IO.Stream>? content = null;
            if (Value != null)
            {
                byte[] bytes = ValueBytes(Value, noNewline: false);
                content = () => new System.IO.MemoryStream(bytes, writable: false);
            }
            LinuxImageItemType type = ItemType;
            string? target = Target;
            bool parents = CreateParent;
            Queue($"Create {type.ToString().ToLowerInvariant()} {ItemPath}", () => NewLinuxImageItem.Edit(ItemPath, type, target, content, attributes, parents));
        }

        private protected override bool WriteResult => true;
    }
}
