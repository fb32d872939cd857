using System;
using AzureLinuxImage.Checksums;

namespace AzureLinuxImage.Compression.Gzip
{
    /// <summary>
    /// gzip (RFC 1952): members of a header (with optional extra field, name, comment and header CRC16),
    /// DEFLATE data and a trailer with the CRC32 and size of the data, both verified; concatenated
    /// members. Written here rather than taken from GZipStream because GZipStream reads ahead (the
    /// next initramfs part could not be found), accepts truncated input silently, and reads only the
    /// first member on .NET Framework.
    /// </summary>
    internal sealed class GzipDecoder : IDecoder
    {
        private readonly InputBuffer input;
        private readonly string source;
        private readonly bool strict;
        private readonly Inflater inflater;
        private bool inMember;
        private int members;
        private bool done;
        private uint crc;
        private uint size;

        public GzipDecoder(InputBuffer input, bool strict)
        {
            this.input = input;
            source = input.SourceName;
            this.strict = strict;
            inflater = new Inflater(input);
        }

        public int Read(byte[] buffer, int offset, int count)
        {
            while (!done)
            {
                if (!inMember)
                {
                    if (!StartMember())
                    {
                        done = true;
                        break;
                    }
                    continue;
                }
                int n = inflater.Decode(count, out int start);
                if (n > 0)
                {
                    // The window is shared with the inflater: copy out before the next call.
                    Buffer.BlockCopy(inflater.WindowBuffer, start, buffer, offset, n);
                    crc = CrcRegister.Crc32(crc, new ReadOnlySpan<byte>(buffer, offset, n));
                    size += (uint)n;
                    return n;
                }
                EndMember();
            }
            return 0;
        }

        private bool StartMember()
        {
            const string S = "gzip header";
            if (members > 0)
            {
                if (input.PeekByte(0) != 0x1F || input.PeekByte(1) != 0x8B)
                {
                    if (strict && !input.AtEnd)
                    {
                        throw CompressionErrors.Invalid(source, S, "data after the last member is not another gzip member.");
                    }
                    return false;
                }
            }
            var h = new byte[10];
            input.ReadExactly(h, 0, 10, S);
            if (h[0] != 0x1F || h[1] != 0x8B)
            {
                throw CompressionErrors.Invalid(source, S, "the magic bytes are not 1F 8B.");
            }
            if (h[2] != 8)
            {
                throw CompressionErrors.Unsupported(source, $"gzip compression method {h[2]} (only 8, deflate, exists).");
            }
            int flags = h[3];
            if ((flags & 0xE0) != 0)
            {
                throw CompressionErrors.Invalid(source, S, "reserved flag bits are set.");
            }
            uint headerCrc = CrcRegister.Crc32(0xFFFFFFFF, h);
            byte Next()
            {
                byte b = input.ReadByte(S);
                headerCrc = CrcRegister.Crc32(headerCrc, new ReadOnlySpan<byte>(new[] { b }));
                return b;
            }
            if ((flags & 0x04) != 0)
            {
                int xlen = Next() | (Next() << 8);
                for (int i = 0; i < xlen; i++)
                {
                    Next();
                }
            }
            if ((flags & 0x08) != 0)
            {
                while (Next() != 0)
                {
                }
            }
            if ((flags & 0x10) != 0)
            {
                while (Next() != 0)
                {
                }
            }
            if ((flags & 0x02) != 0)
            {
                uint expected = ~headerCrc & 0xFFFF;
                uint stored = (uint)(input.ReadByte(S) | (input.ReadByte(S) << 8));
                if (stored != expected)
                {
                    throw CompressionErrors.Invalid(source, S, "the header CRC16 does not match.");
                }
            }
            inflater.Reset();
            crc = 0xFFFFFFFF;
            size = 0;
            inMember = true;
            members++;
            return true;
        }

        private void EndMember()
        {
            const string S = "gzip trailer";
            uint storedCrc = input.ReadUInt32LittleEndian(S);
            uint storedSize = input.ReadUInt32LittleEndian(S);
            if (storedCrc != ~crc)
            {
                throw CompressionErrors.Invalid(source, S, $"stored CRC32 0x{storedCrc:X8}, computed 0x{~crc:X8}: the data is corrupt.");
            }
            if (storedSize != size)
            {
                throw CompressionErrors.Invalid(source, S, $"stored size {storedSize} (mod 2^32), decoded {size}.");
            }
            inMember = false;
        }
    }
}
