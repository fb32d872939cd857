using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// struct btrfs_dir_item (30 bytes, then name, then data), the layout DIR_ITEM, DIR_INDEX and
    /// XATTR_ITEM share. A DIR_ITEM or XATTR_ITEM may pack several entries whose names hash alike.
    /// </summary>
    internal readonly struct BtrfsDirItem
    {
        private const int HeaderSize = 30;

        /// <summary>Longest name Linux allows (BTRFS_NAME_LEN); xattr names are shorter still.</summary>
        public const int MaxNameLength = 255;

        public BtrfsDirItem(BtrfsKey location, byte fileType, byte[] name, byte[] data)
        {
            Location = location;
            FileType = fileType;
            Name = name;
            Data = data;
        }

        /// <summary>What the entry points at: (inode, INODE_ITEM, 0) in the same tree, or (subvolume id, ROOT_ITEM, ...).</summary>
        public BtrfsKey Location { get; }

        /// <summary>BTRFS_FT_*: 1 file, 2 dir, 3 chr, 4 blk, 5 fifo, 6 sock, 7 symlink, 8 xattr.</summary>
        public byte FileType { get; }

        public byte[] Name { get; }

        /// <summary>An xattr's value (empty for directory entries).</summary>
        public byte[] Data { get; }

        /// <summary>The key offset of a DIR_ITEM or XATTR_ITEM: crc32c of the name seeded with ~1, not inverted (btrfs_name_hash).</summary>
        public static ulong NameHash(ReadOnlySpan<byte> name) => CrcRegister.Crc32C(0xFFFFFFFEu, name);

        public static List<BtrfsDirItem> ParseAll(ReadOnlySpan<byte> b, int maxData, string where, string structure)
        {
            var result = new List<BtrfsDirItem>(1);
            int at = 0;
            while (at < b.Length)
            {
                if (b.Length - at < HeaderSize)
                {
                    throw new InvalidImageException(where, structure, $"{b.Length - at} bytes left at offset {at}, too few for a directory item header.");
                }
                ReadOnlySpan<byte> h = b.Slice(at);
                BtrfsKey location = BtrfsKey.Read(h);
                int dataLength = BinaryPrimitives.ReadUInt16LittleEndian(h.Slice(25));
                int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(h.Slice(27));
                byte type = h[29];
                if (nameLength == 0 || nameLength > MaxNameLength || dataLength > maxData || HeaderSize + nameLength + dataLength > b.Length - at)
                {
                    throw new InvalidImageException(where, structure, $"a directory item has a {nameLength}-byte name and {dataLength} bytes of data, which do not fit its {b.Length - at} bytes.");
                }
                byte[] name = h.Slice(HeaderSize, nameLength).ToArray();
                byte[] data = h.Slice(HeaderSize + nameLength, dataLength).ToArray();
                result.Add(new BtrfsDirItem(location, type, name, data));
                at += HeaderSize + nameLength + dataLength;
            }
            return result;
        }
    }
}
