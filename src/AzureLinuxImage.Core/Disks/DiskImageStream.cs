using System;
using System.IO;

namespace AzureLinuxImage.Disks
{
    /// <summary>
    /// A read-only, seekable view of a <see cref="DiskImage"/> as a given length: the
    /// virtual disk, then zeros up to the length (a disk being rounded up). For the few structure readers
    /// that take a Stream (the GPT relocation); data is read through <see cref="DiskImage.Read"/>.
    /// </summary>
    internal sealed class DiskImageStream : Stream
    {
        private readonly DiskImage image;
        private readonly long length;
        private long position;

        public DiskImageStream(DiskImage image, long length)
        {
            if (length < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(length));
            }
            this.image = image ?? throw new ArgumentNullException(nameof(image));
            this.length = length;
        }

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => position;
            set => position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
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
            int n = (int)Math.Max(0, Math.Min(count, length - position));
            int fromImage = (int)Math.Max(0, Math.Min(n, image.VirtualSize - position));
            if (fromImage > 0)
            {
                image.Read(position, buffer, offset, fromImage);
            }
            Array.Clear(buffer, offset + fromImage, n - fromImage);
            position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            Position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => position + offset,
                _ => length + offset,
            };
            return position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException("The disk image is read-only.");

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The disk image is read-only.");
    }
}
