using System;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks
{
    /// <summary>
    /// A few fixed-size pages of an on-disk table (qcow2 L1/L2, VMDK grain directory/tables, VDI block map),
    /// least recently used evicted. Tables are never loaded whole, so memory stays bounded by
    /// <c>capacity × pageSize</c> whatever the disk size.
    /// </summary>
    internal sealed class TablePageCache
    {
        private readonly ImageFile file;
        private readonly string structure;
        private readonly ImageFile?[] files;
        private readonly long[] keys;
        private readonly int[] lengths;
        private readonly long[] stamps;
        private readonly byte[]?[] pages;
        private readonly int pageSize;
        private long clock;

        public TablePageCache(ImageFile file, int pageSize, int capacity, string structure)
        {
            this.file = file;
            this.pageSize = pageSize;
            this.structure = structure;
            files = new ImageFile?[capacity];
            keys = new long[capacity];
            lengths = new int[capacity];
            stamps = new long[capacity];
            pages = new byte[capacity][];
            for (int i = 0; i < capacity; i++)
            {
                keys[i] = -1;
            }
        }

        public int PageSize => pageSize;

        /// <summary>The page of <paramref name="length"/> (≤ page size) bytes at file offset <paramref name="offset"/>.</summary>
        public byte[] Get(long offset, int length) => Get(file, offset, length);

        /// <summary>The page of <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="source"/>.</summary>
        public byte[] Get(ImageFile source, long offset, int length)
        {
            if (length <= 0 || length > pageSize)
            {
                throw new ArgumentOutOfRangeException(nameof(length));
            }
            int victim = 0;
            for (int i = 0; i < keys.Length; i++)
            {
                if (keys[i] == offset && lengths[i] == length && ReferenceEquals(files[i], source))
                {
                    stamps[i] = ++clock;
                    return pages[i]!;
                }
                if (stamps[i] < stamps[victim])
                {
                    victim = i;
                }
            }
            byte[] page = pages[victim] ??= new byte[pageSize];
            keys[victim] = -1;
            source.ReadExactly(offset, page, 0, length, structure);
            keys[victim] = offset;
            files[victim] = source;
            lengths[victim] = length;
            stamps[victim] = ++clock;
            return page;
        }
    }
}
