using System;
using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Fat
{
    /// <summary>
    /// A file's content along its cluster chain. Reading forward follows the chain; seeking backwards
    /// starts the walk again. The chain may not be longer than the size needs, nor shorter.
    /// </summary>
    internal sealed class FatFileStream : Stream
    {
        private readonly BlockDevice device;
        private readonly FatBootSector boot;
        private readonly FatTable table;
        private readonly uint firstCluster;
        private readonly long length;
        private readonly string structure;
        private IEnumerator<uint>? chain;
        private long chainIndex = -1;   // index in the chain of chain.Current
        private long position;

        public FatFileStream(BlockDevice device, FatBootSector boot, FatTable table, uint firstCluster, long length, string structure)
        {
            this.device = device;
            this.boot = boot;
            this.table = table;
            this.firstCluster = firstCluster;
            this.length = length;
            this.structure = structure;
        }

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => position;
            set
            {
                if (value < 0)
                {
                    throw new ArgumentOutOfRangeException(nameof(value));
                }
                position = value;
            }
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (buffer == null)
            {
                throw new ArgumentNullException(nameof(buffer));
            }
            if (offset < 0 || count < 0 || offset > buffer.Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(count));
            }
            int want = (int)Math.Min(count, Math.Max(0, length - position));
            int done = 0;
            int clusterSize = boot.ClusterSize;
            while (done < want)
            {
                long index = position / clusterSize;
                int within = (int)(position % clusterSize);
                uint cluster = ClusterAt(index);
                int chunk = Math.Min(want - done, clusterSize - within);
                device.Read(boot.ClusterOffset(cluster) + within, buffer, offset + done, chunk);
                done += chunk;
                position += chunk;
            }
            return done;
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

        public override long Seek(long offset, SeekOrigin origin)
        {
            Position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => position + offset,
                SeekOrigin.End => length + offset,
                _ => throw new ArgumentOutOfRangeException(nameof(origin)),
            };
            return position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

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
