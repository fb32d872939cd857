using System;
using System.Buffers.Binary;
using System.Text;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Fat
{
    /// <summary>FAT variant, decided by cluster count alone (Microsoft FAT specification 1.03, section 3.5).</summary>
    internal enum FatType
    {
        Fat12 = 12,
        Fat16 = 16,
        Fat32 = 32,
    }

    /// <summary>
    /// The boot sector's BIOS parameter block (Microsoft "FAT: General Overview of On-Disk Format" 1.03,
    /// sections 3.1-3.3), every field validated against the others and the device, and the region layout
    /// derived from it.
    /// </summary>
    internal sealed class FatBootSector
    {
        private FatBootSector()
        {
        }

        public int BytesPerSector { get; private set; }

        public int SectorsPerCluster { get; private set; }

        public int ClusterSize => BytesPerSector * SectorsPerCluster;

        public FatType Type { get; private set; }

        /// <summary>Clusters 2 .. ClusterCount + 1 exist.</summary>
        public uint ClusterCount { get; private set; }

        public long FatOffset { get; private set; }

        public long FatBytes { get; private set; }

        /// <summary>FAT12/16 fixed root directory region.</summary>
        public long RootDirectoryOffset { get; private set; }

        public int RootDirectoryBytes { get; private set; }

        /// <summary>FAT32 root directory's first cluster.</summary>
        public uint RootCluster { get; private set; }

        public long DataOffset { get; private set; }

        public string Label { get; private set; } = string.Empty;

        public uint VolumeId { get; private set; }

        public static FatBootSector Parse(ReadOnlySpan<byte> b, long deviceLength, string where)
        {
            if (b.Length < 512)
            {
                throw new InvalidImageException(where, "FAT boot sector", "the device is shorter than one sector.");
            }
            if (b[510] != 0x55 || b[511] != 0xAA)
            {
                throw new InvalidImageException(where, "FAT boot sector signature", "bytes 510-511 are not 55 AA.");
            }
            if (b[0] != 0xEB && b[0] != 0xE9)
            {
                throw new InvalidImageException(where, "FAT boot sector BS_jmpBoot", $"the first byte 0x{b[0]:x2} is not a jump instruction.");
            }
            var bs = new FatBootSector();
            int bytesPerSector = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(11));
            if (bytesPerSector != 512 && bytesPerSector != 1024 && bytesPerSector != 2048 && bytesPerSector != 4096)
            {
                throw Bad(where, "BPB_BytsPerSec", $"{bytesPerSector} is not 512, 1024, 2048 or 4096.");
            }
            int sectorsPerCluster = b[13];
            if (sectorsPerCluster == 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) != 0 || sectorsPerCluster * bytesPerSector > 256 * 1024)
            {
                throw Bad(where, "BPB_SecPerClus", $"{sectorsPerCluster} is not a power of two giving clusters of at most 256 KiB.");
            }
            int reserved = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(14));
            int fats = b[16];
            int rootEntries = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(17));
            uint totalSectors = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(19));
            if (totalSectors == 0)
            {
                totalSectors = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(32));
            }
            uint fatSectors = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(22));
            bool fat32Layout = fatSectors == 0;
            if (fat32Layout)
            {
                fatSectors = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(36));
            }
            if (reserved == 0)
            {
                throw Bad(where, "BPB_RsvdSecCnt", "no reserved sectors (the boot sector itself is one).");
            }
            if (fats == 0 || fats > 4)
            {
                throw Bad(where, "BPB_NumFATs", $"{fats} FATs.");
            }
            if (fatSectors == 0)
            {
                throw Bad(where, "BPB_FATSz", "the FAT has no sectors.");
            }
            if (totalSectors == 0 || (long)totalSectors * bytesPerSector > deviceLength)
            {
                throw Bad(where, "BPB_TotSec", $"{totalSectors} sectors of {bytesPerSector} bytes do not fit the device ({deviceLength} bytes).");
            }
            long rootDirSectors = ((rootEntries * 32L) + bytesPerSector - 1) / bytesPerSector;
            long metaSectors = reserved + ((long)fats * fatSectors) + rootDirSectors;
            if (metaSectors >= totalSectors)
            {
                throw Bad(where, "BPB_TotSec", "the reserved, FAT and root directory regions fill the whole volume.");
            }
            long clusters = (totalSectors - metaSectors) / sectorsPerCluster;
            FatType type = clusters < 4085 ? FatType.Fat12 : clusters < 65525 ? FatType.Fat16 : FatType.Fat32;
            if (clusters == 0 || clusters > 0x0FFFFFF5)
            {
                throw Bad(where, "BPB_TotSec", $"{clusters} clusters is out of range.");
            }
            // The FAT must have an entry for every cluster (section 4).
            long neededFatBytes = type switch
            {
                FatType.Fat12 => ((clusters + 2) * 3 + 1) / 2,
                FatType.Fat16 => (clusters + 2) * 2,
                _ => (clusters + 2) * 4,
            };
            if ((long)fatSectors * bytesPerSector < neededFatBytes)
            {
                throw Bad(where, "BPB_FATSz", $"a FAT of {fatSectors} sectors cannot describe {clusters} clusters.");
            }
            if (type == FatType.Fat32)
            {
                if (!fat32Layout || rootEntries != 0)
                {
                    throw Bad(where, "BPB_RootEntCnt", "a FAT32 volume (by cluster count) has a FAT12/16 layout.");
                }
                uint rootCluster = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(44));
                if (rootCluster < 2 || rootCluster >= clusters + 2)
                {
                    throw Bad(where, "BPB_RootClus", $"root cluster {rootCluster} is outside clusters 2..{clusters + 1}.");
                }
                bs.RootCluster = rootCluster;
            }
            else if (rootEntries == 0)
            {
                throw Bad(where, "BPB_RootEntCnt", "a FAT12/16 volume without root directory entries.");
            }

            bs.BytesPerSector = bytesPerSector;
            bs.SectorsPerCluster = sectorsPerCluster;
            bs.Type = type;
            bs.ClusterCount = (uint)clusters;
            bs.FatOffset = (long)reserved * bytesPerSector;
            bs.FatBytes = (long)fatSectors * bytesPerSector;
            bs.RootDirectoryOffset = bs.FatOffset + ((long)fats * bs.FatBytes);
            bs.RootDirectoryBytes = rootEntries * 32;
            bs.DataOffset = metaSectors * bytesPerSector;

            // Extended boot record: label and serial only when the signature says they are present.
            int ebr = type == FatType.Fat32 ? 64 : 36;
            if (b[ebr + 2] == 0x29)
            {
                bs.VolumeId = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(ebr + 3));
                string label = Encoding.ASCII.GetString(b.Slice(ebr + 7, 11).ToArray()).Trim();
                bs.Label = label == "NO NAME" ? string.Empty : label;
            }
            return bs;
        }

        /// <summary>Byte offset of cluster <paramref name="cluster"/> (2-based).</summary>
        public long ClusterOffset(uint cluster) => DataOffset + ((long)(cluster - 2) * ClusterSize);

        private static InvalidImageException Bad(string where, string field, string problem) =>
            new InvalidImageException(where, "FAT boot sector " + field, problem);
    }
}
