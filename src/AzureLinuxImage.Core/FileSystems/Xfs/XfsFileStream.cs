using System;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>
    /// Read-only, seekable content of a regular file: mapped blocks are read from the device, holes and
    /// unwritten (preallocated) extents read as zeros, and nothing is returned past di_size.
    /// </summary>
    internal sealed class XfsFileStream : FileContentStream
    {
        private readonly XfsVolume volume;
        private readonly XfsExtentMap map;
        private readonly string structure;

        public XfsFileStream(XfsVolume volume, XfsExtentMap map, long length, ulong inode)
            : base(length)
        {
            this.volume = volume;
            this.map = map;
            structure = $"XFS inode {inode} data";
        }

        protected override void ReadCore(long at, byte[] buffer, int offset, int count)
        {
            int blockSize = volume.Superblock.BlockSize;
            int blockLog = volume.Superblock.BlockLog;
            int done = 0;
            while (done < count)
            {
                long logical = at >> blockLog;
                int within = (int)(at & (blockSize - 1));
                int index = map.Find(logical);
                int chunk;
                if (index < 0)
                {
                    // A hole: zeros up to the next extent (or the end of the request).
                    int next = ~index;
                    long holeEnd = next < map.Extents.Count ? map.Extents[next].Logical << blockLog : long.MaxValue;
                    chunk = (int)Math.Min(count - done, holeEnd - at);
                    Array.Clear(buffer, offset + done, chunk);
                }
                else
                {
                    XfsExtent e = map.Extents[index];
                    long extentEnd = (e.Logical + e.Count) << blockLog;
                    chunk = (int)Math.Min(count - done, extentEnd - at);
                    if (e.Unwritten)
                    {
                        Array.Clear(buffer, offset + done, chunk);
                    }
                    else
                    {
                        long physical = ((e.Physical + (logical - e.Logical)) << blockLog) + within;
                        volume.ReadBytes(physical, buffer, offset + done, chunk, structure);
                    }
                }
                done += chunk;
                at += chunk;
            }
        }
    }
}
