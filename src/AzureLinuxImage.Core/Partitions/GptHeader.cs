using System;
using System.Buffers.Binary;
using System.Text;
using System.IO.Hashing;

namespace AzureLinuxImage.Partitions
{
    /// <summary>
    /// The GPT header (UEFI 2.10, 5.3.2), little-endian. The raw bytes are kept so that a rewrite
    /// (Resize-VhdAligned moving the backup) changes only the fields it means to and keeps any bytes
    /// past the 92 the specification defines.
    /// </summary>
    internal sealed class GptHeader
    {
        public const string SignatureText = "EFI PART";
        public const int MinHeaderSize = 92;

        /// <summary>Entry arrays over 4 MiB (32,768 entries of 128 bytes) are refused: real tables are 16 KiB.</summary>
        public const long MaxEntryArrayBytes = 4L << 20;

        private readonly byte[] raw;

        private GptHeader(byte[] raw)
        {
            this.raw = raw;
        }

        public uint Revision => BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(8));
        public int HeaderSize => (int)BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(12));
        public uint HeaderCrc32 => BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(16));
        public ulong MyLba { get => ReadU64(24); set => WriteU64(24, value); }
        public ulong AlternateLba { get => ReadU64(32); set => WriteU64(32, value); }
        public ulong FirstUsableLba => ReadU64(40);
        public ulong LastUsableLba { get => ReadU64(48); set => WriteU64(48, value); }
        public Guid DiskGuid => new Guid(raw.AsSpan(56, 16).ToArray());
        public ulong PartitionEntryLba { get => ReadU64(72); set => WriteU64(72, value); }
        public uint NumberOfEntries => BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(80));
        public uint SizeOfEntry => BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(84));
        public uint EntriesCrc32 => BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(88));

        /// <summary>Bytes of the entry array.</summary>
        public long EntryArrayBytes => (long)NumberOfEntries * SizeOfEntry;

        /// <summary>Sectors the entry array occupies.</summary>
        public long EntryArraySectors(int sectorSize) => (EntryArrayBytes + sectorSize - 1) / sectorSize;

        /// <summary>Parses a header sector; null with the reason when it is not a valid header.</summary>
        public static GptHeader? TryParse(ReadOnlySpan<byte> sector, out string problem)
        {
            problem = string.Empty;
            if (sector.Length < MinHeaderSize || Encoding.ASCII.GetString(sector.Slice(0, 8).ToArray()) != SignatureText)
            {
                problem = "signature is not 'EFI PART'";
                return null;
            }
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(12));
            if (size < MinHeaderSize || size > sector.Length)
            {
                problem = $"header size {size} is outside {MinHeaderSize}..{sector.Length}";
                return null;
            }
            var header = new GptHeader(sector.Slice(0, (int)size).ToArray());
            uint computed = header.ComputeHeaderCrc();
            if (computed != header.HeaderCrc32)
            {
                problem = $"header CRC32 is 0x{header.HeaderCrc32:X8}, the content gives 0x{computed:X8}";
                return null;
            }
            if (header.SizeOfEntry < 128 || (header.SizeOfEntry & (header.SizeOfEntry - 1)) != 0)
            {
                problem = $"partition entry size {header.SizeOfEntry} is not 128 x 2^n";
                return null;
            }
            if (header.EntryArrayBytes > MaxEntryArrayBytes)
            {
                problem = $"{header.NumberOfEntries} entries of {header.SizeOfEntry} bytes exceed {MaxEntryArrayBytes} bytes";
                return null;
            }
            if (header.FirstUsableLba > header.LastUsableLba + 1)
            {
                problem = $"first usable LBA {header.FirstUsableLba} is after last usable LBA {header.LastUsableLba}";
                return null;
            }
            return header;
        }

        /// <summary>A copy of this header (for building the backup from the primary).</summary>
        public GptHeader Clone() => new GptHeader((byte[])raw.Clone());

        /// <summary>The header padded to a sector, with its CRC32 recomputed.</summary>
        public byte[] Serialize(int sectorSize)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(16), ComputeHeaderCrc());
            var sector = new byte[sectorSize];
            raw.CopyTo(sector, 0);
            return sector;
        }

        public static bool EntriesCrcMatches(GptHeader header, ReadOnlySpan<byte> entries) =>
            Crc32.HashToUInt32(entries.Slice(0, (int)header.EntryArrayBytes)) == header.EntriesCrc32;

        private uint ComputeHeaderCrc()
        {
            var copy = (byte[])raw.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(16), 0);
            return Crc32.HashToUInt32(copy);
        }

        private ulong ReadU64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(offset));

        private void WriteU64(int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(offset), value);
    }
}
