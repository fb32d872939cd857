using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>
    /// Version 2/3 directories ("XFS Algorithms &amp; Data Structures" ch. 17). Every entry of every
    /// format lives either in the inode (shortform) or in a data block below the 32 GiB leaf offset, so
    /// block, leaf, node and btree directories are all read the same way: walk the data blocks the fork
    /// maps there. The leaf and free-index blocks only speed up lookups; they are not needed to list.
    /// </summary>
    internal static class XfsDirectory
    {
        private const uint BlockMagicV2 = 0x58443242;  // "XD2B"
        private const uint DataMagicV2 = 0x58443244;   // "XD2D"
        private const uint BlockMagicV3 = 0x58444233;  // "XDB3"
        private const uint DataMagicV3 = 0x58444433;   // "XDD3"
        private const int HeaderV2 = 16;
        private const int HeaderV3 = 64;
        private const int CrcOffset = 4;

        /// <summary>A directory larger than this (in data bytes) is refused: about a million long names.</summary>
        public const long MaxDataBytes = 256L << 20;

        /// <summary>Entries of the directory, '.' and '..' included where the format stores them.</summary>
        public static IEnumerable<KeyValuePair<string, ulong>> Entries(XfsVolume volume, XfsInode dir)
        {
            if (dir.Format == XfsForkFormat.Local)
            {
                return ShortForm(volume, dir);
            }
            return DataBlocks(volume, dir);
        }

        /// <summary>Shortform directory in the inode (xfs_dir2_sf_hdr, xfs_dir2_sf_entry).</summary>
        private static List<KeyValuePair<string, ulong>> ShortForm(XfsVolume volume, XfsInode dir)
        {
            string structure = $"XFS inode {dir.Number} shortform directory";
            ReadOnlySpan<byte> b = dir.DataFork.AsSpan(0, (int)dir.Size);
            if (b.Length < 6)
            {
                throw new InvalidImageException(volume.Where, structure, $"{b.Length} bytes is too short for the header.");
            }
            int count = b[0];
            int i8count = b[1];
            int inoSize = i8count != 0 ? 8 : 4;
            int pos = 2 + inoSize;
            if (pos > b.Length)
            {
                throw new InvalidImageException(volume.Where, structure, "the header is truncated.");
            }
            ulong parent = ReadInodeNumber(b.Slice(2), inoSize);
            var result = new List<KeyValuePair<string, ulong>>(count + 1)
            {
                new KeyValuePair<string, ulong>("..", parent),
            };
            int extra = volume.Superblock.HasFtype ? 1 : 0;
            for (int i = 0; i < count; i++)
            {
                if (pos + 3 > b.Length)
                {
                    throw new InvalidImageException(volume.Where, structure, $"entry {i} of {count} starts past the end of the directory.");
                }
                int nameLength = b[pos];
                int size = 3 + nameLength + extra + inoSize;
                if (nameLength == 0 || pos + size > b.Length)
                {
                    throw new InvalidImageException(volume.Where, structure, $"entry {i} (name length {nameLength}) runs past the end of the directory.");
                }
                string name = DecodeName(b.Slice(pos + 3, nameLength));
                ulong ino = ReadInodeNumber(b.Slice(pos + 3 + nameLength + extra), inoSize);
                result.Add(new KeyValuePair<string, ulong>(name, ino));
                pos += size;
            }
            return result;
        }

        private static IEnumerable<KeyValuePair<string, ulong>> DataBlocks(XfsVolume volume, XfsInode dir)
        {
            XfsSuperblock sb = volume.Superblock;
            XfsExtentMap map = XfsExtentMap.Read(volume, dir);
            long leafBlock = XfsFormat.DirectoryLeafOffset >> sb.BlockLog;
            int perDirBlock = 1 << sb.DirBlockLog;
            byte[] buffer = new byte[sb.DirBlockSize];
            long dataBytes = 0;
            long lastDirBlock = -1;
            foreach (XfsExtent e in map.Extents)
            {
                if (e.Logical >= leafBlock)
                {
                    break;
                }
                long first = e.Logical >> sb.DirBlockLog;
                long last = (Math.Min(e.Logical + e.Count, leafBlock) - 1) >> sb.DirBlockLog;
                for (long db = Math.Max(first, lastDirBlock + 1); db <= last; db++)
                {
                    lastDirBlock = db;
                    dataBytes += sb.DirBlockSize;
                    if (dataBytes > MaxDataBytes)
                    {
                        throw new UnsupportedImageException(volume.Where, $"XFS directory inode {dir.Number} has more than {MaxDataBytes >> 20} MiB of entries; it is not read.");
                    }
                    long daddr = ReadDirBlock(volume, map, dir, db * perDirBlock, buffer);
                    foreach (KeyValuePair<string, ulong> entry in ParseDataBlock(volume, dir, buffer, daddr, db))
                    {
                        yield return entry;
                    }
                }
            }
        }

        /// <summary>Reads one directory block (which may span several extents); returns its disk address in 512-byte units.</summary>
        private static long ReadDirBlock(XfsVolume volume, XfsExtentMap map, XfsInode dir, long logical, byte[] buffer)
        {
            XfsSuperblock sb = volume.Superblock;
            int perDirBlock = 1 << sb.DirBlockLog;
            long daddr = -1;
            for (int i = 0; i < perDirBlock; i++)
            {
                int index = map.Find(logical + i);
                if (index < 0 || map.Extents[index].Unwritten)
                {
                    throw new InvalidImageException(volume.Where, $"XFS directory inode {dir.Number} block {logical}", "the directory block is only partly mapped.");
                }
                XfsExtent e = map.Extents[index];
                long physical = e.Physical + (logical + i - e.Logical);
                if (i == 0)
                {
                    daddr = physical * (sb.BlockSize / 512);
                }
                volume.ReadBlocks(physical, 1, buffer, i * sb.BlockSize, $"XFS directory inode {dir.Number} block {logical}");
            }
            return daddr;
        }

        /// <summary>Entries of one data block: block format (XD2B/XDB3, with its leaf and tail at the end) or data format (XD2D/XDD3).</summary>
        private static List<KeyValuePair<string, ulong>> ParseDataBlock(XfsVolume volume, XfsInode dir, byte[] block, long daddr, long dirBlock)
        {
            XfsSuperblock sb = volume.Superblock;
            string structure = $"XFS directory inode {dir.Number} data block {dirBlock}";
            ReadOnlySpan<byte> b = block;
            uint magic = BinaryPrimitives.ReadUInt32BigEndian(b);
            bool blockFormat;
            int header;
            if (sb.HasCrc)
            {
                if (magic != BlockMagicV3 && magic != DataMagicV3)
                {
                    throw new InvalidImageException(volume.Where, structure, "the magic number is neither XDB3 nor XDD3.");
                }
                XfsChecksum.Verify(block, 0, block.Length, CrcOffset, volume.Where, structure);
                ulong recordedAddress = BinaryPrimitives.ReadUInt64BigEndian(b.Slice(8));
                ulong owner = BinaryPrimitives.ReadUInt64BigEndian(b.Slice(40));
                if (recordedAddress != (ulong)daddr || owner != dir.Number || !b.Slice(24, 16).SequenceEqual(sb.MetadataUuid))
                {
                    throw new InvalidImageException(volume.Where, structure, "the block's self-description (address, owner inode or UUID) does not match where it was found.");
                }
                blockFormat = magic == BlockMagicV3;
                header = HeaderV3;
            }
            else
            {
                if (magic != BlockMagicV2 && magic != DataMagicV2)
                {
                    throw new InvalidImageException(volume.Where, structure, "the magic number is neither XD2B nor XD2D.");
                }
                blockFormat = magic == BlockMagicV2;
                header = HeaderV2;
            }

            int end = block.Length;
            if (blockFormat)
            {
                // xfs_dir2_block_tail: leaf entry count and stale count in the last 8 bytes; the leaf array precedes it.
                uint leafCount = BinaryPrimitives.ReadUInt32BigEndian(b.Slice(block.Length - 8));
                if (leafCount > (uint)((block.Length - 8 - header) / 8))
                {
                    throw new InvalidImageException(volume.Where, structure, $"the block tail claims {leafCount} leaf entries, more than fit.");
                }
                end = block.Length - 8 - ((int)leafCount * 8);
            }

            int extra = sb.HasFtype ? 1 : 0;
            var result = new List<KeyValuePair<string, ulong>>();
            int pos = header;
            while (pos < end)
            {
                if (end - pos < 8)
                {
                    throw new InvalidImageException(volume.Where, structure, $"a truncated entry at offset {pos}.");
                }
                if (BinaryPrimitives.ReadUInt16BigEndian(b.Slice(pos)) == 0xFFFF)
                {
                    // xfs_dir2_data_unused: free tag, length (a multiple of 8), ..., tag.
                    int length = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(pos + 2));
                    if (length < 8 || (length & 7) != 0 || length > end - pos)
                    {
                        throw new InvalidImageException(volume.Where, structure, $"a free region of {length} bytes at offset {pos} is malformed.");
                    }
                    pos += length;
                    continue;
                }
                ulong ino = BinaryPrimitives.ReadUInt64BigEndian(b.Slice(pos));
                int nameLength = b[pos + 8];
                int size = (8 + 1 + nameLength + extra + 2 + 7) & ~7;
                if (nameLength == 0 || size > end - pos)
                {
                    throw new InvalidImageException(volume.Where, structure, $"the entry at offset {pos} (name length {nameLength}) runs past the end of the entries.");
                }
                int tag = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(pos + size - 2));
                if (tag != pos)
                {
                    throw new InvalidImageException(volume.Where, structure, $"the entry at offset {pos} carries tag {tag}.");
                }
                result.Add(new KeyValuePair<string, ulong>(DecodeName(b.Slice(pos + 9, nameLength)), ino));
                pos += size;
            }
            return result;
        }

        private static ulong ReadInodeNumber(ReadOnlySpan<byte> b, int size) =>
            size == 8 ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);

        /// <summary>Linux names are bytes; UTF-8 is what every distribution writes.</summary>
        private static string DecodeName(ReadOnlySpan<byte> raw) => Encoding.UTF8.GetString(raw.ToArray());
    }
}
