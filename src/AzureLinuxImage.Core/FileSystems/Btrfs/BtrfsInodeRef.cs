using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// INODE_REF (key: inode, 12, parent directory): packed btrfs_inode_ref entries (index u64, name_len u16,
    /// name), one per name the inode has in that directory. Used to name a directory's path up to its
    /// tree's root, as a subvolume's place in its parent is given by a directory inode.
    /// </summary>
    internal readonly struct BtrfsInodeRef
    {
        public BtrfsInodeRef(ulong index, byte[] name)
        {
            Index = index;
            Name = name;
        }

        public ulong Index { get; }

        public byte[] Name { get; }

        public static List<BtrfsInodeRef> ParseAll(ReadOnlySpan<byte> b, string where, string structure)
        {
            var result = new List<BtrfsInodeRef>(1);
            int at = 0;
            while (at < b.Length)
            {
                if (b.Length - at < 10)
                {
                    throw new InvalidImageException(where, structure, $"{b.Length - at} bytes left at offset {at}, too few for an inode reference.");
                }
                ulong index = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(at));
                int length = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(at + 8));
                if (length == 0 || length > BtrfsDirItem.MaxNameLength || length > b.Length - at - 10)
                {
                    throw new InvalidImageException(where, structure, $"an inode reference has a {length}-byte name that does not fit.");
                }
                result.Add(new BtrfsInodeRef(index, b.Slice(at + 10, length).ToArray()));
                at += 10 + length;
            }
            return result;
        }
    }
}
