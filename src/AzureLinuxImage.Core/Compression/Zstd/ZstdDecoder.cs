using System;
using System.IO.Hashing;

namespace AzureLinuxImage.Compression.Zstd
{
    /// <summary>
    /// Streaming Zstandard decoder, RFC 8878: frames and skippable frames (section 3.1), raw, RLE and
    /// compressed blocks (3.1.1.2), literals (3.1.1.3.1) with Huffman in 1 or 4 streams, sequences
    /// (3.1.1.3.2) with predefined, RLE, FSE-compressed and repeat table modes, repeat offsets
    /// (3.1.1.5) and the XXH64 content checksum. The history is a ring of at most window + 128 KiB,
    /// grown on demand, and the window is refused above <see cref="DecompressionLimits.MaxWindowBytes"/>.
    /// Dictionaries are refused.
    /// </summary>
    internal sealed class ZstdDecoder : IDecoder
    {
        public const uint FrameMagic = 0xFD2FB528;
        private const int MaxBlockSize = 128 * 1024;

        private static readonly int[] LiteralsLengthBase =
        {
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
            16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096,
            8192, 16384, 32768, 65536,
        };

        private static readonly byte[] LiteralsLengthBits =
        {
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12,
            13, 14, 15, 16,
        };

        private static readonly int[] MatchLengthBase =
        {
            3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
            19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
            35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051,
            4099, 8195, 16387, 32771, 65539,
        };

        private static readonly byte[] MatchLengthBits =
        {
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11,
            12, 13, 14, 15, 16,
        };

        // Predefined distributions, RFC 8878 section 3.1.1.3.2.2.
        private static readonly short[] LiteralsLengthDefault =
        {
            4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
            -1, -1, -1, -1,
        };

        private static readonly short[] MatchLengthDefault =
        {
            1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
            1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
            1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1,
            -1, -1, -1, -1, -1,
        };

        private static readonly short[] OffsetDefault =
        {
            1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
            1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1,
        };

        private readonly InputBuffer input;
        private readonly string source;
        private readonly int maxWindow;
        private readonly bool strict;

        private readonly byte[] block = new byte[MaxBlockSize];
        private readonly byte[] literals = new byte[MaxBlockSize + 8];
        private readonly HuffmanTable huffman = new HuffmanTable();
        private readonly FseTable llTable = new FseTable(9);
        private readonly FseTable ofTable = new FseTable(8);
        private readonly FseTable mlTable = new FseTable(9);
        private readonly XxHash64 hash = new XxHash64();
        private readonly short[] scratch = new short[256];

        private byte[] window = Array.Empty<byte>();
        private int capacity;
        private int maxCapacity;
        private int writePos;
        private long frameTotal;
        private long windowSize;
        private int blockMax;
        private long? contentSize;
        private bool hasChecksum;
        private bool hasHuffman;
        private bool llReady, ofReady, mlReady;
        private uint rep1, rep2, rep3;

        private bool inFrame;
        private bool done;
        private int framesSeen;
        private int outStart;
        private int outRemaining;

        /// <param name="input">Positioned at the first frame.</param>
        /// <param name="limits">The window cap.</param>
        /// <param name="strict">When true the input must be zstd frames to its end; otherwise decoding stops before the first byte that starts no frame (initramfs parts).</param>
        public ZstdDecoder(InputBuffer input, DecompressionLimits limits, bool strict)
        {
            this.input = input;
            source = input.SourceName;
            maxWindow = limits.MaxWindowBytes;
            this.strict = strict;
        }

        public static bool IsSkippableMagic(uint magic) => (magic & 0xFFFFFFF0u) == 0x184D2A50u;

        public int Read(byte[] buffer, int offset, int count)
        {
            while (outRemaining == 0)
            {
                if (done || !DecodeNext())
                {
                    done = true;
                    return 0;
                }
            }
            int n = Math.Min(count, outRemaining);
            int first = Math.Min(n, capacity - outStart);
            Buffer.BlockCopy(window, outStart, buffer, offset, first);
            if (first < n)
            {
                Buffer.BlockCopy(window, 0, buffer, offset + first, n - first);
            }
            outStart = (outStart + n) % capacity;
            outRemaining -= n;
            return n;
        }

