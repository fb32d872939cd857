using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhdx
{
    /// <summary>One entry of the region table: a GUID-named range of the file.</summary>
    internal readonly struct VhdxRegion
    {
        public VhdxRegion(Guid id, long fileOffset, long length, bool required)
        {
            Id = id;
            FileOffset = fileOffset;
            Length = length;
            Required = required;
        }

        public Guid Id { get; }

        public long FileOffset { get; }

        public long Length { get; }

        public bool Required { get; }

        public ByteRange Range => new ByteRange(FileOffset, Length);
    }

    /// <summary>
    /// The region table (MS-VHDX 2.2.3), 64 KiB at 192 KiB with a copy at 256 KiB, CRC-32C over all of
    /// it. Locates the BAT and the metadata region; unknown regions marked required are refused.
    /// </summary>
    internal sealed class VhdxRegionTable
    {
        public const int Size = 64 * 1024;
        public const long FirstOffset = 192 * 1024;
        public const long SecondOffset = 256 * 1024;
        public const int MaxEntries = 2047;
        public static readonly Guid BatId = new Guid("2DC27766-F623-4200-9D64-115E9BFD4A08");
        public static readonly Guid MetadataId = new Guid("8B7CA206-4790-4B9A-B8FE-575F050F886E");
        private const uint Signature = 0x69676572; // "regi"
        private const long OneMiB = 1024 * 1024;

        private VhdxRegionTable(VhdxRegion bat, VhdxRegion metadata, IReadOnlyList<VhdxRegion> all)
        {
            Bat = bat;
            Metadata = metadata;
            All = all;
        }

        public VhdxRegion Bat { get; }

        public VhdxRegion Metadata { get; }

        public IReadOnlyList<VhdxRegion> All { get; }

        /// <summary>Checks the signature, checksum and entry count; null with the reason when they are wrong.</summary>
        public static string? CheckIntegrity(ReadOnlySpan<byte> data)
        {
            if (data.Length < Size)
            {
                return "the table is cut off";
            }
            if (BinaryPrimitives.ReadUInt32LittleEndian(data) != Signature)
            {
                return "the signature 'regi' is missing";
            }
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(4));
            Span<byte> zero = stackalloc byte[4];
            uint state = CrcRegister.Crc32C(0xFFFFFFFFu, data.Slice(0, 4));
            state = CrcRegister.Crc32C(state, zero);
            uint computed = ~CrcRegister.Crc32C(state, data.Slice(8, Size - 8));
            if (stored != computed)
            {
                return $"the CRC-32C is 0x{stored:X8} but the table hashes to 0x{computed:X8}";
            }
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(8));
            if (count > MaxEntries)
            {
                return $"it claims {count} entries, more than the {MaxEntries} allowed";
            }
            return null;
        }

        /// <summary>
        /// Parses a table whose integrity was checked, validating each entry against the file:
        /// 1 MiB alignment, inside the file, past the header area, no overlaps (with each other or the log).
        /// </summary>
        public static VhdxRegionTable Parse(string path, ReadOnlySpan<byte> data, long fileLength, ByteRange log)
        {
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(8));
            var all = new List<VhdxRegion>((int)count);
            VhdxRegion? bat = null, metadata = null;
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> e = data.Slice(16 + (i * 32), 32);
                var id = new Guid(e.Slice(0, 16).ToArray());
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(e.Slice(16));
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(24));
                bool required = (BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(28)) & 1) != 0;
                string name = id == BatId ? "BAT region" : id == MetadataId ? "metadata region" : $"region {id}";
                if (offset % OneMiB != 0 || offset < OneMiB || length % OneMiB != 0 || length == 0)
                {
                    throw new InvalidImageException(path, $"VHDX region table entry {i}",
                        $"the {name} at offset {offset} with length {length} is not a non-empty range aligned to 1 MiB past the header area.");
                }
                if (offset > (ulong)fileLength || length > (ulong)fileLength - offset)
                {
                    throw new InvalidImageException(path, $"VHDX region table entry {i}",
                        $"the {name} [{offset}, {offset + length}) lies outside the file of {fileLength} bytes (truncated file?).");
                }
                var region = new VhdxRegion(id, (long)offset, length, required);
                if (log.Length > 0 && Overlaps(region.Range, log))
                {
                    throw new InvalidImageException(path, $"VHDX region table entry {i}", $"the {name} {region.Range} overlaps the log {log}.");
                }
                foreach (VhdxRegion other in all)
                {
                    if (other.Id == id)
                    {
                        throw new InvalidImageException(path, $"VHDX region table entry {i}", $"the {name} appears twice.");
                    }
                    if (Overlaps(region.Range, other.Range))
                    {
                        throw new InvalidImageException(path, $"VHDX region table entry {i}", $"the {name} {region.Range} overlaps region {other.Id} {other.Range}.");
                    }
                }
                if (id == BatId)
                {
                    bat = region;
                }
                else if (id == MetadataId)
                {
                    metadata = region;
                }
                else if (required)
                {
                    throw new UnsupportedImageException(path,
                        $"VHDX region table: the region {id} is marked required but is not defined by MS-VHDX v1.0; this file needs a newer reader.");
                }
                all.Add(region);
            }
            if (bat == null)
            {
                throw new InvalidImageException(path, "VHDX region table", "there is no BAT region.");
            }
            if (metadata == null)
            {
                throw new InvalidImageException(path, "VHDX region table", "there is no metadata region.");
            }
            return new VhdxRegionTable(bat.Value, metadata.Value, all);
        }

        internal static bool Overlaps(ByteRange a, ByteRange b) => a.Offset < b.End && b.Offset < a.End;
    }
}
