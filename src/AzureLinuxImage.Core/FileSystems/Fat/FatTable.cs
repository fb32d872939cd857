using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Fat
{
    /// <summary>
    /// The first FAT, read a sector at a time through a small cache (a FAT32 table can be hundreds of
    /// MiB; only the sectors a chain touches are read), and cluster chains walked with loop detection.
    /// </summary>
    internal sealed class FatTable
    {
        private const int CacheSectors = 64;

        private readonly BlockDevice device;
        private readonly FatBootSector boot;
        private readonly Dictionary<long, byte[]> cache = new Dictionary<long, byte[]>();
        private readonly Queue<long> order = new Queue<long>();

        public FatTable(BlockDevice device, FatBootSector boot)
        {
            this.device = device;
            this.boot = boot;
        }

        /// <summary>
        /// The cluster after <paramref name="cluster"/>, or 0 at the end of the chain. Free, reserved, bad
        /// and out-of-range values inside a chain are corruption.
        /// </summary>
        public uint Next(uint cluster, string structure)
        {
            CheckCluster(cluster, structure);
            uint value;
            uint endOfChain;
            switch (boot.Type)
            {
                case FatType.Fat12:
                    {
                        long offset = cluster + (cluster / 2);
                        uint pair = (uint)(ReadByte(offset) | (ReadByte(offset + 1) << 8));
                        value = (cluster & 1) != 0 ? pair >> 4 : pair & 0xFFF;
                        endOfChain = 0xFF8;
                        break;
                    }
                case FatType.Fat16:
                    value = (uint)(ReadByte(cluster * 2L) | (ReadByte((cluster * 2L) + 1) << 8));
                    endOfChain = 0xFFF8;
                    break;
                default:
                    {
                        long offset = cluster * 4L;
                        value = (uint)(ReadByte(offset) | (ReadByte(offset + 1) << 8) | (ReadByte(offset + 2) << 16) | (ReadByte(offset + 3) << 24)) & 0x0FFFFFFF;
                        endOfChain = 0x0FFFFFF8;
                        break;
                    }
            }
            if (value >= endOfChain)
            {
                return 0;
            }
            if (value < 2 || value >= boot.ClusterCount + 2)
            {
                throw new InvalidImageException(device.Description, structure, $"the FAT entry of cluster {cluster} is 0x{value:x} (free, reserved, bad or past the last cluster) inside a chain.");
            }
            return value;
        }

        public void CheckCluster(uint cluster, string structure)
        {
            if (cluster < 2 || cluster >= boot.ClusterCount + 2)
            {
                throw new InvalidImageException(device.Description, structure, $"cluster {cluster} is outside clusters 2..{boot.ClusterCount + 1}.");
            }
        }

        /// <summary>
        /// Walks a chain of at most <paramref name="maxClusters"/> clusters. Brent's cycle detection finds a
        /// loop in constant memory; the cap bounds the walk whatever the FAT says.
        /// </summary>
        public IEnumerable<uint> Chain(uint first, long maxClusters, string structure)
        {
            CheckCluster(first, structure);
            uint current = first;
            uint tortoise = first;
            long power = 1;
            long lambda = 0;
            long count = 0;
            while (current != 0)
            {
                if (++count > maxClusters)
                {
                    throw new InvalidImageException(device.Description, structure, $"the cluster chain is longer than the {maxClusters} clusters its size allows (a loop or a cross-link).");
                }
                yield return current;
                uint next = Next(current, structure);
                if (next == 0)
                {
                    yield break;
                }
                if (next == tortoise)
                {
                    throw new InvalidImageException(device.Description, structure, $"the cluster chain loops back to cluster {next}.");
                }
                if (++lambda == power)
                {
                    tortoise = next;
                    power *= 2;
                    lambda = 0;
                }
                current = next;
            }
        }

        private byte ReadByte(long offset)
        {
            if (offset >= boot.FatBytes)
            {
                throw new InvalidImageException(device.Description, "FAT", $"entry byte {offset} is past the end of the FAT ({boot.FatBytes} bytes).");
            }
            long sector = offset / boot.BytesPerSector;
            if (!cache.TryGetValue(sector, out byte[]? data))
            {
                if (cache.Count >= CacheSectors)
                {
                    cache.Remove(order.Dequeue());
                }
                data = new byte[boot.BytesPerSector];
                device.Read(boot.FatOffset + (sector * boot.BytesPerSector), data, 0, data.Length);
                cache[sector] = data;
                order.Enqueue(sector);
            }
            return data[offset % boot.BytesPerSector];
        }
    }
}
