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
        public PartitionTable(PartitionStyle scheme, IReadOnlyList<PartitionInfo> partitions, IReadOnlyList<string> warnings)
        {
            Scheme = scheme;
            Partitions = partitions;
            Warnings = warnings;
        }

        public PartitionStyle Scheme { get; }

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
            // Linux reads GPT only behind a 0xEE entry (a protective or hybrid MBR), and so do we.
            switch (PartitionTableProbe.Detect(disk))
            {
                case PartitionStyle.Gpt:
                    return GptPartitionTable.Read(disk, sector);
                case PartitionStyle.Mbr:
                    var mbr = new byte[MbrSector.Size];
                    disk.Read(0, mbr, 0, mbr.Length);
                    // A FAT or NTFS boot sector on a whole disk also ends in 0x55AA; its bytes at the
                    // status fields are code, not 0x00/0x80 (the kernel's msdos check does the same).
                    for (int i = 0; i < 4; i++)
                    {
                        byte status = MbrSector.ReadEntry(mbr, i).Status;
                        if (status != 0 && status != 0x80)
                        {
                            return new PartitionTable(PartitionStyle.None, Array.Empty<PartitionInfo>(), Array.Empty<string>());
                        }
                    }
                    return MbrPartitionTable.Read(disk, sector, mbr);
                default:
                    return new PartitionTable(PartitionStyle.None, Array.Empty<PartitionInfo>(), Array.Empty<string>());
            }
        }

        /// <summary>Opens a partition as a block device.</summary>
        public static BlockDevice Open(DiskImage disk, PartitionInfo partition) =>
            new DiskSlice(disk, partition.Offset, partition.Length, $"partition {partition.Number} of {disk.Path}");
    }
}
