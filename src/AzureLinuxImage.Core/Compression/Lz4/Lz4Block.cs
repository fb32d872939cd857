using System;
using K4os.Compression.LZ4;

namespace AzureLinuxImage.Compression.Lz4
{
    /// <summary>
    /// The LZ4 block format (lz4_Block_format.md), decoded by K4os.Compression.LZ4. The frame and legacy
    /// containers around it stay ours: they know each block's size before decoding it, so nothing is read ahead.
    /// </summary>
    internal static class Lz4Block
    {
        /// <summary>
        /// Decodes src[srcPos..srcEnd) to dst starting at <paramref name="dstPos"/>, never past
        /// <paramref name="dstEnd"/>, with matches reaching back no further than <paramref name="historyStart"/>
        /// (dst[historyStart..dstPos) is the history of linked blocks). Returns the end of the output.
        /// </summary>
        public static int Decode(byte[] src, int srcPos, int srcEnd, byte[] dst, int dstPos, int dstEnd, int historyStart, string source)
        {
            int n = LZ4Codec.Decode(
                new ReadOnlySpan<byte>(src, srcPos, srcEnd - srcPos),
                new Span<byte>(dst, dstPos, dstEnd - dstPos),
                new ReadOnlySpan<byte>(dst, historyStart, dstPos - historyStart));
            if (n < 0)
            {
                throw CompressionErrors.Invalid(source, "LZ4 block", "the block is corrupt: a sequence runs past the block or its output, or a match reaches before the available history.");
            }
            return dstPos + n;
        }
    }
}
