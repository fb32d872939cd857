using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhdx
{
    /// <summary>
    /// Replayed log content kept in memory: 4 KiB-aligned extents, ascending and disjoint, each either
    /// zeros (a zero descriptor) or one sector of data (a data descriptor). The file is never written.
    /// </summary>
    internal sealed class VhdxLogOverlay
    {
        private readonly long[] starts;
        private readonly long[] ends;
        private readonly byte[]?[] data;

        public VhdxLogOverlay(IReadOnlyList<(long Start, long End, byte[]? Data)> extents, long lastFileOffset, int entries)
        {
            starts = extents.Select(e => e.Start).ToArray();
            ends = extents.Select(e => e.End).ToArray();
            data = extents.Select(e => e.Data).ToArray();
            LastFileOffset = lastFileOffset;
            EntryCount = entries;
        }

        /// <summary>The file size every allocated structure fits in, from the head entry.</summary>
        public long LastFileOffset { get; }

        /// <summary>Log entries replayed.</summary>
        public int EntryCount { get; }

        /// <summary>Extents (zero runs and data sectors) in the overlay.</summary>
        public int ExtentCount => starts.Length;

        /// <summary>Lays the replayed content over bytes already read from the file at <paramref name="offset"/>.</summary>
        public void Apply(long offset, byte[] buffer, int index, int count)
        {
            long end = offset + count;
            int lo = 0, hi = starts.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) >> 1;
                if (ends[mid] <= offset)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }
            for (int i = lo; i < starts.Length && starts[i] < end; i++)
            {
                long s = Math.Max(starts[i], offset);
                long e = Math.Min(ends[i], end);
                byte[]? sector = data[i];
                if (sector == null)
                {
                    Array.Clear(buffer, index + (int)(s - offset), (int)(e - s));
                }
                else
                {
                    Buffer.BlockCopy(sector, (int)(s - starts[i]), buffer, index + (int)(s - offset), (int)(e - s));
                }
            }
        }
    }

    /// <summary>
    /// The metadata log (MS-VHDX 2.3): a circular buffer of 4 KiB sectors holding entries (header,
    /// descriptors, data sectors). A file left by a crashed host has a non-zero LogGuid and an active
    /// sequence of entries whose writes must be applied before any other structure is read (2.3.3).
    /// Here they are applied to an in-memory <see cref="VhdxLogOverlay"/>.
    /// </summary>
    internal static class VhdxLog
    {
        public const int SectorSize = 4096;
        /// <summary>Hyper-V and qemu write 1 MiB logs; larger pending logs are refused to keep memory bounded.</summary>
        public const long MaxReplayLength = 32L * 1024 * 1024;
        private const uint EntrySignature = 0x65676F6C; // "loge"
        private const uint DataDescriptorSignature = 0x63736564; // "desc"
        private const uint ZeroDescriptorSignature = 0x6F72657A; // "zero"
        private const uint DataSectorSignature = 0x61746164; // "data"
        private const int EntryHeaderSize = 64;
        private const int DescriptorSize = 32;
        /// <summary>The file identifier and both headers: never updated through the log (2.2.2).</summary>
        private const long HeaderArea = 192 * 1024;

        /// <summary>
        /// Finds and replays the active sequence. Null when the header names no log (LogGuid zero) or no
        /// entry carries its LogGuid (the host stopped before writing one: nothing to replay).
        /// </summary>
        public static VhdxLogOverlay? Replay(ImageFile file, VhdxHeader header)
        {
            if (header.LogGuid == Guid.Empty)
            {
                return null;
            }
            string path = file.Path;
            if (header.LogLength == 0)
            {
                throw new InvalidImageException(path, "VHDX log", "the header names a log to replay (LogGuid set) but the log length is zero.");
            }
            if (header.LogOffset > (ulong)file.Length || header.LogLength > (ulong)file.Length - header.LogOffset)
            {
                throw new InvalidImageException(path, "VHDX log",
                    $"the log [{header.LogOffset}, {header.LogOffset + header.LogLength}) lies outside the file of {file.Length} bytes (truncated file?).");
            }
            if (header.LogLength > MaxReplayLength)
            {
                throw new UnsupportedImageException(path,
                    $"VHDX log: a pending log of {header.LogLength} bytes is larger than the {MaxReplayLength / (1024 * 1024)} MiB this reader replays in memory; open the file once in Hyper-V to replay it.");
            }

            byte[] log = file.ReadStructure((long)header.LogOffset, (int)header.LogLength, "VHDX log");
            int sectors = log.Length / SectorSize;
            var entries = new Dictionary<int, LogEntry>();
            long crcBudget = 4L * log.Length;
            int sawOurs = 0;
            string? lastProblem = null;
            for (int s = 0; s < sectors; s++)
            {
                int at = s * SectorSize;
                if (BinaryPrimitives.ReadUInt32LittleEndian(log.AsSpan(at)) != EntrySignature
                    || new Guid(log.AsSpan(at + 32, 16).ToArray()) != header.LogGuid)
                {
                    continue; // Not an entry, or a stale one from an earlier log session.
                }
                sawOurs++;
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(log.AsSpan(at + 8));
                if (length == 0 || length % SectorSize != 0 || length > log.Length)
                {
                    lastProblem = $"entry at log offset {at} has length {length}";
                    continue;
                }
                crcBudget -= length;
                if (crcBudget < 0)
                {
                    throw new InvalidImageException(path, "VHDX log",
                        "the log holds more overlapping entries than any valid log can: it is corrupt.");
                }
                byte[] entry = CopyWrapped(log, s, (int)length);
                LogEntry? parsed = LogEntry.TryParse(entry, s, sectors, out string problem);
                if (parsed == null)
                {
                    lastProblem = $"entry at log offset {at}: {problem}";
                    continue;
                }
                entries[s] = parsed;
            }
            if (sawOurs == 0)
            {
                return null;
            }

            // Chains: an entry is followed by the one that starts where it ends with the next sequence number.
            var next = new Dictionary<int, LogEntry>();
            foreach (LogEntry e in entries.Values)
            {
                int after = (e.StartSector + e.Sectors) % sectors;
                if (entries.TryGetValue(after, out LogEntry? n) && n.Sequence == e.Sequence + 1)
                {
                    next[e.StartSector] = n;
                }
            }
            var headOf = new Dictionary<int, LogEntry>();
            foreach (LogEntry e in entries.Values.OrderByDescending(x => x.Sequence))
            {
                headOf[e.StartSector] = next.TryGetValue(e.StartSector, out LogEntry? n) ? headOf[n.StartSector] : e;
            }
            // The active sequence (2.3.3): the sequence with the highest head sequence number whose head's
            // Tail names an entry of the same sequence; it runs from that tail to the head.
            LogEntry? bestTail = null, bestHead = null;
            foreach (LogEntry h in entries.Values)
            {
                if (next.ContainsKey(h.StartSector))
                {
                    continue;
                }
                if (entries.TryGetValue(h.TailSector, out LogEntry? t) && ReferenceEquals(headOf[t.StartSector], h)
                    && (bestHead == null || h.Sequence > bestHead.Sequence))
                {
                    bestTail = t;
                    bestHead = h;
                }
                else if (bestHead == null)
                {
                    lastProblem = $"the entry with sequence number {h.Sequence} names a tail at log offset {h.TailSector * SectorSize} that is not the start of its sequence";
                }
            }
            if (bestHead == null || bestTail == null)
            {
                throw new InvalidImageException(path, "VHDX log",
                    $"the log is torn or invalid: {sawOurs} entries carry this file's log GUID but none forms a complete sequence ({lastProblem ?? "no valid entry"}). The file was left by a crashed host and cannot be read safely; open it in Hyper-V to repair it.");
            }
            if (bestHead.FlushedFileOffset > (ulong)file.Length)
            {
                throw new InvalidImageException(path, "VHDX log",
                    $"the log says the file was at least {bestHead.FlushedFileOffset} bytes when it was written, but it is {file.Length}: the file is truncated.");
            }
            long fileEnd = Math.Max(file.Length, (long)Math.Min(bestHead.LastFileOffset, (ulong)long.MaxValue / 2));
            var logRange = new ByteRange((long)header.LogOffset, header.LogLength);

            var ops = new List<(long Start, long End, byte[]? Data)>();
            int count = 0;
            for (LogEntry? e = bestTail; e != null; e = e == bestHead ? null : next[e.StartSector])
            {
                count++;
                byte[] entry = CopyWrapped(log, e.StartSector, e.Sectors * SectorSize);
                foreach ((long start, long end, byte[]? data) in e.Writes(entry))
                {
                    if (start < HeaderArea || end > fileEnd || VhdxRegionTable.Overlaps(new ByteRange(start, end - start), logRange))
                    {
                        throw new InvalidImageException(path, $"VHDX log entry {e.Sequence}",
                            $"it writes [{start}, {end}), which is in the header area, in the log itself or past the end of the file ({fileEnd}).");
                    }
                    ops.Add((start, end, data));
                }
                if (count > entries.Count)
                {
                    throw new InvalidImageException(path, "VHDX log", "the active sequence loops.");
                }
            }
            return new VhdxLogOverlay(Resolve(ops), fileEnd, count);
        }

        /// <summary>Later writes win: a sweep over the ascending boundaries keeps, for each piece, the last op covering it.</summary>
        private static List<(long Start, long End, byte[]? Data)> Resolve(List<(long Start, long End, byte[]? Data)> ops)
        {
            var events = new List<(long Position, int Op, bool Starts)>(ops.Count * 2);
            for (int i = 0; i < ops.Count; i++)
            {
                events.Add((ops[i].Start, i, true));
                events.Add((ops[i].End, i, false));
            }
            events.Sort((a, b) => a.Position.CompareTo(b.Position));
            var result = new List<(long Start, long End, byte[]? Data)>();
            var active = new SortedSet<int>();
            long previous = 0;
            int k = 0;
            while (k < events.Count)
            {
                long position = events[k].Position;
                if (active.Count > 0 && position > previous)
                {
                    (long start, long end, byte[]? data) = ops[active.Max];
                    if (data == null)
                    {
                        if (result.Count > 0 && result[result.Count - 1].Data == null && result[result.Count - 1].End == previous)
                        {
                            result[result.Count - 1] = (result[result.Count - 1].Start, position, null);
                        }
                        else
                        {
                            result.Add((previous, position, null));
                        }
                    }
                    else
                    {
                        // Data ops are one aligned sector and zero ops are sector-aligned, so a piece of a
                        // data op is always the whole sector.
                        result.Add((start, end, data));
                    }
                }
                while (k < events.Count && events[k].Position == position)
                {
                    if (events[k].Starts)
                    {
                        active.Add(events[k].Op);
                    }
                    else
                    {
                        active.Remove(events[k].Op);
                    }
                    k++;
                }
                previous = position;
            }
            return result;
        }

        private static byte[] CopyWrapped(byte[] log, int startSector, int length)
        {
            var copy = new byte[length];
            int start = startSector * SectorSize;
            int first = Math.Min(length, log.Length - start);
            Buffer.BlockCopy(log, start, copy, 0, first);
            if (first < length)
            {
                Buffer.BlockCopy(log, 0, copy, first, length - first);
            }
            return copy;
        }

        /// <summary>One log entry (2.3.1) that passed every check of its own: header, checksum, descriptors, data sectors.</summary>
        private sealed class LogEntry
        {
            private LogEntry(int startSector, int sectors, int tailSector, ulong sequence, int descriptors, ulong flushed, ulong last)
            {
                StartSector = startSector;
                Sectors = sectors;
                TailSector = tailSector;
                Sequence = sequence;
                Descriptors = descriptors;
                FlushedFileOffset = flushed;
                LastFileOffset = last;
            }

            public int StartSector { get; }

            public int Sectors { get; }

            public int TailSector { get; }

            public ulong Sequence { get; }

            public int Descriptors { get; }

            public ulong FlushedFileOffset { get; }

            public ulong LastFileOffset { get; }

            public static LogEntry? TryParse(byte[] entry, int startSector, int logSectors, out string problem)
            {
                uint tail = BinaryPrimitives.ReadUInt32LittleEndian(entry.AsSpan(12));
                ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(16));
                uint descriptors = BinaryPrimitives.ReadUInt32LittleEndian(entry.AsSpan(24));
                ulong flushed = BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(48));
                ulong last = BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(56));
                uint stored = BinaryPrimitives.ReadUInt32LittleEndian(entry.AsSpan(4));
                Span<byte> zero = stackalloc byte[4];
                uint state = CrcRegister.Crc32C(0xFFFFFFFFu, entry.AsSpan(0, 4));
                state = CrcRegister.Crc32C(state, zero);
                uint computed = ~CrcRegister.Crc32C(state, entry.AsSpan(8));
                if (stored != computed)
                {
                    problem = $"the CRC-32C is 0x{stored:X8} but the entry hashes to 0x{computed:X8} (torn write)";
                    return null;
                }
                if (sequence == 0 || tail % SectorSize != 0 || tail / SectorSize >= (uint)logSectors)
                {
                    problem = $"sequence number {sequence} or tail {tail} is invalid";
                    return null;
                }
                long descriptorSectors = (EntryHeaderSize + ((long)descriptors * DescriptorSize) + SectorSize - 1) / SectorSize;
                if (descriptorSectors * SectorSize > entry.Length)
                {
                    problem = $"{descriptors} descriptors do not fit in the {entry.Length}-byte entry";
                    return null;
                }
                long dataSectors = 0;
                for (int i = 0; i < descriptors; i++)
                {
                    ReadOnlySpan<byte> d = entry.AsSpan(EntryHeaderSize + (i * DescriptorSize), DescriptorSize);
                    uint signature = BinaryPrimitives.ReadUInt32LittleEndian(d);
                    ulong length = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(8));
                    ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(16));
                    if (BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(24)) != sequence || offset % SectorSize != 0 || offset > long.MaxValue / 4)
                    {
                        problem = $"descriptor {i} has another sequence number or an unaligned file offset";
                        return null;
                    }
                    if (signature == DataDescriptorSignature)
                    {
                        long at = (descriptorSectors + dataSectors) * SectorSize;
                        if (at + SectorSize > entry.Length)
                        {
                            problem = $"data descriptor {i} has no data sector inside the entry";
                            return null;
                        }
                        ReadOnlySpan<byte> sector = entry.AsSpan((int)at, SectorSize);
                        if (BinaryPrimitives.ReadUInt32LittleEndian(sector) != DataSectorSignature
                            || BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(4)) != (uint)(sequence >> 32)
                            || BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(SectorSize - 4)) != (uint)sequence)
                        {
                            problem = $"the data sector of descriptor {i} has a wrong signature or sequence number (torn write)";
                            return null;
                        }
                        dataSectors++;
                    }
                    else if (signature == ZeroDescriptorSignature)
                    {
                        if (length == 0 || length % SectorSize != 0 || length > long.MaxValue / 4)
                        {
                            problem = $"zero descriptor {i} has length {length}";
                            return null;
                        }
                    }
                    else
                    {
                        problem = $"descriptor {i} has an unknown signature 0x{signature:X8}";
                        return null;
                    }
                }
                problem = string.Empty;
                return new LogEntry(startSector, entry.Length / SectorSize, (int)(tail / SectorSize), sequence, (int)descriptors, flushed, last);
            }

            /// <summary>The writes of this entry in order, from its (already validated) bytes.</summary>
            public IEnumerable<(long Start, long End, byte[]? Data)> Writes(byte[] entry)
            {
                long descriptorSectors = (EntryHeaderSize + ((long)Descriptors * DescriptorSize) + SectorSize - 1) / SectorSize;
                long dataSectors = 0;
                for (int i = 0; i < Descriptors; i++)
                {
                    int d = EntryHeaderSize + (i * DescriptorSize);
                    uint signature = BinaryPrimitives.ReadUInt32LittleEndian(entry.AsSpan(d));
                    long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(d + 16));
                    if (signature == ZeroDescriptorSignature)
                    {
                        long length = (long)BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(d + 8));
                        yield return (offset, offset + length, null);
                        continue;
                    }
                    // 2.3.1.3/2.3.1.4: the sector is LeadingBytes, the 4084 data bytes, TrailingBytes.
                    int at = (int)((descriptorSectors + dataSectors) * SectorSize);
                    var sector = new byte[SectorSize];
                    Buffer.BlockCopy(entry, d + 8, sector, 0, 8);
                    Buffer.BlockCopy(entry, at + 8, sector, 8, SectorSize - 12);
                    Buffer.BlockCopy(entry, d + 4, sector, SectorSize - 4, 4);
                    dataSectors++;
                    yield return (offset, offset + SectorSize, sector);
                }
            }
        }
    }
}
