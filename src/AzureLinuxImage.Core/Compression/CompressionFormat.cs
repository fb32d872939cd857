using System;
using System.IO;
using AzureLinuxImage.Compression.Zstd;

namespace AzureLinuxImage.Compression
{
    /// <summary>The compressions an initramfs (or a kernel module) may use, recognised by their magic numbers.</summary>
    internal enum CompressionFormat
    {
        None,
        Gzip,
        Zstd,
        Xz,
        Lzma,
        Lz4Legacy,
        Lz4Frame,
        Bzip2,
    }

    /// <summary>Detection by content and the one place that opens a decoder for a format.</summary>
    internal static class Decompressors
    {
        /// <summary>Recognises a compressed stream by its first bytes (the same magics the kernel's decompress_method() uses).</summary>
        public static CompressionFormat Detect(ReadOnlySpan<byte> head)
        {
            if (head.Length >= 2 && head[0] == 0x1F && (head[1] == 0x8B || head[1] == 0x9E))
            {
                return CompressionFormat.Gzip;
            }
            if (head.Length >= 4)
            {
                uint magic = (uint)(head[0] | (head[1] << 8) | (head[2] << 16) | (head[3] << 24));
                if (magic == ZstdDecoder.FrameMagic || ZstdDecoder.IsSkippableMagic(magic))
                {
                    return CompressionFormat.Zstd;
                }
                if (magic == 0x184C2102)
                {
                    return CompressionFormat.Lz4Legacy;
                }
                if (magic == 0x184D2204)
                {
                    return CompressionFormat.Lz4Frame;
                }
            }
            if (head.Length >= 6 && head[0] == 0xFD && head[1] == (byte)'7' && head[2] == (byte)'z' && head[3] == (byte)'X' && head[4] == (byte)'Z' && head[5] == 0)
            {
                return CompressionFormat.Xz;
            }
            if (head.Length >= 4 && head[0] == (byte)'B' && head[1] == (byte)'Z' && head[2] == (byte)'h' && head[3] >= (byte)'1' && head[3] <= (byte)'9')
            {
                return CompressionFormat.Bzip2;
            }
            // LZMA-alone: properties byte 0x5D (lc=3 lp=0 pb=2) and a dictionary size below 4 GiB, as the kernel tests.
            if (head.Length >= 3 && head[0] == 0x5D && head[1] == 0 && head[2] == 0)
            {
                return CompressionFormat.Lzma;
            }
            return CompressionFormat.None;
        }

        /// <summary>Creates the decoder for <paramref name="format"/> reading from <paramref name="input"/>.</summary>
        public static IDecoder CreateDecoder(CompressionFormat format, InputBuffer input, DecompressionLimits limits, bool strict)
        {
            switch (format)
            {
                case CompressionFormat.Zstd:
                    return new ZstdDecoder(input, limits, strict);
                case CompressionFormat.Xz:
                    return new Xz.XzDecoder(input, limits, strict);
                case CompressionFormat.Lzma:
                    return new Xz.LzmaAloneDecoder(input, limits);
                case CompressionFormat.Lz4Legacy:
                    return new Lz4.Lz4LegacyDecoder(input, limits, strict);
                case CompressionFormat.Lz4Frame:
                    return new Lz4.Lz4FrameDecoder(input, limits, strict);
                case CompressionFormat.Bzip2:
                    return new Bzip2.Bzip2Decoder(input, limits, strict);
                case CompressionFormat.Gzip:
                    return new Gzip.GzipDecoder(input, strict);
                default:
                    throw new ArgumentOutOfRangeException(nameof(format), format, "no decoder");
            }
        }

        /// <summary>
        /// Opens <paramref name="data"/> decompressed according to its magic number (a kernel module
        /// .ko.xz/.ko.zst/.ko.gz, a compressed firmware file); data in no known compression is returned as read.
        /// </summary>
        public static Stream OpenDetected(Stream data, DecompressionLimits limits, string sourceName, out CompressionFormat format)
        {
            var input = new InputBuffer(data, sourceName);
            int have = input.Fill(16);
            format = Detect(new ReadOnlySpan<byte>(input.Buffer, input.Offset, have));
            IDecoder decoder = format == CompressionFormat.None ? new PassThrough(input) : CreateDecoder(format, input, limits, strict: true);
            return new DecompressionStream(decoder, limits, sourceName, data);
        }

        private sealed class PassThrough : IDecoder
        {
            private readonly InputBuffer input;

            public PassThrough(InputBuffer input) => this.input = input;

            public int Read(byte[] buffer, int offset, int count) => input.ReadSome(buffer, offset, count);
        }

        /// <summary>Opens a read-only decompressing stream over a whole compressed file (strict: nothing but the format to its end).</summary>
        public static Stream Open(Stream compressed, CompressionFormat format, DecompressionLimits limits, string sourceName)
        {
            var input = new InputBuffer(compressed, sourceName);
            return new DecompressionStream(CreateDecoder(format, input, limits, strict: true), limits, sourceName);
        }
    }
}
