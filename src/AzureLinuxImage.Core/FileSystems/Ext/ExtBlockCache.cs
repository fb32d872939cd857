using System.Collections.Generic;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// A small least-recently-used cache of metadata blocks (inode tables, extent and indirect blocks,
    /// directories), bounded in bytes whatever the file system's size. Blocks are stored after their
    /// checksum was verified, so a hit needs no second check.
    /// </summary>
    internal sealed class ExtBlockCache
    {
        private const int BudgetBytes = 8 << 20;

        private readonly BlockDevice device;
        private readonly int blockSize;
        private readonly int capacity;
        private readonly Dictionary<long, LinkedListNode<KeyValuePair<long, byte[]>>> map = new Dictionary<long, LinkedListNode<KeyValuePair<long, byte[]>>>();
        private readonly LinkedList<KeyValuePair<long, byte[]>> order = new LinkedList<KeyValuePair<long, byte[]>>();

        public ExtBlockCache(BlockDevice device, int blockSize)
        {
            this.device = device;
            this.blockSize = blockSize;
            capacity = System.Math.Max(16, BudgetBytes / blockSize);
        }

        /// <summary>Drops a block that was written (the writer's staged bytes must be seen on the next read).</summary>
        public void Remove(long block)
        {
            if (map.TryGetValue(block, out var node))
            {
                order.Remove(node);
                map.Remove(block);
            }
        }

        /// <summary>The block, from the cache or read and passed through <paramref name="verify"/> first.</summary>
        public byte[] Get(long block, System.Action<byte[]>? verify = null)
        {
            if (map.TryGetValue(block, out var node))
            {
                order.Remove(node);
                order.AddFirst(node);
                return node.Value.Value;
            }
            var data = new byte[blockSize];
            device.Read(block * blockSize, data, 0, blockSize);
            verify?.Invoke(data);
            if (map.Count >= capacity)
            {
                var last = order.Last!;
                order.RemoveLast();
                map.Remove(last.Value.Key);
            }
            map[block] = order.AddFirst(new KeyValuePair<long, byte[]>(block, data));
            return data;
        }
    }
}
