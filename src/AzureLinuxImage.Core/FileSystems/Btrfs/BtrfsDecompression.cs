using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Compression.Lzo;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// The three compressions an extent may use (fs/btrfs/{zlib,lzo,zstd}.c formats): a zlib stream (inflated by
    /// the BCL), btrfs's LZO framing around LZO1X blocks, and a zstd frame (the project's zstd decoder).
    /// The output is exactly the buffer given (the extent's ram_bytes); short output leaves zeros, as the kernel does.
    /// </summary>
    internal static class BtrfsDecompression
    {
        public static void Decompress(byte compression, ReadOnlySpan<byte> compressed, byte[] output, int sectorSize, string where, string structure)
        {
            switch (compression)
            {
                case BtrfsFileExtent.CompressZlib:
                    Zlib(compressed, output, where, structure);
                    break;
                case BtrfsFileExtent.CompressLzo:
                    Lzo(compressed, output, sectorSize, where, structure);
                    break;
                case BtrfsFileExtent.CompressZstd:
                    Zstd(compressed, output, where);
                    break;
                default:
                    throw new InvalidImageException(where, structure, $"compression {compression} is not zlib, lzo or zstd.");
            }
        }

        /// <summary>RFC 1950 header (deflate, no preset dictionary), then raw deflate; the Adler-32 trailer is not needed.</summary>
        private static void Zlib(ReadOnlySpan<byte> compressed, byte[] output, string where, string structure)
        {
            if (compressed.Length < 2 || (compressed[0] & 0x0F) != 8 || ((compressed[0] << 8) | compressed[1]) % 31 != 0 || (compressed[1] & 0x20) != 0)
            {
                throw new InvalidImageException(where, structure, "the zlib header is not deflate without a preset dictionary.");
            }
            try
            {
                using var source = new MemoryStream(compressed.Slice(2).ToArray(), false);
                using var inflater = new DeflateStream(source, CompressionMode.Decompress);
                Fill(inflater.Read, output);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidImageException(where, structure, $"the zlib data is damaged ({e.Message}).", e);
            }
        }

        /// <summary>
        /// A LE32 total length (header included), then segments: LE32 length and an LZO1X block of at most one sector
        /// of output. A segment header never straddles a sector; fewer than 4 bytes left in a sector are padding.
        /// </summary>
        private static void Lzo(ReadOnlySpan<byte> compressed, byte[] output, int sectorSize, string where, string structure)
        {
            if (compressed.Length < 4)
            {
                throw new InvalidImageException(where, structure, "the LZO extent is shorter than its length header.");
            }
            uint total = BinaryPrimitives.ReadUInt32LittleEndian(compressed);
            if (total < 4 || total > (uint)compressed.Length)
            {
                throw new InvalidImageException(where, structure, $"the LZO extent says it is {total} bytes long, but {compressed.Length} are stored.");
            }
            var segment = new byte[sectorSize];
            int at = 4;
            int produced = 0;
            while (at < total && produced < output.Length)
            {
                int left = sectorSize - (at % sectorSize);
                if (left < 4)
                {
                    at += left;
                    if (at >= total)
                    {
                        break;
                    }
                }
                if (total - at < 4)
                {
                    throw new InvalidImageException(where, structure, $"an LZO segment header at {at} runs past the extent's {total} bytes.");
                }
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(compressed.Slice(at));
                at += 4;
                if (length == 0 || length > total - (uint)at)
                {
                    throw new InvalidImageException(where, structure, $"an LZO segment of {length} bytes at {at} does not fit the extent's {total} bytes.");
                }
                int n = Lzo1xBlock.Decompress(compressed.Slice(at, (int)length), segment, $"{where}: {structure}");
                int take = Math.Min(n, output.Length - produced);
                Buffer.BlockCopy(segment, 0, output, produced, take);
                produced += take;
                at += (int)length;
            }
        }

        private static void Zstd(ReadOnlySpan<byte> compressed, byte[] output, string where)
        {
            using var source = new MemoryStream(compressed.ToArray(), false);
            // The kernel writes windows of at most 2^17; 8 MiB leaves room without letting an input choose more.
            var limits = new DecompressionLimits(output.Length, 8 << 20);
            IDecoder decoder = Decompressors.CreateDecoder(CompressionFormat.Zstd, new InputBuffer(source, where, 4096), limits, strict: false);
            Fill(decoder.Read, output);
        }

        private static void Fill(Func<byte[], int, int, int> read, byte[] output)
        {
            int done = 0;
            while (done < output.Length)
            {
                int n = read(output, done, output.Length - done);
                if (n <= 0)
                {
                    break;
                }
                done += n;
            }
        }
    }
}
