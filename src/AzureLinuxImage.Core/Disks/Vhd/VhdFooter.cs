using System;
using System.Buffers.Binary;
using System.Text;

namespace AzureLinuxImage.Disks.Vhd
{
    /// <summary>VHD disk types (footer offset 60).</summary>
    internal enum VhdDiskType : uint
    {
        Fixed = 2,
        Dynamic = 3,
        Differencing = 4,
    }

    /// <summary>
    /// The 512-byte hard disk footer (VHD specification, "Hard Disk Footer Format"), all fields big-endian.
    /// Fixed disks have it at the end only; dynamic and differencing disks also keep a copy at offset 0.
    /// </summary>
    internal sealed class VhdFooter
    {
        public const int Size = 512;
        public const string CookieText = "conectix";
        public const uint FeaturesReserved = 0x2;
        public const uint Version = 0x00010000;
        public const ulong NoDataOffset = ulong.MaxValue;
        public const uint HostWindows = 0x5769326B; // "Wi2k"

        /// <summary>Seconds in VHD time stamps count from 2000-01-01 00:00:00 UTC.</summary>
        public static readonly DateTime Epoch = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        public uint Features { get; set; } = FeaturesReserved;
        public uint FormatVersion { get; set; } = Version;
        public ulong DataOffset { get; set; } = NoDataOffset;
        public uint TimeStamp { get; set; }
        /// <summary>
        /// "win " (Hyper-V). Readers decide between the footer's size and CHS by this field: qemu takes
        /// Current Size only from "win ", "d2v ", "qem2", "tap" and "CTXS" and derives the size from CHS for
        /// anything else, which truncates the disk (R-DISK-3). Azure itself reads Current Size.
        /// </summary>
        public string CreatorApplication { get; set; } = "win ";
        public uint CreatorVersion { get; set; }
        public uint CreatorHostOs { get; set; } = HostWindows;
        public long OriginalSize { get; set; }
        public long CurrentSize { get; set; }
        public VhdGeometry Geometry { get; set; }
        public VhdDiskType DiskType { get; set; }
        public uint Checksum { get; private set; }
        public Guid UniqueId { get; set; }
        public byte SavedState { get; set; }

        /// <summary>A new fixed-disk footer, as Azure wants it (DESIGN.md, FixedVhdWriter).</summary>
        public static VhdFooter CreateFixed(long size, Guid uniqueId, DateTime now, Version moduleVersion)
        {
            return new VhdFooter
            {
                TimeStamp = ToTimeStamp(now),
                CreatorVersion = ((uint)moduleVersion.Major << 16) | (uint)Math.Max(0, moduleVersion.Minor),
                OriginalSize = size,
                CurrentSize = size,
                Geometry = VhdGeometry.FromSize(size),
                DiskType = VhdDiskType.Fixed,
                UniqueId = uniqueId,
            };
        }

        public static uint ToTimeStamp(DateTime time)
        {
            double seconds = (time.ToUniversalTime() - Epoch).TotalSeconds;
            return seconds <= 0 ? 0 : seconds >= uint.MaxValue ? uint.MaxValue : (uint)seconds;
        }

        /// <summary>One's complement of the byte sum, the checksum field itself counted as zero.</summary>
        public static uint ComputeChecksum(ReadOnlySpan<byte> footer)
        {
            uint sum = 0;
            for (int i = 0; i < Size; i++)
            {
                if (i < 64 || i >= 68)
                {
                    sum += footer[i];
                }
            }
            return ~sum;
        }

