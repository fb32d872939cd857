using System;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Security.Cryptography;
using AzureLinuxImage.Checksums;

namespace AzureLinuxImage.Compression.Xz
{
    /// <summary>
    /// The .xz container (The .xz File Format 1.2.x): stream header and footer, blocks with their
    /// headers, LZMA2 data, padding and check (None, CRC32, CRC64 and SHA-256 verified), the index
    /// (verified against the blocks read), stream padding and concatenated streams. Filters other
    /// than LZMA2 and x86 BCJ are refused.
    /// </summary>
    internal sealed class XzDecoder : IDecoder
    {
        private static readonly byte[] HeaderMagic = { 0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0 };

        private readonly InputBuffer input;
        private readonly string source;
        private readonly int maxWindow;
        private readonly bool strict;
        private readonly byte[] header = new byte[1024];
        private readonly List<(long Unpadded, long Uncompressed)> records = new List<(long, long)>();

        private enum Phase { StreamStart, BlockOrIndex, BlockData, Done }

        private Phase phase = Phase.StreamStart;
        private int streams;
        private int checkType;
        private byte[] streamFlags = new byte[2];

        private LzWindow? window;
        private Lzma2Decoder? lzma2;
        private X86BcjFilter? bcj;
        private long blockStart;
        private int blockHeaderSize;
        private long declaredCompressed;
        private long declaredUncompressed;
        private long blockUncompressed;
        /// <summary>CRC-64/XZ (check type 4): ECMA-182 polynomial, reflected, all-ones start and final inversion.</summary>
        private static readonly Crc64ParameterSet XzCrc64 = Crc64ParameterSet.Create(0x42F0E1EBA9EA3693UL, ulong.MaxValue, ulong.MaxValue, true);

        private uint crc32;
        private readonly Crc64 crc64 = new Crc64(XzCrc64);
        private IncrementalHash? sha256;

        public XzDecoder(InputBuffer input, DecompressionLimits limits, bool strict)
        {
            this.input = input;
            source = input.SourceName;
            maxWindow = limits.MaxWindowBytes;
            this.strict = strict;
        }

        public int Read(byte[] buffer, int offset, int count)
        {
            while (true)
            {
                switch (phase)
                {
                    case Phase.Done:
                        return 0;
                    case Phase.StreamStart:
                        if (!StartStream())
                        {
                            phase = Phase.Done;
                            return 0;
                        }
                        phase = Phase.BlockOrIndex;
                        break;
                    case Phase.BlockOrIndex:
                        if (input.PeekByte(0) == 0)
                        {
                            ReadIndexAndFooter();
                            phase = Phase.StreamStart;
                        }
                        else
                        {
                            ReadBlockHeader();
                            phase = Phase.BlockData;
                        }
                        break;
                    default:
                        int n = ReadBlockData(buffer, offset, count);
                        if (n > 0)
                        {
                            return n;
                        }
                        FinishBlock();
                        phase = Phase.BlockOrIndex;
                        break;
                }
            }
        }

        private bool StartStream()
        {
            if (streams > 0)
            {
                // Stream padding: NUL bytes in multiples of four, then another stream or the end.
                int zeros = 0;
                while (input.PeekByte(zeros) == 0)
                {
                    zeros++;
                    if (zeros >= 64)
                    {
                        if (!strict)
                        {
                            return false;
                        }
                        input.Skip(zeros);
                        zeros = 0;
                    }
                }
                bool another = IsMagicAt(zeros);
                if (!strict && !another)
                {
                    return false;
                }
                if ((zeros & 3) != 0)
                {
                    throw CompressionErrors.Invalid(source, "xz stream padding", "the padding is not a multiple of four bytes.");
                }
                input.Skip(zeros);
                if (input.AtEnd)
                {
                    return false;
                }
            }
            const string S = "xz stream header";
            var h = new byte[12];
            input.ReadExactly(h, 0, 12, S);
            for (int i = 0; i < 6; i++)
            {
                if (h[i] != HeaderMagic[i])
                {
                    throw CompressionErrors.Invalid(source, S, "the magic bytes are not FD 37 7A 58 5A 00.");
                }
            }
            if (Crc32.HashToUInt32(new ReadOnlySpan<byte>(h, 6, 2)) != ReadLe32(h, 8))
            {
                throw CompressionErrors.Invalid(source, S, "the CRC32 of the stream flags does not match.");
            }
            if (h[6] != 0 || (h[7] & 0xF0) != 0)
            {
                throw CompressionErrors.Unsupported(source, "the xz stream flags use reserved bits (a newer .xz format).");
            }
            checkType = h[7];
            streamFlags = new[] { h[6], h[7] };
            records.Clear();
            streams++;
            return true;
        }

