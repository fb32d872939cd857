using System;

namespace AzureLinuxImage.Compression.Xz
{
    /// <summary>
    /// The x86 branch/call/jump converter (.xz filter 0x04) in decoding direction: E8/E9 instructions
    /// whose 32-bit operand looks like a near address had it made absolute by the encoder; here it is
    /// made relative again. The state (the mask of recent E8/E9 bytes and the last position) follows
    /// the .xz format's description of the filter; the last four bytes of the data pass unchanged.
    /// </summary>
    internal sealed class X86BcjFilter
    {
        private static readonly bool[] AllowedStatus = { true, true, true, false, true, false, false, false };
        private static readonly int[] BitNumber = { 0, 1, 2, 2, 3, 3, 3, 3 };

        private readonly byte[] buffer = new byte[1 << 16];
        private int readPos;
        private int filtered;
        private int have;
        private bool eof;
        private uint position;
        private uint previousMask;
        private uint previousPosition;

        public X86BcjFilter(uint startOffset)
        {
            position = startOffset;
            previousPosition = unchecked((uint)-5);
        }

        public int Read(Lzma2Decoder lzma2, LzWindow window, byte[] output, int offset, int count)
        {
            while (true)
            {
                int ready = (eof ? have : filtered) - readPos;
                if (ready > 0)
                {
                    int n = Math.Min(count, ready);
                    Buffer.BlockCopy(buffer, readPos, output, offset, n);
                    readPos += n;
                    return n;
                }
                if (eof)
                {
                    return 0;
                }
                if (readPos > 0)
                {
                    Buffer.BlockCopy(buffer, readPos, buffer, 0, have - readPos);
                    have -= readPos;
                    filtered -= readPos;
                    readPos = 0;
                }
                int got = lzma2.Decode(buffer.Length - have, out int start);
                if (got == 0)
                {
                    eof = true;
                    continue;
                }
                Buffer.BlockCopy(window.Buffer, start, buffer, have, got);
                have += got;
                int done = Convert(filtered, have - filtered);
                filtered += done;
                position += (uint)done;
            }
        }

        private static bool IsAddressByte(uint b) => b == 0 || b == 0xFF;

        /// <summary>Converts buffer[at .. at+size); returns how many bytes are final.</summary>
        private int Convert(int at, int size)
        {
            if (size < 5)
            {
                return 0;
            }
            uint now = position;
            if (now - previousPosition > 5)
            {
                previousPosition = now - 5;
            }
            int limit = size - 5;
            int i = 0;
            uint mask = previousMask;
            while (i <= limit)
            {
                byte opcode = buffer[at + i];
                if (opcode != 0xE8 && opcode != 0xE9)
                {
                    i++;
                    continue;
                }
                uint distance = now + (uint)i - previousPosition;
                previousPosition = now + (uint)i;
                if (distance > 5)
                {
                    mask = 0;
                }
                else
                {
                    for (uint k = 0; k < distance; k++)
                    {
                        mask &= 0x77;
                        mask <<= 1;
                    }
                }
                uint high = buffer[at + i + 4];
                if (IsAddressByte(high) && AllowedStatus[(mask >> 1) & 7] && (mask >> 1) < 0x10)
                {
                    uint src = (high << 24) | ((uint)buffer[at + i + 3] << 16) | ((uint)buffer[at + i + 2] << 8) | buffer[at + i + 1];
                    uint dest;
                    while (true)
                    {
                        dest = src - (now + (uint)i + 5);
                        if (mask == 0)
                        {
                            break;
                        }
                        int bit = BitNumber[mask >> 1];
                        uint b = (byte)(dest >> (24 - (bit * 8)));
                        if (!IsAddressByte(b))
                        {
                            break;
                        }
                        src = dest ^ ((1u << (32 - (bit * 8))) - 1);
                    }
                    buffer[at + i + 4] = (byte)~(((dest >> 24) & 1) - 1);
                    buffer[at + i + 3] = (byte)(dest >> 16);
                    buffer[at + i + 2] = (byte)(dest >> 8);
                    buffer[at + i + 1] = (byte)dest;
                    i += 5;
                    mask = 0;
                }
                else
                {
                    i++;
                    mask |= 1;
                    if (IsAddressByte(high))
                    {
                        mask |= 0x10;
                    }
                }
            }
            previousMask = mask;
            return i;
        }
    }
}