        /// <summary>
        /// Parses and validates a footer. Returns null and a reason when a field is wrong, so that the
        /// caller can fall back to the other copy or name the field in its error.
        /// </summary>
        public static VhdFooter? TryParse(ReadOnlySpan<byte> data, out string problem)
        {
            problem = string.Empty;
            if (data.Length < Size || Encoding.ASCII.GetString(data.Slice(0, 8).ToArray()) != CookieText)
            {
                problem = "cookie is not 'conectix'";
                return null;
            }
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(64));
            uint computed = ComputeChecksum(data);
            if (stored != computed)
            {
                problem = $"checksum is 0x{stored:X8}, the content gives 0x{computed:X8}";
                return null;
            }
            var f = new VhdFooter
            {
                Features = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(8)),
                FormatVersion = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(12)),
                DataOffset = BinaryPrimitives.ReadUInt64BigEndian(data.Slice(16)),
                TimeStamp = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(24)),
                CreatorApplication = DecodeCreator(data.Slice(28, 4)),
                CreatorVersion = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(32)),
                CreatorHostOs = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(36)),
                Geometry = new VhdGeometry(BinaryPrimitives.ReadUInt16BigEndian(data.Slice(56)), data[58], data[59]),
                DiskType = (VhdDiskType)BinaryPrimitives.ReadUInt32BigEndian(data.Slice(60)),
                Checksum = stored,
                UniqueId = new Guid(data.Slice(68, 16).ToArray()),
                SavedState = data[84],
            };
            ulong original = BinaryPrimitives.ReadUInt64BigEndian(data.Slice(40));
            ulong current = BinaryPrimitives.ReadUInt64BigEndian(data.Slice(48));
            if (f.FormatVersion >> 16 != 1)
            {
                problem = $"file format version is 0x{f.FormatVersion:X8}, only major version 1 exists";
                return null;
            }
            if (f.DiskType != VhdDiskType.Fixed && f.DiskType != VhdDiskType.Dynamic && f.DiskType != VhdDiskType.Differencing)
            {
                problem = $"disk type is {(uint)f.DiskType}, expected 2 (fixed), 3 (dynamic) or 4 (differencing)";
                return null;
            }
            // 2^47 bytes (128 TiB) is four times Azure's 32 TiB limit and far past the VHD specification's 2 TiB.
            if (current == 0 || current > (1UL << 47) || current % 512 != 0)
            {
                problem = $"current size {current} is not a non-zero multiple of 512 below 128 TiB";
                return null;
            }
            f.CurrentSize = (long)current;
            f.OriginalSize = original > long.MaxValue ? 0 : (long)original;
            return f;
        }

        public byte[] Serialize()
        {
            var b = new byte[Size];
            Span<byte> s = b;
            Encoding.ASCII.GetBytes(CookieText).CopyTo(b, 0);
            BinaryPrimitives.WriteUInt32BigEndian(s.Slice(8), Features);
            BinaryPrimitives.WriteUInt32BigEndian(s.Slice(12), FormatVersion);
            BinaryPrimitives.WriteUInt64BigEndian(s.Slice(16), DataOffset);
            BinaryPrimitives.WriteUInt32BigEndian(s.Slice(24), TimeStamp);
            byte[] creator = Encoding.ASCII.GetBytes((CreatorApplication + "    ").Substring(0, 4));
            creator.CopyTo(b, 28);
            BinaryPrimitives.WriteUInt32BigEndian(s.Slice(32), CreatorVersion);
            BinaryPrimitives.WriteUInt32BigEndian(s.Slice(36), CreatorHostOs);
            BinaryPrimitives.WriteUInt64BigEndian(s.Slice(40), (ulong)OriginalSize);
            BinaryPrimitives.WriteUInt64BigEndian(s.Slice(48), (ulong)CurrentSize);
            BinaryPrimitives.WriteUInt16BigEndian(s.Slice(56), Geometry.Cylinders);
            b[58] = Geometry.Heads;
            b[59] = Geometry.SectorsPerTrack;
            BinaryPrimitives.WriteUInt32BigEndian(s.Slice(60), (uint)DiskType);
            UniqueId.ToByteArray().CopyTo(b, 68);
            b[84] = SavedState;
            Checksum = ComputeChecksum(b);
            BinaryPrimitives.WriteUInt32BigEndian(s.Slice(64), Checksum);
            return b;
        }

        private static string DecodeCreator(ReadOnlySpan<byte> raw)
        {
            var chars = new char[4];
            for (int i = 0; i < 4; i++)
            {
                byte c = raw[i];
                chars[i] = c >= 0x20 && c < 0x7F ? (char)c : c == 0 ? ' ' : '?';
            }
            return new string(chars).TrimEnd();
        }
    }
}
