using System;

namespace AzureLinuxImage.Compression
{
    /// <summary>
    /// Bounds a decoder may not cross, whatever the input declares: the total output (against
    /// decompression bombs) and the history window it must keep in memory.
    /// </summary>
    internal sealed class DecompressionLimits
    {
        /// <summary>Default: 4 GiB of output, 128 MiB of window (zstd's default decoder limit is 2^27).</summary>
        public static readonly DecompressionLimits Default = new DecompressionLimits(4L << 30, 128 << 20);

        public DecompressionLimits(long maxOutputBytes, int maxWindowBytes)
        {
            if (maxOutputBytes < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(maxOutputBytes));
            }
            if (maxWindowBytes < 4096)
            {
                throw new ArgumentOutOfRangeException(nameof(maxWindowBytes), "at least 4 KiB");
            }
            MaxOutputBytes = maxOutputBytes;
            MaxWindowBytes = maxWindowBytes;
        }

        /// <summary>The decoder fails once it would produce more than this many bytes.</summary>
        public long MaxOutputBytes { get; }

        /// <summary>The largest history window (zstd window, LZMA dictionary, bzip2 block) accepted.</summary>
        public int MaxWindowBytes { get; }
    }
}
