using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.Disks.Vmdk
{
    /// <summary>
    /// Stream-optimized markers ("Virtual Disk Format 1.1", "Stream-Optimized Compressed Sparse Extents"):
    /// a grain marker is {lba u64, size u32, compressed data}; metadata markers are {numSectors u64, size u32 = 0,
    /// type u32} padded to a sector. All little-endian.
    /// </summary>
    internal static class VmdkGrainMarker
    {
        public const int GrainHeaderSize = 12;
        public const uint TypeEos = 0;
        public const uint TypeGrainTable = 1;
        public const uint TypeGrainDirectory = 2;
        public const uint TypeFooter = 3;

        /// <summary>Bytes at the end of a stream-optimized file: footer marker, footer (a header copy), end-of-stream marker.</summary>
        public const int TrailerSize = 3 * 512;

        public static long GrainLba(ReadOnlySpan<byte> marker) => (long)BinaryPrimitives.ReadUInt64LittleEndian(marker);

        public static uint GrainDataSize(ReadOnlySpan<byte> marker) => BinaryPrimitives.ReadUInt32LittleEndian(marker.Slice(8));

        /// <summary>True when <paramref name="sector"/> is a metadata marker of <paramref name="type"/> (size field 0).</summary>
        public static bool IsMetadataMarker(ReadOnlySpan<byte> sector, uint type) =>
            sector.Length >= 16 && BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(8)) == 0
            && BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(12)) == type;
    }
}