        /// <summary>Decodes the next frame header or block; false at the end of the zstd data.</summary>
        private bool DecodeNext()
        {
            if (!inFrame)
            {
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
                input.Skip(4);
                ReadFrameHeader();
                framesSeen++;
                inFrame = true;
                return true;
            }
            return DecodeBlock();
        }

        private void ReadFrameHeader()
        {
            const string S = "zstd frame header";
            byte descriptor = input.ReadByte(S);
            int fcsFlag = descriptor >> 6;
            bool singleSegment = (descriptor & 0x20) != 0;
            if ((descriptor & 0x08) != 0)
            {
                throw CompressionErrors.Invalid(source, S, "the reserved bit of the frame header descriptor is set.");
            }
            hasChecksum = (descriptor & 0x04) != 0;
            int dictIdSize = (descriptor & 3) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 };
            windowSize = 0;
            if (!singleSegment)
            {
                byte wd = input.ReadByte(S);
                int exponent = wd >> 3;
                int windowLog = 10 + exponent;
                long windowBase = 1L << windowLog;
                windowSize = windowBase + ((windowBase / 8) * (wd & 7));
            }
            uint dictId = 0;
            for (int i = 0; i < dictIdSize; i++)
            {
                dictId |= (uint)input.ReadByte(S) << (8 * i);
            }
            int fcsSize = fcsFlag switch { 0 => singleSegment ? 1 : 0, 1 => 2, 2 => 4, _ => 8 };
            ulong fcs = 0;
            for (int i = 0; i < fcsSize; i++)
            {
                fcs |= (ulong)input.ReadByte(S) << (8 * i);
            }
            if (fcsSize == 2)
            {
                fcs += 256;
            }
            if (dictId != 0)
            {
                throw CompressionErrors.Unsupported(source, $"the zstd frame needs dictionary {dictId}; dictionaries are not supported.");
            }
            contentSize = fcsSize > 0 ? (long?)(fcs > long.MaxValue ? long.MaxValue : (long)fcs) : null;
            if (singleSegment)
            {
                windowSize = contentSize!.Value;
            }
            if (windowSize > maxWindow)
            {
                throw CompressionErrors.LimitExceeded(source, $"the zstd frame needs a window of {windowSize} bytes, more than the limit of {maxWindow}");
            }
            blockMax = (int)Math.Min(windowSize, MaxBlockSize);
            long effective = contentSize.HasValue ? Math.Min(windowSize, contentSize.Value) : windowSize;
            maxCapacity = (int)Math.Max(effective + blockMax, 64);
            if (window.Length == 0 || window.Length > maxCapacity)
            {
                window = new byte[Math.Min(maxCapacity, 1 << 20)];
            }
            capacity = window.Length;
            writePos = 0;
            outStart = 0;
            frameTotal = 0;
            hasHuffman = false;
            llReady = ofReady = mlReady = false;
            rep1 = 1;
            rep2 = 4;
            rep3 = 8;
            hash.Reset();
        }

        private bool DecodeBlock()
        {
            const string S = "zstd block header";
            uint header = input.ReadByte(S) | ((uint)input.ReadByte(S) << 8) | ((uint)input.ReadByte(S) << 16);
            bool last = (header & 1) != 0;
            int type = (int)((header >> 1) & 3);
            int size = (int)(header >> 3);
            EnsureCapacity();
            int start = writePos;
            int produced;
            switch (type)
            {
                case 0:
                    CheckBlockSize(size, "raw");
                    input.ReadExactly(block, 0, size, "zstd raw block");
                    WriteBytes(block, 0, size);
                    produced = size;
                    break;
                case 1:
                    CheckBlockSize(size, "RLE");
                    byte value = input.ReadByte("zstd RLE block");
                    for (int i = 0; i < size; i++)
                    {
                        window[writePos] = value;
                        if (++writePos == capacity)
                        {
                            writePos = 0;
                        }
                    }
                    produced = size;
                    break;
                case 2:
                    CheckBlockSize(size, "compressed");
                    input.ReadExactly(block, 0, size, "zstd compressed block");
                    produced = DecodeCompressedBlock(size);
                    break;
                default:
                    throw CompressionErrors.Invalid(source, S, "block type 3 is reserved.");
            }
            frameTotal += produced;
            if (contentSize.HasValue && frameTotal > contentSize.Value)
            {
                throw CompressionErrors.Invalid(source, "zstd frame", $"the blocks hold more than the declared content size {contentSize.Value}.");
            }
            HashOutput(start, produced);
            outStart = start;
            outRemaining = produced;
            if (last)
            {
                EndFrame();
            }
            return true;
        }

