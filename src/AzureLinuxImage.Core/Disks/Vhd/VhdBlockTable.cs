using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhd
{
    /// <summary>
    /// The Block Allocation Table: one big-endian sector number per block, 0xFFFFFFFF when unallocated.
    /// Read in pages through a small cache, never whole, so memory does not grow with the disk.
    /// </summary>
    internal sealed class VhdBlockTable
    {
        private const int EntriesPerPage = 16384; // 64 KiB of table
        private readonly ImageFile file;
        private readonly long tableOffset;
        private readonly byte[] page = new byte[EntriesPerPage * 4];
        private long cachedPage = -1;

        public VhdBlockTable(ImageFile file, long tableOffset, long entries)
        {
            this.file = file;
            this.tableOffset = tableOffset;
            Entries = entries;
        }

        public long Entries { get; }

        public long SizeInFile => ((Entries * 4) + 511) / 512 * 512;

        public uint this[long block]
        {
            get
            {
                long p = block / EntriesPerPage;
                if (p != cachedPage)
                {
                    LoadPage(p);
                }
                return BinaryPrimitives.ReadUInt32BigEndian(page.AsSpan((int)(block % EntriesPerPage) * 4));
            }
        }

        /// <summary>Every (block, sector) pair in block order, streamed page by page.</summary>
        public IEnumerable<KeyValuePair<long, uint>> Allocated()
        {
            for (long block = 0; block < Entries; block++)
            {
                uint entry = this[block];
                if (entry != VhdDynamicHeader.UnusedEntry)
                {
                    yield return new KeyValuePair<long, uint>(block, entry);
                }
            }
        }

        /// <summary>
        /// Checks every allocated block lies inside the file and outside every metadata region
        /// (footers, header, table, locator data). Runs once at open, streaming the table.
        /// </summary>
        public void Validate(long blockBytes, IReadOnlyList<ByteRange> metadata, long dataEnd)
        {
            foreach (KeyValuePair<long, uint> e in Allocated())
            {
                long start = (long)e.Value * 512;
                long end = start + blockBytes;
                if (end > dataEnd)
                {
                    throw new InvalidImageException(file.Path, $"BAT entry {e.Key}",
                        $"block at offset {start} ends at {end}, past the data area that ends at {dataEnd} (truncated file or corrupt table).");
                }
                foreach (ByteRange m in metadata)
                {
                    if (start < m.End && m.Offset < end)
                    {
                        throw new InvalidImageException(file.Path, $"BAT entry {e.Key}",
                            $"block at offset {start} overlaps file metadata at {m} (corrupt table).");
                    }
                }
            }
        }

        private void LoadPage(long p)
        {
            long first = p * EntriesPerPage;
            int count = (int)Math.Min(EntriesPerPage, Entries - first);
            file.ReadExactly(tableOffset + (first * 4), page, 0, count * 4, "VHD block allocation table");
            cachedPage = p;
        }
    }
}