        private bool IsMagicAt(int index)
        {
            for (int i = 0; i < 6; i++)
            {
                if (input.PeekByte(index + i) != HeaderMagic[i])
                {
                    return false;
                }
            }
            return true;
        }

        private static uint ReadLe32(byte[] b, int at) => (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));

        private static int CheckSize(int type) => type switch
        {
            0 => 0,
            _ => 4 << ((type - 1) / 3),
        };

        private void ReadBlockHeader()
        {
            const string S = "xz block header";
            blockStart = input.Position;
            int size = (input.ReadByte(S) + 1) * 4;
            header[0] = (byte)((size / 4) - 1);
            input.ReadExactly(header, 1, size - 1, S);
            if (Crc32.HashToUInt32(new ReadOnlySpan<byte>(header, 0, size - 4)) != ReadLe32(header, size - 4))
            {
                throw CompressionErrors.Invalid(source, S, "the header CRC32 does not match.");
            }
            blockHeaderSize = size;
            int flags = header[1];
            if ((flags & 0x3C) != 0)
            {
                throw CompressionErrors.Unsupported(source, "the xz block flags use reserved bits.");
            }
            int filters = (flags & 3) + 1;
            int pos = 2;
            int end = size - 4;
            declaredCompressed = (flags & 0x40) != 0 ? ReadVli(header, ref pos, end, S) : -1;
            declaredUncompressed = (flags & 0x80) != 0 ? ReadVli(header, ref pos, end, S) : -1;
            if (declaredCompressed == 0)
            {
                throw CompressionErrors.Invalid(source, S, "the compressed size is zero.");
            }
            bcj = null;
            int dictionary = -1;
            for (int f = 0; f < filters; f++)
            {
                long id = ReadVli(header, ref pos, end, S);
                long propsSize = ReadVli(header, ref pos, end, S);
                if (propsSize > end - pos)
                {
                    throw CompressionErrors.Invalid(source, S, "filter properties run past the header.");
                }
                bool last = f == filters - 1;
                if (id == 0x21)
                {
                    if (!last || propsSize != 1)
                    {
                        throw CompressionErrors.Invalid(source, S, "LZMA2 must be the last filter and have one properties byte.");
                    }
                    int bits = header[pos] & 0x3F;
                    if ((header[pos] & 0xC0) != 0 || bits > 40)
                    {
                        throw CompressionErrors.Invalid(source, S, $"LZMA2 dictionary size byte 0x{header[pos]:X2} is invalid.");
                    }
                    long dict = bits == 40 ? uint.MaxValue : (2L | (bits & 1)) << ((bits / 2) + 11);
                    if (declaredUncompressed >= 0 && declaredUncompressed < dict)
                    {
                        dict = Math.Max(declaredUncompressed, 4096);
                    }
                    if (dict > maxWindow)
                    {
                        throw CompressionErrors.LimitExceeded(source, $"the xz block needs an LZMA2 dictionary of {dict} bytes, more than the limit of {maxWindow}");
                    }
                    dictionary = (int)dict;
                }
                else if (id == 0x04 && !last)
                {
                    uint startOffset = 0;
                    if (propsSize == 4)
                    {
                        startOffset = ReadLe32(header, pos);
                    }
                    else if (propsSize != 0)
                    {
                        throw CompressionErrors.Invalid(source, S, "the x86 BCJ filter takes 0 or 4 property bytes.");
                    }
                    bcj = new X86BcjFilter(startOffset);
                }
                else
                {
                    string name = id switch { 0x03 => "Delta", 0x05 => "PowerPC BCJ", 0x06 => "IA-64 BCJ", 0x07 => "ARM BCJ", 0x08 => "ARM-Thumb BCJ", 0x09 => "SPARC BCJ", 0x0A => "ARM64 BCJ", 0x0B => "RISC-V BCJ", _ => $"0x{id:X}" };
                    throw CompressionErrors.Unsupported(source, $"the xz block uses the {name} filter; only LZMA2 and x86 BCJ are supported (recompress with plain 'xz').");
                }
                pos += (int)propsSize;
            }
            if (dictionary < 0)
            {
                throw CompressionErrors.Invalid(source, S, "the filter chain does not end with LZMA2.");
            }
            for (; pos < end; pos++)
            {
                if (header[pos] != 0)
                {
                    throw CompressionErrors.Invalid(source, S, "the header padding is not zero.");
                }
            }
            if (window == null || window.DictionarySize < dictionary)
            {
                window = new LzWindow(dictionary);
            }
            lzma2 = new Lzma2Decoder(input, window);
            blockUncompressed = 0;
            crc32 = 0xFFFFFFFF;
            crc64.Reset();
            sha256?.Dispose();
            sha256 = checkType == 10 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        }

