using System;
using System.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Disks.Vhd;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// Resize-VhdAligned / azlinux resize: a fixed VHD resized in place to a whole MiB (R-DISK-2) in
    /// constant time. The new footer is written at the new end before the old one is cleared, so a
    /// crash at any moment leaves a valid VHD; on GPT disks the backup header and entries move to the
    /// new last LBAs and the primary header and protective MBR follow (which Resize-VHD, qemu-img
    /// resize and Add-AzVhd leave to the user).
    /// </summary>
    internal static class ResizeVhdAligned
    {
        /// <summary>Returns the resized image's description, or null when ShouldProcess declined.</summary>
        /// <param name="path">The fixed VHD.</param>
        /// <param name="sizeBytes">New size (rounded up to a MiB); null for the current size rounded up.</param>
        /// <param name="context">Confirmation, messages, cancellation.</param>
        /// <param name="afterWrite">Tests only: called after each individual write, to simulate a crash there.</param>
        public static DiskImageInfo? Run(string path, long? sizeBytes, IOperationContext context, Action<string>? afterWrite = null)
        {
            string full = Path.GetFullPath(path);
            using (DiskImage probe = DiskImage.Open(full))
            {
                if (probe.Format != DiskFormat.Vhd || probe.Variant != DiskVariant.Fixed)
                {
                    string what = probe.Format == DiskFormat.Raw ? "a raw image" : $"a {probe.Variant.ToString().ToLowerInvariant()} {probe.Format.ToString().ToUpperInvariant()}";
                    throw new AzureLinuxImageException("NotAFixedVhd", ErrorKind.InvalidArgument,
                        $"{full} is {what}; Resize-VhdAligned works in place on fixed VHDs only. Run ConvertTo-FixedVhd, which also aligns the size.", full);
                }
            }
            if (sizeBytes.HasValue && (sizeBytes.Value <= 0 || sizeBytes.Value > AzureDiskRules.MaxSize * 4))
            {
                throw new AzureLinuxImageException("InvalidSize", ErrorKind.InvalidArgument, $"{sizeBytes} bytes is not a size this tool writes (1 byte .. 128 TiB).", full);
            }

            using var file = OpenExclusive(full);
            byte[] tail = GptBackupRelocation.ReadAt(file, file.Length - VhdFooter.Size, VhdFooter.Size);
            VhdFooter footer = VhdFooter.TryParse(tail, out string problem) ?? throw new InvalidImageException(full, "VHD footer", problem + ".");
            long oldSize = footer.CurrentSize;
            if (file.Length > oldSize + VhdFooter.Size && oldSize % 512 == 0 && oldSize > 0)
            {
                // A shrink stopped after its new footer, before the truncation: the disk is whole, only
                // bytes past it remain. Finish that first (footer at its place, then cut), then go on.
                context.Warning($"{full}: a resize stopped before it finished ({file.Length - oldSize - VhdFooter.Size} bytes after the disk); finishing it.");
                GptBackupRelocation.WriteAt(file, oldSize, tail);
                file.Flush(true);
                file.SetLength(oldSize + VhdFooter.Size);
                file.Flush(true);
            }
            if (file.Length != oldSize + VhdFooter.Size)
            {
                throw new InvalidImageException(full, "VHD footer current size",
                    $"the file is {file.Length} bytes but a fixed VHD of {oldSize} bytes is {oldSize + VhdFooter.Size}; refusing to resize a file whose layout is not understood.");
            }

            long newSize = AzureDiskRules.RoundUpToMiB(sizeBytes ?? oldSize);
            GptBackupRelocation? gpt = GptBackupRelocation.Read(file, full, oldSize);
            long minimum = gpt?.MinimumDiskSize ?? MbrMinimumSize(file);
            if (newSize < minimum)
            {
                throw new AzureLinuxImageException("ShrinkBelowPartitions", ErrorKind.InvalidArgument,
                    $"{full}: {newSize} bytes would cut off partitions that need at least {minimum} bytes{(gpt != null ? " (including the backup GPT)" : string.Empty)}. Shrink the partitions first.", full);
            }
            bool moveGpt = gpt != null && !gpt.IsBackupAtEnd(newSize);
            if (newSize == oldSize && !moveGpt)
            {
                context.Verbose($"{full} is already {oldSize} bytes, a whole number of MiB; nothing to do.");
                file.Dispose();
                return GetDiskImageInfo.Run(full, context);
            }
            if (!context.ShouldProcess(full, $"Resize the fixed VHD from {oldSize} to {newSize} bytes{(moveGpt ? " and move the backup GPT to the new end" : string.Empty)}"))
            {
                return null;
            }

            VhdFooter newFooter = VhdFooter.TryParse(tail, out _)!;
            newFooter.CurrentSize = newSize;
            newFooter.OriginalSize = newSize;
            newFooter.Geometry = VhdGeometry.FromSize(newSize);
            byte[] newFooterBytes = newFooter.Serialize();
            Action<string> step = afterWrite ?? (_ => { });
            if (newSize >= oldSize)
            {
                Grow(file, oldSize, newSize, newFooterBytes, gpt, step);
            }
            else
            {
                Shrink(file, newSize, newFooterBytes, gpt, step);
            }
            file.Dispose();
            context.Verbose($"{full}: {oldSize} -> {newSize} bytes{(moveGpt ? ", backup GPT moved" : string.Empty)}.");
            return GetDiskImageInfo.Run(full, context);
        }

        private static void Grow(FileStream file, long oldSize, long newSize, byte[] footer, GptBackupRelocation? gpt, Action<string> step)
        {
            if (newSize > oldSize)
            {
                IO.SparseFiles.MarkSparse(file);
                // Writing past the end extends the file (sparsely) and puts the footer there in one step:
                // at no moment does the file end without a footer.
                GptBackupRelocation.WriteAt(file, newSize, footer);
                file.Flush(true);
                step("new footer");
                // Now a valid VHD of the new size; the old footer is just bytes past the partitions.
                GptBackupRelocation.WriteAt(file, oldSize, new byte[VhdFooter.Size]);
                file.Flush(true);
                step("old footer cleared");
            }
            if (gpt != null)
            {
                gpt.MoveBackupTo(file, newSize, step);
                step("gpt moved");
            }
        }

        private static void Shrink(FileStream file, long newSize, byte[] footer, GptBackupRelocation? gpt, Action<string> step)
        {
            if (gpt != null)
            {
                gpt.MoveBackupTo(file, newSize, step);
                step("gpt moved");
            }
            GptBackupRelocation.WriteAt(file, newSize, footer);
            file.Flush(true);
            step("new footer");
            file.SetLength(newSize + VhdFooter.Size);
            file.Flush(true);
            step("truncated");
        }

        private static long MbrMinimumSize(FileStream file)
        {
            byte[] mbr = GptBackupRelocation.ReadAt(file, 0, MbrSector.Size);
            if (!MbrSector.HasSignature(mbr))
            {
                return 0;
            }
            ulong end = 0;
            for (int i = 0; i < 4; i++)
            {
                MbrEntry e = MbrSector.ReadEntry(mbr, i);
                if (e.IsUsed)
                {
                    end = Math.Max(end, e.EndLba);
                }
            }
            return (long)end * 512;
        }

        private static FileStream OpenExclusive(string path)
        {
            try
            {
                return new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException e)
            {
                throw new AzureLinuxImageException("ImageInUse", ErrorKind.ResourceUnavailable, $"{path}: cannot open for writing ({e.Message}); is a VM or another program using it?", path, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new AzureLinuxImageException("ImageAccessDenied", ErrorKind.ResourceUnavailable, $"{path}: access denied ({e.Message}).", path, e);
            }
        }
    }
}
