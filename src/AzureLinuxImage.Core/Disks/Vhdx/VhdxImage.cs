using System;
using System.Collections.Generic;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhdx
{
    /// <summary>
    /// A fixed, dynamic or differencing VHDX (MS-VHDX v1.0), read through <see cref="VhdxFileView"/> so
    /// any replayed log applies to every structure and payload read. Differencing files take each
    /// logical sector of a partially present block from this file when its sector-bitmap bit is set,
    /// else from the parent (2.5).
    /// </summary>
    internal sealed class VhdxImage : DiskImage
    {
        private readonly VhdxFileView file;
        private readonly VhdxMetadata metadata;
        private readonly VhdxBlockAllocationTable bat;
        private readonly DiskImage? parent;
        private readonly string creator;
        private readonly byte[]? bitmap;
        private long bitmapBlock = -1;

        public VhdxImage(VhdxFileView file, VhdxHeader header, VhdxMetadata metadata, VhdxBlockAllocationTable bat, DiskImage? parent, string creator)
        {
            this.file = file;
            Header = header;
            this.metadata = metadata;
            this.bat = bat;
            this.parent = parent;
            this.creator = creator;
            if (metadata.HasParent)
            {
                bitmap = new byte[SectorsPerBlock / 8];
            }
        }

        /// <summary>The current header; its DataWriteGuid is what children link to.</summary>
        public VhdxHeader Header { get; }

        public override string Path => file.Path;

        public override DiskFormat Format => DiskFormat.Vhdx;

        public override DiskVariant Variant => metadata.HasParent ? DiskVariant.Differencing
            : metadata.LeaveBlocksAllocated ? DiskVariant.Fixed : DiskVariant.Dynamic;

        public override long VirtualSize => metadata.VirtualDiskSize;

        public override int LogicalSectorSize => metadata.LogicalSectorSize;

        public override int PhysicalSectorSize => metadata.PhysicalSectorSize;

        public override string? CreatorApplication => creator.Length == 0 ? null : creator;

        public override DiskImage? Parent => parent;

        public long BlockSize => bat.BlockSize;

        private int SectorsPerBlock => (int)(bat.BlockSize / metadata.LogicalSectorSize);

        protected override void ReadCore(long offset, byte[] buffer, int index, int count)
        {
            long blockSize = bat.BlockSize;
            while (count > 0)
            {
                long block = offset / blockSize;
                int inBlock = (int)(offset % blockSize);
                int n = (int)Math.Min(count, blockSize - inBlock);
                switch (bat.GetPayload(block, out long fileOffset))
                {
                    case VhdxPayloadState.FullyPresent:
                        file.ReadExactly(fileOffset + inBlock, buffer, index, n, "VHDX payload block");
                        break;
                    case VhdxPayloadState.PartiallyPresent:
                        ReadPartial(block, fileOffset, inBlock, offset, buffer, index, n);
                        break;
                    case VhdxPayloadState.NotPresent when parent != null:
                        ReadFromParent(parent, offset, buffer, index, n);
                        break;
                    default:
                        // Not present (no parent), undefined, zero, unmapped: the spec allows zeros for
                        // all of them (2.5.1.1) and zeros are what Hyper-V returns.
                        Array.Clear(buffer, index, n);
                        break;
                }
                offset += n;
                index += n;
                count -= n;
            }
        }

        private void ReadPartial(long block, long fileOffset, int inBlock, long offset, byte[] buffer, int index, int n)
        {
            if (bitmapBlock != block)
            {
                long chunk = block / bat.ChunkRatio;
                long sb = bat.GetSectorBitmap(chunk);
                if (sb < 0)
                {
                    throw new InvalidImageException(file.Path, "VHDX sector bitmap",
                        $"payload block {block} is partially present but the sector bitmap of chunk {chunk} is not present (MS-VHDX 2.5.1.2).");
                }
                long bitOffset = (block % bat.ChunkRatio) * SectorsPerBlock;
                bitmapBlock = -1;
                file.ReadExactly(sb + (bitOffset / 8), bitmap!, 0, bitmap!.Length, "VHDX sector bitmap");
                bitmapBlock = block;
            }
            // Bit 0 of byte 0 is the first sector (2.5): runs of sectors with the same bit come from the same place.
            int sector = metadata.LogicalSectorSize;
            int pos = 0;
            while (pos < n)
            {
                int s = (inBlock + pos) / sector;
                bool mine = IsSet(s);
                int run = Math.Min(n - pos, ((s + 1) * sector) - (inBlock + pos));
                while (pos + run < n && IsSet((inBlock + pos + run) / sector) == mine)
                {
                    run = Math.Min(n - pos, run + sector);
                }
                if (mine)
                {
                    file.ReadExactly(fileOffset + inBlock + pos, buffer, index + pos, run, "VHDX payload block");
                }
                else
                {
                    ReadFromParent(parent, offset + pos, buffer, index + pos, run);
                }
                pos += run;
            }
        }

        private bool IsSet(int sector) => (bitmap![sector >> 3] & (1 << (sector & 7))) != 0;

        protected override IEnumerable<ByteRange> GetAllocatedRangesCore()
        {
            IEnumerable<ByteRange> own = OwnRanges();
            return parent == null ? own : RangeMath.Union(own, RangeMath.Clip(parent.GetAllocatedRanges(), VirtualSize));
        }

        /// <summary>
        /// Fully and partially present blocks, streamed from the BAT; every other state reads as zeros here.
        /// A fully present block is a plain copy of the file, so the file's holes under it (qemu-img leaves
        /// the unwritten part of a block as a hole) are zeros too and are left out; a partially present
        /// block takes some sectors from the parent, and a replayed log may write into a hole, so neither
        /// is split.
        /// </summary>
        private IEnumerable<ByteRange> OwnRanges() => StoredRun.WithoutFileHoles(file.File, OwnRuns());

        private IEnumerable<StoredRun> OwnRuns()
        {
            for (long block = 0; block < bat.PayloadBlocks; block++)
            {
                VhdxPayloadState state = bat.GetPayload(block, out long fileOffset);
                long start = block * bat.BlockSize;
                if (state == VhdxPayloadState.FullyPresent && !file.Replayed)
                {
                    yield return new StoredRun(start, fileOffset, bat.BlockExtent(block));
                }
                else if (state == VhdxPayloadState.FullyPresent || state == VhdxPayloadState.PartiallyPresent)
                {
                    yield return StoredRun.Opaque(start, bat.BlockExtent(block));
                }
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                parent?.Dispose();
                file.Dispose();
            }
        }
    }
}
