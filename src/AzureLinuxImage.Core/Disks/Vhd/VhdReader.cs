using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhd
{
    /// <summary>Opens the VHD family (fixed, dynamic, differencing), validating every structure it reads.</summary>
    internal static class VhdReader
    {
        public static DiskImage Open(ImageFile file, byte[] head, byte[] tail, DiskOpenContext context)
        {
            VhdFooter footer = ReadFooter(file, head, tail, out string? footerWarning);
            DiskImage image = footer.DiskType == VhdDiskType.Fixed
                ? OpenFixed(file, footer)
                : OpenDynamic(file, footer, context);
            if (footerWarning != null)
            {
                image.AddWarning(footerWarning);
            }
            if ((footer.Features & VhdFooter.FeaturesReserved) == 0)
            {
                image.AddWarning($"{file.Path}: the VHD footer's reserved feature bit (0x2) is not set; some tools refuse such files.");
            }
            return image;
        }

        /// <summary>The trailing footer, or the copy at offset 0 when the trailing one is damaged (dynamic disks only).</summary>
        private static VhdFooter ReadFooter(ImageFile file, byte[] head, byte[] tail, out string? warning)
        {
            warning = null;
            VhdFooter? footer = VhdFooter.TryParse(tail, out string tailProblem);
            if (footer != null)
            {
                return footer;
            }
            VhdFooter? copy = head.Length >= VhdFooter.Size ? VhdFooter.TryParse(head.AsSpan(0, VhdFooter.Size), out _) : null;
            bool tailPresent = DiskFormats.StartsWith(tail, VhdFooter.CookieText);
            if (copy != null && copy.DiskType != VhdDiskType.Fixed)
            {
                if (!tailPresent)
                {
                    throw new InvalidImageException(file.Path, "VHD footer",
                        $"the footer at the end of the file is missing although the copy at offset 0 describes a {copy.DiskType.ToString().ToLowerInvariant()} disk: the file is truncated or was not copied completely.");
                }
                warning = $"{file.Path}: the VHD footer at the end is damaged ({tailProblem}); the copy at offset 0 was used.";
                return copy;
            }
            if (tailPresent)
            {
                throw new InvalidImageException(file.Path, "VHD footer", tailProblem + ", and there is no valid copy at offset 0.");
            }
            VhdFooter.TryParse(head, out string headProblem);
            throw new InvalidImageException(file.Path, "VHD footer copy at offset 0", headProblem + ", and there is no footer at the end of the file.");
        }

        private static DiskImage OpenFixed(ImageFile file, VhdFooter footer)
        {
            long dataEnd = file.Length - VhdFooter.Size;
            if (dataEnd < footer.CurrentSize)
            {
                throw new InvalidImageException(file.Path, "VHD footer current size",
                    $"the footer says {footer.CurrentSize} bytes of data but the file holds only {dataEnd} before the footer (truncated file?).");
            }
            var image = new VhdFixedImage(file, footer);
            if (dataEnd > footer.CurrentSize)
            {
                image.AddWarning($"{file.Path}: {dataEnd - footer.CurrentSize} bytes between the end of the data ({footer.CurrentSize}) and the footer are ignored.");
            }
            if (footer.DataOffset != VhdFooter.NoDataOffset)
            {
                image.AddWarning($"{file.Path}: a fixed VHD's data offset should be 0xFFFFFFFFFFFFFFFF, it is 0x{footer.DataOffset:X16}.");
            }
            return image;
        }

        private static DiskImage OpenDynamic(ImageFile file, VhdFooter footer, DiskOpenContext context)
        {
            long trailer = file.Length - VhdFooter.Size;
            if (footer.DataOffset < VhdFooter.Size || footer.DataOffset > (ulong)(trailer - VhdDynamicHeader.Size) || footer.DataOffset % 512 != 0)
            {
                throw new InvalidImageException(file.Path, "VHD footer data offset",
                    $"0x{footer.DataOffset:X} does not point to a dynamic disk header inside the file.");
            }
            long headerOffset = (long)footer.DataOffset;
            byte[] raw = file.ReadStructure(headerOffset, VhdDynamicHeader.Size, "VHD dynamic disk header");
            VhdDynamicHeader header = VhdDynamicHeader.TryParse(raw, out string problem)
                ?? throw new InvalidImageException(file.Path, "VHD dynamic disk header", problem + ".");

            long blocks = (footer.CurrentSize + header.BlockSize - 1) / header.BlockSize;
            if (header.MaxTableEntries < blocks)
            {
                throw new InvalidImageException(file.Path, "VHD max table entries",
                    $"{header.MaxTableEntries} blocks of {header.BlockSize} bytes do not cover the disk size {footer.CurrentSize} ({blocks} needed).");
            }
            var table = new VhdBlockTable(file, (long)header.TableOffset, blocks);
            if (header.TableOffset < VhdFooter.Size || (long)header.TableOffset > trailer - table.SizeInFile)
            {
                throw new InvalidImageException(file.Path, "VHD block allocation table",
                    $"{blocks} entries at offset {header.TableOffset} do not fit inside the file of {file.Length} bytes.");
            }

            var metadata = new List<ByteRange>
            {
                new ByteRange(0, VhdFooter.Size),
                new ByteRange(headerOffset, VhdDynamicHeader.Size),
                new ByteRange((long)header.TableOffset, table.SizeInFile),
            };
            foreach (VhdParentLocator l in header.ParentLocators)
            {
                if (l.DataOffset < 0 || l.DataOffset > trailer - l.DataLength)
                {
                    throw new InvalidImageException(file.Path, $"VHD parent locator {l.CodeText}",
                        $"{l.DataLength} bytes at offset {l.DataOffset} lie outside the file.");
                }
                metadata.Add(new ByteRange(l.DataOffset, l.DataLength));
            }
            table.Validate(header.BitmapSize + header.BlockSize, metadata, trailer);

            DiskImage? parent = null;
            var warnings = new List<string>();
            if (footer.DiskType == VhdDiskType.Differencing)
            {
                parent = OpenParent(file, header, context, warnings);
            }
            var image = new VhdDynamicImage(file, footer, header, table, parent);
            foreach (string w in warnings)
            {
                image.AddWarning(w);
            }
            return image;
        }

        private static DiskImage OpenParent(ImageFile file, VhdDynamicHeader header, DiskOpenContext context, List<string> warnings)
        {
            List<string> candidates = ParentCandidates(file, header);
            string? mismatch = null;
            foreach (string candidate in candidates)
            {
                if (!File.Exists(candidate))
                {
                    continue;
                }
                DiskImage parent = context.OpenParent(file.Path, candidate);
                VhdFooter? parentFooter = (parent as VhdFixedImage)?.Footer ?? (parent as VhdDynamicImage)?.Footer;
                if (parentFooter == null)
                {
                    parent.Dispose();
                    throw new UnsupportedImageException(file.Path,
                        $"the parent {candidate} is a {parent.Format} image; a differencing VHD's parent must be a VHD.");
                }
                if (parentFooter.UniqueId != header.ParentUniqueId)
                {
                    mismatch = $"{candidate} has unique id {parentFooter.UniqueId}";
                    parent.Dispose();
                    continue;
                }
                if (parentFooter.TimeStamp != header.ParentTimeStamp)
                {
                    warnings.Add($"{file.Path}: the parent {candidate} has time stamp {parentFooter.TimeStamp}, the differencing disk recorded {header.ParentTimeStamp}; the parent may have changed since.");
                }
                foreach (string w in parent.Warnings)
                {
                    warnings.Add(w);
                }
                return parent;
            }
            if (mismatch != null)
            {
                throw new InvalidImageException(file.Path, "VHD parent unique id",
                    $"{mismatch}, but this differencing disk expects {header.ParentUniqueId}: the parent was replaced or is another disk.");
            }
            throw new AzureLinuxImageException("ParentNotFound", ErrorKind.NotFound,
                $"{file.Path}: the parent disk '{header.ParentUnicodeName}' was not found. Looked for: {string.Join(", ", candidates)}. Put the parent next to the differencing disk or at its recorded path.",
                file.Path);
        }

        /// <summary>Where the parent may be, best first: relative locator, absolute locator, Mac URL, then the same folder.</summary>
        private static List<string> ParentCandidates(ImageFile file, VhdDynamicHeader header)
        {
            string folder = System.IO.Path.GetDirectoryName(file.Path) ?? ".";
            var recorded = new List<string>();
            uint[] preference = { VhdParentLocator.W2ru, VhdParentLocator.W2ku, VhdParentLocator.MacX, VhdParentLocator.Wi2r, VhdParentLocator.Wi2k };
            foreach (uint code in preference)
            {
                foreach (VhdParentLocator l in header.ParentLocators.Where(x => x.PlatformCode == code))
                {
                    byte[] data = file.ReadStructure(l.DataOffset, (int)l.DataLength, $"VHD parent locator {l.CodeText}");
                    string text = code == VhdParentLocator.W2ru || code == VhdParentLocator.W2ku
                        ? Encoding.Unicode.GetString(data)
                        : Encoding.UTF8.GetString(data);
                    text = text.TrimEnd('\0');
                    if (code == VhdParentLocator.MacX && text.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
                    {
                        text = Uri.UnescapeDataString(text.Substring("file://".Length));
                    }
                    if (text.Length > 0)
                    {
                        recorded.Add(text);
                    }
                }
            }
            if (header.ParentUnicodeName.Length > 0)
            {
                recorded.Add(header.ParentUnicodeName);
            }

            var result = new List<string>();
            foreach (string r in recorded)
            {
                string? local = ToLocalPath(r, folder);
                if (local != null)
                {
                    result.Add(local);
                }
            }
            foreach (string r in recorded)
            {
                string name = WindowsFileName(r);
                if (name.Length > 0)
                {
                    result.Add(System.IO.Path.Combine(folder, name));
                }
            }
            return result.Select(System.IO.Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
        }

        /// <summary>A recorded Windows or Unix path as a path on this machine; null when it cannot exist here (C:\ on Linux).</summary>
        private static string? ToLocalPath(string recorded, string folder)
        {
            bool windowsAbsolute = recorded.Length >= 3 && char.IsLetter(recorded[0]) && recorded[1] == ':' && (recorded[2] == '\\' || recorded[2] == '/');
            bool unc = recorded.StartsWith(@"\\", StringComparison.Ordinal);
            if (System.IO.Path.DirectorySeparatorChar == '/')
            {
                if (windowsAbsolute || unc)
                {
                    return null;
                }
                string unix = recorded.Replace('\\', '/');
                return unix.StartsWith("/", StringComparison.Ordinal) ? unix : System.IO.Path.Combine(folder, unix);
            }
            return System.IO.Path.IsPathRooted(recorded) && (windowsAbsolute || unc) ? recorded : System.IO.Path.Combine(folder, recorded);
        }

        private static string WindowsFileName(string recorded)
        {
            int cut = Math.Max(recorded.LastIndexOf('\\'), recorded.LastIndexOf('/'));
            return recorded.Substring(cut + 1);
        }
    }
}
