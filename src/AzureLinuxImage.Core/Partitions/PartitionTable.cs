using System;
using System.Collections.Generic;
using AzureLinuxImage.Disks;

namespace AzureLinuxImage.Partitions
{
    /// <summary>
    /// The partitions of a disk, read by <see cref="Read"/>: GPT when the MBR is protective (0xEE),
    /// otherwise MBR, otherwise none (a file system or PV on the whole disk).
    /// </summary>
    internal sealed class PartitionTable
    {
        public PartitionTable(PartitionScheme scheme, IReadOnlyList<PartitionInfo> partitions, IReadOnlyList<string> warnings)
        {
            Scheme = scheme;
            Partitions = partitions;
            Warnings = warnings;
        }

        public PartitionScheme Scheme { get; }

        /// <summary>Partitions in table order (extended containers left out: they hold no data of their own).</summary>
        public IReadOnlyList<PartitionInfo> Partitions { get; }

        /// <summary>Damage worked around (a GPT read from its backup, a partition cut at the disk's end ...).</summary>
        public IReadOnlyList<string> Warnings { get; }

        /// <summary>GPT disk GUID, when GPT.</summary>
        public Guid? DiskGuid { get; init; }

        /// <summary>MBR disk signature (offset 440), when MBR.</summary>
        public uint? MbrDiskSignature { get; init; }

        public static PartitionTable Read(DiskImage disk)
        {
            int sector = disk.LogicalSectorSize;
            if (disk.VirtualSize < 512 * 2)
            {
                return new PartitionTable(PartitionScheme.None, Array.Empty<PartitionInfo>(), Array.Empty<string>());
            }
            var mbr = new byte[512];
            disk.Read(0, mbr, 0, 512);
            MbrSector? parsed = MbrSector.TryParse(mbr);
            if (parsed == null)
            {
                return new PartitionTable(PartitionScheme.None, Array.Empty<PartitionInfo>(), Array.Empty<string>());
            }
            if (parsed.IsProtective)
            {
                return GptPartitionTable.Read(disk, sector);
            }
            // A GPT disk whose protective MBR was replaced by a hybrid one, or whose MBR was wiped:
            // Linux reads GPT only behind a 0xEE entry, and so do we.
            return MbrPartitionTable.Read(disk, sector, parsed);
        }

        /// <summary>Opens a partition as a block device.</summary>
        public static BlockDevice Open(DiskImage disk, PartitionInfo partition) =>
            new DiskSlice(disk, partition.Offset, partition.Length, $"partition {partition.Number} of {disk.Path}");
    }
}
