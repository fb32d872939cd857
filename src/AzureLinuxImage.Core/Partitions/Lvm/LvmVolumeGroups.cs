using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Partitions.Lvm
{
    /// <summary>A volume group assembled from the PVs found in the image, with its newest metadata.</summary>
    internal sealed class LvmVolumeGroup
    {
        public LvmVolumeGroup(string name, long seqno)
        {
            Name = name;
            Seqno = seqno;
        }

        public string Name { get; }

        public long Seqno { get; }

        public List<(LogicalVolumeInfo Info, LvmLogicalVolume? Device)> Volumes { get; } = new List<(LogicalVolumeInfo, LvmLogicalVolume?)>();
    }

    /// <summary>
    /// Finds LVM2 PVs among block devices, reads each metadata area, keeps the copy with the highest
    /// seqno per VG (lvm2 does the same after an interrupted update) and maps linear and striped LVs.
    /// Anything else (thin, RAID, mirror, cache, snapshot) is listed as not readable, never guessed at.
    /// </summary>
    internal static class LvmVolumeGroups
    {
        private const int MaxSegments = 10_000;

        public static List<LvmVolumeGroup> Scan(IEnumerable<BlockDevice> devices, List<string> warnings)
        {
            var pvs = new Dictionary<string, BlockDevice>(StringComparer.Ordinal);
            var newest = new Dictionary<string, (long Seqno, LvmSection Vg)>(StringComparer.Ordinal);
            foreach (BlockDevice device in devices)
            {
                LvmLabel? label;
                try
                {
                    label = LvmLabel.TryRead(device);
                }
                catch (InvalidImageException e)
                {
                    warnings.Add(e.Message);
                    continue;
                }
                if (label == null)
                {
                    continue;
                }
                pvs[label.PvUuid] = device;
                foreach (var (offset, size) in label.MetadataAreas)
                {
                    try
                    {
                        string? text = LvmMetadataArea.ReadText(device, offset, size);
                        if (text == null)
                        {
                            continue;
                        }
                        LvmSection root = LvmTextMetadata.Parse(text, device.Description);
                        foreach (LvmSection vg in root.Sections.Where(s => s.Section("physical_volumes") != null))
                        {
                            long seqno = vg.Number("seqno") ?? 0;
                            if (!newest.TryGetValue(vg.Name, out var known) || known.Seqno < seqno)
                            {
                                newest[vg.Name] = (seqno, vg);
                            }
                        }
                    }
                    catch (InvalidImageException e)
                    {
                        warnings.Add(e.Message);
                    }
                }
            }
            var result = new List<LvmVolumeGroup>();
            foreach (var pair in newest.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                try
                {
                    result.Add(Build(pair.Key, pair.Value.Seqno, pair.Value.Vg, pvs, warnings));
                }
                catch (InvalidImageException e)
                {
                    warnings.Add(e.Message);
                }
            }
            return result;
        }

        private static LvmVolumeGroup Build(string name, long seqno, LvmSection vg, Dictionary<string, BlockDevice> devices, List<string> warnings)
        {
            string where = $"LVM volume group {name}";
            long extentSectors = vg.Number("extent_size") ?? 0;
            if (extentSectors <= 0 || extentSectors > (1L << 32))
            {
                throw new InvalidImageException(where, "LVM2 metadata extent_size", $"{extentSectors} sectors is not a valid extent size.");
            }
            long extentBytes = extentSectors * 512;
            var pvMap = new Dictionary<string, LvmPhysicalExtents>(StringComparer.Ordinal);
            foreach (LvmSection pv in vg.Section("physical_volumes")!.Sections)
            {
                string id = (pv.String("id") ?? string.Empty).Replace("-", string.Empty);
                long peStart = pv.Number("pe_start") ?? -1;
                long peCount = pv.Number("pe_count") ?? -1;
                if (!devices.TryGetValue(id, out BlockDevice? device))
                {
                    warnings.Add($"{where}: physical volume {pv.Name} ({LvmLabel.FormatUuid(id)}) is not in this image; volumes using it cannot be read.");
                    continue;
                }
                if (peStart < 0 || peCount < 0 || peStart > device.Length / 512 || peCount > (device.Length - (peStart * 512)) / extentBytes)
                {
                    throw new InvalidImageException(where, "LVM2 metadata physical volume", $"{pv.Name}: pe_start {peStart} and pe_count {peCount} do not fit {device.Description}.");
                }
                pvMap[pv.Name] = new LvmPhysicalExtents(device, peStart * 512, peCount);
            }
            var group = new LvmVolumeGroup(name, seqno);
            LvmSection? lvs = vg.Section("logical_volumes");
            if (lvs == null)
            {
                return group;
            }
            foreach (LvmSection lv in lvs.Sections)
            {
                List<object> status = lv.Array("status") ?? new List<object>();
                if (!status.Contains("VISIBLE"))
                {
                    continue; // internal sub-volumes (_tmeta, _rimage_0 ...) belong to the visible one
                }
                group.Volumes.Add(BuildVolume(name, lv, extentBytes, pvMap));
            }
            return group;
        }

        private static (LogicalVolumeInfo, LvmLogicalVolume?) BuildVolume(string vgName, LvmSection lv, long extentBytes, Dictionary<string, LvmPhysicalExtents> pvs)
        {
            string where = $"LVM volume {vgName}/{lv.Name}";
            var segments = new List<LvmSegment>();
            string kind = "linear";
            string? reason = null;
            long extents = 0;
            foreach (LvmSection seg in lv.Sections.Where(s => s.Name.StartsWith("segment", StringComparison.Ordinal)))
            {
                if (segments.Count >= MaxSegments)
                {
                    throw new InvalidImageException(where, "LVM2 metadata segments", $"more than {MaxSegments} segments.");
                }
                string type = seg.String("type") ?? "?";
                long start = seg.Number("start_extent") ?? -1;
                long count = seg.Number("extent_count") ?? -1;
                if (start != extents || count <= 0 || count > (long.MaxValue / extentBytes) - start)
                {
                    throw new InvalidImageException(where, "LVM2 metadata segment", $"{seg.Name}: start_extent {start} and extent_count {count} do not follow the previous segments.");
                }
                extents = start + count;
                if (type != "striped")
                {
                    kind = type;
                    reason ??= $"segment type '{type}' is not read (only linear and striped volumes are; thin pools, RAID, mirrors, caches and snapshots are reported, not read).";
                    continue;
                }
                List<object> stripes = seg.Array("stripes") ?? new List<object>();
                long stripeCount = seg.Number("stripe_count") ?? 0;
                if (stripeCount < 1 || stripes.Count != stripeCount * 2 || count % stripeCount != 0)
                {
                    throw new InvalidImageException(where, "LVM2 metadata stripes", $"{seg.Name}: stripe_count {stripeCount} does not match its {stripes.Count / 2} stripes and {count} extents.");
                }
                long stripeBytes = stripeCount > 1 ? (seg.Number("stripe_size") ?? 0) * 512 : extentBytes;
                if (stripeBytes <= 0 || extentBytes % stripeBytes != 0)
                {
                    throw new InvalidImageException(where, "LVM2 metadata stripe_size", $"{seg.Name}: {stripeBytes} bytes does not divide the extent size {extentBytes}.");
                }
                if (stripeCount > 1)
                {
                    kind = "striped";
                }
                var legs = new (LvmPhysicalExtents Pv, long FirstExtent)[stripeCount];
                long perStripe = count / stripeCount;
                for (int i = 0; i < stripeCount; i++)
                {
                    string pvName = stripes[2 * i] as string ?? string.Empty;
                    long first = stripes[(2 * i) + 1] is long l ? l : -1;
                    if (!pvs.TryGetValue(pvName, out LvmPhysicalExtents? pv))
                    {
                        reason ??= $"its physical volume '{pvName}' is not in this image.";
                        legs = null!;
                        break;
                    }
                    if (first < 0 || first > pv.ExtentCount - perStripe)
                    {
                        throw new InvalidImageException(where, "LVM2 metadata stripes", $"{seg.Name}: extents {first}..{first + perStripe - 1} are outside {pvName}'s {pv.ExtentCount}.");
                    }
                    legs[i] = (pv, first);
                }
                if (legs != null)
                {
                    segments.Add(new LvmSegment(start * extentBytes, count * extentBytes, stripeBytes, legs, extentBytes));
                }
            }
            long size = extents * extentBytes;
            var info = new LogicalVolumeInfo(vgName, lv.Name, size, kind, reason == null, reason);
            return (info, reason == null ? new LvmLogicalVolume(where, size, segments) : null);
        }
    }

    /// <summary>A PV's data area: where its extents start and how many there are.</summary>
    internal sealed class LvmPhysicalExtents
    {
        public LvmPhysicalExtents(BlockDevice device, long start, long extentCount)
        {
            Device = device;
            Start = start;
            ExtentCount = extentCount;
        }

        public BlockDevice Device { get; }

        public long Start { get; }

        public long ExtentCount { get; }
    }

    /// <summary>A run of an LV's bytes mapped onto one or more stripes (one stripe = linear).</summary>
    internal sealed class LvmSegment
    {
        public LvmSegment(long start, long length, long stripeBytes, (LvmPhysicalExtents Pv, long FirstExtent)[] legs, long extentBytes)
        {
            Start = start;
            Length = length;
            StripeBytes = stripeBytes;
            Legs = legs;
            ExtentBytes = extentBytes;
        }

        public long Start { get; }

        public long Length { get; }

        public long StripeBytes { get; }

        public (LvmPhysicalExtents Pv, long FirstExtent)[] Legs { get; }

        public long ExtentBytes { get; }
    }

    /// <summary>A linear or striped logical volume as a block device (device-mapper's linear and striped targets).</summary>
    internal sealed class LvmLogicalVolume : BlockDevice
    {
        private readonly List<LvmSegment> segments;

        public LvmLogicalVolume(string description, long length, List<LvmSegment> segments)
        {
            Description = description;
            Length = length;
            this.segments = segments;
        }

        public override long Length { get; }

        public override string Description { get; }

        public override void Read(long offset, byte[] buffer, int index, int count)
        {
            if (offset < 0 || count < 0 || offset > Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + count}) is outside {Description} ({Length} bytes).");
            }
            while (count > 0)
            {
                var (device, pvOffset, n) = Map(offset, count);
                device.Read(pvOffset, buffer, index, n);
                offset += n;
                index += n;
                count -= n;
            }
        }

        /// <summary>
        /// Where the LV's byte <paramref name="offset"/> lives: the PV device, the offset on it, and how many of
        /// the next <paramref name="count"/> bytes are contiguous there (the same mapping reads and writes use).
        /// </summary>
        internal (BlockDevice Device, long Offset, int Count) Map(long offset, int count)
        {
            LvmSegment seg = Find(offset);
            long within = offset - seg.Start;
            long chunk = within / seg.StripeBytes;
            int leg = (int)(chunk % seg.Legs.Length);
            long row = chunk / seg.Legs.Length;
            long inChunk = within % seg.StripeBytes;
            var (pv, firstExtent) = seg.Legs[leg];
            long pvOffset = pv.Start + (firstExtent * seg.ExtentBytes) + (row * seg.StripeBytes) + inChunk;
            int n = (int)Math.Min(Math.Min(count, seg.StripeBytes - inChunk), seg.Start + seg.Length - offset);
            return (pv.Device, pvOffset, n);
        }

        /// <summary>True when every segment has one leg (device-mapper's linear target).</summary>
        internal bool IsLinear => segments.TrueForAll(s => s.Legs.Length == 1);

        private LvmSegment Find(long offset)
        {
            int lo = 0, hi = segments.Count - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >> 1;
                LvmSegment s = segments[mid];
                if (offset < s.Start)
                {
                    hi = mid - 1;
                }
                else if (offset >= s.Start + s.Length)
                {
                    lo = mid + 1;
                }
                else
                {
                    return s;
                }
            }
            throw new InvalidImageException(Description, "LVM2 segments", $"no segment maps byte {offset}.");
        }
    }
}
