using System;
using System.IO;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>
    /// Read-only, seekable content of a regular file: mapped blocks are read from the device, holes and
    /// unwritten (preallocated) extents read as zeros, and nothing is returned past di_size.
    /// </summary>
    internal sealed class XfsFileStream : Stream
    {
        private readonly XfsVolume volume;
        private readonly XfsExtentMap map;
        private readonly long length;
        private readonly string structure;
        private long position;

        public XfsFileStream(XfsVolume volume, XfsExtentMap map, long length, ulong inode)
        {
            this.volume = volume;
            this.map = map;
            this.length = length;
            structure = $"XFS inode {inode} data";
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
            if (position >= length || count == 0)
            {
                return 0;
            }
            int blockSize = volume.Superblock.BlockSize;
            int blockLog = volume.Superblock.BlockLog;
            int want = (int)Math.Min(count, length - position);
            int done = 0;
            while (done < want)
            {
                long logical = position >> blockLog;
                int within = (int)(position & (blockSize - 1));
                int index = map.Find(logical);
                int chunk;
                if (index < 0)
                {
                    // A hole: zeros up to the next extent (or the end of the request).
                    int next = ~index;
                    long holeEnd = next < map.Extents.Count ? map.Extents[next].Logical << blockLog : long.MaxValue;
                    chunk = (int)Math.Min(want - done, holeEnd - position);
                    Array.Clear(buffer, offset + done, chunk);
                }
                else
                {
                    XfsExtent e = map.Extents[index];
                    long extentEnd = (e.Logical + e.Count) << blockLog;
                    chunk = (int)Math.Min(want - done, extentEnd - position);
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
                position += chunk;
            }
            return done;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long target = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => position + offset,
                SeekOrigin.End => length + offset,
                _ => throw new ArgumentOutOfRangeException(nameof(origin)),
            };
            Position = target;
            return position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
