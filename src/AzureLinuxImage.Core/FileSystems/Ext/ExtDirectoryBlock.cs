using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>One entry of a linear directory block (ext4_dir_entry_2, directory.rst).</summary>
    internal readonly struct ExtDirEntry
    {
        public ExtDirEntry(uint inode, string name)
        {
            Inode = inode;
            Name = name;
        }

        public uint Inode { get; }

        public string Name { get; }
    }

    /// <summary>
    /// Parses directory entries. An htree directory keeps linear leaf blocks too: its index blocks look
    /// like one empty entry spanning the block, so a linear walk over all blocks sees every name once.
    /// </summary>
    internal static class ExtDirectoryBlock
    {
        public const int TailSize = 12;

        /// <summary>Entries of <paramref name="data"/>; rec_len and name_len are checked against the block.</summary>
        public static void Parse(ReadOnlySpan<byte> data, bool fileTypeFeature, int blockSize, ExtFileSystem fs, uint dirInode, List<ExtDirEntry> into)
        {
            int pos = 0;
            while (pos < data.Length)
            {
                if (data.Length - pos < 8)
                {
                    throw fs.Bad("directory entry", $"directory inode {dirInode}: a truncated entry at offset {pos}.");
                }
                uint inode = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(pos));
                int recLen = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(pos + 4));
                if (blockSize >= 65536 && (recLen == 65535 || recLen == 0))
                {
                    recLen = 65536; // ext4_rec_len_from_disk for 64 KiB blocks
                }
                else if (blockSize >= 65536)
                {
                    recLen = (recLen & 65532) | ((recLen & 3) << 16);
                }
                int nameLen = fileTypeFeature ? data[pos + 6] : BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(pos + 6));
                if (recLen < 8 || (recLen & 3) != 0 || recLen > data.Length - pos || 8 + nameLen > recLen)
                {
                    throw fs.Bad("directory entry", $"directory inode {dirInode}: entry at offset {pos} has rec_len {recLen} and name_len {nameLen}, which do not fit.");
                }
                if (inode != 0 && nameLen > 0)
                {
                    into.Add(new ExtDirEntry(inode, Encoding.UTF8.GetString(data.Slice(pos + 8, nameLen).ToArray())));
                }
                pos += recLen;
            }
        }

        /// <summary>True when the block is an htree interior node: a single empty entry covering the whole block (dx_node).</summary>
        public static bool IsIndexNode(ReadOnlySpan<byte> block, int blockSize)
        {
            uint inode = BinaryPrimitives.ReadUInt32LittleEndian(block);
            int recLen = BinaryPrimitives.ReadUInt16LittleEndian(block.Slice(4));
            return inode == 0 && (recLen == blockSize || (blockSize >= 65536 && (recLen == 0 || recLen == 65535)));
        }

        /// <summary>True when the last 12 bytes are the checksum tail (inode 0, rec_len 12, file type 0xDE).</summary>
        public static bool HasTail(ReadOnlySpan<byte> block)
        {
            ReadOnlySpan<byte> t = block.Slice(block.Length - TailSize);
            return BinaryPrimitives.ReadUInt32LittleEndian(t) == 0 && BinaryPrimitives.ReadUInt16LittleEndian(t.Slice(4)) == 12 && t[6] == 0 && t[7] == 0xDE;
        }
    }
}
