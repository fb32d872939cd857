using System;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Qcow2
{
    /// <summary>Opens a qcow2 file: header, extensions, feature checks, L1 placement, backing file.</summary>
    internal static class Qcow2Reader
    {
        public const string Magic = "QFI\xfb";

        public static DiskImage Open(ImageFile file, byte[] head, DiskOpenContext context)
        {
            if (head.Length >= 8 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(4)) == 1)
            {
                throw new UnsupportedImageException(file.Path, "this is a qcow version 1 image (QEMU before 0.10), which is not supported; run 'qemu-img convert -O qcow2' on it first.");
            }
            Qcow2Header header = Qcow2Header.TryParse(head, out string problem)
                ?? throw new InvalidImageException(file.Path, "qcow2 header", problem + ".");
            RefuseUnsupported(file, header);

            // Header extensions live between header_length and the end of the first cluster.
            int areaEnd = (int)Math.Min(header.ClusterSize, file.Length);
            if (areaEnd > header.HeaderLength)
            {
                byte[] area = file.ReadStructure(header.HeaderLength, areaEnd - (int)header.HeaderLength, "qcow2 header extensions");
                string? extProblem = header.ParseExtensions(area);
                if (extProblem != null)
                {
                    throw new InvalidImageException(file.Path, "qcow2 header extensions", extProblem + ".");
                }
            }
            if (header.HasEncryptionExtension)
            {
                throw new UnsupportedImageException(file.Path, "the qcow2 image is encrypted (LUKS); decrypt it with 'qemu-img convert --object secret,... -O qcow2' first.");
            }
            if (header.HasExternalDataExtension)
            {
                throw new UnsupportedImageException(file.Path, "the qcow2 image keeps its data in an external data file, which is not supported; convert it with 'qemu-img convert' first.");
            }

            long l1Bytes = (long)header.L1Size * 8;
            if (header.L1Size > 0 && (header.L1TableOffset < header.ClusterSize || header.L1TableOffset > file.Length - l1Bytes))
            {
                throw new InvalidImageException(file.Path, "qcow2 L1 table",
                    $"{header.L1Size} entries at offset 0x{header.L1TableOffset:X} do not fit inside the file of {file.Length} bytes (truncated file or corrupt header).");
            }

            DiskImage? backing = header.BackingFileOffset != 0 ? OpenBacking(file, header, context) : null;
            try
            {
                var image = new Qcow2Image(file, header, backing);
                if (header.SnapshotCount > 0)
                {
                    image.AddWarning($"{file.Path}: the qcow2 image has {header.SnapshotCount} internal snapshot(s); only the current state is read.");
                }
                if (backing != null)
                {
                    foreach (string w in backing.Warnings)
                    {
                        image.AddWarning(w);
                    }
                }
                return image;
            }
            catch
            {
                backing?.Dispose();
                throw;
            }
        }

        private static void RefuseUnsupported(ImageFile file, Qcow2Header header)
        {
            ulong unknown = header.IncompatibleFeatures & ~Qcow2Header.IncompatKnown;
            if (unknown != 0)
            {
                throw new UnsupportedImageException(file.Path,
                    $"the qcow2 image uses incompatible features this reader does not know (bits 0x{unknown:X}); a newer qemu wrote it. Convert it with that qemu-img first.");
            }
            if ((header.IncompatibleFeatures & Qcow2Header.IncompatCorrupt) != 0)
            {
                throw new InvalidImageException(file.Path, "qcow2 incompatible features",
                    "the image is marked corrupt by qemu; run 'qemu-img check -r all' on it (or restore it from a backup) first.");
            }
            if ((header.IncompatibleFeatures & Qcow2Header.IncompatDirty) != 0)
            {
                throw new UnsupportedImageException(file.Path,
                    "the qcow2 image is marked dirty (a VM using it did not shut down cleanly, or it is in use); shut the VM down or run 'qemu-img check -r all' on it first.");
            }
            if ((header.IncompatibleFeatures & Qcow2Header.IncompatExternalData) != 0)
            {
                throw new UnsupportedImageException(file.Path, "the qcow2 image keeps its data in an external data file, which is not supported; convert it with 'qemu-img convert' first.");
            }
            if (header.CryptMethod != 0)
            {
                throw new UnsupportedImageException(file.Path,
                    $"the qcow2 image is encrypted (crypt_method {header.CryptMethod}); decrypt it with 'qemu-img convert' first.");
            }
            if (header.CompressionType > 1)
            {
                throw new UnsupportedImageException(file.Path, $"the qcow2 compression type {header.CompressionType} is unknown (0 = deflate, 1 = zstd).");
            }
        }

        private static DiskImage OpenBacking(ImageFile file, Qcow2Header header, DiskOpenContext context)
        {
            if (header.BackingFileOffset > (ulong)file.Length)
            {
                throw new InvalidImageException(file.Path, "qcow2 backing file name", $"offset 0x{header.BackingFileOffset:X} lies past the end of the file.");
            }
            byte[] raw = file.ReadStructure((long)header.BackingFileOffset, (int)header.BackingFileSize, "qcow2 backing file name");
            string name;
            try
            {
                name = new UTF8Encoding(false, true).GetString(raw);
            }
            catch (ArgumentException e)
            {
                throw new InvalidImageException(file.Path, "qcow2 backing file name", "the name is not valid UTF-8.", e);
            }
            if (name.IndexOf('\0') >= 0)
            {
                throw new InvalidImageException(file.Path, "qcow2 backing file name", "the name contains a NUL character.");
            }
            // qemu also accepts protocol URLs and json: descriptions; only plain files can be opened here.
            if (name.StartsWith("json:", StringComparison.Ordinal) || Regex.IsMatch(name, "^[A-Za-z][A-Za-z0-9+.-]*://"))
            {
                throw new UnsupportedImageException(file.Path, $"the backing file '{name}' is not a plain file (protocol or json: name); only local backing files are supported.");
            }
            string folder = System.IO.Path.GetDirectoryName(file.Path) ?? ".";
            string path;
            try
            {
                // A relative name is relative to the folder of the image that names it (qemu's rule).
                path = System.IO.Path.GetFullPath(System.IO.Path.IsPathRooted(name) ? name : System.IO.Path.Combine(folder, name));
            }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is PathTooLongException)
            {
                throw new InvalidImageException(file.Path, "qcow2 backing file name", $"'{name}' is not a usable path ({e.Message}).", e);
            }
            if (!File.Exists(path))
            {
                throw new AzureLinuxImageException("ParentNotFound", ErrorKind.NotFound,
                    $"{file.Path}: the backing file '{name}' was not found (looked for {path}). Put it at that path or rebase the image with 'qemu-img rebase'.",
                    file.Path);
            }
            string? format = header.BackingFormat;
            DiskImage backing = context.OpenParent(file.Path, path, string.Equals(format, "raw", StringComparison.Ordinal));
            string? expected = format switch
            {
                "qcow2" => nameof(DiskFormat.Qcow2),
                "vmdk" => nameof(DiskFormat.Vmdk),
                "vdi" => nameof(DiskFormat.Vdi),
                "vpc" => nameof(DiskFormat.Vhd),
                "vhdx" => nameof(DiskFormat.Vhdx),
                _ => null,
            };
            if (expected != null && backing.Format.ToString() != expected)
            {
                backing.Dispose();
                throw new InvalidImageException(file.Path, "qcow2 backing file format",
                    $"the header says the backing file {path} is {format}, but its content is {backing.Format}.");
            }
            return backing;
        }
    }
}
