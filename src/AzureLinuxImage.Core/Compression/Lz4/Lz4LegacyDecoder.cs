using System;

namespace AzureLinuxImage.Compression.Lz4
{
    /// <summary>
    /// The LZ4 legacy frame (lz4_Frame_format.md, "Legacy frame"), which the kernel's unlz4 reads for an
    /// initramfs: magic 0x184C2102, then independent blocks of at most 8 MiB output, each preceded by
    /// its compressed size; no end mark: the data ends at the end of the input, at a new legacy magic
    /// (another frame), or — inside an initramfs — at a size no block can have.
    /// </summary>
    internal sealed class Lz4LegacyDecoder : IDecoder
    {
        public const uint Magic = 0x184C2102;
        private const int BlockSize = 8 << 20;
        private const int MaxCompressed = BlockSize + (BlockSize / 255) + 16;

        private readonly InputBuffer input;
        private readonly string source;
        private readonly bool strict;
        private readonly int maxWindow;
        private byte[] compressed = Array.Empty<byte>();
        private byte[] output = Array.Empty<byte>();
        private int outPos;
        private int outEnd;
        private bool started;
        private bool done;

        public Lz4LegacyDecoder(InputBuffer input, DecompressionLimits limits, bool strict)
        {
            this.input = input;
            source = input.SourceName;
            this.strict = strict;
            maxWindow = limits.MaxWindowBytes;
        }

        public int Read(byte[] buffer, int offset, int count)
        {
            while (outPos == outEnd)
            {
                if (done || !NextBlock())
                {
                    done = true;
                    return 0;
                }
            }
            int n = Math.Min(count, outEnd - outPos);
            Buffer.BlockCopy(output, outPos, buffer, offset, n);
            outPos += n;
            return n;
        }

        private bool NextBlock()
        {
            if (!started)
            {
                if (input.ReadUInt32LittleEndian("LZ4 legacy magic") != Magic)
                {
                    throw CompressionErrors.Invalid(source, "LZ4 legacy magic", "the input does not start with 0x184C2102.");
                }
                if (maxWindow < BlockSize)
                {
                    throw CompressionErrors.LimitExceeded(source, $"LZ4 legacy blocks need {BlockSize} bytes of buffer, more than the limit of {maxWindow}");
                }
                started = true;
            }
            while (true)
            {
                uint? size = input.PeekUInt32LittleEndian();
                if (size == null)
                {
                    if (input.Available > 0 && strict)
                    {
                        throw CompressionErrors.Truncated(source, "LZ4 legacy block size");
                    }
                    return false;
                }
                if (size.Value == Magic)
                {
                    input.Skip(4);
                    continue;
                }
                if (size.Value == 0 || size.Value > MaxCompressed)
                {
                    if (strict)
                    {
                        throw CompressionErrors.Invalid(source, "LZ4 legacy block size", $"{size.Value} bytes is not a valid block size.");
                    }
                    return false;
                }
                input.Skip(4);
                int n = (int)size.Value;
                if (compressed.Length < n)
                {
                    compressed = new byte[Math.Max(n, Math.Min(MaxCompressed, compressed.Length * 2))];
                }
                input.ReadExactly(compressed, 0, n, "LZ4 legacy block");
                // A compressed byte expands to at most 255 bytes, so small blocks need small buffers.
                int bound = (int)Math.Min(BlockSize, ((long)n * 255) + 64);
                if (output.Length < bound)
                {
                    output = new byte[Math.Max(bound, Math.Min(BlockSize, output.Length * 2))];
                }
                outPos = 0;
                outEnd = Lz4Block.Decode(compressed, 0, n, output, 0, Math.Min(BlockSize, output.Length), 0, source);
                if (outEnd > 0)
                {
                    return true;
                }
            }
        }
    }
}
