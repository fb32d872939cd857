using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Qcow2
{
    /// <summary>
    /// A qcow2 v2/v3 image read through the active L1 table (internal snapshots are ignored). L1 and L2
    /// tables are read in 4 KiB slices through small caches; compressed clusters (deflate, or zstd through
    /// Compression/Zstd) are inflated one at a time into a single cluster buffer. Unallocated clusters come from the backing file, else zeros.
    /// </summary>
    internal sealed class Qcow2Image : DiskImage
    {
        private const int SliceSize = 4096;
        private const int L1CacheSlices = 8;
        private const int L2CacheSlices = 32;
        private const int MaxEmptyTablesRemembered = 65536;

        private readonly ImageFile file;
        private readonly Qcow2Header header;
        private readonly DiskImage? backing;
        private readonly TablePageCache l1Cache;
        private readonly TablePageCache l2Cache;
        private readonly int subclusterSize;
        private byte[]? compressedInput;
        private byte[]? clusterBuffer;
        private long clusterBufferHost = -1;

        public Qcow2Image(ImageFile file, Qcow2Header header, DiskImage? backing)
        {
            this.file = file;
            this.header = header;
            this.backing = backing;
            int slice = (int)Math.Min(SliceSize, header.ClusterSize);
            l1Cache = new TablePageCache(file, SliceSize, L1CacheSlices, "qcow2 L1 table");
            l2Cache = new TablePageCache(file, slice, L2CacheSlices, "qcow2 L2 table");
            subclusterSize = header.ExtendedL2 ? (int)(header.ClusterSize / 32) : (int)header.ClusterSize;
        }

        public override string Path => file.Path;

        public override DiskFormat Format => DiskFormat.Qcow2;

        public override DiskVariant Variant => backing == null ? DiskVariant.Dynamic : DiskVariant.Differencing;

        public override long VirtualSize => header.Size;

        public override DiskImage? Parent => backing;

        internal Qcow2Header Header => header;

        protected override void ReadCore(long offset, byte[] buffer, int index, int count)
        {
            long clusterSize = header.ClusterSize;
            while (count > 0)
            {
                long cluster = offset >> header.ClusterBits;
                int inCluster = (int)(offset & (clusterSize - 1));
                int n = (int)Math.Min(count, clusterSize - inCluster);
                Qcow2ClusterEntry entry = Lookup(cluster);
                switch (entry.Kind)
                {
                    case Qcow2ClusterKind.Unallocated:
                        ReadFromParent(backing, offset, buffer, index, n);
                        break;
                    case Qcow2ClusterKind.Zero:
                        Array.Clear(buffer, index, n);
                        break;
                    case Qcow2ClusterKind.Compressed:
                        byte[] data = Inflate(entry, cluster);
                        Buffer.BlockCopy(data, inCluster, buffer, index, n);
                        break;
                    default:
                        if (entry.AllocatedSubclusters == uint.MaxValue)
                        {
                            // Whole clusters stored back to back in the file (what qemu-img convert writes)
                            // are read with one call rather than one per cluster.
                            n = ContiguousRun(cluster, entry.HostOffset, inCluster, count);
                            file.ReadExactly(entry.HostOffset + inCluster, buffer, index, n, "qcow2 data cluster");
                        }
                        else
                        {
                            ReadSubclusters(entry, offset, inCluster, buffer, index, n);
                        }
                        break;
                }
                offset += n;
                index += n;
                count -= n;
            }
        }

        /// <summary>Bytes from <paramref name="inCluster"/> of <paramref name="cluster"/> that lie contiguously in the file (up to <paramref name="count"/>).</summary>
        private int ContiguousRun(long cluster, long host, int inCluster, int count)
        {
            long clusterSize = header.ClusterSize;
            long n = Math.Min(count, clusterSize - inCluster);
            while (n < count)
            {
                Qcow2ClusterEntry next = Lookup(++cluster);
                host += clusterSize;
                if (next.Kind != Qcow2ClusterKind.Normal || next.AllocatedSubclusters != uint.MaxValue || next.HostOffset != host)
                {
                    break;
                }
                n = Math.Min(count, n + clusterSize);
            }
            return (int)n;
        }

        /// <summary>A normal cluster, run by run of subclusters in the same state (one run without extended L2).</summary>
        private void ReadSubclusters(Qcow2ClusterEntry entry, long offset, int inCluster, byte[] buffer, int index, int n)
        {
            int pos = 0;
            while (pos < n)
            {
                int sc = (inCluster + pos) / subclusterSize;
                int state = SubclusterState(entry, sc);
                int end = (sc + 1) * subclusterSize;
                while (end < inCluster + n && SubclusterState(entry, end / subclusterSize) == state)
                {
                    end += subclusterSize;
                }
                int run = Math.Min(n - pos, end - (inCluster + pos));
                if (state == 1)
                {
                    file.ReadExactly(entry.HostOffset + inCluster + pos, buffer, index + pos, run, "qcow2 data cluster");
                }
                else if (state == 2)
                {
                    Array.Clear(buffer, index + pos, run);
                }
                else
                {
                    ReadFromParent(backing, offset + pos, buffer, index + pos, run);
                }
                pos += run;
            }
        }

        /// <summary>1 = stored, 2 = zeros, 0 = from the backing file.</summary>
        private static int SubclusterState(Qcow2ClusterEntry entry, int sc)
        {
            uint bit = 1u << sc;
            return (entry.AllocatedSubclusters & bit) != 0 ? 1 : (entry.ZeroSubclusters & bit) != 0 ? 2 : 0;
        }

        /// <summary>The L2 entry for guest cluster <paramref name="cluster"/>, through the L1 and L2 slice caches.</summary>
        private Qcow2ClusterEntry Lookup(long cluster)
        {
            long l2Entries = header.L2Entries;
            long l1Index = cluster / l2Entries;
            long l2Offset = L2TableOffset(l1Index);
            if (l2Offset == 0)
            {
                return default;
            }
            long l2Index = cluster % l2Entries;
            int entrySize = header.L2EntrySize;
            int perSlice = l2Cache.PageSize / entrySize;
            long sliceOffset = l2Offset + (l2Index / perSlice * l2Cache.PageSize);
            byte[] slice = l2Cache.Get(sliceOffset, l2Cache.PageSize);
            ReadOnlySpan<byte> raw = slice.AsSpan((int)(l2Index % perSlice) * entrySize, entrySize);
            return Qcow2ClusterEntry.Decode(raw, header, out string problem)
                ?? throw new InvalidImageException(file.Path, $"qcow2 L2 entry for cluster {cluster}", problem + " (corrupt table).");
        }

        /// <summary>The L2 table's file offset for L1 index <paramref name="l1Index"/>; 0 when unallocated.</summary>
        private long L2TableOffset(long l1Index)
        {
            const int perSlice = SliceSize / 8;
            long first = l1Index / perSlice * perSlice;
            int entries = (int)Math.Min(perSlice, header.L1Size - first);
            byte[] slice = l1Cache.Get(header.L1TableOffset + (first * 8), entries * 8);
            ulong e = BinaryPrimitives.ReadUInt64BigEndian(slice.AsSpan((int)(l1Index - first) * 8));
            // Bits 9-55 offset, bit 63 "copied"; the rest is reserved (qcow2.txt, L1 table entry).
            if ((e & 0x7F000000000001FFUL) != 0)
            {
                throw new InvalidImageException(file.Path, $"qcow2 L1 entry {l1Index}", $"reserved bits are set in 0x{e:X16} (corrupt table).");
            }
            long offset = (long)(e & 0x00FFFFFFFFFFFE00UL);
            if ((offset & (header.ClusterSize - 1)) != 0)
            {
                throw new InvalidImageException(file.Path, $"qcow2 L1 entry {l1Index}", $"L2 table offset 0x{offset:X} is not cluster-aligned (corrupt table).");
            }
            if (offset != 0 && offset > file.Length - header.ClusterSize)
            {
                throw new InvalidImageException(file.Path, $"qcow2 L1 entry {l1Index}", $"L2 table offset 0x{offset:X} lies past the end of the file ({file.Length} bytes).");
            }
            return offset;
        }

        /// <summary>Inflates a compressed cluster into the one-cluster buffer (kept while the same cluster is read).</summary>
        private byte[] Inflate(Qcow2ClusterEntry entry, long cluster)
        {
            int clusterSize = (int)header.ClusterSize;
            clusterBuffer ??= new byte[clusterSize];
            if (clusterBufferHost == entry.HostOffset)
            {
                return clusterBuffer;
            }
            clusterBufferHost = -1;
            if (entry.HostOffset >= file.Length)
            {
                throw new InvalidImageException(file.Path, $"qcow2 compressed cluster {cluster}", $"host offset 0x{entry.HostOffset:X} lies past the end of the file.");
            }
            // The sector count may run past the end of the file for the last cluster: the stream ends itself.
            int length = (int)Math.Min(entry.CompressedLength, file.Length - entry.HostOffset);
            compressedInput ??= new byte[2 * clusterSize];
            file.ReadExactly(entry.HostOffset, compressedInput, 0, length, "qcow2 compressed cluster");
            int produced;
            try
            {
                produced = header.CompressionType == 0
                    ? InflateRaw(compressedInput, length, clusterBuffer)
                    : InflateZstd(compressedInput, length, clusterBuffer);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidImageException(file.Path, $"qcow2 compressed cluster {cluster}", $"the deflate data is damaged ({e.Message}).", e);
            }
            if (produced != clusterSize)
            {
                throw new InvalidImageException(file.Path, $"qcow2 compressed cluster {cluster}", $"inflates to {produced} bytes, not the cluster size {clusterSize}.");
            }
            clusterBufferHost = entry.HostOffset;
            return clusterBuffer;
        }

        /// <summary>
        /// One zstd frame (qemu's compression_type 1) into <paramref name="output"/>. Not strict: the sector-rounded
        /// length may carry bytes after the frame. The window is capped at 8 MiB, far above what a 2 MiB cluster needs.
        /// </summary>
        private int InflateZstd(byte[] input, int length, byte[] output)
        {
            using var source = new MemoryStream(input, 0, length, false);
            var limits = new AzureLinuxImage.Compression.DecompressionLimits(output.Length, 8 << 20);
            var decoder = new AzureLinuxImage.Compression.Zstd.ZstdDecoder(new AzureLinuxImage.Compression.InputBuffer(source, file.Path, 4096), limits, false);
            int done = 0;
            while (done < output.Length)
            {
                int n = decoder.Read(output, done, output.Length - done);
                if (n <= 0)
                {
                    break;
                }
                done += n;
            }
            return done;
        }

        /// <summary>Raw deflate (no zlib header, qemu's windowBits -12) into <paramref name="output"/>; returns the bytes produced.</summary>
        private static int InflateRaw(byte[] input, int length, byte[] output)
        {
            using var source = new MemoryStream(input, 0, length, false);
            using var inflater = new DeflateStream(source, CompressionMode.Decompress);
            int done = 0;
            while (done < output.Length)
            {
                int n = inflater.Read(output, done, output.Length - done);
                if (n <= 0)
                {
                    break;
                }
                done += n;
            }
            return done;
        }

        protected override IEnumerable<ByteRange> GetAllocatedRangesCore()
        {
            IEnumerable<ByteRange> own = OwnRanges();
            return backing == null ? own : RangeMath.Union(RangeMath.Coalesce(own), RangeMath.Clip(backing.GetAllocatedRanges(), VirtualSize));
        }

        /// <summary>Clusters (or subclusters) stored in this file, from the L1/L2 tables, in guest order.</summary>
        private IEnumerable<ByteRange> OwnRanges()
        {
            long clusterSize = header.ClusterSize;
            long l2Entries = header.L2Entries;
            long clusters = (VirtualSize + clusterSize - 1) / clusterSize;
            // L2 tables already seen to be empty: a hostile L1 naming one empty table a million times
            // must not cost a million table scans (the work stays proportional to the file size).
            var emptyTables = new HashSet<long>();
            for (long l1 = 0; l1 * l2Entries < clusters; l1++)
            {
                long l2Offset = L2TableOffset(l1);
                if (l2Offset == 0 || emptyTables.Contains(l2Offset))
                {
                    continue;
                }
                long last = Math.Min(clusters, (l1 + 1) * l2Entries);
                bool any = false;
                for (long c = l1 * l2Entries; c < last; c++)
                {
                    Qcow2ClusterEntry entry = Lookup(c);
                    long start = c * clusterSize;
                    any |= entry.Kind == Qcow2ClusterKind.Compressed || (entry.Kind == Qcow2ClusterKind.Normal && entry.AllocatedSubclusters != 0);
                    if (entry.Kind == Qcow2ClusterKind.Compressed || (entry.Kind == Qcow2ClusterKind.Normal && entry.AllocatedSubclusters == uint.MaxValue))
                    {
                        yield return Clip(start, clusterSize);
                    }
                    else if (entry.Kind == Qcow2ClusterKind.Normal)
                    {
                        for (int sc = 0; sc < 32; sc++)
                        {
                            if ((entry.AllocatedSubclusters & (1u << sc)) != 0)
                            {
                                yield return Clip(start + ((long)sc * subclusterSize), subclusterSize);
                            }
                        }
                    }
                }
                if (!any && last - (l1 * l2Entries) == l2Entries && emptyTables.Count < MaxEmptyTablesRemembered)
                {
                    emptyTables.Add(l2Offset);
                }
            }
        }

        private ByteRange Clip(long start, long length) => new ByteRange(start, Math.Max(0, Math.Min(length, VirtualSize - start)));

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                backing?.Dispose();
                file.Dispose();
            }
        }
    }
}
