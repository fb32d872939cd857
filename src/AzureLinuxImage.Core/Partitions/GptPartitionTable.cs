using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using System.IO.Hashing;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Partitions
{
    /// <summary>
    /// GUID partition table (UEFI spec 2.10, 5.3). The primary header at LBA 1 and the backup at the
    /// last LBA each carry a CRC32 of themselves and of their entry array; a damaged primary is
    /// replaced by the backup with a warning, as firmware does (5.3.2).
    /// </summary>
    internal static class GptPartitionTable
    {
        public static PartitionTable Read(DiskImage disk, int sectorSize)
        {
            var warnings = new List<string>();
            long lastLba = disk.VirtualSize / sectorSize - 1;
            string? primaryProblem = TryRead(disk, sectorSize, 1, lastLba, out GptHeader? primary, out List<PartitionInfo>? entries);
            GptHeader? header = primary;
            if (primaryProblem != null)
            {
                long backupLba = lastLba;
                string? backupProblem = TryRead(disk, sectorSize, backupLba, lastLba, out GptHeader? backup, out entries);
                if (backupProblem != null)
                {
                    throw new InvalidImageException(disk.Path, "GPT header", $"the primary header is damaged ({primaryProblem}) and so is the backup at the last sector ({backupProblem}).");
                }
                warnings.Add($"The primary GPT header is damaged ({primaryProblem}); the backup header at LBA {backupLba} was used. Repair the table (sgdisk -e, or gdisk's recovery menu) before booting.");
                header = backup;
            }
            else
            {
                // Check the backup too: a disk grown without moving it (R-VHD resizing) leaves it in the middle.
                long alt = (long)Math.Min(primary!.AlternateLba, long.MaxValue);
                string? backupProblem = alt > 1 && alt <= lastLba
                    ? TryRead(disk, sectorSize, alt, lastLba, out _, out _)
                    : $"it is recorded at LBA {alt}, outside the disk";
                if (backupProblem != null)
                {
                    warnings.Add($"The backup GPT header is damaged ({backupProblem}); the primary was used.");
                }
                else if (alt != lastLba)
                {
                    warnings.Add($"The backup GPT header is at LBA {alt}, not at the last sector ({lastLba}): the disk was resized without moving it (sgdisk -e fixes this).");
                }
            }
            return new PartitionTable(PartitionStyle.Gpt, entries!, warnings) { DiskGuid = header!.DiskGuid };
        }

        /// <summary>Reads and checks a header and its entries; returns the problem, or null when both are sound.</summary>
        private static string? TryRead(DiskImage disk, int sectorSize, long lba, long lastLba, out GptHeader? header, out List<PartitionInfo>? entries)
        {
            header = null;
            entries = null;
            var sector = new byte[sectorSize];
            disk.Read(lba * sectorSize, sector, 0, sectorSize);
            GptHeader? h = GptHeader.TryParse(sector, out string problem);
            if (h == null)
            {
                return problem + $" (LBA {lba})";
            }
            if (h.MyLba != (ulong)lba)
            {
                return $"it says it is at LBA {h.MyLba} but was read at LBA {lba}";
            }
            long arrayBytes = h.EntryArrayBytes;
            if (h.PartitionEntryLba < 1 || h.PartitionEntryLba > (ulong)lastLba || (long)h.PartitionEntryLba * sectorSize > disk.VirtualSize - arrayBytes)
            {
                return $"its entry array at LBA {h.PartitionEntryLba} lies outside the disk";
            }
            long entriesLba = (long)h.PartitionEntryLba;
            var array = new byte[arrayBytes];
            disk.Read(entriesLba * sectorSize, array, 0, array.Length);
            if (!GptHeader.EntriesCrcMatches(h, array))
            {
                return $"the CRC32 of its partition entries is 0x{Crc32.HashToUInt32(array):X8}, the header says 0x{h.EntriesCrc32:X8}";
            }
            var list = new List<PartitionInfo>();
            for (int i = 0; i < h.NumberOfEntries; i++)
            {
                ReadOnlySpan<byte> e = array.AsSpan(i * (int)h.SizeOfEntry, 128);
                var type = new Guid(e.Slice(0, 16).ToArray());
                if (type == Guid.Empty)
                {
                    continue;
                }
                ulong first = BinaryPrimitives.ReadUInt64LittleEndian(e.Slice(32));
                ulong last = BinaryPrimitives.ReadUInt64LittleEndian(e.Slice(40));
                if (first > last || last > (ulong)lastLba || first < 1)
                {
                    return $"partition entry {i + 1} spans LBA {first}-{last}, outside the disk (LBA 0-{lastLba})";
                }
                var (kind, name) = PartitionTypes.ForGpt(type);
                ulong attributes = BinaryPrimitives.ReadUInt64LittleEndian(e.Slice(48));
                list.Add(new PartitionInfo(i + 1, PartitionStyle.Gpt, (long)first * sectorSize, (long)(last - first + 1) * sectorSize, kind, type.ToString("D").ToUpperInvariant(), name)
                {
                    UniqueId = new Guid(e.Slice(16, 16).ToArray()),
                    Name = DecodeName(e.Slice(56, 72)),
                    Attributes = attributes,
                    Bootable = (attributes & 4) != 0,
                });
            }
            header = h;
            entries = list;
            return null;
        }

        private static string DecodeName(ReadOnlySpan<byte> utf16)
        {
            int chars = 0;
            while (chars < 36 && (utf16[chars * 2] != 0 || utf16[(chars * 2) + 1] != 0))
            {
                chars++;
            }
            return Encoding.Unicode.GetString(utf16.Slice(0, chars * 2).ToArray());
        }
    }
}
