namespace AzureLinuxImage.Compression.Lz4
{
    /// <summary>
    /// The LZ4 block format (lz4_Block_format.md): sequences of a token (literal length and match
    /// length nibbles, 15 meaning "more bytes follow"), literals, a 16-bit little-endian offset and the
    /// match; the last sequence has literals only.
    /// </summary>
    internal static class Lz4Block
    {
        /// <summary>
        /// Decodes src[srcPos..srcEnd) to dst starting at <paramref name="dstPos"/>, never past
        /// <paramref name="dstEnd"/>, with matches reaching back no further than <paramref name="historyStart"/>.
        /// Returns the end of the output.
        /// </summary>
        public static int Decode(byte[] src, int srcPos, int srcEnd, byte[] dst, int dstPos, int dstEnd, int historyStart, string source)
        {
            const string S = "LZ4 block";
            int s = srcPos;
            int d = dstPos;
            while (true)
            {
                if (s >= srcEnd)
                {
                    throw CompressionErrors.Invalid(source, S, "the block ends without a last sequence.");
                }
                int token = src[s++];
                int literals = token >> 4;
                if (literals == 15)
                {
                    int b;
                    do
                    {
                        if (s >= srcEnd)
                        {
                            throw CompressionErrors.Truncated(source, S);
                        }
                        b = src[s++];
                        literals += b;
                        if (literals > dstEnd - d)
                        {
                            throw CompressionErrors.Invalid(source, S, "a literal run exceeds the block size.");
                        }
                    }
                    while (b == 255);
                }
                if (literals > srcEnd - s || literals > dstEnd - d)
                {
                    throw CompressionErrors.Invalid(source, S, "a literal run exceeds the block.");
                }
                System.Buffer.BlockCopy(src, s, dst, d, literals);
                s += literals;
                d += literals;
                if (s == srcEnd)
                {
                    return d;
                }
                if (srcEnd - s < 2)
                {
                    throw CompressionErrors.Truncated(source, S);
                }
                int offset = src[s] | (src[s + 1] << 8);
                s += 2;
                if (offset == 0 || offset > d - historyStart)
                {
                    throw CompressionErrors.Invalid(source, S, $"match offset {offset} reaches before the available history.");
                }
                int length = token & 15;
                if (length == 15)
                {
                    int b;
                    do
                    {
                        if (s >= srcEnd)
                        {
                            throw CompressionErrors.Truncated(source, S);
                        }
                        b = src[s++];
                        length += b;
                        if (length > dstEnd - d)
                        {
                            throw CompressionErrors.Invalid(source, S, "a match exceeds the block size.");
                        }
                    }
                    while (b == 255);
                }
                length += 4;
                if (length > dstEnd - d)
                {
                    throw CompressionErrors.Invalid(source, S, "a match exceeds the block size.");
                }
                int from = d - offset;
                if (offset >= length)
                {
                    System.Buffer.BlockCopy(dst, from, dst, d, length);
                    d += length;
                }
                else
                {
                    int end = d + length;
                    while (d < end)
                    {
                        dst[d++] = dst[from++];
                    }
                }
            }
        }
    }
}
