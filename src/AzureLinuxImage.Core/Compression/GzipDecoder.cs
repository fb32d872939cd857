using System;
using System.IO;
using System.IO.Compression;

namespace AzureLinuxImage.Compression
{
    /// <summary>
    /// gzip (RFC 1952) through the BCL's GZipStream, which reads concatenated members on .NET Core 3.0
    /// and later. GZipStream reads ahead, so a gzip part consumes the rest of its input: in an
    /// initramfs it must be the last part. Its InvalidDataException becomes an InvalidImageException.
    /// </summary>
    internal sealed class GzipDecoder : IDecoder
    {
        private readonly GZipStream gzip;
        private readonly string source;

        public GzipDecoder(InputBuffer input)
        {
            source = input.SourceName;
            if (input.Fill(2) < 2 || input.Buffer[input.Offset] != 0x1F || input.Buffer[input.Offset + 1] != 0x8B)
            {
                throw CompressionErrors.Invalid(source, "gzip header", "the input does not start with the gzip magic 1F 8B.");
            }
            gzip = new GZipStream(new InputBufferStream(input), CompressionMode.Decompress, leaveOpen: true);
        }

        public int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return gzip.Read(buffer, offset, count);
            }
            catch (InvalidDataException e)
            {
                throw new Errors.InvalidImageException(source, "gzip stream", e.Message, e);
            }
        }
    }
}
