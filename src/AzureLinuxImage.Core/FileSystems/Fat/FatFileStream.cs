using System;
using System.Collections.Generic;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Fat
{
    /// <summary>
    /// A file's content along its cluster chain. Reading forward follows the chain; seeking backwards
    /// starts the walk again. The chain may not be longer than the size needs, nor shorter.
    /// </summary>
    internal sealed class FatFileStream : FileContentStream
    {
        private readonly BlockDevice device;
        private readonly FatBootSector boot;
        private readonly FatTable table;
        private readonly uint firstCluster;
        private readonly long length;
        private readonly string structure;
        private IEnumerator<uint>? chain;
        private long chainIndex = -1;   // index in the chain of chain.Current

        public FatFileStream(BlockDevice device, FatBootSector boot, FatTable table, uint firstCluster, long length, string structure)
            : base(length)
        {
            this.device = device;
            this.boot = boot;
            this.table = table;
            this.firstCluster = firstCluster;
            this.length = length;
            this.structure = structure;
        }

        protected override void ReadCore(long at, byte[] buffer, int offset, int count)
        {
            int done = 0;
            int clusterSize = boot.ClusterSize;
            while (done < count)
            {
                long index = at / clusterSize;
                int within = (int)(at % clusterSize);
                uint cluster = ClusterAt(index);
                int chunk = Math.Min(count - done, clusterSize - within);
                device.Read(boot.ClusterOffset(cluster) + within, buffer, offset + done, chunk);
                done += chunk;
                at += chunk;
            }
        }

        private uint ClusterAt(long index)
        {
            if (chain == null || index < chainIndex)
            {
                chain?.Dispose();
                long needed = (length + boot.ClusterSize - 1) / boot.ClusterSize;
                chain = table.Chain(firstCluster, needed, structure).GetEnumerator();
                chainIndex = -1;
            }
            while (chainIndex < index)
            {
                if (!chain.MoveNext())
                {
                    throw new InvalidImageException(device.Description, structure, $"the cluster chain ends after {chainIndex + 1} clusters, short of the file's {length} bytes.");
                }
                chainIndex++;
            }
            return chain.Current;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                chain?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