        private void CheckBlockSize(int size, string kind)
        {
            if (size > blockMax)
            {
                throw CompressionErrors.Invalid(source, "zstd block header", $"a {kind} block of {size} bytes exceeds the block maximum {blockMax}.");
            }
        }

        private void EndFrame()
        {
            if (contentSize.HasValue && frameTotal != contentSize.Value)
            {
                throw CompressionErrors.Invalid(source, "zstd frame", $"the frame holds {frameTotal} bytes, its header declares {contentSize.Value}.");
            }
            if (hasChecksum)
            {
                uint stored = input.ReadUInt32LittleEndian("zstd content checksum");
                uint actual = (uint)hash.GetCurrentHashAsUInt64();
                if (stored != actual)
                {
                    throw CompressionErrors.Invalid(source, "zstd content checksum", $"stored 0x{stored:X8}, computed 0x{actual:X8}: the data is corrupt.");
                }
            }
            inFrame = false;
        }

        /// <summary>Grows the ring while it has never wrapped, so short frames never allocate their whole window.</summary>
        private void EnsureCapacity()
        {
            if (capacity < maxCapacity && frameTotal == writePos && writePos + blockMax >= capacity)
            {
                int grown = (int)Math.Min(maxCapacity, Math.Max((long)capacity * 2, (long)writePos + blockMax + 1));
                Array.Resize(ref window, grown);
                capacity = grown;
            }
        }

        private void HashOutput(int start, int count)
        {
            if (!hasChecksum || count == 0)
            {
                return;
            }
            int first = Math.Min(count, capacity - start);
            hash.Append(new ReadOnlySpan<byte>(window, start, first));
            if (first < count)
            {
                hash.Append(new ReadOnlySpan<byte>(window, 0, count - first));
            }
        }

        private void WriteBytes(byte[] src, int offset, int count)
        {
            byte[] w = window;
            if (count <= 32 && writePos + count < capacity)
            {
                int d = writePos;
                for (int i = 0; i < count; i++)
                {
                    w[d + i] = src[offset + i];
                }
                writePos = d + count;
                return;
            }
            while (count > 0)
            {
                int n = Math.Min(count, capacity - writePos);
                Buffer.BlockCopy(src, offset, w, writePos, n);
                writePos += n;
                if (writePos == capacity)
                {
                    writePos = 0;
                }
                offset += n;
                count -= n;
            }
        }

        private void CopyMatch(int offset, int length)
        {
            int src = writePos - offset;
            if (src < 0)
            {
                src += capacity;
            }
            byte[] w = window;
            while (length > 0)
            {
                int chunk = Math.Min(length, Math.Min(capacity - src, capacity - writePos));
                int d = writePos;
                if (chunk <= 32 || (src < d && d - src < 8 && d - src < chunk))
                {
                    // Short or tightly overlapping: forward byte copy repeats the bytes it produces (RFC 8878 3.1.1.4).
                    int s = src;
                    int end = d + chunk;
                    while (d < end)
                    {
                        w[d++] = w[s++];
                    }
                }
                else if (src < d && d - src < chunk)
                {
                    // Overlapping by at least 8: copy in non-overlapping steps of the offset.
                    int step = d - src;
                    int done = 0;
                    while (done < chunk)
                    {
                        int n = Math.Min(step, chunk - done);
                        Buffer.BlockCopy(w, src + done, w, d + done, n);
                        done += n;
                    }
                }
                else
                {
                    Buffer.BlockCopy(w, src, w, d, chunk);
                }
                src += chunk;
                writePos += chunk;
                if (src == capacity)
                {
                    src = 0;
                }
                if (writePos == capacity)
                {
                    writePos = 0;
                }
                length -= chunk;
            }
        }