        private long ReadVli(byte[] b, ref int pos, int end, string structure)
        {
            long value = 0;
            for (int i = 0; i < 9; i++)
            {
                if (pos >= end)
                {
                    throw CompressionErrors.Invalid(source, structure, "a variable-length integer runs past its structure.");
                }
                byte x = b[pos++];
                value |= (long)(x & 0x7F) << (7 * i);
                if ((x & 0x80) == 0)
                {
                    if (x == 0 && i > 0)
                    {
                        throw CompressionErrors.Invalid(source, structure, "a variable-length integer is not minimally encoded.");
                    }
                    return value;
                }
            }
            throw CompressionErrors.Invalid(source, structure, "a variable-length integer is longer than 9 bytes.");
        }

        private int ReadBlockData(byte[] buffer, int offset, int count)
        {
            int n;
            if (bcj != null)
            {
                n = bcj.Read(lzma2!, window!, buffer, offset, count);
            }
            else
            {
                n = lzma2!.Decode(count, out int start);
                Buffer.BlockCopy(window!.Buffer, start, buffer, offset, n);
            }
            if (n == 0)
            {
                return 0;
            }
            blockUncompressed += n;
            if (declaredUncompressed >= 0 && blockUncompressed > declaredUncompressed)
            {
                throw CompressionErrors.Invalid(source, "xz block", "the block holds more data than its header declares.");
            }
            var span = new ReadOnlySpan<byte>(buffer, offset, n);
            switch (checkType)
            {
                case 1:
                    crc32 = CrcRegister.Crc32(crc32, span);
                    break;
                case 4:
                    crc64.Append(span);
                    break;
                case 10:
                    sha256!.AppendData(buffer, offset, n);
                    break;
            }
            return n;
        }

