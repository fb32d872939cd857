using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.Disks.Vmdk
{
    /// <summary>
    /// The 512-byte header of a hosted sparse extent (VMware "Virtual Disk Format 1.1", SparseExtentHeader),
    /// little-endian. Parsing only; sizes that later drive reads or allocations are capped here.
    /// </summary>
    internal sealed class VmdkSparseHeader
    {
        public const int Size = 512;
        public const uint Magic = 0x564D444B; // "KDMV" read little-endian
        public const uint CowdMagic = 0x44574F43; // "COWD": ESX vmfsSparse

        public const uint FlagValidNewlineTest = 1u << 0;
        public const uint FlagRedundantGrainTable = 1u << 1;
        public const uint FlagZeroedGrainGte = 1u << 2;
        public const uint FlagCompressed = 1u << 16;
        public const uint FlagMarkers = 1u << 17;

        /// <summary>gdOffset value meaning "the grain directory is found through the footer" (streamOptimized).</summary>
        public const ulong GdAtEnd = 0xFFFFFFFFFFFFFFFFUL;

        public const ushort CompressionNone = 0;
        public const ushort CompressionDeflate = 1;

        /// <summary>Real grains are 64 KiB (128 sectors); 2 MiB bounds the per-grain buffers.</summary>
        public const ulong MaxGrainSectors = 4096;

        /// <summary>The specification fixes 512 entries per grain table; 8192 is generous and bounds a table to 32 KiB.</summary>
        public const uint MaxGtesPerGt = 8192;

        /// <summary>Capacity beyond 2^47 sectors (64 PiB) is refused: no real disk, and offsets stay far from overflow.</summary>
        public const ulong MaxCapacitySectors = 1UL << 47;

        public uint Version { get; private set; }
        public uint Flags { get; private set; }
        public long CapacitySectors { get; private set; }
        public long GrainSectors { get; private set; }
        public long DescriptorOffset { get; private set; }
        public long DescriptorSectors { get; private set; }
        public uint GtesPerGt { get; private set; }
        public ulong RedundantGdOffset { get; private set; }
        public ulong GdOffset { get; private set; }
        public long OverheadSectors { get; private set; }
        public bool UncleanShutdown { get; private set; }
        public ushort CompressAlgorithm { get; private set; }

        public bool Compressed => (Flags & FlagCompressed) != 0;
        public bool HasMarkers => (Flags & FlagMarkers) != 0;
        public bool ZeroedGrainEntries => (Flags & FlagZeroedGrainGte) != 0;
        public long GrainBytes => GrainSectors * 512;

        /// <summary>Grain directory entries needed to cover the capacity.</summary>
        public long GdEntries => (CapacitySectors + (GrainSectors * GtesPerGt) - 1) / (GrainSectors * GtesPerGt);

        public static bool HasMagic(ReadOnlySpan<byte> d) => d.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(d) == Magic;

        /// <summary>Parses and validates; null with the reason when a field is wrong.</summary>
        public static VmdkSparseHeader? TryParse(ReadOnlySpan<byte> d, out string problem)
        {
            problem = string.Empty;
            if (d.Length < Size || !HasMagic(d))
            {
                problem = "the 512-byte header with magic \"KDMV\" is missing";
                return null;
            }
            var h = new VmdkSparseHeader
            {
                Version = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(4)),
                Flags = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(8)),
                GtesPerGt = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(44)),
                RedundantGdOffset = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(48)),
                GdOffset = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(56)),
                UncleanShutdown = d[72] != 0,
                CompressAlgorithm = BinaryPrimitives.ReadUInt16LittleEndian(d.Slice(77)),
            };
            ulong capacity = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(12));
            ulong grain = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(20));
            ulong descOffset = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(28));
            ulong descSize = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(36));
            ulong overhead = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(64));
            if (h.Version < 1 || h.Version > 3)
            {
                problem = $"version {h.Version} is not 1, 2 or 3";
                return null;
            }
            if (capacity > MaxCapacitySectors)
            {
                problem = $"capacity {capacity} sectors is beyond 2^47 sectors";
                return null;
            }
            if (grain < 1 || grain > MaxGrainSectors || (grain & (grain - 1)) != 0)
            {
                problem = $"grain size {grain} sectors is not a power of two up to {MaxGrainSectors}";
                return null;
            }
            if (h.GtesPerGt < 1 || h.GtesPerGt > MaxGtesPerGt)
            {
                problem = $"{h.GtesPerGt} entries per grain table is not between 1 and {MaxGtesPerGt}";
                return null;
            }
            if (descOffset > MaxCapacitySectors || descSize > 2048 || (descOffset == 0) != (descSize == 0))
            {
                problem = $"the embedded descriptor ({descSize} sectors at sector {descOffset}) is out of range";
                return null;
            }
            if (overhead > MaxCapacitySectors)
            {
                problem = $"overhead {overhead} sectors is out of range";
                return null;
            }
            h.CapacitySectors = (long)capacity;
            h.GrainSectors = (long)grain;
            h.DescriptorOffset = (long)descOffset;
            h.DescriptorSectors = (long)descSize;
            h.OverheadSectors = (long)overhead;
            if ((h.Flags & FlagValidNewlineTest) != 0 && (d[73] != '\n' || d[74] != ' ' || d[75] != '\r' || d[76] != '\n'))
            {
                problem = "the newline detection bytes are altered: the file was copied in text (ASCII) mode and is damaged";
                return null;
            }
            if (h.Compressed && h.CompressAlgorithm != CompressionDeflate)
            {
                problem = $"compressed grains with algorithm {h.CompressAlgorithm} (only 1, deflate, exists)";
                return null;
            }
            return h;
        }
    }
}
