using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>One name of a directory block, as the writer moves it.</summary>
    internal sealed class ExtNameEntry
    {
        public ExtNameEntry(uint inode, byte[] name, byte fileType)
        {
            Inode = inode;
            Name = name;
            FileType = fileType;
        }

        public uint Inode { get; }

        public byte[] Name { get; }

        public byte FileType { get; }

        public uint Hash { get; set; }

        public int MinimalLength => ExtDirectoryWriter.EntryLength(Name.Length);
    }

    /// <summary>
    /// Linear directory blocks (directory.rst): adds a name where an entry has slack (one block staged in
    /// place at the Links stage, the kernel's own one-block update) or in a new block appended to the
    /// directory (written first, then the directory's inode switches to a map that includes it); removes
    /// a name by merging it into the previous entry. Leaf blocks carry the 12-byte checksum tail under
    /// metadata_csum. Hashed directories go through <see cref="ExtHtreeWriter"/>, inline ones through
    /// <see cref="ExtInlineDirectory"/>.
    /// </summary>
    internal sealed class ExtDirectoryWriter
    {
        public const byte TypeFile = 1;
        public const byte TypeDirectory = 2;
        public const byte TypeSymlink = 7;

        private readonly ExtWriteVolume v;
        private readonly ExtInodeTable inodes;
        private readonly ExtBitmapAllocator allocator;
        private readonly ExtFileMapper mapper;
        private readonly ExtHtreeWriter htree;
        private readonly ExtInlineDirectory inline;

        public ExtDirectoryWriter(ExtWriteVolume volume, ExtInodeTable inodes, ExtBitmapAllocator allocator, ExtFileMapper mapper)
        {
            v = volume;
            this.inodes = inodes;
            this.allocator = allocator;
            this.mapper = mapper;
            htree = new ExtHtreeWriter(volume, inodes, allocator, mapper, this);
            inline = new ExtInlineDirectory(volume, allocator, mapper, this);
        }

        public static int EntryLength(int nameLength) => (8 + nameLength + 3) & ~3;

        /// <summary>Bytes of a leaf block available to entries (the checksum tail excluded).</summary>
        public int LeafSpace => v.BlockSize - (v.Csum ? ExtDirectoryBlock.TailSize : 0);

        public void Add(ExtInodeRecord dir, string name, uint inode, byte fileType)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(name);
            CheckName(bytes, name);
            var entry = new ExtNameEntry(inode, bytes, v.FileType ? fileType : (byte)0);
            if (dir.Has(ExtInodeRecord.FlagInlineData))
            {
                // In the inode when a region has room, else the kernel's overflow: the directory moves to a block.
                if (!inline.TryAdd(dir, entry))
                {
                    inline.Convert(dir, entry);
                }
                return;
            }
            if (dir.Has(ExtInodeRecord.FlagIndex) && v.Sb.FeatureCompat != 0 && (v.Sb.FeatureCompat & ExtSuperblock.CompatDirIndex) != 0)
            {
                htree.Add(dir, entry);
                return;
            }
            ExtFileBlocks blocks = mapper.Collect(dir);
            long count = (dir.Size + v.BlockSize - 1) / v.BlockSize;
            for (long l = 0; l < count; l++)
            {
                long physical = ExtFileMapper.Lookup(blocks, l);
                if (physical < 0)
                {
                    throw v.Bad("directory", $"inode {dir.Number}: a hole at block {l}.");
                }
                byte[] block = ReadLeaf(dir, physical);
                if (TryInsert(block, entry, $"directory inode {dir.Number}, block {physical}"))
                {
                    WriteLeaf(dir, physical, block, WriteStage.Links);
                    return;
                }
            }
            // No room: a new block with the entry, then the directory's map and size include it.
            long goal = blocks.Data.Count > 0 ? blocks.Data[blocks.Data.Count - 1].Physical + blocks.Data[blocks.Data.Count - 1].Count : 0;
            long fresh = allocator.AllocateBlocks(1, goal)[0].Start;
            byte[] leaf = NewLeaf(new List<ExtNameEntry> { entry });
            WriteLeaf(dir, fresh, leaf, WriteStage.Data);
            var runs = new List<ExtMapping>(blocks.Data) { new ExtMapping(count, fresh, 1) };
            mapper.SetMap(dir, runs, blocks);
            dir.Size = (count + 1) * v.BlockSize;
        }

        /// <summary>Removes <paramref name="name"/>; false when the directory has no such entry.</summary>
        public bool Remove(ExtInodeRecord dir, string name)
        {
            byte[] wanted = Encoding.UTF8.GetBytes(name);
            if (dir.Has(ExtInodeRecord.FlagInlineData))
            {
                return inline.Remove(dir, wanted);
            }
            ExtFileBlocks blocks = mapper.Collect(dir);
            long count = (dir.Size + v.BlockSize - 1) / v.BlockSize;
            bool indexed = dir.Has(ExtInodeRecord.FlagIndex);
            if (indexed && (v.Sb.FeatureCompat & ExtSuperblock.CompatDirIndex) != 0)
            {
                // The leaf the name's hash selects holds it (unless hashes collide across leaves: then the scan below).
                long leaf = htree.LeafFor(dir, blocks, count, wanted);
                long physical = ExtFileMapper.Lookup(blocks, leaf);
                if (physical >= 0 && RemoveIn(dir, physical, v.ReadBlock(physical), wanted))
                {
                    return true;
                }
            }
            for (long l = indexed ? 1 : 0; l < count; l++)
            {
                long physical = ExtFileMapper.Lookup(blocks, l);
                if (physical < 0)
                {
                    throw v.Bad("directory", $"inode {dir.Number}: a hole at block {l}.");
                }
                byte[] block = v.ReadBlock(physical);
                if (indexed && ExtDirectoryBlock.IsIndexNode(block, v.BlockSize))
                {
                    continue;
                }
                if (RemoveIn(dir, physical, block, wanted))
                {
                    return true;
                }
            }
            return false;
        }

        private bool RemoveIn(ExtInodeRecord dir, long physical, byte[] block, byte[] wanted)
        {
            VerifyLeaf(dir, physical, block);
            if (!RemoveName(block, 0, LeafSpace, wanted, $"directory inode {dir.Number}, block {physical}"))
            {
                return false;
            }
            WriteLeaf(dir, physical, block, WriteStage.Links);
            return true;
        }

        /// <summary>
        /// Removes <paramref name="wanted"/> from the entries of <paramref name="block"/>[<paramref name="start"/>,
        /// <paramref name="end"/>): the previous entry's rec_len takes in its space or, when it is the region's
        /// first entry, its inode becomes 0 (directory.rst). False when the region has no such name.
        /// </summary>
        public bool RemoveName(byte[] block, int start, int end, byte[] wanted, string where)
        {
            int previous = -1;
            foreach (var (pos, ino, rec, nameLen) in Entries(block, start, end, where))
            {
                if (ino != 0 && nameLen == wanted.Length && block.AsSpan(pos + 8, nameLen).SequenceEqual(wanted))
                {
                    if (previous >= 0)
                    {
                        SetRecLen(block, previous, RecLen(block, previous) + rec);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(pos), 0);
                    }
                    return true;
                }
                previous = pos;
            }
            return false;
        }

        /// <summary>
        /// The entries of <paramref name="block"/>[<paramref name="start"/>, <paramref name="end"/>): position, inode, record length and
        /// name length, each checked to fit before it is returned (a damaged entry is a typed error naming
        /// <paramref name="where"/>). A caller may change the block at the entry it was given and stop there.
        /// </summary>
        private IEnumerable<(int Pos, uint Inode, int Rec, int NameLength)> Entries(byte[] block, int start, int end, string where)
        {
            int pos = start;
            while (pos < end)
            {
                if (end - pos < 8)
                {
                    // An entry's 8-byte header cannot fit (a region may end at the end of the inode's bytes).
                    throw v.Bad("directory entry", $"{where}: a truncated entry at offset {pos}.");
                }
                uint ino = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(pos));
                int rec = RecLen(block, pos);
                int nameLen = NameLength(block, pos);
                if (rec < 8 || pos + rec > end || 8 + nameLen > rec)
                {
                    throw v.Bad("directory entry", $"{where}: the entry at offset {pos} does not fit.");
                }
                yield return (pos, ino, rec, nameLen);
                pos += rec;
            }
        }

        /// <summary>A new directory's first block: '.' and '..' (and the tail).</summary>
        public byte[] NewDirectoryBlock(uint self, uint parent)
        {
            var block = new byte[v.BlockSize];
            int end = LeafSpace;
            WriteEntry(block, 0, self, new[] { (byte)'.' }, v.FileType ? TypeDirectory : (byte)0, 12);
            WriteEntry(block, 12, parent, new[] { (byte)'.', (byte)'.' }, v.FileType ? TypeDirectory : (byte)0, end - 12);
            return block;
        }

        // ---- leaf blocks ----

        public byte[] NewLeaf(List<ExtNameEntry> entries)
        {
            var block = new byte[v.BlockSize];
            int end = LeafSpace;
            if (entries.Count == 0)
            {
                SetRecLen(block, 0, end);
                return block;
            }
            int pos = 0;
            for (int i = 0; i < entries.Count; i++)
            {
                ExtNameEntry e = entries[i];
                int len = i == entries.Count - 1 ? end - pos : e.MinimalLength;
                WriteEntry(block, pos, e.Inode, e.Name, e.FileType, len);
                pos += len;
            }
            if (pos > end)
            {
                throw new InvalidOperationException("directory entries overflow the block");
            }
            return block;
        }

        /// <summary>Entries of a leaf block (names in use only).</summary>
        public List<ExtNameEntry> ParseLeaf(byte[] block, ExtInodeRecord dir, long physical) =>
            ParseEntries(block, 0, LeafSpace, $"directory inode {dir.Number}, block {physical}");

        /// <summary>Entries of <paramref name="block"/>[<paramref name="start"/>, <paramref name="end"/>) (names in use only).</summary>
        public List<ExtNameEntry> ParseEntries(byte[] block, int start, int end, string where)
        {
            var list = new List<ExtNameEntry>();
            foreach (var (pos, ino, _, nameLen) in Entries(block, start, end, where))
            {
                if (ino != 0 && nameLen > 0)
                {
                    list.Add(new ExtNameEntry(ino, block.AsSpan(pos + 8, nameLen).ToArray(), v.FileType ? block[pos + 7] : (byte)0));
                }
            }
            return list;
        }

        /// <summary>Puts <paramref name="e"/> into the first entry of <paramref name="block"/> with room for it; false when none has.</summary>
        public bool TryInsert(byte[] block, ExtNameEntry e, string where) => TryInsert(block, 0, LeafSpace, e, where);

        /// <summary>Puts <paramref name="e"/> into the first entry of <paramref name="block"/>[<paramref name="start"/>, <paramref name="end"/>) with room for it.</summary>
        public bool TryInsert(byte[] block, int start, int end, ExtNameEntry e, string where)
        {
            int need = e.MinimalLength;
            foreach (var (pos, ino, rec, nameLen) in Entries(block, start, end, where))
            {
                int used = ino == 0 ? 0 : EntryLength(nameLen);
                if (rec - used >= need)
                {
                    if (used == 0)
                    {
                        WriteEntry(block, pos, e.Inode, e.Name, e.FileType, rec);
                    }
                    else
                    {
                        SetRecLen(block, pos, used);
                        WriteEntry(block, pos + used, e.Inode, e.Name, e.FileType, rec - used);
                    }
                    return true;
                }
            }
            return false;
        }

        public byte[] ReadLeaf(ExtInodeRecord dir, long physical)
        {
            byte[] block = v.ReadBlock(physical);
            VerifyLeaf(dir, physical, block);
            return block;
        }

        private void VerifyLeaf(ExtInodeRecord dir, long physical, byte[] block)
        {
            if (!v.Csum)
            {
                return;
            }
            if (!ExtDirectoryBlock.HasTail(block) ||
                BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(v.BlockSize - 4)) != v.Crc(v.InodeSeed(dir.Number, dir.Generation), block.AsSpan(0, v.BlockSize - ExtDirectoryBlock.TailSize)))
            {
                throw v.Bad("directory block checksum", $"directory inode {dir.Number}, block {physical}: the checksum tail is missing or wrong; run e2fsck before writing.");
            }
        }

        /// <summary>Stages a leaf block with its checksum tail.</summary>
        public void WriteLeaf(ExtInodeRecord dir, long physical, byte[] block, WriteStage stage)
        {
            if (v.Csum)
            {
                int t = v.BlockSize - ExtDirectoryBlock.TailSize;
                block.AsSpan(t, ExtDirectoryBlock.TailSize).Clear();
                BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(t + 4), 12);
                block[t + 7] = 0xDE;
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(v.BlockSize - 4), v.Crc(v.InodeSeed(dir.Number, dir.Generation), block.AsSpan(0, t)));
            }
            v.WriteBlock(physical, block, stage);
        }

        private void CheckName(byte[] bytes, string name)
        {
            if (bytes.Length == 0 || bytes.Length > 255 || name == "." || name == ".." || name.IndexOf('/') >= 0 || name.IndexOf('\0') >= 0)
            {
                throw new AzureLinuxImageException("InvalidItemPath", ErrorKind.InvalidArgument, $"{v.Where}: '{name}' is not a valid file name (1 to 255 bytes, no '/' or NUL, not '.' or '..').");
            }
        }

        public void WriteEntry(byte[] block, int pos, uint inode, byte[] name, byte fileType, int recLen)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(pos), inode);
            SetRecLen(block, pos, recLen);
            if (v.FileType)
            {
                block[pos + 6] = (byte)name.Length;
                block[pos + 7] = fileType;
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(pos + 6), (ushort)name.Length);
            }
            name.CopyTo(block.AsSpan(pos + 8));
            int padded = EntryLength(name.Length);
            block.AsSpan(pos + 8 + name.Length, padded - 8 - name.Length).Clear();
        }

        public int RecLen(byte[] block, int pos)
        {
            int len = BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(pos + 4));
            if (v.BlockSize < 65536)
            {
                return len;
            }
            return len == 65535 || len == 0 ? 65536 : (len & 65532) | ((len & 3) << 16);
        }

        public void SetRecLen(byte[] block, int pos, int len)
        {
            int disk = len < 65536 ? len : len == 65536 && v.BlockSize == 65536 ? 65535 : (len & 65532) | ((len >> 16) & 3);
            BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(pos + 4), (ushort)disk);
        }

        public int NameLength(byte[] block, int pos) => v.FileType ? block[pos + 6] : BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(pos + 6));
    }
}
