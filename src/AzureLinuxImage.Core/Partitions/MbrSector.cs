using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.Partitions
{
    /// <summary>One of the four primary entries of a master boot record.</summary>
    internal readonly struct MbrEntry
    {
        public MbrEntry(byte status, byte type, uint firstLba, uint sectorCount)
        {
            Status = status;
            Type = type;
            FirstLba = firstLba;
            SectorCount = sectorCount;
        }

        public byte Status { get; }

        public byte Type { get; }

        public uint FirstLba { get; }

        public uint SectorCount { get; }

        public bool IsUsed => Type != 0 && SectorCount != 0;

        public ulong EndLba => (ulong)FirstLba + SectorCount;
    }

    /// <summary>The classic MBR in sector 0: boot code, four partition entries, 0x55AA.</summary>
    internal static class MbrSector
    {
        public const int Size = 512;
        public const int EntriesOffset = 446;
        public const byte ProtectiveType = 0xEE;

        public static bool HasSignature(ReadOnlySpan<byte> sector) => sector.Length >= Size && sector[510] == 0x55 && sector[511] == 0xAA;

        public static MbrEntry ReadEntry(ReadOnlySpan<byte> sector, int index)
        {
            ReadOnlySpan<byte> e = sector.Slice(EntriesOffset + (16 * index), 16);
            return new MbrEntry(e[0], e[4], BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(8)), BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(12)));
        }

        /// <summary>True when an entry of type 0xEE marks the disk as GPT (UEFI 5.2.3).</summary>
        public static bool IsProtective(ReadOnlySpan<byte> sector)
        {
            for (int i = 0; i < 4; i++)
            {
                if (ReadEntry(sector, i).Type == ProtectiveType)
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>Sets the protective entry's size to cover the disk after LBA 0, capped at 0xFFFFFFFF (UEFI 5.2.3).</summary>
        public static void SetProtectiveSize(Span<byte> sector, ulong diskSectors)
        {
            for (int i = 0; i < 4; i++)
            {
                Span<byte> e = sector.Slice(EntriesOffset + (16 * i), 16);
                if (e[4] == ProtectiveType)
                {
                    ulong size = Math.Min(diskSectors - 1, 0xFFFFFFFFUL);
                    BinaryPrimitives.WriteUInt32LittleEndian(e.Slice(12), (uint)size);
                    return;
                }
            }
        }
    }
}
