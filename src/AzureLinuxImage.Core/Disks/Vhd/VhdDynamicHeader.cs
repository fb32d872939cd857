using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace AzureLinuxImage.Disks.Vhd
{
    /// <summary>One of the eight parent locator entries of a differencing disk's header.</summary>
    internal readonly struct VhdParentLocator
    {
        public const uint None = 0;
        public const uint Wi2r = 0x57693272; // deprecated relative path
        public const uint Wi2k = 0x5769326B; // deprecated absolute path
        public const uint W2ru = 0x57327275; // UTF-16LE relative path
        public const uint W2ku = 0x57326B75; // UTF-16LE absolute path
        public const uint MacX = 0x4D616358; // UTF-8 file URL

        public VhdParentLocator(uint platformCode, uint dataLength, long dataOffset)
        {
            PlatformCode = platformCode;
            DataLength = dataLength;
            DataOffset = dataOffset;
        }

        public uint PlatformCode { get; }

        public uint DataLength { get; }

        public long DataOffset { get; }

        public string CodeText => Encoding.ASCII.GetString(new[]
        {
            (byte)(PlatformCode >> 24), (byte)(PlatformCode >> 16), (byte)(PlatformCode >> 8), (byte)PlatformCode,
        });
    }

    /// <summary>
    /// The 1024-byte dynamic disk header (VHD specification, "Dynamic Disk Header Format"), big-endian.
    /// </summary>
    internal sealed class VhdDynamicHeader
    {
        public const int Size = 1024;
        public const string CookieText = "cxsparse";
        public const uint UnusedEntry = 0xFFFFFFFF;

        /// <summary>Locator data is a path; 64 KiB holds the longest Windows path in UTF-16.</summary>
        public const int MaxLocatorLength = 65536;

        /// <summary>2 MiB is the default; 256 MiB is far past anything a real tool makes and bounds allocations.</summary>
        public const uint MaxBlockSize = 256u << 20;

        public ulong TableOffset { get; private set; }
        public uint MaxTableEntries { get; private set; }
        public uint BlockSize { get; private set; }
        public Guid ParentUniqueId { get; private set; }
        public uint ParentTimeStamp { get; private set; }
        public string ParentUnicodeName { get; private set; } = string.Empty;
        public IReadOnlyList<VhdParentLocator> ParentLocators { get; private set; } = Array.Empty<VhdParentLocator>();

        /// <summary>Bytes of the sector bitmap in front of each block, padded to a whole sector.</summary>
        public int BitmapSize => (int)(((((BlockSize / 512) + 7) / 8) + 511) / 512 * 512);

        public static uint ComputeChecksum(ReadOnlySpan<byte> header)
        {
            uint sum = 0;
            for (int i = 0; i < Size; i++)
            {
                if (i < 36 || i >= 40)
                {
                    sum += header[i];
                }
            }
            return ~sum;
        }

        /// <summary>Parses and validates; null with the reason when a field is wrong.</summary>
        public static VhdDynamicHeader? TryParse(ReadOnlySpan<byte> data, out string problem)
        {
            problem = string.Empty;
            if (Encoding.ASCII.GetString(data.Slice(0, 8).ToArray()) != CookieText)
            {
                problem = "cookie is not 'cxsparse'";
                return null;
            }
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(36));
            uint computed = ComputeChecksum(data);
            if (stored != computed)
            {
                problem = $"checksum is 0x{stored:X8}, the content gives 0x{computed:X8}";
                return null;
            }
            uint version = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(24));
            if (version != 0x00010000)
            {
                problem = $"header version is 0x{version:X8}, expected 0x00010000";
                return null;
            }
            var h = new VhdDynamicHeader
            {
                TableOffset = BinaryPrimitives.ReadUInt64BigEndian(data.Slice(16)),
                MaxTableEntries = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(28)),
                BlockSize = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(32)),
                ParentUniqueId = new Guid(data.Slice(40, 16).ToArray()),
                ParentTimeStamp = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(56)),
                ParentUnicodeName = DecodeUtf16BigEndian(data.Slice(64, 512)),
            };
            if (h.BlockSize < 512 || h.BlockSize > MaxBlockSize || (h.BlockSize & (h.BlockSize - 1)) != 0)
            {
                problem = $"block size {h.BlockSize} is not a power of two between 512 bytes and 256 MiB";
                return null;
            }
            if (h.TableOffset % 512 != 0)
            {
                problem = $"table offset {h.TableOffset} is not sector-aligned";
                return null;
            }
            var locators = new List<VhdParentLocator>();
            for (int i = 0; i < 8; i++)
            {
                ReadOnlySpan<byte> e = data.Slice(576 + (24 * i), 24);
                uint code = BinaryPrimitives.ReadUInt32BigEndian(e);
                if (code == VhdParentLocator.None)
                {
                    continue;
                }
                uint length = BinaryPrimitives.ReadUInt32BigEndian(e.Slice(8));
                ulong offset = BinaryPrimitives.ReadUInt64BigEndian(e.Slice(16));
                if (length > MaxLocatorLength || offset > long.MaxValue)
                {
                    problem = $"parent locator {i} has data length {length} at offset {offset}, which cannot be a path";
                    return null;
                }
                locators.Add(new VhdParentLocator(code, length, (long)offset));
            }
            h.ParentLocators = locators;
            return h;
        }

        private static string DecodeUtf16BigEndian(ReadOnlySpan<byte> raw)
        {
            int end = 0;
            while (end + 1 < raw.Length && (raw[end] | raw[end + 1]) != 0)
            {
                end += 2;
            }
            return Encoding.BigEndianUnicode.GetString(raw.Slice(0, end).ToArray());
        }
    }
}
