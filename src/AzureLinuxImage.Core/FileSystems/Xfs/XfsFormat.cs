using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>Small on-disk encodings shared by several XFS structures.</summary>
    internal static class XfsFormat
    {
        /// <summary>Directory and attribute hash space: data blocks live below 32 GiB of logical offset (XFS_DIR2_LEAF_OFFSET).</summary>
        public const long DirectoryLeafOffset = 1L << 35;

        /// <summary>XFS_BIGTIME_EPOCH_OFFSET: bigtime counts nanoseconds from 1901-12-13T20:45:52Z.</summary>
        private const long BigTimeEpochOffset = 1L << 31;

        public static Guid ReadUuid(ReadOnlySpan<byte> raw)
        {
            // RFC 4122 byte order, as blkid prints it.
            var b = raw.Slice(0, 16).ToArray();
            Array.Reverse(b, 0, 4);
            Array.Reverse(b, 4, 2);
            Array.Reverse(b, 6, 2);
            return new Guid(b);
        }

        /// <summary>An inode timestamp (xfs_timestamp_t): seconds and nanoseconds, or bigtime nanoseconds.</summary>
        public static DateTimeOffset? ReadTimestamp(ReadOnlySpan<byte> raw, bool bigTime)
        {
            long seconds;
            long nanoseconds;
            if (bigTime)
            {
                ulong ns = BinaryPrimitives.ReadUInt64BigEndian(raw);
                seconds = (long)(ns / 1_000_000_000UL) - BigTimeEpochOffset;
                nanoseconds = (long)(ns % 1_000_000_000UL);
            }
            else
            {
                seconds = BinaryPrimitives.ReadInt32BigEndian(raw);
                nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(raw.Slice(4));
                if (nanoseconds >= 1_000_000_000)
                {
                    return null;
                }
            }
            try
            {
                return DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanoseconds / 100);
            }
            catch (ArgumentOutOfRangeException)
            {
                return null;
            }
        }
    }
}
