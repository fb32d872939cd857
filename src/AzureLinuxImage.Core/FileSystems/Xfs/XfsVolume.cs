using System;
using System.Collections.Generic;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>
    /// Block I/O for one XFS file system: reads whole file system blocks through a small LRU cache so
    /// inode clusters and directory blocks are read once while listing. The cache holds at most
    /// <see cref="CacheBlocks"/> blocks, whatever the file system's size.
    /// </summary>
    internal sealed class XfsVolume
    {
        private const int CacheBlocks = 512;

        private readonly BlockDevice device;
        private readonly Dictionary<long, LinkedListNode<KeyValuePair<long, byte[]>>> cache = new Dictionary<long, LinkedListNode<KeyValuePair<long, byte[]>>>();
        private readonly LinkedList<KeyValuePair<long, byte[]>> order = new LinkedList<KeyValuePair<long, byte[]>>();

        public XfsVolume(BlockDevice device, XfsSuperblock sb)
        {
            this.device = device;
            Superblock = sb;
        }

        public XfsSuperblock Superblock { get; }

        public string Where => device.Description;

        /// <summary>A cached copy of linear block <paramref name="block"/>; callers must not modify it.</summary>
        public byte[] ReadBlock(long block, string structure)
        {
            if (block < 0 || block >= Superblock.DataBlocks)
            {
                throw new InvalidImageException(Where, structure, $"block {block} is outside the file system ({Superblock.DataBlocks} blocks).");
            }
            if (cache.TryGetValue(block, out LinkedListNode<KeyValuePair<long, byte[]>>? hit))
            {
                order.Remove(hit);
                order.AddFirst(hit);
                return hit.Value.Value;
            }
            var data = new byte[Superblock.BlockSize];
            device.Read(block * Superblock.BlockSize, data, 0, data.Length);
            if (cache.Count >= CacheBlocks)
            {
                LinkedListNode<KeyValuePair<long, byte[]>> last = order.Last!;
                order.RemoveLast();
                cache.Remove(last.Value.Key);
            }
            cache[block] = order.AddFirst(new KeyValuePair<long, byte[]>(block, data));
            return data;
        }

        /// <summary>Reads <paramref name="count"/> consecutive blocks into a new buffer (uncached: file data and multi-block directory blocks).</summary>
        public void ReadBlocks(long block, int count, byte[] buffer, int index, string structure)
        {
            if (block < 0 || count < 0 || block > Superblock.DataBlocks - count)
            {
                throw new InvalidImageException(Where, structure, $"blocks [{block}, {block + count}) are outside the file system ({Superblock.DataBlocks} blocks).");
            }
            if (count == 1)
            {
                Buffer.BlockCopy(ReadBlock(block, structure), 0, buffer, index, Superblock.BlockSize);
                return;
            }
            device.Read(block * Superblock.BlockSize, buffer, index, count * Superblock.BlockSize);
        }

        /// <summary>Reads raw bytes inside the file system (file data).</summary>
        public void ReadBytes(long offset, byte[] buffer, int index, int count, string structure)
        {
            if (offset < 0 || count < 0 || offset > (Superblock.DataBlocks * Superblock.BlockSize) - count)
            {
                throw new InvalidImageException(Where, structure, $"bytes [{offset}, {offset + count}) are outside the file system.");
            }
            device.Read(offset, buffer, index, count);
        }

        /// <summary>Drops a cached block after the device under it was written.</summary>
        public void Forget(long block)
        {
            if (cache.TryGetValue(block, out LinkedListNode<KeyValuePair<long, byte[]>>? hit))
            {
                order.Remove(hit);
                cache.Remove(block);
            }
        }

        /// <summary>The inode's record, parsed and verified.</summary>
        public XfsInode ReadInode(ulong number, string structure)
        {
            long offset = Superblock.InodeByteOffset(number, Where, structure);
            long block = offset / Superblock.BlockSize;
            byte[] data = ReadBlock(block, structure);
            return XfsInode.Parse(data, (int)(offset % Superblock.BlockSize), number, Superblock, Where);
        }
    }
}
