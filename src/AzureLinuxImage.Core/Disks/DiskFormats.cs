using System;
using System.Text;
using AzureLinuxImage.Disks.Qcow2;
using AzureLinuxImage.Disks.Vdi;
using AzureLinuxImage.Disks.Vmdk;
using AzureLinuxImage.Disks.Vhd;
using AzureLinuxImage.Disks.Vhdx;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks
{
    /// <summary>
    /// Format detection by content and the dispatch to each container's reader. This is the one place
    /// a new container format plugs in: add its probe to <see cref="Open"/> in front of raw.
    /// </summary>
    internal static class DiskFormats
    {
        /// <summary>Bytes read from the start of the file for probing.</summary>
        internal const int HeadSize = 4096;

        internal static DiskImage Open(string path, DiskOpenContext context, bool asRaw = false, bool writable = false)
        {
            ImageFile file = writable ? ImageFile.OpenReadWrite(path) : ImageFile.OpenRead(path);
            context.Enter(file.Path);
            try
            {
                DiskImage image = asRaw ? new RawDiskImage(file) : OpenFile(file, context);
                return image;
            }
            catch
            {
                file.Dispose();
                throw;
            }
            finally
            {
                context.Leave(file.Path);
            }
        }

        private static DiskImage OpenFile(ImageFile file, DiskOpenContext context)
        {
            if (file.Length == 0)
            {
                throw new InvalidImageException(file.Path, "file", "the file is empty.");
            }
            byte[] head = file.ReadStructure(0, (int)Math.Min(HeadSize, file.Length), "file header");
            byte[] tail = file.Length >= VhdFooter.Size
                ? file.ReadStructure(file.Length - VhdFooter.Size, VhdFooter.Size, "VHD footer")
                : Array.Empty<byte>();

            // Formats with a signature at the start. Their readers are separate issues; until they land
            // the file is refused by name rather than misread as raw.
            if (StartsWith(head, VhdxFileIdentifier.SignatureText))
            {
                return VhdxReader.Open(file, context);
            }
            if (StartsWith(head, Qcow2Reader.Magic))
            {
                return Qcow2Reader.Open(file, head, context);
            }
            if (VmdkReader.IsVmdk(head))
            {
                return VmdkReader.Open(file, head, context);
            }
            if (VdiHeader.HasSignature(head))
            {
                return VdiReader.Open(file, head, context);
            }

            // VHD: the footer is at the end (a fixed VHD has nothing at the start: qemu probes those as raw).
            if (StartsWith(tail, VhdFooter.CookieText) || StartsWith(head, VhdFooter.CookieText))
            {
                return VhdReader.Open(file, head, tail, context);
            }
            return new RawDiskImage(file);
        }

        internal static bool StartsWith(byte[] data, string ascii)
        {
            if (data.Length < ascii.Length)
            {
                return false;
            }
            for (int i = 0; i < ascii.Length; i++)
            {
                if (data[i] != (byte)ascii[i])
                {
                    return false;
                }
            }
            return true;
        }
    }
}
