using System;
using System.IO;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Partitions
{
    /// <summary>
    /// The partition layout facts Resize-VhdAligned needs from a 512-byte-sector disk held at offset 0
    /// of a stream (a fixed VHD), and the moves of the GPT backup to a new last LBA (UEFI 5.3.1: the
    /// backup header is in the last LBA, its entry array just before it).
    /// </summary>
    internal sealed class GptBackupRelocation
    {
        private const int Sector = 512;
        private readonly GptHeader primary;
        private readonly byte[] entries;
        private readonly byte[] mbr;

        private GptBackupRelocation(GptHeader primary, byte[] entries, byte[] mbr, ulong lastPartitionLba)
        {
            this.primary = primary;
            this.entries = entries;
            this.mbr = mbr;
            LastPartitionLba = lastPartitionLba;
        }

        /// <summary>Highest LBA used by any partition.</summary>
        public ulong LastPartitionLba { get; }

        /// <summary>Smallest disk size (bytes) that still holds every partition plus the backup GPT.</summary>
        public long MinimumDiskSize => (long)(LastPartitionLba + 1 + (ulong)primary.EntryArraySectors(Sector) + 1) * Sector;

        /// <summary>Whether the backup is already where a disk of <paramref name="diskSize"/> bytes wants it.</summary>
        public bool IsBackupAtEnd(long diskSize) => primary.AlternateLba == (ulong)(diskSize / Sector) - 1
            && primary.LastUsableLba == (ulong)(diskSize / Sector) - 2 - (ulong)primary.EntryArraySectors(Sector);

        /// <summary>Reads the primary GPT of the disk in <paramref name="disk"/>; null when the disk is not GPT.</summary>
        public static GptBackupRelocation? Read(Stream disk, string path, long diskSize)
        {
            byte[] mbr = ReadAt(disk, 0, Sector);
            if (!MbrSector.HasSignature(mbr) || !MbrSector.IsProtective(mbr))
            {
                return null;
            }
            GptHeader header = GptHeader.TryParse(ReadAt(disk, Sector, Sector), out string problem)
                ?? throw new InvalidImageException(path, "primary GPT header", problem + ". Repair the table first (sgdisk -e / gdisk 'v' then 'w').");
            if (header.MyLba != 1)
            {
                throw new InvalidImageException(path, "primary GPT header", $"MyLBA is {header.MyLba}, expected 1.");
            }
            long entriesAt = (long)header.PartitionEntryLba * Sector;
            if (header.PartitionEntryLba < 2 || entriesAt > diskSize - header.EntryArrayBytes)
            {
                throw new InvalidImageException(path, "primary GPT header", $"the partition entry array at LBA {header.PartitionEntryLba} is outside the disk.");
            }
            byte[] entries = ReadAt(disk, entriesAt, (int)(header.EntryArraySectors(Sector) * Sector));
            if (!GptHeader.EntriesCrcMatches(header, entries))
            {
                throw new InvalidImageException(path, "GPT partition entry array", "its CRC32 does not match the header. Repair the table first (sgdisk -v).");
            }
            ulong last = 0;
            for (long i = 0; i < header.NumberOfEntries; i++)
            {
                ReadOnlySpan<byte> e = entries.AsSpan((int)(i * header.SizeOfEntry), 128);
                if (IsUnused(e))
                {
                    continue;
                }
                ulong endLba = BitConverterLE(e.Slice(40));
                last = Math.Max(last, endLba);
            }
            return new GptBackupRelocation(header, entries, mbr, Math.Max(last, header.PartitionEntryLba + (ulong)header.EntryArraySectors(Sector) - 1));
        }

        /// <summary>
        /// Writes the backup entries and header for a disk of <paramref name="newSize"/> bytes, then the
        /// primary header and the protective MBR; the old backup is zeroed last (and only outside the new one).
        /// Each stage is flushed before the next, so a crash in place (Resize-VhdAligned) leaves a readable table.
        /// </summary>
        /// <param name="disk">The disk at offset 0.</param>
        /// <param name="newSize">The disk's new size in bytes.</param>
        /// <param name="afterWrite">Tests only: told after each individual write, to stop there as a crash would.</param>
        public void MoveBackupTo(Stream disk, long newSize, Action<string>? afterWrite = null)
        {
            foreach (SectorWrite[] stage in PlanMove(disk, newSize))
            {
                foreach (SectorWrite w in stage)
                {
                    WriteAt(disk, w.Offset, w.Data);
                    afterWrite?.Invoke("gpt sector " + (w.Offset / Sector));
                }
                Flush(disk);
            }
        }

        /// <summary>
        /// The writes that move the backup GPT to the end of a disk of <paramref name="newSize"/> bytes, in
        /// stages to apply in order (a later write may cover an earlier one): the one description of the
        /// move, applied in place by <see cref="MoveBackupTo"/> and laid over a source by
        /// <see cref="AlignedDiskImage"/> (convert and upload). <paramref name="disk"/> is only read.
        /// </summary>
        public SectorWrite[][] PlanMove(Stream disk, long newSize)
        {
            ulong newLast = (ulong)(newSize / Sector) - 1;
            ulong entrySectors = (ulong)primary.EntryArraySectors(Sector);
            ulong newEntriesLba = newLast - entrySectors;
            ulong oldAlternate = primary.AlternateLba;
            GptHeader? oldBackup = null;
            if (oldAlternate > 1 && (long)(oldAlternate + 1) * Sector <= disk.Length)
            {
                oldBackup = GptHeader.TryParse(ReadAt(disk, (long)oldAlternate * Sector, Sector), out _);
            }

            GptHeader backup = primary.Clone();
            backup.MyLba = newLast;
            backup.AlternateLba = 1;
            backup.PartitionEntryLba = newEntriesLba;
            backup.LastUsableLba = newEntriesLba - 1;
            var stages = new System.Collections.Generic.List<SectorWrite[]>
            {
                new[] { new SectorWrite((long)newEntriesLba * Sector, entries), new SectorWrite((long)newLast * Sector, backup.Serialize(Sector)) },
            };

            GptHeader newPrimary = primary.Clone();
            newPrimary.AlternateLba = newLast;
            newPrimary.LastUsableLba = newEntriesLba - 1;
            byte[] newMbr = (byte[])mbr.Clone();
            MbrSector.SetProtectiveSize(newMbr, newLast + 1);
            stages.Add(new[] { new SectorWrite(Sector, newPrimary.Serialize(Sector)), new SectorWrite(0, newMbr) });

            if (oldBackup != null && oldBackup.MyLba == oldAlternate)
            {
                // Only sectors past every partition and before the new backup: never user data.
                var zeros = new System.Collections.Generic.List<SectorWrite>();
                ZeroSectors(zeros, oldAlternate, 1, newEntriesLba);
                ZeroSectors(zeros, oldBackup.PartitionEntryLba, (ulong)oldBackup.EntryArraySectors(Sector), newEntriesLba);
                if (zeros.Count > 0)
                {
                    stages.Add(zeros.ToArray());
                }
            }
            return stages.ToArray();
        }

        private void ZeroSectors(System.Collections.Generic.List<SectorWrite> writes, ulong first, ulong count, ulong limit)
        {
            for (ulong lba = first; lba < first + count; lba++)
            {
                if (lba > LastPartitionLba && lba < limit && lba > 1)
                {
                    writes.Add(new SectorWrite((long)lba * Sector, new byte[Sector]));
                }
            }
        }

        /// <summary>
        /// Where the primary header of a 512-byte-sector disk puts its backup, when that is not the disk's
        /// last LBA (a resize stopped between its footer and GPT writes, or a disk grown by another tool);
        /// null when it is at the end or the disk has no readable GPT.
        /// </summary>
        public static ulong? MisplacedBackupLba(ReadOnlySpan<byte> primaryHeaderSector, long diskSize)
        {
            GptHeader? header = GptHeader.TryParse(primaryHeaderSector, out _);
            if (header == null || diskSize < 2 * Sector)
            {
                return null;
            }
            ulong last = (ulong)(diskSize / Sector) - 1;
            return header.AlternateLba == last ? (ulong?)null : header.AlternateLba;
        }

        private static bool IsUnused(ReadOnlySpan<byte> entry)
        {
            for (int i = 0; i < 16; i++)
            {
                if (entry[i] != 0)
                {
                    return false;
                }
            }
            return true;
        }

        private static ulong BitConverterLE(ReadOnlySpan<byte> b) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(b);

        internal static byte[] ReadAt(Stream s, long offset, int count)
        {
            var b = new byte[count];
            s.Position = offset;
            int done = 0;
            while (done < count)
            {
                int n = s.Read(b, done, count - done);
                if (n <= 0)
                {
                    throw new EndOfStreamException($"end of file at {offset + done}");
                }
                done += n;
            }
            return b;
        }

        internal static void WriteAt(Stream s, long offset, byte[] data)
        {
            s.Position = offset;
            s.Write(data, 0, data.Length);
        }

        private static void Flush(Stream s)
        {
            if (s is FileStream f)
            {
                f.Flush(true);
            }
            else
            {
                s.Flush();
            }
        }
    }

    /// <summary>Bytes to put at an offset of a disk (whole sectors).</summary>
    internal readonly struct SectorWrite
    {
        public SectorWrite(long offset, byte[] data)
        {
            Offset = offset;
            Data = data;
        }

        public long Offset { get; }

        public byte[] Data { get; }

        public long End => Offset + Data.Length;
    }
}