        private int DecodeCompressedBlock(int size)
        {
            int pos = DecodeLiterals(size, out int literalCount);
            return DecodeSequences(pos, size, literalCount);
        }

        private int DecodeLiterals(int end, out int literalCount)
        {
            const string S = "zstd literals section header";
            if (end < 1)
            {
                throw CompressionErrors.Truncated(source, S);
            }
            byte[] b = block;
            int b0 = b[0];
            int type = b0 & 3;
            int sizeFormat = (b0 >> 2) & 3;
            if (type <= 1)
            {
                int regenerated;
                int headerSize;
                switch (sizeFormat)
                {
                    case 0:
                    case 2:
                        regenerated = b0 >> 3;
                        headerSize = 1;
                        break;
                    case 1:
                        if (end < 2)
                        {
                            throw CompressionErrors.Truncated(source, S);
                        }
                        regenerated = (b0 >> 4) + (b[1] << 4);
                        headerSize = 2;
                        break;
                    default:
                        if (end < 3)
                        {
                            throw CompressionErrors.Truncated(source, S);
                        }
                        regenerated = (b0 >> 4) + (b[1] << 4) + (b[2] << 12);
                        headerSize = 3;
                        break;
                }
                if (regenerated > blockMax)
                {
                    throw CompressionErrors.Invalid(source, S, $"{regenerated} literals exceed the block maximum {blockMax}.");
                }
                if (type == 0)
                {
                    if (end - headerSize < regenerated)
                    {
                        throw CompressionErrors.Truncated(source, "zstd raw literals");
                    }
                    Buffer.BlockCopy(b, headerSize, literals, 0, regenerated);
                    literalCount = regenerated;
                    return headerSize + regenerated;
                }
                if (end - headerSize < 1)
                {
                    throw CompressionErrors.Truncated(source, "zstd RLE literals");
                }
                byte v = b[headerSize];
                for (int i = 0; i < regenerated; i++)
                {
                    literals[i] = v;
                }
                literalCount = regenerated;
                return headerSize + 1;
            }

            int hdr = sizeFormat <= 1 ? 3 : sizeFormat == 2 ? 4 : 5;
            if (end < hdr)
            {
                throw CompressionErrors.Truncated(source, S);
            }
            long h = 0;
            for (int i = 0; i < hdr; i++)
            {
                h |= (long)b[i] << (8 * i);
            }
            int regen, compressed;
            bool fourStreams = sizeFormat != 0;
            switch (hdr)
            {
                case 3:
                    regen = (int)((h >> 4) & 0x3FF);
                    compressed = (int)((h >> 14) & 0x3FF);
                    break;
                case 4:
                    regen = (int)((h >> 4) & 0x3FFF);
                    compressed = (int)((h >> 18) & 0x3FFF);
                    break;
                default:
                    regen = (int)((h >> 4) & 0x3FFFF);
                    compressed = (int)((h >> 22) & 0x3FFFF);
                    break;
            }
            if (regen > blockMax)
            {
                throw CompressionErrors.Invalid(source, S, $"{regen} literals exceed the block maximum {blockMax}.");
            }
            if (end - hdr < compressed)
            {
                throw CompressionErrors.Truncated(source, "zstd compressed literals");
            }
            int pos = hdr;
            int streamsEnd = hdr + compressed;
            if (type == 2)
            {
                pos += huffman.Read(b, pos, streamsEnd, source);
                hasHuffman = true;
            }
            else if (!hasHuffman)
            {
                throw CompressionErrors.Invalid(source, S, "treeless literals, but no Huffman table was sent earlier in the frame.");
            }
            if (!fourStreams)
            {
                huffman.DecodeStream(b, pos, streamsEnd - pos, literals, 0, regen, source);
            }
            else
            {
                if (streamsEnd - pos < 6)
                {
                    throw CompressionErrors.Truncated(source, "zstd literals jump table");
                }
                int s1 = b[pos] | (b[pos + 1] << 8);
                int s2 = b[pos + 2] | (b[pos + 3] << 8);
                int s3 = b[pos + 4] | (b[pos + 5] << 8);
                pos += 6;
                int s4 = streamsEnd - pos - s1 - s2 - s3;
                int segment = (regen + 3) / 4;
                int lastSegment = regen - (3 * segment);
                if (s4 < 0 || lastSegment < 0)
                {
                    throw CompressionErrors.Invalid(source, "zstd literals jump table", "the stream sizes do not fit the literals section.");
                }
                huffman.DecodeStream(b, pos, s1, literals, 0, segment, source);
                huffman.DecodeStream(b, pos + s1, s2, literals, segment, segment, source);
                huffman.DecodeStream(b, pos + s1 + s2, s3, literals, 2 * segment, segment, source);
                huffman.DecodeStream(b, pos + s1 + s2 + s3, s4, literals, 3 * segment, lastSegment, source);
            }
            literalCount = regen;
            return streamsEnd;
        }

