using System;
using System.IO;

namespace AzureLinuxImage.Compression
{
    /// <summary>
    /// The read-only stream every decoder is exposed as. It counts the output against
    /// <see cref="DecompressionLimits.MaxOutputBytes"/> so no input can make a caller read without end.
    /// </summary>
    internal sealed class DecompressionStream : Stream
    {
        private readonly IDecoder decoder;
        private readonly Stream? owned;
        private readonly long maxOutput;
        private readonly string sourceName;
        private long produced;

        public DecompressionStream(IDecoder decoder, DecompressionLimits limits, string sourceName, Stream? owned = null)
        {
            this.decoder = decoder;
            this.owned = owned;
            maxOutput = limits.MaxOutputBytes;
            this.sourceName = sourceName;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => produced;
            set => throw new NotSupportedException();
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
            if (count == 0)
            {
                return 0;
            }
            // Ask for one byte more than allowed so reaching the limit exactly is not an error.
            long room = maxOutput - produced;
            int ask = (int)Math.Min(count, room + 1);
            int n = decoder.Read(buffer, offset, ask);
            if (n > room)
            {
                throw CompressionErrors.LimitExceeded(sourceName, $"the decompressed data exceeds the limit of {maxOutput} bytes");
            }
            produced += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                owned?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
