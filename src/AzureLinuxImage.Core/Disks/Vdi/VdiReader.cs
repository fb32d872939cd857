using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vdi
{
    /// <summary>
    /// Opens a VDI file. A differencing VDI names its parent only by UUID (VirtualBox keeps the paths in
    /// its media registry), so the parent is the .vdi file in the same folder whose image UUID matches.
    /// </summary>
    internal static class VdiReader
    {
        /// <summary>Bounds the parent search in a folder full of files.</summary>
        private const int MaxParentCandidates = 4096;

        public static DiskImage Open(ImageFile file, byte[] head, DiskOpenContext context)
        {
            VdiHeader header = VdiHeader.TryParse(head, out string problem, out bool unsupported)
                ?? throw (unsupported
                    ? new UnsupportedImageException(file.Path, "VDI " + problem + "; convert it with 'VBoxManage clonemedium' first.")
                    : (Exception)new InvalidImageException(file.Path, "VDI header", problem + "."));
            long mapEnd = header.BlockMapOffset + ((long)header.Blocks * 4);
            if (mapEnd > file.Length)
            {
                throw new InvalidImageException(file.Path, "VDI block map",
                    $"{header.Blocks} entries at offset {header.BlockMapOffset} run past the end of the file ({file.Length} bytes; truncated?).");
            }
            DiskImage? parent = header.Type == VdiImageType.Differencing ? OpenParent(file, header, context) : null;
            try
            {
                var image = new VdiImage(file, header, parent);
                if (parent != null)
                {
                    var parentHeader = ((VdiImage)parent).Header;
                    if (header.ParentModificationId != Guid.Empty && parentHeader.ModificationId != header.ParentModificationId)
                    {
                        image.AddWarning($"{file.Path}: the parent {parent.Path} was modified (modification UUID {parentHeader.ModificationId}, expected {header.ParentModificationId}) after this differencing image was created; its content may be inconsistent.");
                    }
                    foreach (string w in parent.Warnings)
                    {
                        image.AddWarning(w);
                    }
                }
                return image;
            }
            catch
            {
                parent?.Dispose();
                throw;
            }
        }

        private static DiskImage OpenParent(ImageFile file, VdiHeader header, DiskOpenContext context)
        {
            if (header.ParentId == Guid.Empty)
            {
                throw new InvalidImageException(file.Path, "VDI parent UUID", "a differencing image must name its parent's UUID, but it is all zeros.");
            }
            string folder = System.IO.Path.GetDirectoryName(file.Path) ?? ".";
            IEnumerable<string> candidates = Directory.EnumerateFiles(folder)
                .Where(p => p.EndsWith(".vdi", StringComparison.OrdinalIgnoreCase) && !string.Equals(p, file.Path, StringComparison.Ordinal))
                .Where(p => new FileInfo(p).Length >= VdiHeader.Size) // skips pipes and devices, which report length 0
                .Take(MaxParentCandidates);
            var head = new byte[VdiHeader.Size];
            foreach (string candidate in candidates)
            {
                if (!HeaderMatches(candidate, header.ParentId, head))
                {
                    continue;
                }
                DiskImage parent = context.OpenParent(file.Path, candidate);
                if (!(parent is VdiImage))
                {
                    parent.Dispose();
                    continue;
                }
                return parent;
            }
            throw new AzureLinuxImageException("ParentNotFound", ErrorKind.NotFound,
                $"{file.Path}: the parent VDI with UUID {header.ParentId} was not found among the .vdi files in {folder}. A VDI records its parent only by UUID: put the parent image in the same folder.",
                file.Path);
        }

        /// <summary>True when <paramref name="path"/> starts with a VDI header whose image UUID is <paramref name="id"/>.</summary>
        private static bool HeaderMatches(string path, Guid id, byte[] head)
        {
            try
            {
                using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
                int got = 0;
                while (got < head.Length)
                {
                    int n = fs.Read(head, got, head.Length - got);
                    if (n <= 0)
                    {
                        return false;
                    }
                    got += n;
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return false;
            }
            return VdiHeader.HasSignature(head) && new Guid(head.AsSpan(392, 16).ToArray()) == id;
        }
    }
}
