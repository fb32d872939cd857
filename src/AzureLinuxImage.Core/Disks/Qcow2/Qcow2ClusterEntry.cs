using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.Disks.Qcow2
{
    /// <summary>What one L2 entry says about its guest cluster (qcow2.txt, "Cluster mapping").</summary>
    internal enum Qcow2ClusterKind
    {
        /// <summary>Not in this file: read from the backing file, or zeros without one.</summary>
        Unallocated,
        /// <summary>Reads as zeros (the v3 zero flag).</summary>
        Zero,
        /// <summary>Stored uncompressed at <see cref="Qcow2ClusterEntry.HostOffset"/>.</summary>
        Normal,
        /// <summary>Stored compressed at <see cref="Qcow2ClusterEntry.HostOffset"/>.</summary>
        Compressed,
    }

    /// <summary>One decoded L2 entry, with the extended-L2 subcluster bitmap when the image has one.</summary>
    internal readonly struct Qcow2ClusterEntry
    {
        private const ulong CompressedFlag = 1UL << 62;
        private const ulong StandardOffsetMask = 0x00FFFFFFFFFFFE00UL; // bits 9-55
        private const ulong StandardReservedMask = 0x3F000000000001FEUL; // bits 1-8 and 56-61

        public Qcow2ClusterEntry(Qcow2ClusterKind kind, long hostOffset, int compressedLength, uint allocatedSubclusters, uint zeroSubclusters)
        {
            Kind = kind;
            HostOffset = hostOffset;
            CompressedLength = compressedLength;
            AllocatedSubclusters = allocatedSubclusters;
            ZeroSubclusters = zeroSubclusters;
        }

        public Qcow2ClusterKind Kind { get; }
        public long HostOffset { get; }

        /// <summary>Bytes of compressed data starting at <see cref="HostOffset"/> (an upper bound: the stream ends itself).</summary>
        public int CompressedLength { get; }

        /// <summary>Extended L2: bit n set = subcluster n is stored at HostOffset + n × subcluster size.</summary>
        public uint AllocatedSubclusters { get; }

        /// <summary>Extended L2: bit n set = subcluster n reads as zeros.</summary>
        public uint ZeroSubclusters { get; }

        /// <summary>Decodes the entry at the start of <paramref name="raw"/>; null with the problem when it is malformed.</summary>
        public static Qcow2ClusterEntry? Decode(ReadOnlySpan<byte> raw, Qcow2Header header, out string problem)
        {
            problem = string.Empty;
            ulong e = BinaryPrimitives.ReadUInt64BigEndian(raw);
            int clusterBits = header.ClusterBits;
            if ((e & CompressedFlag) != 0)
            {
                // Bits 0..x-1 host offset, x..61 additional 512-byte sectors, x = 62 - (cluster_bits - 8).
                int x = 62 - (clusterBits - 8);
                ulong offset = e & ((1UL << x) - 1);
                ulong sectors = ((e & ~(1UL << 63) & ~CompressedFlag) >> x) + 1;
                if (header.ExtendedL2 && BinaryPrimitives.ReadUInt64BigEndian(raw.Slice(8)) != 0)
                {
                    problem = "a compressed cluster has a non-zero subcluster bitmap";
                    return null;
                }
                if (offset == 0)
                {
                    problem = "a compressed cluster at host offset 0";
                    return null;
                }
                long length = ((long)sectors * 512) - (long)(offset & 511);
                return new Qcow2ClusterEntry(Qcow2ClusterKind.Compressed, (long)offset, (int)length, 0, 0);
            }

            long host = (long)(e & StandardOffsetMask);
            if ((e & StandardReservedMask) != 0)
            {
                problem = $"reserved bits are set in L2 entry 0x{e:X16}";
                return null;
            }
            if (host != 0 && (host & (header.ClusterSize - 1)) != 0)
            {
                problem = $"data cluster offset 0x{host:X} is not cluster-aligned";
                return null;
            }
            if (header.ExtendedL2)
            {
                ulong bitmap = BinaryPrimitives.ReadUInt64BigEndian(raw.Slice(8));
                uint alloc = (uint)bitmap;
                uint zero = (uint)(bitmap >> 32);
                if ((alloc & zero) != 0)
                {
                    problem = $"subclusters 0x{alloc & zero:X8} are marked both allocated and zero";
                    return null;
                }
                if ((e & 1) != 0)
                {
                    problem = "bit 0 of an extended L2 entry is reserved but set";
                    return null;
                }
                if (host == 0 && alloc != 0)
                {
                    problem = "subclusters are marked allocated but the cluster has no host offset";
                    return null;
                }
                return new Qcow2ClusterEntry(host == 0 && zero == 0 ? Qcow2ClusterKind.Unallocated : Qcow2ClusterKind.Normal, host, 0, alloc, zero);
            }
            if ((e & 1) != 0)
            {
                if (header.Version < 3)
                {
                    problem = "the zero flag (bit 0) is set in a version 2 image";
                    return null;
                }
                return new Qcow2ClusterEntry(Qcow2ClusterKind.Zero, 0, 0, 0, 0);
            }
            return host == 0
                ? new Qcow2ClusterEntry(Qcow2ClusterKind.Unallocated, 0, 0, 0, 0)
                : new Qcow2ClusterEntry(Qcow2ClusterKind.Normal, host, 0, uint.MaxValue, 0);
        }
    }
}
