using System;
using System.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Disks.Vhd;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// ConvertTo-FixedVhd / azlinux convert: any readable image to an Azure-valid fixed VHD whose size is
    /// the source's rounded up to a whole MiB, only when not already aligned (R-DISK-1..3; the seed's
    /// snippet adds a MiB even to aligned sizes, which is wrong). The source is only read.
    /// </summary>
    internal static class ConvertToFixedVhd
    {
        public const string Activity = "Converting to a fixed VHD";

        /// <summary>Returns the output's description, or null when ShouldProcess declined.</summary>
        /// <param name="sourcePath">Image to convert (only read).</param>
        /// <param name="destination">Output file or folder; null: next to the source.</param>
        /// <param name="force">Replace an existing destination.</param>
        /// <param name="skipAlignment">Keep the size (rounded to 512 bytes) instead of a whole MiB.</param>
        /// <param name="context">Progress, messages, ShouldProcess and cancellation.</param>
        /// <param name="flush">
        /// False (-NoFlush, --no-flush): skip flushing the output to disk before the atomic rename. A crash or
        /// cancel of the process still leaves no partial file; a power failure soon after may.
        /// </param>
        public static DiskImageInfo? Run(string sourcePath, string? destination, bool force, bool skipAlignment, IOperationContext context, bool flush = true)
        {
            using DiskImage source = DiskImage.Open(sourcePath);
            if (source.VirtualSize < 512)
            {
                // Issue 16: refused before anything is written (a 512-byte footer alone is no disk).
                throw new AzureLinuxImageException("SourceEmpty", ErrorKind.InvalidData,
                    $"{source.Path}: the image's virtual size is {source.VirtualSize} bytes, less than one 512-byte sector; there is no disk to convert.", source.Path);
            }
            string output = ResolveDestination(source.Path, destination);
            if (SamePath(output, source.Path) || IsInChain(source, output))
            {
                throw new AzureLinuxImageException("DestinationIsSource", ErrorKind.InvalidArgument,
                    $"{output} is the source (or one of its parents); choose another destination.", output);
            }
            foreach (string w in source.Warnings)
            {
                context.Warning(w);
            }
            // A 4096-byte-sector source warns through its reader (source.Warnings): its partition table is
            // in 4 KiB LBAs, which a 512-byte-sector VHD will not match.
            string? notADisk = NotADiskWarning(source);
            if (notADisk != null)
            {
                context.Warning(notADisk);
            }

            long size = skipAlignment ? AzureDiskRules.RoundUpToSector(source.VirtualSize) : AzureDiskRules.RoundUpToMiB(source.VirtualSize);
            context.Verbose($"Source: {source.Format} {source.Variant}, {source.VirtualSize} bytes. Output: fixed VHD of {size} bytes{(size != source.VirtualSize ? $" (rounded up from {source.VirtualSize})" : string.Empty)}.");
            if (size > AzureDiskRules.MaxSize)
            {
                // Refused before writing: Azure takes at most a 32 TiB disk (a VHD file of 32 TiB + 512 bytes).
                throw new AzureLinuxImageException("ExceedsAzureDiskLimit", ErrorKind.InvalidArgument,
                    $"{source.Path}: the output would be a disk of {size} bytes; Azure accepts disks of at most 32 TiB ({AzureDiskRules.MaxSize} bytes, a VHD file of {AzureDiskRules.MaxSize + 512} bytes). Shrink the image's partitions and the image first.", source.Path);
            }
            if (size > AzureDiskRules.Gen1OsDiskLimit)
            {
                context.Warning($"{output} will be a disk of {size} bytes: as an OS disk, a disk over 2 TiB needs a Generation 2 VM (UEFI, GPT); a data disk may be up to 32 TiB.");
            }
            if (skipAlignment && size % AzureDiskRules.MiB != 0)
            {
                context.Warning($"{output} will be {size} bytes, not a whole number of MiB: Azure will refuse it (R-DISK-2).");
            }
            if (!context.ShouldProcess(output, $"Write a fixed VHD of {size} bytes from {source.Path}"))
            {
                return null;
            }

            long total = source.VirtualSize;
            // Bytes done, rate and time left (issue 23); the path pair says which conversion it is.
            var meter = new ByteProgress(context, Activity, $"{source.Path} -> {output}", total);
            // The same aligned disk an upload sends (issue 15): padded to the size, the GPT backup moved.
            using AlignedDiskImage aligned = AlignedDiskImage.Create(source, size, output);
            ReportAlignment(aligned, output, context);
            FixedVhdWriter.Write(aligned, output, size, force, meter.Report, context.Cancellation,
                flush: flush, warning: context.Warning);
            meter.Complete();
            return GetDiskImageInfo.Run(output, context);
        }

        /// <summary>
        /// Rounding the size up moves the disk's last LBA; a GPT's backup header must follow it (UEFI 5.3.1),
        /// as Resize-VhdAligned does. A table that cannot be read is left as it is, with a warning.
        /// </summary>
        internal static void ReportAlignment(AlignedDiskImage aligned, string output, IOperationContext context)
        {
            if (aligned.MovedGptBackup)
            {
                context.Verbose($"{output}: the backup GPT moved to the new last sector.");
            }
            if (aligned.GptProblem != null)
            {
                context.Warning($"{output}: the GPT could not be adjusted to the new size ({aligned.GptProblem}); repair it with sgdisk -e.");
            }
        }

        /// <summary>No destination: next to the source, with .vhd (or -fixed.vhd if the source is a .vhd). A folder: inside it.</summary>
        internal static string ResolveDestination(string source, string? destination)
        {
            string baseName = Path.GetFileNameWithoutExtension(source);
            string defaultName = string.Equals(Path.GetExtension(source), ".vhd", StringComparison.OrdinalIgnoreCase)
                ? baseName + "-fixed.vhd"
                : baseName + ".vhd";
            if (string.IsNullOrEmpty(destination))
            {
                return Path.Combine(Path.GetDirectoryName(source) ?? ".", defaultName);
            }
            string full = Path.GetFullPath(destination);
            return Directory.Exists(full) ? Path.Combine(full, defaultName) : full;
        }

        private static bool IsInChain(DiskImage image, string path)
        {
            for (DiskImage? p = image; p != null; p = p.Parent)
            {
                if (SamePath(p.Path, path))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>
        /// Any file reads as "raw", so a text file named .vhd would convert silently (issue 15): a raw source with
        /// no partition table, no file system signature and a size that is no whole number of sectors is
        /// most likely not a disk image at all. A warning, since a blank raw disk is legitimate.
        /// </summary>
        internal static string? NotADiskWarning(DiskImage source)
        {
            if (source.Format != DiskFormat.Raw || source.VirtualSize % 512 == 0)
            {
                return null;
            }
            if (PartitionTableProbe.Detect(source) != PartitionStyle.None)
            {
                return null;
            }
            var whole = new DiskSlice(source, 0, source.VirtualSize, source.Path);
            if (FileSystemProbe.Probe(whole).Kind != FileSystemKind.Unknown)
            {
                return null;
            }
            return $"{source.Path} does not look like a disk image: it was read as raw (no known image format), holds no partition table " +
                $"and no file system, and its size ({source.VirtualSize} bytes) is not a whole number of 512-byte sectors. Check that this is the file you meant.";
        }

        private static bool SamePath(string a, string b) => string.Equals(Path.GetFullPath(a), Path.GetFullPath(b),
            Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }
}
