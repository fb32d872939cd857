using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems.Btrfs;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.FileSystems.Fat;
using AzureLinuxImage.FileSystems.Xfs;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>
    /// The one place a probed block device becomes a readable file system: ext, XFS, btrfs (its default subvolume) and FAT (the ESP).
    /// </summary>
    internal static class FileSystemOpeners
    {
        /// <summary>True when <see cref="Open"/> can read this kind (so the Linux view should try it).</summary>
        public static bool IsReadable(FileSystemKind kind) =>
            kind == FileSystemKind.Ext2 || kind == FileSystemKind.Ext3 || kind == FileSystemKind.Ext4 ||
            kind == FileSystemKind.Xfs || kind == FileSystemKind.Vfat || kind == FileSystemKind.Btrfs;

        public static IFileSystem Open(BlockDevice device, FileSystemKind kind)
        {
            switch (kind)
            {
                case FileSystemKind.Ext2:
                case FileSystemKind.Ext3:
                case FileSystemKind.Ext4:
                    return new ExtFileSystem(device);
                case FileSystemKind.Xfs:
                    return XfsFileSystem.Open(device);
                case FileSystemKind.Vfat:
                    return FatFileSystem.Open(device);
                case FileSystemKind.Btrfs:
                    return BtrfsFileSystem.Open(device);
                default:
                    throw new UnsupportedImageException(device.Description, $"no file system reader for '{kind}'.");
            }
        }
    }
}
