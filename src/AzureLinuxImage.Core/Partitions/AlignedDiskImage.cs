using System;
using System.Collections.Generic;
using AzureLinuxImage.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Partitions
{
    /// <summary>
    /// The disk Azure gets from a source: its bytes, zeros up to a larger size (a whole MiB, R-DISK-2),
    /// and on a GPT disk the backup entries and header moved to the new last LBAs with the primary
    /// header's alternate LBA and the protective MBR following (UEFI 5.3.1), the old backup zeroed. The one
    /// producer of the aligned image: ConvertTo-FixedVhd writes it to a file, Copy-DiskImageToAzure streams
    /// it to a page blob (issue 15), so the uploaded disk is the converted disk byte for byte. The source is
    /// only read; the changed sectors are held in memory (a few KiB).
    /// </summary>
    internal sealed class AlignedDiskImage : DiskImage
    {
        private readonly DiskImage source;
        private readonly List<SectorWrite> patches;

        private AlignedDiskImage(DiskImage source, long size, List<SectorWrite> patches, string? gptProblem)
        {
            this.source = source;
            VirtualSize = size;
            this.patches = patches;
            GptProblem = gptProblem;
        }

        public override string Path => source.Path;

        public override DiskFormat Format => source.Format;

        public override DiskVariant Variant => source.Variant;

        public override long VirtualSize { get; }

        public override int LogicalSectorSize => source.LogicalSectorSize;

        public override int PhysicalSectorSize => source.PhysicalSectorSize;

        public override string? CreatorApplication => source.CreatorApplication;

        /// <summary>Whether the backup GPT was moved to the new end.</summary>
        public bool MovedGptBackup => patches.Count > 0;

        /// <summary>Why a GPT that needed moving could not be (the disk is then the source padded with zeros).</summary>
        public string? GptProblem { get; }

        /// <summary>
        /// The source seen as a disk of <paramref name="size"/> bytes (at least the source's, a multiple of
        /// 512). <paramref name="displayPath"/> names the disk in messages about a damaged table.
        /// </summary>
        public static AlignedDiskImage Create(DiskImage source, long size, string displayPath)
        {
            if (size < source.VirtualSize || size % 512 != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(size), $"{size} is smaller than the source or not a multiple of 512.");
            }
            var patches = new List<SectorWrite>();
            string? problem = null;
            // A 4096-byte-sector table is in 4 KiB LBAs: nothing a 512-byte-sector disk can fix up here.
            if (size != source.VirtualSize && source.LogicalSectorSize == 512)
            {
                try
                {
                    using var view = new DiskImageStream(source, size);
                    GptBackupRelocation? gpt = GptBackupRelocation.Read(view, displayPath, size);
                    if (gpt != null && !gpt.IsBackupAtEnd(size))
                    {
                        foreach (SectorWrite[] stage in gpt.PlanMove(view, size))
                        {
                            patches.AddRange(stage);
                        }
                    }
                }
                catch (InvalidImageException e)
                {
                    problem = e.Message;
                }
            }
            return new AlignedDiskImage(source, size, patches, problem);
        }

        protected override void ReadCore(long offset, byte[] buffer, int index, int count)
        {
            int fromSource = (int)Math.Max(0, Math.Min(count, source.VirtualSize - offset));
            if (fromSource > 0)
            {
                source.Read(offset, buffer, index, fromSource);
            }
            Array.Clear(buffer, index + fromSource, count - fromSource);
            long end = offset + count;
            // In plan order: a later write covers an earlier one.
            foreach (SectorWrite w in patches)
            {
                long from = Math.Max(offset, w.Offset);
                long to = Math.Min(end, w.End);
                if (to > from)
                {
                    Buffer.BlockCopy(w.Data, (int)(from - w.Offset), buffer, index + (int)(from - offset), (int)(to - from));
                }
            }
        }

        protected override IEnumerable<ByteRange> GetAllocatedRangesCore()
        {
            // The moved table's sectors hold data wherever the source had none (past its end); zeroed sectors need no range.
            var written = new List<ByteRange>();
            foreach (SectorWrite w in patches)
            {
                if (!IsZero(w.Data))
                {
                    written.Add(new ByteRange(w.Offset, w.Data.Length));
                }
            }
            written.Sort((a, b) => a.Offset.CompareTo(b.Offset));
            return RangeMath.Union(RangeMath.Clip(source.GetAllocatedRanges(), source.VirtualSize), written);
        }

        private static bool IsZero(byte[] data) => Array.TrueForAll(data, b => b == 0);
    }
}
