using System;
using System.IO;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>
    /// The read-only, seekable Stream plumbing every file system's file content shares: argument checks,
    /// position, seeking, nothing past <see cref="Stream.Length"/>. A subclass maps file offsets to the device.
    /// </summary>
    internal abstract class FileContentStream : Stream
    {
        private readonly long length;
        private long position;

        protected FileContentStream(long length)
        {
            this.length = length;
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

        public sealed override int Read(byte[] buffer, int offset, int count)
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
            int want = (int)Math.Min(count, length - position);
            ReadCore(position, buffer, offset, want);
            position += want;
            return want;
        }

        /// <summary>Fills exactly <paramref name="count"/> bytes of file content at <paramref name="at"/>, all inside the file.</summary>
        protected abstract void ReadCore(long at, byte[] buffer, int offset, int count);

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
    }
}
