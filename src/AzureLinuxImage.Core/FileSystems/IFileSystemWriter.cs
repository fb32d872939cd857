using System;
using System.IO;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>Owner, mode and times of an item created by <see cref="IFileSystemWriter"/>.</summary>
    internal sealed class NewItemAttributes
    {
        /// <summary>Permission bits (07777), without the type bits.</summary>
        public uint Mode { get; set; } = 0x1A4; // 0644

        public uint Uid { get; set; }

        public uint Gid { get; set; }

        /// <summary>Modification (and change) time; now when null.</summary>
        public DateTimeOffset? Modified { get; set; }
    }

    /// <summary>
    /// Write access to a file system (a file system inside an image, the assembled Linux view over its
    /// mounts, or a root folder on this machine). Paths resolve as in <see cref="IFileSystem"/>: links
    /// inside the file system only, '..' never above the root.
    /// Changes are staged: reads through this object see them at once, but nothing reaches the image
    /// until <see cref="Commit"/>; disposing without committing leaves the image byte-identical.
    /// Errors are <see cref="Errors.AzureLinuxImageException"/> naming the path (and the image): a
    /// file system that cannot take the change (no space, XFS growth, journal needing recovery) refuses
    /// it before anything is staged.
    /// </summary>
    internal interface IFileSystemWriter : IFileSystem
    {
        /// <summary>
        /// Creates or replaces the regular file at <paramref name="path"/> (a link in the last component
        /// is followed) with <paramref name="content"/>. Replacing keeps owner, mode, extended attributes
        /// (SELinux labels) and hard links; <paramref name="attributes"/> applies only when the file is created
        /// (null: 0644 root:root). The parent directory must exist.
        /// </summary>
        void WriteFile(string path, Stream content, NewItemAttributes? attributes = null);

        /// <summary>Creates a directory; its parent must exist. An existing directory is an error.</summary>
        void CreateDirectory(string path, NewItemAttributes? attributes = null);

        /// <summary>Creates a symbolic link at <paramref name="path"/> pointing at <paramref name="target"/> (stored as given).</summary>
        void CreateSymlink(string path, string target, NewItemAttributes? attributes = null);

        /// <summary>
        /// Removes the entry at <paramref name="path"/> (a link itself, never its target). A non-empty
        /// directory needs <paramref name="recursive"/>.
        /// </summary>
        void Delete(string path, bool recursive = false);

        /// <summary>Changes mode, owner or modification time of an entry; null leaves a value as it is.</summary>
        void SetAttributes(string path, uint? mode = null, uint? uid = null, uint? gid = null, DateTimeOffset? modified = null);

        /// <summary>
        /// Writes the staged changes in an order that keeps the file system consistent after a crash at
        /// any point (data and new metadata first, links and counts last), flushing between the stages.
        /// </summary>
        void Commit();
    }
}
