using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.Partitions
{
    /// <summary>One MBR or EBR sector: four 16-byte entries at 446 and the 0x55AA signature at 510.</summary>
    internal sealed class MbrSector
    {
        public const int EntryOffset = 446;

        private MbrSector(MbrEntry[] entries, uint diskSignature)
        {
            Entries = entries;
            DiskSignature = diskSignature;
        }

        public MbrEntry[] Entries { get; }

        /// <summary>The NT disk signature at 440; Linux builds MBR PARTUUIDs from it.</summary>
        public uint DiskSignature { get; }

        /// <summary>A GPT protective MBR: an 0xEE entry (UEFI spec 5.2.3). Hybrid MBRs also have one.</summary>
        public bool IsProtective
        {
            get
            {
                foreach (MbrEntry e in Entries)
                {
                    if (e.Type == 0xEE)
                    {
                        return true;
                    }
                }
                return false;
            }
        }

        /// <summary>Null when the 0x55AA signature is missing or an entry has an invalid status byte (not an MBR).</summary>
        public static MbrSector? TryParse(ReadOnlySpan<byte> sector)
        {
            if (sector.Length < 512 || sector[510] != 0x55 || sector[511] != 0xAA)
            {
                return null;
            }
            var entries = new MbrEntry[4];
            for (int i = 0; i < 4; i++)
            {
                ReadOnlySpan<byte> e = sector.Slice(EntryOffset + (16 * i), 16);
                byte status = e[0];
                if (status != 0 && status != 0x80)
                {
                    // A FAT or NTFS boot sector also ends in 0x55AA; its code bytes here are not 0/0x80.
                    return null;
                }
                entries[i] = new MbrEntry(status == 0x80, e[4], BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(8)), BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(12)));
            }
            return new MbrSector(entries, BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(440)));
        }
    }

    /// <summary>A partition entry: type code and LBA range (CHS fields are ignored, as Linux does).</summary>
    internal readonly struct MbrEntry
    {
        public MbrEntry(bool bootable, byte type, uint firstLba, uint sectorCount)
        {
            Bootable = bootable;
            Type = type;
            FirstLba = firstLba;
            SectorCount = sectorCount;
        }

        public bool Bootable { get; }

        public byte Type { get; }

        public uint FirstLba { get; }

        public uint SectorCount { get; }

        public bool IsEmpty => Type == 0 || SectorCount == 0;
    }
}
