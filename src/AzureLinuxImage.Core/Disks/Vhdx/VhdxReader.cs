using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhdx
{
    /// <summary>
    /// Opens a VHDX in the order MS-VHDX prescribes: file identifier, current header, log replay (in
    /// memory), region table, metadata, BAT, then the parent of a differencing file.
    /// </summary>
    internal static class VhdxReader
    {
        private const long OneMiB = 1024 * 1024;

        public static DiskImage Open(ImageFile file, DiskOpenContext context)
        {
            string path = file.Path;
            var warnings = new List<string>();
            VhdxFileIdentifier id = VhdxFileIdentifier.Parse(path, file.ReadStructure(0, VhdxFileIdentifier.Size, "VHDX file identifier"));
            VhdxHeader header = VhdxHeader.SelectCurrent(path,
                file.ReadStructure(VhdxHeader.FirstOffset, VhdxHeader.Size, "VHDX header 1"),
                file.ReadStructure(VhdxHeader.SecondOffset, VhdxHeader.Size, "VHDX header 2"));

            VhdxLogOverlay? overlay = VhdxLog.Replay(file, header);
            if (overlay != null)
            {
                warnings.Add($"{path}: the VHDX log holds {overlay.EntryCount} entries a host wrote and did not clear (an interrupted update, usually a crash); as MS-VHDX requires, they were replayed before reading, in memory only: the file was left unchanged.");
            }
            else if (header.LogGuid != Guid.Empty)
            {
                warnings.Add($"{path}: the VHDX header names a log but the log holds none of its entries; there was nothing to replay.");
            }
            var view = new VhdxFileView(file, overlay);
            var log = new ByteRange((long)header.LogOffset, header.LogLength);
            if (log.Length > 0 && (log.Offset > view.Length || log.Length > view.Length - log.Offset))
            {
                throw new InvalidImageException(path, "VHDX header log offset", $"the log {log} lies outside the file of {view.Length} bytes (truncated file?).");
            }

            VhdxRegionTable regions = ReadRegionTable(view, log, warnings);
            VhdxMetadata metadata = VhdxMetadata.Read(view, regions.Metadata);
            var reserved = new List<ByteRange> { new ByteRange(0, OneMiB) };
            if (log.Length > 0)
            {
                reserved.Add(log);
            }
            reserved.AddRange(regions.All.Select(r => r.Range));
            var bat = new VhdxBlockAllocationTable(view, regions.Bat, metadata, reserved);

            if (metadata.LogicalSectorSize == 4096)
            {
                warnings.Add($"{path}: the disk has 4096-byte logical sectors, so its partition table is in 4 KiB LBAs; a fixed VHD in Azure has 512-byte sectors and will not match it. Rebuild the partitions for 512-byte sectors.");
            }

            DiskImage? parent = metadata.HasParent ? OpenParent(path, header, metadata, context, warnings) : null;
            try
            {
                var image = new VhdxImage(view, header, metadata, bat, parent, id.Creator);
                foreach (string w in warnings)
                {
                    image.AddWarning(w);
                }
                return image;
            }
            catch
            {
                parent?.Dispose();
                throw;
            }
        }

        /// <summary>The first copy when intact, else the second (2.2.3: the two copies are identical).</summary>
        private static VhdxRegionTable ReadRegionTable(VhdxFileView view, ByteRange log, List<string> warnings)
        {
            byte[] first = view.ReadStructure(VhdxRegionTable.FirstOffset, VhdxRegionTable.Size, "VHDX region table");
            string? problemFirst = VhdxRegionTable.CheckIntegrity(first);
            if (problemFirst == null)
            {
                return VhdxRegionTable.Parse(view.Path, first, view.Length, log);
            }
            byte[] second = view.ReadStructure(VhdxRegionTable.SecondOffset, VhdxRegionTable.Size, "VHDX region table copy");
            string? problemSecond = VhdxRegionTable.CheckIntegrity(second);
            if (problemSecond != null)
            {
                throw new InvalidImageException(view.Path, "VHDX region table",
                    $"neither copy is valid (at 192 KiB: {problemFirst}; at 256 KiB: {problemSecond}).");
            }
            warnings.Add($"{view.Path}: the VHDX region table at 192 KiB is damaged ({problemFirst}); the copy at 256 KiB was used.");
            return VhdxRegionTable.Parse(view.Path, second, view.Length, log);
        }

        /// <summary>
        /// Locates the parent (2.6.2.6.1: relative_path, then volume_path, then absolute_win32_path, then
        /// the same folder by file name) and checks it is the VHDX whose DataWriteGuid is parent_linkage.
        /// </summary>
        private static DiskImage OpenParent(string path, VhdxHeader header, VhdxMetadata metadata, DiskOpenContext context, List<string> warnings)
        {
            VhdxParentLocator locator = metadata.ParentLocator!;
            List<string> candidates = ParentCandidates(path, locator);
            string? mismatch = null;
            foreach (string candidate in candidates)
            {
                if (!File.Exists(candidate))
                {
                    continue;
                }
                DiskImage parent = context.OpenParent(path, candidate);
                if (!(parent is VhdxImage vhdx))
                {
                    DiskFormat format = parent.Format;
                    parent.Dispose();
                    throw new UnsupportedImageException(path,
                        $"the parent {candidate} is a {format} image; MS-VHDX requires a differencing VHDX's parent to be a VHDX. Convert the chain with Hyper-V (Merge-VHD) or qemu-img first.");
                }
                Guid data = vhdx.Header.DataWriteGuid;
                if (data != locator.ParentLinkage && data != locator.ParentLinkage2)
                {
                    mismatch = $"{candidate} has DataWriteGuid {data:B}";
                    parent.Dispose();
                    continue;
                }
                if (parent.LogicalSectorSize != metadata.LogicalSectorSize)
                {
                    int size = parent.LogicalSectorSize;
                    parent.Dispose();
                    throw new InvalidImageException(path, "VHDX parent locator",
                        $"the parent {candidate} has {size}-byte logical sectors, this differencing disk {metadata.LogicalSectorSize}-byte ones.");
                }
                warnings.AddRange(parent.Warnings);
                return parent;
            }
            if (mismatch != null)
            {
                throw new InvalidImageException(path, "VHDX parent locator parent_linkage",
                    $"{mismatch}, but this differencing disk expects {locator.ParentLinkage:B}: the parent was modified or replaced after the child was made.");
            }
            throw new AzureLinuxImageException("ParentNotFound", ErrorKind.NotFound,
                $"{path}: the parent disk was not found. Looked for: {string.Join(", ", candidates)}. Put the parent next to the differencing disk or at its recorded path.",
                path);
        }

        private static List<string> ParentCandidates(string path, VhdxParentLocator locator)
        {
            string folder = Path.GetDirectoryName(path) ?? ".";
            var recorded = new List<string>();
            foreach (string? p in new[] { locator.RelativePath, locator.VolumePath, locator.AbsoluteWin32Path })
            {
                if (p != null)
                {
                    recorded.Add(p);
                }
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
                int cut = Math.Max(r.LastIndexOf('\\'), r.LastIndexOf('/'));
                string name = r.Substring(cut + 1);
                if (name.Length > 0 && name != "." && name != "..")
                {
                    result.Add(Path.Combine(folder, name));
                }
            }
            var unique = new List<string>();
            foreach (string candidate in result)
            {
                string full;
                try
                {
                    full = Path.GetFullPath(candidate);
                }
                catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is PathTooLongException)
                {
                    continue; // A recorded path this platform cannot express.
                }
                if (!unique.Contains(full, StringComparer.Ordinal))
                {
                    unique.Add(full);
                }
            }
            return unique;
        }

        /// <summary>A recorded path as a path here; null when it cannot exist on this platform (C:\ or \\?\Volume on Linux).</summary>
        private static string? ToLocalPath(string recorded, string folder)
        {
            bool driveAbsolute = recorded.Length >= 3 && char.IsLetter(recorded[0]) && recorded[1] == ':' && (recorded[2] == '\\' || recorded[2] == '/');
            bool unc = recorded.StartsWith(@"\\", StringComparison.Ordinal);
            if (Path.DirectorySeparatorChar == '/')
            {
                if (driveAbsolute || unc)
                {
                    return null;
                }
                string unix = recorded.Replace('\\', '/');
                return unix.StartsWith("/", StringComparison.Ordinal) ? unix : Path.Combine(folder, unix);
            }
            return driveAbsolute || unc ? recorded : Path.Combine(folder, recorded);
        }
    }
}
