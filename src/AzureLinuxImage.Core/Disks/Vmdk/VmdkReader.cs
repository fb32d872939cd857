using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vmdk
{
    /// <summary>
    /// Opens a VMDK: a sparse extent file with its descriptor embedded (monolithicSparse, streamOptimized), or
    /// a text descriptor naming extent files (monolithicFlat, twoGbMaxExtentSparse/Flat, delta disks).
    /// Extent files must be named relative to the descriptor's folder without '..': a descriptor is a list of
    /// file names, and one crafted to name /etc/shadow or /dev/sda as a FLAT extent would otherwise copy any
    /// file this process can read into the converted disk. Parents (parentFileNameHint) may be absolute,
    /// as qemu and VMware write them, but must open as VMDK.
    /// </summary>
    internal static class VmdkReader
    {
        /// <summary>Real descriptors are a few hundred bytes; 1 MiB bounds the text we read.</summary>
        public const int MaxDescriptorBytes = 1 << 20;

        public static bool IsVmdk(byte[] head) =>
            VmdkSparseHeader.HasMagic(head) || DiskFormats.StartsWith(head, VmdkDescriptor.Signature) || DiskFormats.StartsWith(head, "COWD");

        public static DiskImage Open(ImageFile file, byte[] head, DiskOpenContext context)
        {
            if (DiskFormats.StartsWith(head, "COWD"))
            {
                throw new UnsupportedImageException(file.Path, "this is an ESX vmfsSparse (COWD) VMDK delta, which is not supported; consolidate the snapshot or export the disk with 'vmkfstools -i ... -d thin' or 'qemu-img convert' first.");
            }
            var extents = new List<VmdkExtent>();
            var warnings = new List<string>();
            DiskImage? parent = null;
            try
            {
                VmdkDescriptor? descriptor;
                if (VmdkSparseHeader.HasMagic(head))
                {
                    descriptor = OpenMonolithic(file, head, extents, warnings);
                }
                else
                {
                    descriptor = ParseDescriptor(file, ReadText(file, 0, file.Length, "VMDK descriptor file"), "VMDK descriptor file");
                    OpenExtents(file, descriptor, extents, warnings);
                }
                string createType = descriptor?.CreateType ?? "monolithicSparse";
                if (descriptor?.ParentFileNameHint is string hint && hint.Length > 0)
                {
                    parent = OpenParent(file, descriptor, hint, context, warnings);
                }
                var image = new VmdkImage(file, extents, parent, descriptor?.Cid, createType);
                foreach (string w in warnings)
                {
                    image.AddWarning(w);
                }
                return image;
            }
            catch
            {
                parent?.Dispose();
                // For a monolithic file the extent shares the caller's handle; disposing it twice is harmless.
                foreach (VmdkExtent e in extents)
                {
                    e.Dispose();
                }
                throw;
            }
        }

        /// <summary>A KDMV file opened directly: it is its own single extent; the embedded descriptor only names CID and parent.</summary>
        private static VmdkDescriptor? OpenMonolithic(ImageFile file, byte[] head, List<VmdkExtent> extents, List<string> warnings)
        {
            VmdkSparseHeader header = ReadSparseHeader(file, head, out long gdOffset, warnings);
            VmdkDescriptor? descriptor = null;
            if (header.DescriptorOffset != 0)
            {
                string text = ReadText(file, header.DescriptorOffset * 512, header.DescriptorSectors * 512, "VMDK embedded descriptor");
                descriptor = ParseDescriptor(file, text, "VMDK embedded descriptor");
                RefuseUnsupportedTypes(file, descriptor);
            }
            extents.Add(new VmdkSparseExtent(0, header.CapacitySectors * 512, file, header, gdOffset, new VmdkSharedState(file)));
            return descriptor;
        }

        /// <summary>
        /// The header of a sparse extent file and where its grain directory is: the primary, the redundant one
        /// when the primary is unusable, or (stream-optimized, GD_AT_END) the one the footer names.
        /// </summary>
        private static VmdkSparseHeader ReadSparseHeader(ImageFile file, byte[] head, out long gdOffset, List<string> warnings)
        {
            VmdkSparseHeader header = VmdkSparseHeader.TryParse(head, out string problem)
                ?? throw new InvalidImageException(file.Path, "VMDK sparse extent header", problem + ".");
            if (header.GdOffset == VmdkSparseHeader.GdAtEnd)
            {
                // Footer marker, footer (a full header copy with the real gdOffset), end-of-stream marker.
                if (file.Length < VmdkGrainMarker.TrailerSize + VmdkSparseHeader.Size)
                {
                    throw new InvalidImageException(file.Path, "VMDK footer", "the header says the grain directory is at the end, but the file is too short to hold a footer.");
                }
                byte[] trailer = file.ReadStructure(file.Length - VmdkGrainMarker.TrailerSize, VmdkGrainMarker.TrailerSize, "VMDK footer");
                if (!VmdkGrainMarker.IsMetadataMarker(trailer, VmdkGrainMarker.TypeFooter) || !VmdkGrainMarker.IsMetadataMarker(trailer.AsSpan(1024), VmdkGrainMarker.TypeEos))
                {
                    throw new InvalidImageException(file.Path, "VMDK footer", "the footer and end-of-stream markers are missing at the end of the file (truncated stream?).");
                }
                VmdkSparseHeader footer = VmdkSparseHeader.TryParse(trailer.AsSpan(512, 512), out string footerProblem)
                    ?? throw new InvalidImageException(file.Path, "VMDK footer", footerProblem + ".");
                if (footer.GdOffset == VmdkSparseHeader.GdAtEnd || footer.CapacitySectors != header.CapacitySectors
                    || footer.GrainSectors != header.GrainSectors || footer.GtesPerGt != header.GtesPerGt)
                {
                    throw new InvalidImageException(file.Path, "VMDK footer", "the footer does not match the header or does not locate the grain directory.");
                }
                header = footer;
            }
            if (header.UncleanShutdown)
            {
                warnings.Add($"{file.Path}: the sparse extent was not closed cleanly (uncleanShutdown is set); recent writes may be missing.");
            }
            long gdBytes = header.GdEntries * 4;
            if (DirectoryFits(file, header.GdOffset, gdBytes))
            {
                gdOffset = (long)header.GdOffset * 512;
            }
            else if ((header.Flags & VmdkSparseHeader.FlagRedundantGrainTable) != 0 && DirectoryFits(file, header.RedundantGdOffset, gdBytes))
            {
                gdOffset = (long)header.RedundantGdOffset * 512;
                warnings.Add($"{file.Path}: the primary grain directory (sector {header.GdOffset}) lies outside the file; the redundant copy at sector {header.RedundantGdOffset} was used.");
            }
            else
            {
                throw new InvalidImageException(file.Path, "VMDK grain directory",
                    $"{header.GdEntries} entries at sector {header.GdOffset} do not fit inside the file of {file.Length} bytes, and there is no usable redundant directory.");
            }
            return header;
        }

        private static bool DirectoryFits(ImageFile file, ulong sector, long bytes) =>
            sector != 0 && sector < VmdkSparseHeader.MaxCapacitySectors && (long)sector * 512 <= file.Length - bytes;

        private static void OpenExtents(ImageFile descriptorFile, VmdkDescriptor descriptor, List<VmdkExtent> extents, List<string> warnings)
        {
            RefuseUnsupportedTypes(descriptorFile, descriptor);
            if (descriptor.Extents.Count == 0)
            {
                throw new InvalidImageException(descriptorFile.Path, "VMDK descriptor", "the descriptor lists no extents.");
            }
            string folder = System.IO.Path.GetDirectoryName(descriptorFile.Path) ?? ".";
            VmdkSharedState? shared = null;
            long start = 0;
            foreach (VmdkExtentLine line in descriptor.Extents)
            {
                long size = line.Sectors * 512;
                if (line.Type == "ZERO" || line.Access == VmdkAccess.NoAccess)
                {
                    extents.Add(new VmdkZeroExtent(start, size));
                }
                else
                {
                    string path = ExtentPath(descriptorFile, folder, line);
                    ImageFile extentFile = ImageFile.OpenRead(path);
                    try
                    {
                        if (line.Type == "SPARSE")
                        {
                            byte[] head = extentFile.ReadStructure(0, (int)Math.Min(VmdkSparseHeader.Size, extentFile.Length), "VMDK sparse extent header");
                            if (DiskFormats.StartsWith(head, "COWD"))
                            {
                                throw new UnsupportedImageException(path, "this extent is an ESX vmfsSparse (COWD) file, which is not supported.");
                            }
                            VmdkSparseHeader header = ReadSparseHeader(extentFile, head, out long gdOffset, warnings);
                            if (header.CapacitySectors < line.Sectors)
                            {
                                throw new InvalidImageException(path, "VMDK sparse extent header", $"capacity {header.CapacitySectors} sectors is smaller than the {line.Sectors} the descriptor gives the extent (line {line.LineNumber}).");
                            }
                            shared ??= new VmdkSharedState(extentFile);
                            extents.Add(new VmdkSparseExtent(start, size, extentFile, header, gdOffset, shared));
                        }
                        else
                        {
                            long fileOffset = line.OffsetSectors * 512;
                            if (fileOffset > extentFile.Length - size)
                            {
                                throw new InvalidImageException(path, "VMDK flat extent",
                                    $"the descriptor (line {line.LineNumber}) gives it {size} bytes from offset {fileOffset}, but the file has {extentFile.Length} (truncated?).");
                            }
                            extents.Add(new VmdkFlatExtent(start, size, extentFile, fileOffset));
                        }
                    }
                    catch
                    {
                        extentFile.Dispose();
                        throw;
                    }
                }
                start += size;
                if (start > (long)VmdkSparseHeader.MaxCapacitySectors * 512)
                {
                    throw new InvalidImageException(descriptorFile.Path, "VMDK descriptor", "the extents add up to more than 2^47 sectors.");
                }
            }
        }

        private static void RefuseUnsupportedTypes(ImageFile file, VmdkDescriptor descriptor)
        {
            string? createType = descriptor.CreateType;
            if (createType != null && (createType.Equals("vmfsSparse", StringComparison.OrdinalIgnoreCase) || createType.Equals("seSparse", StringComparison.OrdinalIgnoreCase)))
            {
                throw new UnsupportedImageException(file.Path, $"VMDK createType '{createType}' (an ESX snapshot delta) is not supported; consolidate the snapshots or export the disk with 'vmkfstools -i ... -d thin' first.");
            }
            foreach (VmdkExtentLine line in descriptor.Extents)
            {
                switch (line.Type)
                {
                    case "FLAT":
                    case "VMFS":
                    case "SPARSE":
                    case "ZERO":
                        break;
                    case "VMFSSPARSE":
                    case "SESPARSE":
                        throw new UnsupportedImageException(file.Path, $"VMDK extent type {line.Type} (line {line.LineNumber}, an ESX snapshot format) is not supported; consolidate the snapshots or export the disk with 'vmkfstools -i ... -d thin' first.");
                    case "VMFSRDM":
                    case "VMFSRAW":
                    case "VMFSRDMP":
                        throw new UnsupportedImageException(file.Path, $"VMDK extent type {line.Type} (line {line.LineNumber}) maps a raw device, which is not supported; copy the device into an image first.");
                    default:
                        throw new InvalidImageException(file.Path, "VMDK descriptor", $"line {line.LineNumber}: unknown extent type '{line.Type}'.");
                }
                if (line.Type != "ZERO" && line.Access != VmdkAccess.NoAccess && string.IsNullOrEmpty(line.FileName))
                {
                    throw new InvalidImageException(file.Path, "VMDK descriptor", $"line {line.LineNumber}: a {line.Type} extent needs a file name.");
                }
            }
        }

        /// <summary>The extent's file: relative to the descriptor's folder, never absolute, never climbing out with '..'.</summary>
        private static string ExtentPath(ImageFile descriptorFile, string folder, VmdkExtentLine line)
        {
            string name = line.FileName!;
            string[] parts = name.Split('/', '\\');
            bool rooted = System.IO.Path.IsPathRooted(name) || name.StartsWith("\\", StringComparison.Ordinal)
                || (name.Length >= 2 && name[1] == ':');
            if (rooted || parts.Any(p => p == ".."))
            {
                throw new UnsupportedImageException(descriptorFile.Path,
                    $"extent '{name}' (line {line.LineNumber}) is outside the descriptor's folder. For safety extent files must be named relative to the descriptor, without '..': move the extent files next to the descriptor and name them there.");
            }
            if (name.IndexOf('\0') >= 0 || name.Trim().Length == 0)
            {
                throw new InvalidImageException(descriptorFile.Path, "VMDK descriptor", $"line {line.LineNumber}: the extent file name is empty or contains NUL.");
            }
            string path = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, System.IO.Path.Combine(parts)));
            if (string.Equals(path, descriptorFile.Path, StringComparison.Ordinal))
            {
                throw new InvalidImageException(descriptorFile.Path, "VMDK descriptor", $"line {line.LineNumber}: the extent is the descriptor file itself.");
            }
            if (!File.Exists(path))
            {
                throw new AzureLinuxImageException("ExtentNotFound", ErrorKind.NotFound,
                    $"{descriptorFile.Path}: the extent file '{name}' (line {line.LineNumber}) was not found at {path}. Copy every file of the VMDK together.", descriptorFile.Path);
            }
            DiskOpenContext.RequireNonEmptyFile(descriptorFile.Path, path, "VMDK extent");
            return path;
        }

        private static DiskImage OpenParent(ImageFile file, VmdkDescriptor descriptor, string hint, DiskOpenContext context, List<string> warnings)
        {
            string folder = System.IO.Path.GetDirectoryName(file.Path) ?? ".";
            var candidates = new List<string>();
            bool windowsAbsolute = hint.Length >= 3 && char.IsLetter(hint[0]) && hint[1] == ':' && (hint[2] == '\\' || hint[2] == '/');
            if (!(windowsAbsolute && System.IO.Path.DirectorySeparatorChar == '/') && hint.IndexOf('\0') < 0)
            {
                string local = System.IO.Path.DirectorySeparatorChar == '/' ? hint.Replace('\\', '/') : hint;
                candidates.Add(System.IO.Path.IsPathRooted(local) ? local : System.IO.Path.Combine(folder, local));
            }
            // A path recorded on another machine: the same file name next to the child.
            string bare = hint.Substring(Math.Max(hint.LastIndexOf('/'), hint.LastIndexOf('\\')) + 1);
            if (bare.Length > 0 && bare != "." && bare != ".." && bare.IndexOf('\0') < 0)
            {
                candidates.Add(System.IO.Path.Combine(folder, bare));
            }
            foreach (string candidate in candidates.Select(System.IO.Path.GetFullPath).Distinct(StringComparer.Ordinal))
            {
                if (!File.Exists(candidate))
                {
                    continue;
                }
                DiskImage parent = context.OpenParent(file.Path, candidate);
                if (!(parent is VmdkImage vmdk))
                {
                    string format = parent.Format.ToString();
                    parent.Dispose();
                    throw new UnsupportedImageException(file.Path, $"the parent {candidate} is a {format} image; a VMDK delta disk's parent must be a VMDK.");
                }
                if (descriptor.ParentCid == VmdkDescriptor.NoParentCid)
                {
                    warnings.Add($"{file.Path}: parentCID is ffffffff although parentFileNameHint names {candidate}; the parent's identity could not be checked.");
                }
                else if (vmdk.Cid != descriptor.ParentCid)
                {
                    parent.Dispose();
                    throw new InvalidImageException(file.Path, "VMDK parentCID",
                        $"the parent {candidate} has CID {(vmdk.Cid.HasValue ? vmdk.Cid.Value.ToString("x8") : "(none)")}, but this delta disk expects {descriptor.ParentCid:x8}: the parent was modified or replaced after the delta was created.");
                }
                warnings.AddRange(parent.Warnings);
                return parent;
            }
            throw new AzureLinuxImageException("ParentNotFound", ErrorKind.NotFound,
                $"{file.Path}: the parent disk '{hint}' (parentFileNameHint) was not found. Looked for: {string.Join(", ", candidates)}. Put the parent next to the delta disk or at its recorded path.",
                file.Path);
        }

        private static string ReadText(ImageFile file, long offset, long length, string structure)
        {
            if (length > MaxDescriptorBytes)
            {
                throw new InvalidImageException(file.Path, structure, $"{length} bytes is larger than the {MaxDescriptorBytes}-byte limit for a descriptor.");
            }
            byte[] raw = file.ReadStructure(offset, (int)length, structure);
            int end = Array.IndexOf(raw, (byte)0);
            return Encoding.UTF8.GetString(raw, 0, end < 0 ? raw.Length : end);
        }

        private static VmdkDescriptor ParseDescriptor(ImageFile file, string text, string structure) =>
            VmdkDescriptor.TryParse(text, out string problem) ?? throw new InvalidImageException(file.Path, structure, problem + ".");
    }
}
