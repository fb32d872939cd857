using System;
using System.Buffers;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace AzureLinuxImage.Compression.Zstd
{
    /// <summary>
    /// Zstandard (RFC 8878) on ZstdSharp. This class walks the frame structure itself — magic numbers,
    /// skippable frames (3.1.2), the frame header (3.1.1.1: window size checked against
    /// <see cref="DecompressionLimits.MaxWindowBytes"/>, dictionaries refused), block headers (3.1.1.2)
    /// and the checksum — and hands ZstdSharp exactly the bytes of each part, never one past the frame:
    /// an initramfs part ends where its last frame ends and the next archive starts right after.
    /// ZstdSharp decodes the blocks and verifies content size and checksum.
    /// </summary>
    internal sealed class ZstdDecoder : IDecoder
    {
        public const uint FrameMagic = 0xFD2FB528;
        private const int MaxBlockSize = 128 * 1024;

        private readonly InputBuffer input;
        private readonly string source;
        private readonly int maxWindow;
        private readonly bool strict;
        private readonly Decompressor decompressor = new Decompressor();

        private bool inFrame;
        private bool lastBlockSeen;
        private bool done;
        private int framesSeen;
        private int blockMax;
        private bool hasChecksum;
        private long partLeft;
        private bool pending;
        private OperationStatus lastStatus = OperationStatus.Done;

        /// <param name="input">Positioned at the first frame.</param>
        /// <param name="limits">The window cap.</param>
        /// <param name="strict">When true the input must be zstd frames to its end; otherwise decoding stops before the first byte that starts no frame (initramfs parts).</param>
        public ZstdDecoder(InputBuffer input, DecompressionLimits limits, bool strict)
        {
            this.input = input;
            source = input.SourceName;
            maxWindow = limits.MaxWindowBytes;
            this.strict = strict;
            int windowLog = 10;
            while (windowLog < 31 && (1L << windowLog) < maxWindow)
            {
                windowLog++;
            }
            decompressor.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, windowLog);
        }

        public static bool IsSkippableMagic(uint magic) => (magic & 0xFFFFFFF0u) == 0x184D2A50u;

        public int Read(byte[] buffer, int offset, int count)
        {
            if (count == 0)
            {
                return 0;
            }
            while (!done)
            {
                if (partLeft > 0 || pending)
                {
                    int written = Feed(buffer, offset, count);
                    if (written > 0)
                    {
                        return written;
                    }
                    continue;
                }
                if (!NextPart())
                {
                    done = true;
                }
            }
            return 0;
        }

        /// <summary>Passes the current part's buffered bytes (or none, to flush) to ZstdSharp; returns the bytes it wrote.</summary>
        private int Feed(byte[] buffer, int offset, int count)
        {
            int available = 0;
            if (partLeft > 0)
            {
                available = (int)Math.Min(partLeft, input.Fill(1));
                if (available == 0)
                {
                    throw CompressionErrors.Truncated(source, "zstd block");
                }
            }
            OperationStatus status = decompressor.UnwrapStream(new ReadOnlySpan<byte>(input.Buffer, input.Offset, available),
                new Span<byte>(buffer, offset, count), out int consumed, out int written);
            if (status == OperationStatus.InvalidData)
            {
                // ZstdSharp names no cause; the part being fed says which structure failed.
                bool checksum = lastBlockSeen && hasChecksum && partLeft - consumed <= 4;
                throw checksum
                    ? CompressionErrors.Invalid(source, "zstd content checksum", "the XXH64 of the content does not match the stored checksum: the data is corrupt.")
                    : CompressionErrors.Invalid(source, lastBlockSeen || partLeft > 0 ? "zstd block" : "zstd frame", "the compressed data is corrupt.");
            }
            input.Skip(consumed);
            partLeft -= consumed;
            lastStatus = status;
            // Output may still be held inside ZstdSharp while the destination was full.
            pending = written == count || consumed < available;
            return written;
        }

        /// <summary>Finds the next part to hand over: a frame header, a block, or nothing at the end.</summary>
        private bool NextPart()
        {
            if (inFrame)
            {
                if (lastBlockSeen)
                {
                    if (lastStatus != OperationStatus.Done)
                    {
                        throw CompressionErrors.Invalid(source, "zstd frame", "the frame ended before ZstdSharp finished it.");
                    }
                    inFrame = false;
                    return true;
                }
                BlockHeader();
                return true;
            }
            uint? magic = input.PeekUInt32LittleEndian();
            if (magic == null)
            {
                if (input.Available > 0 && strict)
                {
                    throw CompressionErrors.Truncated(source, "zstd frame magic number");
                }
                if (framesSeen == 0)
                {
                    throw CompressionErrors.Invalid(source, "zstd frame", "the input holds no zstd frame.");
                }
                return false;
            }
            if (IsSkippableMagic(magic.Value))
            {
                input.Skip(4);
                uint size = input.ReadUInt32LittleEndian("zstd skippable frame size");
                input.SkipExactly(size, "zstd skippable frame");
                framesSeen++;
                return true;
            }
            if (magic.Value != FrameMagic)
            {
                if (strict || framesSeen == 0)
                {
                    throw CompressionErrors.Invalid(source, "zstd frame magic number", $"0x{magic.Value:X8} is not a zstd frame (0x{FrameMagic:X8}) or a skippable frame.");
                }
                return false;
            }
            partLeft = FrameHeaderLength();
            framesSeen++;
            inFrame = true;
            lastBlockSeen = false;
            return true;
        }

        /// <summary>Checks the frame header (RFC 8878 3.1.1.1) without consuming it; returns its length with the magic number.</summary>
        private int FrameHeaderLength()
        {
            const string S = "zstd frame header";
            int descriptorAt = 4;
            int descriptor = Peek(descriptorAt, S);
            int fcsFlag = descriptor >> 6;
            bool singleSegment = (descriptor & 0x20) != 0;
            if ((descriptor & 0x08) != 0)
            {
                throw CompressionErrors.Invalid(source, S, "the reserved bit of the frame header descriptor is set.");
            }
            hasChecksum = (descriptor & 0x04) != 0;
            int dictIdSize = (descriptor & 3) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 };
            int at = descriptorAt + 1;
            long windowSize = 0;
            if (!singleSegment)
            {
                int wd = Peek(at++, S);
                long windowBase = 1L << (10 + (wd >> 3));
                windowSize = windowBase + ((windowBase / 8) * (wd & 7));
            }
            uint dictId = 0;
            for (int i = 0; i < dictIdSize; i++)
            {
                dictId |= (uint)Peek(at++, S) << (8 * i);
            }
            int fcsSize = fcsFlag switch { 0 => singleSegment ? 1 : 0, 1 => 2, 2 => 4, _ => 8 };
            ulong fcs = 0;
            for (int i = 0; i < fcsSize; i++)
            {
                fcs |= (ulong)Peek(at++, S) << (8 * i);
            }
            if (fcsSize == 2)
            {
                fcs += 256;
            }
            if (dictId != 0)
            {
                throw CompressionErrors.Unsupported(source, $"the zstd frame needs dictionary {dictId}; dictionaries are not supported.");
            }
            if (singleSegment)
            {
                windowSize = fcs > long.MaxValue ? long.MaxValue : (long)fcs;
            }
            if (windowSize > maxWindow)
            {
                throw CompressionErrors.LimitExceeded(source, $"the zstd frame needs a window of {windowSize} bytes, more than the limit of {maxWindow}");
            }
            blockMax = (int)Math.Min(windowSize, MaxBlockSize);
            return at;
        }

        /// <summary>Checks a block header (RFC 8878 3.1.1.2) without consuming it; the part is the header and the block's bytes.</summary>
        private void BlockHeader()
        {
            const string S = "zstd block header";
            uint header = (uint)(Peek(0, S) | (Peek(1, S) << 8) | (Peek(2, S) << 16));
            bool last = (header & 1) != 0;
            int type = (int)((header >> 1) & 3);
            int size = (int)(header >> 3);
            if (type == 3)
            {
                throw CompressionErrors.Invalid(source, S, "block type 3 is reserved.");
            }
            if (size > blockMax)
            {
                string kind = type switch { 0 => "raw", 1 => "RLE", _ => "compressed" };
                throw CompressionErrors.Invalid(source, S, $"a {kind} block of {size} bytes exceeds the block maximum {blockMax}.");
            }
            partLeft = 3 + (type == 1 ? 1 : size) + (last && hasChecksum ? 4 : 0);
            lastBlockSeen = last;
        }

        private int Peek(int index, string structure)
        {
            int b = input.PeekByte(index);
            if (b < 0)
            {
                throw CompressionErrors.Truncated(source, structure);
            }
            return b;
        }
    }
}
