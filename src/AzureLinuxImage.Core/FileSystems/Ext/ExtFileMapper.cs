using System;
using System.Collections.Generic;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// A file's block map whatever its kind (extent tree or ext2/3 pointers): what it owns, and a new map
    /// over given runs built copy-on-write (new node blocks; the old ones are released at commit).
    /// </summary>
    internal sealed class ExtFileMapper
    {
        private readonly ExtWriteVolume v;
        private readonly ExtBitmapAllocator allocator;
        private readonly ExtExtentTreeWriter extents;
        private readonly ExtIndirectMapWriter indirect;

        public ExtFileMapper(ExtWriteVolume volume, ExtBitmapAllocator allocator)
        {
            v = volume;
            this.allocator = allocator;
            extents = new ExtExtentTreeWriter(volume, allocator);
            indirect = new ExtIndirectMapWriter(volume, allocator);
        }

        /// <summary>True when i_block holds no block map (inline data, a fast symlink, a device node).</summary>
        public bool HasNoMap(ExtInodeRecord r)
        {
            if (r.Has(ExtInodeRecord.FlagInlineData))
            {
                return true;
            }
            ushort type = r.Type;
            if (type == ExtInodeRecord.TypeSymlink)
            {
                long xattr = r.FileAcl != 0 ? 1 : 0;
                return r.Size < 60 && r.BlocksInFsBlocks(v.BlockSize, v.HugeFile) <= xattr;
            }
            return type != ExtInodeRecord.TypeFile && type != ExtInodeRecord.TypeDirectory;
        }

        public ExtFileBlocks Collect(ExtInodeRecord r)
        {
            if (HasNoMap(r))
            {
                return new ExtFileBlocks();
            }
            return r.Has(ExtInodeRecord.FlagExtents) ? extents.Collect(r) : indirect.Collect(r);
        }

        /// <summary>Logical to physical of one block, or -1 for a hole (runs are sorted by logical block).</summary>
        public static long Lookup(ExtFileBlocks blocks, long logical)
        {
            List<ExtMapping> d = blocks.Data;
            int lo = 0, hi = d.Count - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >> 1;
                ExtMapping m = d[mid];
                if (logical < m.Logical)
                {
                    hi = mid - 1;
                }
                else if (logical >= m.Logical + m.Count)
                {
                    lo = mid + 1;
                }
                else
                {
                    return m.Unwritten ? -1 : m.Physical + (logical - m.Logical);
                }
            }
            return -1;
        }

        /// <summary>
        /// Points <paramref name="r"/> (not yet staged: the caller writes the inode, which is the switch) at
        /// <paramref name="runs"/> through a new map; releases the old map's node blocks; sets i_blocks.
        /// Data blocks are the caller's to release.
        /// </summary>
        public void SetMap(ExtInodeRecord r, List<ExtMapping> runs, ExtFileBlocks old)
        {
            runs.Sort((a, b) => a.Logical.CompareTo(b.Logical));
            var merged = new List<ExtMapping>();
            foreach (ExtMapping m in runs)
            {
                if (merged.Count > 0)
                {
                    ExtMapping last = merged[merged.Count - 1];
                    if (last.Logical + last.Count > m.Logical)
                    {
                        throw new AzureLinuxImageException("InternalError", ErrorKind.InvalidData, $"{v.Where}: inode {r.Number}: overlapping runs in a new block map.");
                    }
                    if (last.Logical + last.Count == m.Logical && last.Physical + last.Count == m.Physical && last.Unwritten == m.Unwritten)
                    {
                        merged[merged.Count - 1] = new ExtMapping(last.Logical, last.Physical, last.Count + m.Count, last.Unwritten);
                        continue;
                    }
                }
                merged.Add(m);
            }
            var mapBlocks = new List<long>();
            byte[] area;
            bool useExtents = r.Has(ExtInodeRecord.FlagExtents) || (v.Extents && !r.Has(ExtInodeRecord.FlagInlineData) && old.Data.Count == 0 && old.MapBlocks.Count == 0);
            if (useExtents)
            {
                r.Flags |= ExtInodeRecord.FlagExtents;
                area = extents.Build(r, merged, mapBlocks);
            }
            else
            {
                area = indirect.Build(merged, mapBlocks);
            }
            area.AsSpan().CopyTo(r.BlockArea);
            foreach (long b in old.MapBlocks)
            {
                allocator.ReleaseBlocks(b, 1);
            }
            long data = 0;
            foreach (ExtMapping m in merged)
            {
                data += m.Count;
            }
            r.SetBlocks(data + mapBlocks.Count + (r.FileAcl != 0 ? 1 : 0), v.BlockSize, v.HugeFile);
        }
    }
}
