using System;
using System.Text;
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

        internal static DiskImage Open(string path, DiskOpenContext context)
        {
            ImageFile file = ImageFile.OpenRead(path);
            context.Enter(file.Path);
            try
            {
                DiskImage image = OpenFile(file, context);
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
            if (StartsWith(head, "QFI\xfb"))
            {
                throw new UnsupportedImageException(file.Path, "this is a qcow2 file; qcow2 reading is not available in this version. Convert it with 'qemu-img convert -O raw' first.");
            }
            if (StartsWith(head, "KDMV") || StartsWith(head, "# Disk DescriptorFile") || StartsWith(head, "COWD"))
            {
                throw new UnsupportedImageException(file.Path, "this is a VMDK file; VMDK reading is not available in this version. Convert it with 'qemu-img convert -O raw' first.");
            }
            if (head.Length >= 68 && head[64] == 0x7F && head[65] == 0x10 && head[66] == 0xDA && head[67] == 0xBE)
            {
                throw new UnsupportedImageException(file.Path, "this is a VirtualBox VDI file; VDI reading is not available in this version. Convert it with 'VBoxManage clonemedium --format RAW' first.");
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
