using System;
using System.Collections.Generic;
using System.IO;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>Type of a file system entry.</summary>
    public enum FileEntryType
    {
        /// <summary>A regular file.</summary>
        File,
        /// <summary>A directory.</summary>
        Directory,
        /// <summary>A symbolic link.</summary>
        Symlink,
        /// <summary>A character device node.</summary>
        CharacterDevice,
        /// <summary>A block device node.</summary>
        BlockDevice,
        /// <summary>A named pipe.</summary>
        Fifo,
        /// <summary>A Unix socket.</summary>
        Socket,
    }

    /// <summary>One entry of a file system inside an image (or under a root directory).</summary>
    public sealed class FileEntry
    {
        /// <summary>Creates an entry.</summary>
        public FileEntry(string path, FileEntryType type, long size, uint mode, uint uid, uint gid, DateTimeOffset? modified, string? linkTarget)
        {
            Path = path;
            Type = type;
            Size = size;
            Mode = mode;
            Uid = uid;
            Gid = gid;
            Modified = modified;
            LinkTarget = linkTarget;
        }

        /// <summary>Absolute path inside the file system, '/'-separated.</summary>
        public string Path { get; }

        /// <summary>Last component of <see cref="Path"/>.</summary>
        public string Name => Path == "/" ? "/" : Path.Substring(Path.LastIndexOf('/') + 1);

        /// <summary>Entry type.</summary>
        public FileEntryType Type { get; }

        /// <summary>Size in bytes (for symlinks: the target's length).</summary>
        public long Size { get; }

        /// <summary>Permission bits (07777), without the type bits.</summary>
        public uint Mode { get; }

        /// <summary>Owner user id.</summary>
        public uint Uid { get; }

        /// <summary>Owner group id.</summary>
        public uint Gid { get; }

        /// <summary>Last modification time, when the file system records one.</summary>
        public DateTimeOffset? Modified { get; }

        /// <summary>Target of a symbolic link, as stored.</summary>
        public string? LinkTarget { get; }

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => Path;
    }

    /// <summary>
    /// Read access to a Linux file system (DESIGN.md, IFileSystem). Paths are absolute and '/'-separated;
    /// symbolic links resolve inside the file system only (an absolute target is relative to its root),
    /// '..' never climbs above the root, and link loops end with an error.
    /// </summary>
    public interface IFileSystem : IDisposable
    {
        /// <summary>What this is, for messages: "ext4 'rootfs' on partition 3 of disk.vhd".</summary>
        string Description { get; }

        /// <summary>The entry at <paramref name="path"/>, or null when nothing is there.</summary>
        /// <param name="path">Absolute path.</param>
        /// <param name="followLastLink">Whether a symlink in the last component is followed.</param>
        FileEntry? GetEntry(string path, bool followLastLink = true);

        /// <summary>Entries of the directory at <paramref name="path"/> (following links to it), without '.' and '..'.</summary>
        IEnumerable<FileEntry> List(string path);

        /// <summary>Opens a regular file (following links) for reading.</summary>
        Stream OpenRead(string path);
    }
}
