using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Disks;

namespace AzureLinuxImage.Partitions
{
    /// <summary>
    /// DOS partition tables: four primary entries, and an extended partition holding a chain of EBRs,
    /// each with one logical partition (relative to that EBR) and a link to the next EBR (relative to
    /// the extended partition's start). The chain is followed with loop and length limits.
    /// </summary>
    internal static class MbrPartitionTable
    {
        /// <summary>Linux's own cap on partitions per disk is far lower than this.</summary>
        public const int MaxLogicalPartitions = 256;

        public static PartitionTable Read(DiskImage disk, int sectorSize, byte[] mbr)
        {
            var warnings = new List<string>();
            var result = new List<PartitionInfo>();
            long diskSectors = disk.VirtualSize / sectorSize;
            uint signature = BinaryPrimitives.ReadUInt32LittleEndian(mbr.AsSpan(440));
            MbrEntry? extended = null;
            for (int i = 0; i < 4; i++)
            {
                MbrEntry e = MbrSector.ReadEntry(mbr, i);
                if (!e.IsUsed)
                {
                    continue;
                }
                if (PartitionTypes.IsExtended(e.Type))
                {
                    if (extended == null)
                    {
                        extended = e;
                    }
                    else
                    {
                        warnings.Add($"MBR entry {i + 1} is a second extended partition; Linux ignores it and so does this reader.");
                    }
                    continue;
                }
                Add(result, warnings, disk, sectorSize, diskSectors, i + 1, e, e.FirstLba, false, signature);
            }
            if (extended != null)
            {
                ReadLogical(disk, sectorSize, diskSectors, extended.Value, signature, result, warnings);
            }
            return new PartitionTable(PartitionStyle.Mbr, result, warnings) { MbrDiskSignature = signature };
        }

        private static void ReadLogical(DiskImage disk, int sectorSize, long diskSectors, MbrEntry extended, uint signature, List<PartitionInfo> result, List<string> warnings)
        {
            long extStart = extended.FirstLba;
            long extEnd = extStart + extended.SectorCount;
            long ebr = extStart;
            var seen = new HashSet<long>();
            var buffer = new byte[512];
            int number = 5;
            while (true)
            {
                if (ebr < extStart || ebr >= extEnd || ebr >= diskSectors)
                {
                    warnings.Add($"an extended boot record at sector {ebr} lies outside the extended partition or the disk; the logical partitions after it are ignored.");
                    return;
                }
                if (!seen.Add(ebr) || seen.Count > MaxLogicalPartitions)
                {
                    warnings.Add($"the chain of extended boot records loops back (sector {ebr}) or is longer than {MaxLogicalPartitions}; it was cut there.");
                    return;
                }
                disk.Read(ebr * sectorSize, buffer, 0, 512);
                if (!MbrSector.HasSignature(buffer))
                {
                    warnings.Add($"the extended boot record at sector {ebr} has no 0x55AA signature; the logical partitions from there on are ignored.");
                    return;
                }
                MbrEntry logical = MbrSector.ReadEntry(buffer, 0);
                if (logical.IsUsed)
                {
                    Add(result, warnings, disk, sectorSize, diskSectors, number, logical, ebr + logical.FirstLba, true, signature);
                    number++;
                }
                MbrEntry next = MbrSector.ReadEntry(buffer, 1);
                if (!next.IsUsed || !PartitionTypes.IsExtended(next.Type))
                {
                    return;
                }
                ebr = extStart + next.FirstLba;
            }
        }

        private static void Add(List<PartitionInfo> result, List<string> warnings, DiskImage disk, int sectorSize, long diskSectors, int number, MbrEntry e, long firstLba, bool logical, uint signature)
        {
            long count = e.SectorCount;
            if (firstLba >= diskSectors)
            {
                warnings.Add($"MBR partition {number} starts at sector {firstLba}, past the end of the disk ({diskSectors} sectors); it is ignored.");
                return;
            }
            if (firstLba + count > diskSectors)
            {
                warnings.Add($"MBR partition {number} ends at sector {firstLba + count}, past the end of the disk ({diskSectors} sectors); it is read up to the disk's end.");
                count = diskSectors - firstLba;
            }
            var (kind, name) = PartitionTypes.ForMbr(e.Type);
            result.Add(new PartitionInfo(number, PartitionStyle.Mbr, firstLba * sectorSize, count * sectorSize, kind, "0x" + e.Type.ToString("X2"), name)
            {
                Bootable = e.Status == 0x80,
                IsLogical = logical,
                MbrPartUuid = signature.ToString("x8") + "-" + number.ToString("x2"),
            });
        }
    }
}
