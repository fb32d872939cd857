using System;
using System.IO;

namespace AzureLinuxImage.Compression
{
    /// <summary>The rest of an <see cref="InputBuffer"/> as a read-only stream (for decoders built on the BCL, such as GZipStream).</summary>
    internal sealed class InputBufferStream : Stream
    {
        private readonly InputBuffer input;

        public InputBufferStream(InputBuffer input) => this.input = input;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => input.Position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => input.ReadSome(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