        private void FinishBlock()
        {
            const string S = "xz block";
            long compressed = input.Position - blockStart - blockHeaderSize;
            if (declaredCompressed >= 0 && compressed != declaredCompressed)
            {
                throw CompressionErrors.Invalid(source, S, $"the compressed data is {compressed} bytes, the header declares {declaredCompressed}.");
            }
            if (declaredUncompressed >= 0 && blockUncompressed != declaredUncompressed)
            {
                throw CompressionErrors.Invalid(source, S, $"the block holds {blockUncompressed} bytes, the header declares {declaredUncompressed}.");
            }
            int padding = (int)((4 - (compressed & 3)) & 3);
            for (int i = 0; i < padding; i++)
            {
                if (input.ReadByte("xz block padding") != 0)
                {
                    throw CompressionErrors.Invalid(source, "xz block padding", "the padding is not zero.");
                }
            }
            int checkSize = CheckSize(checkType);
            var stored = new byte[checkSize];
            input.ReadExactly(stored, 0, checkSize, "xz block check");
            byte[]? actual = checkType switch
            {
                1 => BitConverter.GetBytes(~crc32),
                4 => BitConverter.GetBytes(crc64.GetCurrentHashAsUInt64()),
                10 => sha256!.GetHashAndReset(),
                _ => null,
            };
            if (actual != null && !BitConverter.IsLittleEndian && checkType != 10)
            {
                Array.Reverse(actual);
            }
            if (actual != null && !new ReadOnlySpan<byte>(actual).SequenceEqual(stored))
            {
                string name = checkType == 1 ? "CRC32" : checkType == 4 ? "CRC64" : "SHA-256";
                throw CompressionErrors.Invalid(source, "xz block check", $"the {name} of the data does not match: the data is corrupt.");
            }
            records.Add((blockHeaderSize + compressed + checkSize, blockUncompressed));
        }

        private void ReadIndexAndFooter()
        {
            const string S = "xz index";
            long indexStart = input.Position;
            uint crc = 0xFFFFFFFF;
            byte Next()
            {
                byte b = input.ReadByte(S);
                crc = CrcRegister.Crc32(crc, new ReadOnlySpan<byte>(new[] { b }));
                return b;
            }
            long Vli()
            {
                long value = 0;
                for (int i = 0; i < 9; i++)
                {
                    byte x = Next();
                    value |= (long)(x & 0x7F) << (7 * i);
                    if ((x & 0x80) == 0)
                    {
                        if (x == 0 && i > 0)
                        {
                            throw CompressionErrors.Invalid(source, S, "a variable-length integer is not minimally encoded.");
                        }
                        return value;
                    }
                }
                throw CompressionErrors.Invalid(source, S, "a variable-length integer is longer than 9 bytes.");
            }
            Next();
            long count = Vli();
            if (count != records.Count)
            {
                throw CompressionErrors.Invalid(source, S, $"the index lists {count} blocks, the stream holds {records.Count}.");
            }
            for (int i = 0; i < records.Count; i++)
            {
                long unpadded = Vli();
                long uncompressed = Vli();
                if (unpadded != records[i].Unpadded || uncompressed != records[i].Uncompressed)
                {
                    throw CompressionErrors.Invalid(source, S, $"record {i} does not match block {i} as read.");
                }
            }
            while (((input.Position - indexStart) & 3) != 0)
            {
                if (Next() != 0)
                {
                    throw CompressionErrors.Invalid(source, S, "the index padding is not zero.");
                }
            }
            long indexSize = input.Position - indexStart + 4;
            if (~crc != input.ReadUInt32LittleEndian(S))
            {
                throw CompressionErrors.Invalid(source, S, "the index CRC32 does not match.");
            }

            const string F = "xz stream footer";
            var f = new byte[12];
            input.ReadExactly(f, 0, 12, F);
            if (f[10] != (byte)'Y' || f[11] != (byte)'Z')
            {
                throw CompressionErrors.Invalid(source, F, "the footer magic is not 'YZ'.");
            }
            if (Crc32.HashToUInt32(new ReadOnlySpan<byte>(f, 4, 6)) != ReadLe32(f, 0))
            {
                throw CompressionErrors.Invalid(source, F, "the footer CRC32 does not match.");
            }
            if (((long)ReadLe32(f, 4) + 1) * 4 != indexSize)
            {
                throw CompressionErrors.Invalid(source, F, "the backward size does not match the index.");
            }
            if (f[8] != streamFlags[0] || f[9] != streamFlags[1])
            {
                throw CompressionErrors.Invalid(source, F, "the stream flags differ from the header's.");
            }
        }
    }
}
