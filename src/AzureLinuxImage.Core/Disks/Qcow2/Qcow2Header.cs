using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace AzureLinuxImage.Disks.Qcow2
{
    /// <summary>
    /// The qcow2 header (qemu docs/interop/qcow2.txt, "Header"), big-endian, and its header extensions.
    /// Parsing only: every field is range-checked here, the I/O is in <see cref="Qcow2Reader"/>.
    /// </summary>
    internal sealed class Qcow2Header
    {
        public const int V2Length = 72;
        public const int V3MinLength = 104;

        /// <summary>qemu's own limits (MIN/MAX_CLUSTER_BITS): 512 bytes to 2 MiB.</summary>
        public const int MinClusterBits = 9;
        public const int MaxClusterBits = 21;

        /// <summary>qemu refuses L1 tables over 32 MiB (QCOW_MAX_L1_SIZE); so do we.</summary>
        public const uint MaxL1Entries = 32u * 1024 * 1024 / 8;

        /// <summary>Host offsets are 56 bits; a virtual disk beyond 2^56 bytes cannot be mapped.</summary>
        public const long MaxVirtualSize = 1L << 56;

        public const int MaxBackingNameLength = 1023;

        // Incompatible feature bits (qcow2.txt, bytes 72-79).
        public const ulong IncompatDirty = 1UL << 0;
        public const ulong IncompatCorrupt = 1UL << 1;
        public const ulong IncompatExternalData = 1UL << 2;
        public const ulong IncompatCompressionType = 1UL << 3;
        public const ulong IncompatExtendedL2 = 1UL << 4;
        public const ulong IncompatKnown = IncompatDirty | IncompatCorrupt | IncompatExternalData | IncompatCompressionType | IncompatExtendedL2;

        // Header extension types.
        public const uint ExtEnd = 0x00000000;
        public const uint ExtBackingFormat = 0xE2792ACA;
        public const uint ExtFeatureNames = 0x6803F857;
        public const uint ExtEncryption = 0x0537BE77;
        public const uint ExtExternalData = 0x44415441;

        public int Version { get; private set; }
        public ulong BackingFileOffset { get; private set; }
        public uint BackingFileSize { get; private set; }
        public int ClusterBits { get; private set; }
        public long Size { get; private set; }
        public uint CryptMethod { get; private set; }
        public uint L1Size { get; private set; }
        public long L1TableOffset { get; private set; }
        public uint SnapshotCount { get; private set; }
        public ulong IncompatibleFeatures { get; private set; }
        public uint HeaderLength { get; private set; }

        /// <summary>0 = deflate, 1 = zstd (only meaningful with the compression-type feature bit).</summary>
        public byte CompressionType { get; private set; }

        public string? BackingFormat { get; private set; }
        public bool HasEncryptionExtension { get; private set; }
        public bool HasExternalDataExtension { get; private set; }

        /// <summary>Names of incompatible feature bits from the feature name table, for clearer refusals.</summary>
        public Dictionary<int, string> IncompatibleFeatureNames { get; } = new Dictionary<int, string>();

        public long ClusterSize => 1L << ClusterBits;
        public bool ExtendedL2 => (IncompatibleFeatures & IncompatExtendedL2) != 0;

        /// <summary>Bytes per L2 entry: 8, or 16 with extended L2 (descriptor + subcluster bitmap).</summary>
        public int L2EntrySize => ExtendedL2 ? 16 : 8;

        public long L2Entries => ClusterSize / L2EntrySize;

        /// <summary>Parses the fixed part; null with the reason when a field is out of range.</summary>
        public static Qcow2Header? TryParse(ReadOnlySpan<byte> d, out string problem)
        {
            problem = string.Empty;
            if (d.Length < V2Length)
            {
                problem = $"the header needs {V2Length} bytes, the file has {d.Length}";
                return null;
            }
            var h = new Qcow2Header
            {
                Version = (int)BinaryPrimitives.ReadUInt32BigEndian(d.Slice(4)),
                BackingFileOffset = BinaryPrimitives.ReadUInt64BigEndian(d.Slice(8)),
                BackingFileSize = BinaryPrimitives.ReadUInt32BigEndian(d.Slice(16)),
                CryptMethod = BinaryPrimitives.ReadUInt32BigEndian(d.Slice(32)),
                L1Size = BinaryPrimitives.ReadUInt32BigEndian(d.Slice(36)),
                SnapshotCount = BinaryPrimitives.ReadUInt32BigEndian(d.Slice(60)),
                HeaderLength = V2Length,
            };
            if (h.Version != 2 && h.Version != 3)
            {
                problem = $"version {h.Version} is not 2 or 3";
                return null;
            }
            uint clusterBits = BinaryPrimitives.ReadUInt32BigEndian(d.Slice(20));
            if (clusterBits < MinClusterBits || clusterBits > MaxClusterBits)
            {
                problem = $"cluster_bits {clusterBits} is outside {MinClusterBits}..{MaxClusterBits}";
                return null;
            }
            h.ClusterBits = (int)clusterBits;
            ulong size = BinaryPrimitives.ReadUInt64BigEndian(d.Slice(24));
            if (size > MaxVirtualSize)
            {
                problem = $"virtual size {size} is larger than 2^56 bytes";
                return null;
            }
            h.Size = (long)size;
            ulong l1Offset = BinaryPrimitives.ReadUInt64BigEndian(d.Slice(40));
            if (l1Offset > MaxVirtualSize || (l1Offset & (ulong)(h.ClusterSize - 1)) != 0)
            {
                problem = $"L1 table offset 0x{l1Offset:X} is not cluster-aligned or out of range";
                return null;
            }
            h.L1TableOffset = (long)l1Offset;

            if (h.Version == 3)
            {
                if (d.Length < V3MinLength)
                {
                    problem = $"a version 3 header needs {V3MinLength} bytes";
                    return null;
                }
                h.IncompatibleFeatures = BinaryPrimitives.ReadUInt64BigEndian(d.Slice(72));
                uint refcountOrder = BinaryPrimitives.ReadUInt32BigEndian(d.Slice(96));
                if (refcountOrder > 6)
                {
                    problem = $"refcount_order {refcountOrder} is greater than 6";
                    return null;
                }
                h.HeaderLength = BinaryPrimitives.ReadUInt32BigEndian(d.Slice(100));
                if (h.HeaderLength < V3MinLength || h.HeaderLength > h.ClusterSize || h.HeaderLength % 8 != 0)
                {
                    problem = $"header_length {h.HeaderLength} is not between {V3MinLength} and the cluster size";
                    return null;
                }
                if (h.HeaderLength > V3MinLength)
                {
                    if (d.Length < V3MinLength + 1)
                    {
                        problem = "the header is cut short before compression_type";
                        return null;
                    }
                    h.CompressionType = d[V3MinLength];
                }
            }
            if (h.ExtendedL2 && h.ClusterSize / 32 < 512)
            {
                problem = $"extended L2 entries need clusters of at least 16 KiB (subclusters of 512 bytes); cluster_bits is {h.ClusterBits}";
                return null;
            }
            long perL1 = h.ClusterSize * h.L2Entries;
            long neededL1 = (h.Size + perL1 - 1) / perL1;
            if (h.L1Size > MaxL1Entries)
            {
                problem = $"l1_size {h.L1Size} is larger than qemu's limit of {MaxL1Entries} entries";
                return null;
            }
            if (h.L1Size < neededL1)
            {
                problem = $"l1_size {h.L1Size} does not cover the virtual size {h.Size} ({neededL1} entries needed)";
                return null;
            }
            if (h.BackingFileOffset != 0 && (h.BackingFileSize == 0 || h.BackingFileSize > MaxBackingNameLength))
            {
                problem = $"backing_file_size {h.BackingFileSize} is not between 1 and {MaxBackingNameLength}";
                return null;
            }
            return h;
        }

        /// <summary>
        /// Walks the header extensions in <paramref name="area"/> (the bytes from header_length to the end of
        /// the first cluster); null on success, else the problem.
        /// </summary>
        public string? ParseExtensions(ReadOnlySpan<byte> area)
        {
            int pos = 0;
            for (int count = 0; ; count++)
            {
                if (count > 1024)
                {
                    return "more than 1024 header extensions";
                }
                if (area.Length - pos < 8)
                {
                    // qcow2.txt makes the end marker mandatory, but qemu stops at the cluster end too.
                    return null;
                }
                uint type = BinaryPrimitives.ReadUInt32BigEndian(area.Slice(pos));
                uint length = BinaryPrimitives.ReadUInt32BigEndian(area.Slice(pos + 4));
                pos += 8;
                if (type == ExtEnd)
                {
                    return null;
                }
                if (length > area.Length - pos)
                {
                    return $"header extension 0x{type:X8} of {length} bytes runs past the first cluster";
                }
                ReadOnlySpan<byte> data = area.Slice(pos, (int)length);
                switch (type)
                {
                    case ExtBackingFormat:
                        BackingFormat = Encoding.ASCII.GetString(data.ToArray()).TrimEnd('\0');
                        break;
                    case ExtEncryption:
                        HasEncryptionExtension = true;
                        break;
                    case ExtExternalData:
                        HasExternalDataExtension = true;
                        break;
                    case ExtFeatureNames:
                        // 48-byte entries: type (0 = incompatible), bit number, 46-byte name.
                        for (int e = 0; e + 48 <= data.Length; e += 48)
                        {
                            if (data[e] == 0)
                            {
                                IncompatibleFeatureNames[data[e + 1]] = Encoding.ASCII.GetString(data.Slice(e + 2, 46).ToArray()).TrimEnd('\0');
                            }
                        }
                        break;
                }
                pos += (int)((length + 7) & ~7u);
            }
        }
    }
}
