using System;
using System.IO;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>A file's content, read on demand through its block map; holes and unwritten extents read as zeros.</summary>
    internal sealed class ExtFileStream : Stream
    {
        private readonly ExtFileSystem fs;
        private readonly BlockDevice device;
        private readonly ExtBlockMap map;
        private readonly long length;
        private long position;

        public ExtFileStream(ExtFileSystem fs, BlockDevice device, ExtInode inode)
        {
            this.fs = fs;
            this.device = device;
            map = ExtBlockMap.For(fs, inode);
            length = inode.Size;
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
            if (offset < 0 || count < 0 || count > buffer.Length - offset)
            {
                throw new ArgumentOutOfRangeException(nameof(count));
            }
            int done = 0;
            int bs = fs.BlockSize;
            while (done < count && position < length)
            {
                long logical = position / bs;
                int within = (int)(position % bs);
                long physical = map.Map(logical, out long run);
                long available = Math.Min(run * bs - within, length - position);
                int n = (int)Math.Min(count - done, available);
                if (physical == ExtBlockMap.Hole)
                {
                    Array.Clear(buffer, offset + done, n);
                }
                else
                {
                    device.Read((physical * bs) + within, buffer, offset + done, n);
                }
                done += n;
                position += n;
            }
            return done;
        }

        /// <summary>Fills <paramref name="buffer"/> from the start of the file.</summary>
        public void ReadExactlyInto(byte[] buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                int n = Read(buffer, done, buffer.Length - done);
                if (n == 0)
                {
                    throw fs.Bad("file data", "the file ended early.");
                }
                done += n;
            }
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long target = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? position + offset : length + offset;
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
