using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using AzureLinuxImage.Checksums;
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
        /// <summary>Entry arrays above this size are refused: the spec's minimum is 16 KiB, tools write 16 KiB.</summary>
        public const int MaxEntryArrayBytes = 1 << 20;

        public static PartitionTable Read(DiskImage disk, int sectorSize)
        {
            var warnings = new List<string>();
            long lastLba = disk.VirtualSize / sectorSize - 1;
            string? primaryProblem = TryRead(disk, sectorSize, 1, lastLba, out GptHeaderFields? primary, out List<PartitionInfo>? entries);
            GptHeaderFields? header = primary;
            if (primaryProblem != null)
            {
                long backupLba = lastLba;
                string? backupProblem = TryRead(disk, sectorSize, backupLba, lastLba, out GptHeaderFields? backup, out entries);
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
                long alt = primary!.AlternateLba;
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
            return new PartitionTable(PartitionScheme.Gpt, entries!, warnings) { DiskGuid = header!.DiskGuid };
        }

        /// <summary>Reads and checks a header and its entries; returns the problem, or null when both are sound.</summary>
        private static string? TryRead(DiskImage disk, int sectorSize, long lba, long lastLba, out GptHeaderFields? header, out List<PartitionInfo>? entries)
        {
            header = null;
            entries = null;
            var sector = new byte[sectorSize];
            disk.Read(lba * sectorSize, sector, 0, sectorSize);
            string? problem = GptHeaderFields.Check(sector, lba, lastLba, out GptHeaderFields? h);
            if (problem != null)
            {
                return problem;
            }
            long arrayBytes = (long)h!.EntryCount * h.EntrySize;
            if (arrayBytes > MaxEntryArrayBytes)
            {
                return $"its entry array of {h.EntryCount} x {h.EntrySize} bytes is larger than {MaxEntryArrayBytes} bytes";
            }
            long arrayEnd = h.EntriesLba * sectorSize + arrayBytes;
            if (h.EntriesLba < 1 || h.EntriesLba > lastLba || arrayEnd > disk.VirtualSize)
            {
                return $"its entry array at LBA {h.EntriesLba} lies outside the disk";
            }
            var array = new byte[arrayBytes];
            disk.Read(h.EntriesLba * sectorSize, array, 0, array.Length);
            uint crc = Crc32.Ieee.Compute(array);
            if (crc != h.EntriesCrc)
            {
                return $"the CRC32 of its partition entries is 0x{crc:X8}, the header says 0x{h.EntriesCrc:X8}";
            }
            var list = new List<PartitionInfo>();
            for (int i = 0; i < h.EntryCount; i++)
            {
                ReadOnlySpan<byte> e = array.AsSpan(i * (int)h.EntrySize, 128);
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
                list.Add(new PartitionInfo(i + 1, PartitionScheme.Gpt, (long)first * sectorSize, (long)(last - first + 1) * sectorSize, kind, type.ToString("D").ToUpperInvariant(), name)
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

    /// <summary>The fields of a GPT header (UEFI spec 5.3.2, table 5-5) this reader uses, checked.</summary>
    internal sealed class GptHeaderFields
    {
        public long MyLba { get; private set; }

        public long AlternateLba { get; private set; }

        public Guid DiskGuid { get; private set; }

        public long EntriesLba { get; private set; }

        public uint EntryCount { get; private set; }

        public uint EntrySize { get; private set; }

        public uint EntriesCrc { get; private set; }

        /// <summary>Returns what is wrong with the header sector read at <paramref name="lba"/>, or null and the fields.</summary>
        public static string? Check(ReadOnlySpan<byte> sector, long lba, long lastLba, out GptHeaderFields? header)
        {
            header = null;
            if (!sector.Slice(0, 8).SequenceEqual(Encoding.ASCII.GetBytes("EFI PART")))
            {
                return $"no 'EFI PART' signature at LBA {lba}";
            }
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(12));
            if (size < 92 || size > sector.Length)
            {
                return $"its header size {size} is outside 92..{sector.Length}";
            }
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(16));
            byte[] copy = sector.Slice(0, (int)size).ToArray();
            copy[16] = copy[17] = copy[18] = copy[19] = 0;
            uint crc = Crc32.Ieee.Compute(copy);
            if (crc != stored)
            {
                return $"its header CRC32 is 0x{crc:X8}, the header says 0x{stored:X8}";
            }
            var h = new GptHeaderFields
            {
                MyLba = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(sector.Slice(24)), long.MaxValue),
                AlternateLba = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(sector.Slice(32)), long.MaxValue),
                DiskGuid = new Guid(sector.Slice(56, 16).ToArray()),
                EntriesLba = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(sector.Slice(72)), long.MaxValue),
                EntryCount = BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(80)),
                EntrySize = BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(84)),
                EntriesCrc = BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(88)),
            };
            if (h.MyLba != lba)
            {
                return $"it says it is at LBA {h.MyLba} but was read at LBA {lba}";
            }
            if (h.EntrySize < 128 || h.EntrySize > 4096 || h.EntrySize % 8 != 0)
            {
                return $"its entry size {h.EntrySize} is not a multiple of 8 between 128 and 4096";
            }
            header = h;
            return null;
        }
    }
}
