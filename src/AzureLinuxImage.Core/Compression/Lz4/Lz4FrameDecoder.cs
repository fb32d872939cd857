using System;
using System.IO.Hashing;

namespace AzureLinuxImage.Compression.Lz4
{
    /// <summary>
    /// The LZ4 frame format (lz4_Frame_format.md): magic 0x184D2204, frame descriptor with its XXH32
    /// header checksum, blocks (compressed or stored, optional XXH32 each, linked or independent with a
    /// 64 KiB history), the end mark and the optional XXH32 content checksum; skippable frames and
    /// concatenated frames. Dictionary ids are refused.
    /// </summary>
    internal sealed class Lz4FrameDecoder : IDecoder
    {
        public const uint Magic = 0x184D2204;
        private const int History = 64 * 1024;

        private readonly InputBuffer input;
        private readonly string source;
        private readonly bool strict;
        private readonly int maxWindow;
        private readonly XxHash32 contentHash = new XxHash32();
        private byte[] compressed = Array.Empty<byte>();
        private byte[] output = Array.Empty<byte>();
        private int outPos;
        private int outEnd;
        private int historyStart;
        private bool inFrame;
        private int frames;
        private bool done;
        private bool independent;
        private bool blockChecksum;
        private bool contentChecksum;
        private long? contentSize;
        private long produced;
        private int blockMax;

        public Lz4FrameDecoder(InputBuffer input, DecompressionLimits limits, bool strict)
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
                if (done || !Next())
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

        private bool Next()
        {
            if (!inFrame)
            {
                uint? magic = input.PeekUInt32LittleEndian();
                if (magic == null || (magic.Value != Magic && (magic.Value & 0xFFFFFFF0u) != 0x184D2A50u))
                {
                    if (frames == 0)
                    {
                        throw CompressionErrors.Invalid(source, "LZ4 frame magic", "the input does not start with an LZ4 frame (0x184D2204).");
                    }
                    if (strict && (magic != null || input.Available > 0))
                    {
                        throw CompressionErrors.Invalid(source, "LZ4 frame magic", "data after the last frame is not another LZ4 frame.");
                    }
                    return false;
                }
                input.Skip(4);
                frames++;
                if (magic.Value != Magic)
                {
                    uint size = input.ReadUInt32LittleEndian("LZ4 skippable frame size");
                    input.SkipExactly(size, "LZ4 skippable frame");
                    return true;
                }
                ReadDescriptor();
                inFrame = true;
                return true;
            }
            return NextBlock();
        }

        private void ReadDescriptor()
        {
            const string S = "LZ4 frame descriptor";
            var d = new byte[14];
            d[0] = input.ReadByte(S);
            d[1] = input.ReadByte(S);
            int flg = d[0], bd = d[1];
            if ((flg >> 6) != 1)
            {
                throw CompressionErrors.Unsupported(source, $"LZ4 frame version {flg >> 6} (only version 01 is defined).");
            }
            if ((flg & 0x02) != 0 || (bd & 0x8F) != 0)
            {
                throw CompressionErrors.Invalid(source, S, "reserved bits are set.");
            }
            int code = (bd >> 4) & 7;
            if (code < 4)
            {
                throw CompressionErrors.Invalid(source, S, $"block maximum size code {code} is undefined.");
            }
            blockMax = 1 << (8 + (2 * code));
            if (blockMax > maxWindow)
            {
                throw CompressionErrors.LimitExceeded(source, $"LZ4 blocks of {blockMax} bytes exceed the window limit of {maxWindow}");
            }
            independent = (flg & 0x20) != 0;
            blockChecksum = (flg & 0x10) != 0;
            contentChecksum = (flg & 0x04) != 0;
            int n = 2;
            contentSize = null;
            if ((flg & 0x08) != 0)
            {
                ulong size = 0;
                for (int i = 0; i < 8; i++)
                {
                    d[n] = input.ReadByte(S);
                    size |= (ulong)d[n++] << (8 * i);
                }
                contentSize = size > long.MaxValue ? long.MaxValue : (long)size;
            }
            if ((flg & 0x01) != 0)
            {
                throw CompressionErrors.Unsupported(source, "the LZ4 frame needs a dictionary; dictionaries are not supported.");
            }
            byte hc = input.ReadByte(S);
            byte expected = (byte)(XxHash32.HashToUInt32(new ReadOnlySpan<byte>(d, 0, n)) >> 8);
            if (hc != expected)
            {
                throw CompressionErrors.Invalid(source, S, $"header checksum 0x{hc:X2} does not match 0x{expected:X2}.");
            }
            int needed = History + blockMax;
            if (output.Length < needed)
            {
                output = new byte[needed];
            }
            outPos = outEnd = History;
            historyStart = History;
            produced = 0;
            contentHash.Reset();
        }

        private bool NextBlock()
        {
            const string S = "LZ4 block header";
            uint word = input.ReadUInt32LittleEndian(S);
            if (word == 0)
            {
                EndFrame();
                return true;
            }
            bool stored = (word & 0x80000000u) != 0;
            int size = (int)(word & 0x7FFFFFFF);
            if (size > blockMax)
            {
                throw CompressionErrors.Invalid(source, S, $"a block of {size} bytes exceeds the block maximum {blockMax}.");
            }
            if (compressed.Length < size)
            {
                compressed = new byte[blockMax];
            }
            input.ReadExactly(compressed, 0, size, "LZ4 block");
            if (blockChecksum)
            {
                uint stored32 = input.ReadUInt32LittleEndian("LZ4 block checksum");
                if (stored32 != XxHash32.HashToUInt32(new ReadOnlySpan<byte>(compressed, 0, size)))
                {
                    throw CompressionErrors.Invalid(source, "LZ4 block checksum", "the block's XXH32 does not match: the data is corrupt.");
                }
            }
            // Keep the last 64 KiB of output in front of the block for linked blocks.
            int start = History;
            if (!independent && outEnd > History)
            {
                int keep = Math.Min(History, outEnd - historyStart);
                Buffer.BlockCopy(output, outEnd - keep, output, History - keep, keep);
                historyStart = History - keep;
            }
            else
            {
                historyStart = History;
            }
            int end;
            if (stored)
            {
                Buffer.BlockCopy(compressed, 0, output, start, size);
                end = start + size;
            }
            else
            {
                end = Lz4Block.Decode(compressed, 0, size, output, start, start + blockMax, historyStart, source);
            }
            outPos = start;
            outEnd = end;
            produced += end - start;
            if (contentSize.HasValue && produced > contentSize.Value)
            {
                throw CompressionErrors.Invalid(source, "LZ4 frame", "the blocks hold more than the declared content size.");
            }
            if (contentChecksum)
            {
                contentHash.Append(new ReadOnlySpan<byte>(output, start, end - start));
            }
            return true;
        }

        private void EndFrame()
        {
            if (contentSize.HasValue && produced != contentSize.Value)
            {
                throw CompressionErrors.Invalid(source, "LZ4 frame", $"the frame holds {produced} bytes, its descriptor declares {contentSize.Value}.");
            }
            if (contentChecksum)
            {
                uint stored = input.ReadUInt32LittleEndian("LZ4 content checksum");
                if (stored != contentHash.GetCurrentHashAsUInt32())
                {
                    throw CompressionErrors.Invalid(source, "LZ4 content checksum", "the content's XXH32 does not match: the data is corrupt.");
                }
            }
            inFrame = false;
            outPos = outEnd = History;
        }
    }
}
