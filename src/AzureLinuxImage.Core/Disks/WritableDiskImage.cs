using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Disks
{
    /// <summary>
    /// Opens an image whose virtual bytes can be changed in place (issue 17): a fixed VHD or a raw file,
    /// where virtual byte N is file byte N. Every other container maps blocks through tables a write
    /// would have to grow, so those are refused with the way out (convert to a fixed VHD first).
    /// </summary>
    internal static class WritableDiskImage
    {
        public static DiskImage Open(string path)
        {
            // Detect the format read-only first: a refused format must not need write access to say so.
            using (DiskImage probe = DiskImage.Open(path))
            {
                RequireWritableFormat(probe);
            }
            DiskImage disk = DiskFormats.Open(path, new DiskOpenContext(), asRaw: false, writable: true);
            try
            {
                RequireWritableFormat(disk);
                if (!disk.IsWritable)
                {
                    throw new AzureLinuxImageException("ImageNotWritable", ErrorKind.NotSupported, $"{disk.Path}: the image could not be opened for writing.", disk.Path);
                }
                return disk;
            }
            catch
            {
                disk.Dispose();
                throw;
            }
        }

        private static void RequireWritableFormat(DiskImage disk)
        {
            bool ok = (disk.Format == DiskFormat.Raw || disk.Format == DiskFormat.Vhd) && disk.Variant == DiskVariant.Fixed;
            if (!ok)
            {
                string name = disk.Variant == DiskVariant.Fixed ? disk.Format.ToString().ToUpperInvariant() : $"{disk.Variant.ToString().ToLowerInvariant()} {disk.Format.ToString().ToUpperInvariant()}";
                throw new AzureLinuxImageException("ImageFormatNotWritable", ErrorKind.NotSupported,
                    $"{disk.Path} is a {name} image; only fixed VHD and raw images are changed in place. Convert it first (ConvertTo-FixedVhd, or azlinux convert) and change the fixed VHD.",
                    disk.Path);
            }
        }
    }
}