        private int ReadTable(FseTable table, int mode, ref int pos, int end, short[] defaults, int defaultLog, int maxSymbol, int maxLog, ref bool ready, string name)
        {
            string structure = $"zstd {name} table";
            switch (mode)
            {
                case 0:
                    Array.Copy(defaults, scratch, defaults.Length);
                    table.Build(scratch, defaults.Length, defaultLog, source, structure);
                    break;
                case 1:
                    if (pos >= end)
                    {
                        throw CompressionErrors.Truncated(source, structure);
                    }
                    byte symbol = block[pos++];
                    if (symbol > maxSymbol)
                    {
                        throw CompressionErrors.Invalid(source, structure, $"RLE symbol {symbol} exceeds {maxSymbol}.");
                    }
                    table.SetRle(symbol);
                    break;
                case 2:
                    pos += table.Read(block, pos, end, maxSymbol, maxLog, source, structure);
                    break;
                default:
                    if (!ready)
                    {
                        throw CompressionErrors.Invalid(source, structure, "repeat mode, but no earlier table exists in the frame.");
                    }
                    break;
            }
            ready = true;
            return table.AccuracyLog;
        }

        private int DecodeSequences(int pos, int end, int literalCount)
        {
            const string S = "zstd sequences section header";
            if (pos >= end)
            {
                throw CompressionErrors.Truncated(source, S);
            }
            byte[] b = block;
            int b0 = b[pos++];
            int nbSeq;
            if (b0 == 0)
            {
                if (pos != end)
                {
                    throw CompressionErrors.Invalid(source, S, "no sequences, but bytes follow in the block.");
                }
                if (literalCount > blockMax)
                {
                    throw CompressionErrors.Invalid(source, S, "the block exceeds its maximum size.");
                }
                WriteBytes(literals, 0, literalCount);
                return literalCount;
            }
            if (b0 < 128)
            {
                nbSeq = b0;
            }
            else if (b0 < 255)
            {
                if (pos >= end)
                {
                    throw CompressionErrors.Truncated(source, S);
                }
                nbSeq = ((b0 - 128) << 8) + b[pos++];
            }
            else
            {
                if (end - pos < 2)
                {
                    throw CompressionErrors.Truncated(source, S);
                }
                nbSeq = b[pos] + (b[pos + 1] << 8) + 0x7F00;
                pos += 2;
            }
            if (pos >= end)
            {
                throw CompressionErrors.Truncated(source, S);
            }
            int modes = b[pos++];
            if ((modes & 3) != 0)
            {
                throw CompressionErrors.Invalid(source, S, "the reserved bits of the compression modes are set.");
            }
            ReadTable(llTable, modes >> 6, ref pos, end, LiteralsLengthDefault, 6, 35, 9, ref llReady, "literals length");
            ReadTable(ofTable, (modes >> 4) & 3, ref pos, end, OffsetDefault, 5, 31, 8, ref ofReady, "offset");
            ReadTable(mlTable, (modes >> 2) & 3, ref pos, end, MatchLengthDefault, 6, 52, 9, ref mlReady, "match length");

            var br = default(BackwardBitReader);
            if (!br.Init(b, pos, end - pos))
            {
                throw CompressionErrors.Invalid(source, "zstd sequences bitstream", "the bitstream is empty or has no end mark.");
            }
            FseTable ll = llTable, of = ofTable, ml = mlTable;
            int llState = (int)br.ReadBits(ll.AccuracyLog);
            int ofState = (int)br.ReadBits(of.AccuracyLog);
            int mlState = (int)br.ReadBits(ml.AccuracyLog);
            int litPos = 0;
            int produced = 0;
            for (int i = 0; i < nbSeq; i++)
            {
                int ofCode = of.Symbol[ofState];
                int mlCode = ml.Symbol[mlState];
                int llCode = ll.Symbol[llState];
                if (llCode > 35 || mlCode > 52 || ofCode > 31)
                {
                    throw CompressionErrors.Invalid(source, "zstd sequence", "a code exceeds its table.");
                }
                uint offsetValue = (1u << ofCode) + br.ReadBits(ofCode);
                int matchLength = MatchLengthBase[mlCode] + (int)br.ReadBits(MatchLengthBits[mlCode]);
                int literalLength = LiteralsLengthBase[llCode] + (int)br.ReadBits(LiteralsLengthBits[llCode]);
                if (i != nbSeq - 1)
                {
                    llState = ll.Baseline[llState] + (int)br.ReadBits(ll.NumberOfBits[llState]);
                    mlState = ml.Baseline[mlState] + (int)br.ReadBits(ml.NumberOfBits[mlState]);
                    ofState = of.Baseline[ofState] + (int)br.ReadBits(of.NumberOfBits[ofState]);
                }
                if (br.Remaining < 0)
                {
                    throw CompressionErrors.Invalid(source, "zstd sequences bitstream", "the sequences read past the start of the bitstream.");
                }

                // Repeat offsets, RFC 8878 3.1.1.5.
                uint offset;
                if (offsetValue > 3)
                {
                    offset = offsetValue - 3;
                    rep3 = rep2;
                    rep2 = rep1;
                    rep1 = offset;
                }
                else
                {
                    int index = (int)offsetValue - 1 + (literalLength == 0 ? 1 : 0);
                    switch (index)
                    {
                        case 0:
                            offset = rep1;
                            break;
                        case 1:
                            offset = rep2;
                            rep2 = rep1;
                            rep1 = offset;
                            break;
                        case 2:
                            offset = rep3;
                            rep3 = rep2;
                            rep2 = rep1;
                            rep1 = offset;
                            break;
                        default:
                            offset = rep1 - 1;
                            if (offset == 0)
                            {
                                throw CompressionErrors.Invalid(source, "zstd sequence", "repeat offset 1 minus one is zero.");
                            }
                            rep3 = rep2;
                            rep2 = rep1;
                            rep1 = offset;
                            break;
                    }
                }

                if (literalLength > literalCount - litPos)
                {
                    throw CompressionErrors.Invalid(source, "zstd sequence", "the literal length runs past the decoded literals.");
                }
                if ((long)produced + literalLength + matchLength > blockMax)
                {
                    throw CompressionErrors.Invalid(source, "zstd sequence", $"the block decodes to more than the block maximum {blockMax}.");
                }
                WriteBytes(literals, litPos, literalLength);
                litPos += literalLength;
                produced += literalLength;
                long available = frameTotal + produced;
                if (offset > available || offset > windowSize)
                {
                    throw CompressionErrors.Invalid(source, "zstd sequence", $"offset {offset} reaches before the start of the frame or outside the window.");
                }
                CopyMatch((int)offset, matchLength);
                produced += matchLength;
            }
            if (br.Remaining != 0)
            {
                throw CompressionErrors.Invalid(source, "zstd sequences bitstream", "the bitstream is not consumed exactly by the sequences.");
            }
            int rest = literalCount - litPos;
            if ((long)produced + rest > blockMax)
            {
                throw CompressionErrors.Invalid(source, "zstd sequence", $"the block decodes to more than the block maximum {blockMax}.");
            }
            WriteBytes(literals, litPos, rest);
            return produced + rest;
        }
    }
}
