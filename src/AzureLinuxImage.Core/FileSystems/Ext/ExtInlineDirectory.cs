using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// Directories whose entries live in the inode (inline_data.rst, "Inline Directories"): i_block holds
    /// the parent's inode number (4 bytes) and then 56 bytes of entries; when i_size is above 60 the value
    /// of the in-inode attribute system.data holds i_size - 60 more bytes of entries. There are no '.' and
    /// '..' entries and no checksum tail: the inode's own checksum covers the entries, so every change
    /// here is staged by the caller's one inode write (the Links stage). Names are added and removed in
    /// place, each region on its own as in a block (the region's first entry has no previous one to merge
    /// into). A name that fits in no region moves the directory to one new block, as the kernel does on
    /// overflow: '.', '..', the inline entries, then the new one; the block is written first (Data
    /// stage), then the inode switches to it with the flag cleared and system.data removed.
    /// </summary>
    internal sealed class ExtInlineDirectory
    {
        private const int BlockAreaOffset = 0x28;
        private const int ParentSize = 4;
        private const int InlineSize = 60;

        private readonly ExtWriteVolume v;
        private readonly ExtBitmapAllocator allocator;
        private readonly ExtFileMapper mapper;
        private readonly ExtDirectoryWriter dirs;

        public ExtInlineDirectory(ExtWriteVolume volume, ExtBitmapAllocator allocator, ExtFileMapper mapper, ExtDirectoryWriter dirs)
        {
            v = volume;
            this.allocator = allocator;
            this.mapper = mapper;
            this.dirs = dirs;
        }

        /// <summary>Puts <paramref name="e"/> into the first inline entry with room; false when none has (the caller then converts).</summary>
        public bool TryAdd(ExtInodeRecord dir, ExtNameEntry e)
        {
            foreach (Region r in Regions(dir))
            {
                if (dirs.TryInsert(dir.Raw, r.Start, r.End, e, r.Where))
                {
                    Changed(dir, r);
                    return true;
                }
            }
            return false;
        }

        /// <summary>Removes <paramref name="name"/>; false when the directory has no such entry. The directory stays inline (as in the kernel).</summary>
        public bool Remove(ExtInodeRecord dir, byte[] name)
        {
            foreach (Region r in Regions(dir))
            {
                if (dirs.RemoveName(dir.Raw, r.Start, r.End, name, r.Where))
                {
                    Changed(dir, r);
                    return true;
                }
            }
            return false;
        }

        /// <summary>
        /// Moves the directory's entries and <paramref name="added"/> to one new block: the block is staged
        /// now, the inode (flag cleared, system.data removed, map, size, i_blocks) is the caller's write.
        /// </summary>
        public void Convert(ExtInodeRecord dir, ExtNameEntry added)
        {
            List<Region> regions = Regions(dir);
            uint parent = Parent(dir);
            byte type = v.FileType ? ExtDirectoryWriter.TypeDirectory : (byte)0;
            var names = new List<ExtNameEntry>
            {
                new ExtNameEntry(dir.Number, new[] { (byte)'.' }, type),
                new ExtNameEntry(parent, new[] { (byte)'.', (byte)'.' }, type),
            };
            foreach (Region r in regions)
            {
                names.AddRange(dirs.ParseEntries(dir.Raw, r.Start, r.End, r.Where));
            }
            names.Add(added);
            int need = 0;
            foreach (ExtNameEntry n in names)
            {
                need += n.MinimalLength;
            }
            if (need > dirs.LeafSpace)
            {
                throw new UnsupportedImageException(v.Where, $"directory inode {dir.Number}: its inline entries and the new one need {need} bytes, more than one {v.BlockSize}-byte block; it is not changed.");
            }
            long group = allocator.GroupOfInode(dir.Number);
            long fresh = allocator.AllocateBlocks(1, v.Sb.FirstDataBlock + (group * v.Sb.BlocksPerGroup))[0].Start;
            dirs.WriteLeaf(dir, fresh, dirs.NewLeaf(names), WriteStage.Data);
            ExtInlineData.Detach(v, dir);
            mapper.SetMap(dir, new List<ExtMapping> { new ExtMapping(0, fresh, 1) }, new ExtFileBlocks());
            dir.Size = v.BlockSize;
        }

        private uint Parent(ExtInodeRecord dir)
        {
            uint parent = BinaryPrimitives.ReadUInt32LittleEndian(dir.Raw.AsSpan(BlockAreaOffset));
            if (parent == 0 || parent > v.Sb.InodesCount)
            {
                throw v.Bad("inline directory", $"inode {dir.Number}: the parent inode number {parent} is not valid.");
            }
            return parent;
        }

        /// <summary>The entry regions: i_block after the parent, and the system.data value when i_size says there is one.</summary>
        private List<Region> Regions(ExtInodeRecord dir)
        {
            string where = $"inline directory inode {dir.Number}";
            ExtInodeAttribute? data = ExtInlineData.FindData(v, dir);
            long more = dir.Size - InlineSize;
            if (more < 0 || more != (data?.ValueSize ?? 0))
            {
                throw v.Bad("inline directory", $"inode {dir.Number}: i_size {dir.Size} does not match the 60 bytes of i_block plus the {data?.ValueSize ?? 0} bytes of system.data; run e2fsck before writing.");
            }
            var regions = new List<Region>
            {
                new Region(BlockAreaOffset + ParentSize, BlockAreaOffset + InlineSize, null, where + ", i_block"),
            };
            if (data.HasValue && data.Value.ValueSize > 0)
            {
                regions.Add(new Region(data.Value.ValueStart, data.Value.ValueStart + data.Value.ValueSize, data, where + ", system.data"));
            }
            return regions;
        }

        private static void Changed(ExtInodeRecord dir, Region r)
        {
            if (r.Attribute.HasValue)
            {
                ExtInlineData.Rehash(dir, r.Attribute.Value);
            }
        }

        private readonly struct Region
        {
            public Region(int start, int end, ExtInodeAttribute? attribute, string where)
            {
                Start = start;
                End = end;
                Attribute = attribute;
                Where = where;
            }

            public int Start { get; }

            public int End { get; }

            public ExtInodeAttribute? Attribute { get; }

            public string Where { get; }
        }
    }
}
