using System;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Operations
{
    /// <summary>One entry inside a Linux image (Get-LinuxImageItem, azlinux ls).</summary>
    public sealed class LinuxImageItem
    {
        /// <summary>Creates an item from a file system entry.</summary>
        /// <param name="source">The image file, or the root folder when <paramref name="fromRootFolder"/>.</param>
        /// <param name="entry">The entry.</param>
        /// <param name="fromRootFolder">Whether the view was a host folder (-RootPath) rather than an image.</param>
        internal LinuxImageItem(string source, FileEntry entry, bool fromRootFolder = false)
        {
            Path = fromRootFolder ? null : source;
            RootPath = fromRootFolder ? source : null;
            ItemPath = entry.Path;
            Name = entry.Name;
            Type = entry.Type;
            Size = entry.Size;
            Mode = entry.Mode;
            Uid = entry.Uid;
            Gid = entry.Gid;
            Modified = entry.Modified;
            LinkTarget = entry.LinkTarget;
        }

        /// <summary>The image file the item is in; pipes into Get-LinuxImageContent's -Path. Null for a root folder.</summary>
        public string? Path { get; }

        /// <summary>The root folder the item is in (-RootPath); null for an image.</summary>
        public string? RootPath { get; }

        /// <summary>Absolute path inside the image, links resolved up to the last component.</summary>
        public string ItemPath { get; }

        /// <summary>Last component of <see cref="ItemPath"/>.</summary>
        public string Name { get; }

        /// <summary>File, Directory, Symlink, CharacterDevice, BlockDevice, Fifo or Socket.</summary>
        public FileEntryType Type { get; }

        /// <summary>Size in bytes (for a link, the length of its target).</summary>
        public long Size { get; }

        /// <summary>Permission bits (07777).</summary>
        public uint Mode { get; }

        /// <summary>The type and permissions as ls -l prints them, e.g. "-rw-r--r--", "lrwxrwxrwx".</summary>
        public string ModeString
        {
            get
            {
                var sb = new StringBuilder(10);
                sb.Append(Type switch
                {
                    FileEntryType.Directory => 'd',
                    FileEntryType.Symlink => 'l',
                    FileEntryType.CharacterDevice => 'c',
                    FileEntryType.BlockDevice => 'b',
                    FileEntryType.Fifo => 'p',
                    FileEntryType.Socket => 's',
                    _ => '-',
                });
                for (int shift = 6; shift >= 0; shift -= 3)
                {
                    uint bits = (Mode >> shift) & 7;
                    bool special = shift == 6 ? (Mode & 0x800) != 0 : shift == 3 ? (Mode & 0x400) != 0 : (Mode & 0x200) != 0;
                    sb.Append((bits & 4) != 0 ? 'r' : '-');
                    sb.Append((bits & 2) != 0 ? 'w' : '-');
                    char exec = shift == 0 ? 't' : 's';
                    sb.Append(special ? ((bits & 1) != 0 ? exec : char.ToUpperInvariant(exec)) : (bits & 1) != 0 ? 'x' : '-');
                }
                return sb.ToString();
            }
        }

        /// <summary>Owner user id.</summary>
        public uint Uid { get; }

        /// <summary>Owner group id.</summary>
        public uint Gid { get; }

        /// <summary>Last modification time.</summary>
        public DateTimeOffset? Modified { get; }

        /// <summary>The target of a symbolic link, as stored.</summary>
        public string? LinkTarget { get; }

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => ItemPath;
    }
}
