using System;

namespace AzureLinuxImage.Compression.Lzo
{
    /// <summary>
    /// LZO1X block decompression (bitstream versions 0 and 1), written from the format's description in the
    /// Linux kernel's Documentation/staging/lzo.rst: a first byte that may start with literals, then
    /// instructions whose low two bits ("state") carry 0-3 trailing literals, and an end marker
    /// (a 16..31 instruction with distance 16384). Every read and copy is bounds-checked: a damaged
    /// block ends in a typed error, never past either buffer.
    /// </summary>
    internal static class Lzo1xBlock
    {
        /// <summary>Decompresses one block; returns the bytes written. <paramref name="source"/> names the data in errors.</summary>
        public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output, string source)
        {
            int ip = 0;
            int op = 0;
            int state = 0;
            int version = 0;
            if (input.Length >= 5 && input[0] == 17)
            {
                version = input[1];
                if (version != 1)
                {
                    throw CompressionErrors.Invalid(source, "LZO1X block", $"bitstream version {version} is not 1.");
                }
                ip = 2;
            }
            if (ip < input.Length && input[ip] > 17)
            {
                int literals = input[ip++] - 17;
                CopyLiterals(input, ref ip, output, ref op, literals, source);
                state = literals < 4 ? literals : 4;
            }
            while (true)
            {
                int t = Byte(input, ref ip, source);
                int length;
                int distance;
                if (t < 16)
                {
                    if (state == 0)
                    {
                        // A run of 4 or more literals.
                        length = t == 0 ? 15 + ExtraLength(input, ref ip, source) : t;
                        CopyLiterals(input, ref ip, output, ref op, length + 3, source);
                        state = 4;
                        continue;
                    }
                    int h = Byte(input, ref ip, source);
                    if (state == 4)
                    {
                        length = 3;
                        distance = (h << 2) + ((t >> 2) & 3) + 2049;
                    }
                    else
                    {
                        length = 2;
                        distance = (h << 2) + ((t >> 2) & 3) + 1;
                    }
                    state = t & 3;
                }
                else if (t < 32)
                {
                    length = (t & 7) == 0 ? 7 + ExtraLength(input, ref ip, source) : t & 7;
                    length += 2;
                    int le = LittleEndian16(input, ref ip, source);
                    distance = 16384 + ((t & 8) << 11) + (le >> 2);
                    state = le & 3;
                    if (distance == 16384)
                    {
                        if (length != 3)
                        {
                            throw CompressionErrors.Invalid(source, "LZO1X block", "the end marker has a length.");
                        }
                        return op;
                    }
                    if (version == 1 && distance == 0xBFFF)
                    {
                        // Version 1 run of zeros: ((X << 3) | LLL) + 4 bytes.
                        int x = Byte(input, ref ip, source);
                        int run = ((x << 3) | (t & 7)) + 4;
                        if (run > output.Length - op)
                        {
                            throw CompressionErrors.Invalid(source, "LZO1X block", "a run of zeros overflows the output.");
                        }
                        output.Slice(op, run).Clear();
                        op += run;
                        CopyLiterals(input, ref ip, output, ref op, state, source);
                        continue;
                    }
                }
                else if (t < 64)
                {
                    length = (t & 31) == 0 ? 31 + ExtraLength(input, ref ip, source) : t & 31;
                    length += 2;
                    int le = LittleEndian16(input, ref ip, source);
                    distance = (le >> 2) + 1;
                    state = le & 3;
                }
                else
                {
                    int h = Byte(input, ref ip, source);
                    length = t >= 128 ? 5 + ((t >> 5) & 3) : 3 + ((t >> 5) & 1);
                    distance = (h << 3) + ((t >> 2) & 7) + 1;
                    state = t & 3;
                }
                if (distance > op)
                {
                    throw CompressionErrors.Invalid(source, "LZO1X block", $"a match reaches {distance} bytes back from output position {op}.");
                }
                if (length > output.Length - op)
                {
                    throw CompressionErrors.Invalid(source, "LZO1X block", "a match overflows the output.");
                }
                // Byte by byte: a match may overlap the bytes it produces.
                for (int i = 0; i < length; i++)
                {
                    output[op] = output[op - distance];
                    op++;
                }
                CopyLiterals(input, ref ip, output, ref op, state, source);
            }
        }

        /// <summary>Length continuation: each zero byte adds 255, the first non-zero byte ends it.</summary>
        private static int ExtraLength(ReadOnlySpan<byte> input, ref int ip, string source)
        {
            int extra = 0;
            while (true)
            {
                int b = Byte(input, ref ip, source);
                if (b != 0)
                {
                    return extra + b;
                }
                extra += 255;
                if (extra > 1 << 24)
                {
                    throw CompressionErrors.Invalid(source, "LZO1X block", "a length continuation is absurdly long.");
                }
            }
        }

        private static int Byte(ReadOnlySpan<byte> input, ref int ip, string source)
        {
            if (ip >= input.Length)
            {
                throw CompressionErrors.Truncated(source, "LZO1X block");
            }
            return input[ip++];
        }

        private static int LittleEndian16(ReadOnlySpan<byte> input, ref int ip, string source)
        {
            int lo = Byte(input, ref ip, source);
            return lo | (Byte(input, ref ip, source) << 8);
        }

        private static void CopyLiterals(ReadOnlySpan<byte> input, ref int ip, Span<byte> output, ref int op, int count, string source)
        {
            if (count > input.Length - ip)
            {
                throw CompressionErrors.Truncated(source, "LZO1X block");
            }
            if (count > output.Length - op)
            {
                throw CompressionErrors.Invalid(source, "LZO1X block", "literals overflow the output.");
            }
            input.Slice(ip, count).CopyTo(output.Slice(op));
            ip += count;
            op += count;
        }
    }
}
