using System;

namespace AzureLinuxImage.Compression
{
    /// <summary>
    /// Bounds for reading an initramfs: whatever the archive declares, the reader never decompresses,
    /// allocates or lists more than this.
    /// </summary>
    internal sealed class InitramfsLimits
    {
        /// <summary>Generous for any real initramfs (Debian's is ~50 MiB unpacked, Fedora's ~100 MiB).</summary>
        public static readonly InitramfsLimits Default = new InitramfsLimits();

        /// <summary>Total bytes decompressed over all compressed parts.</summary>
        public long MaxDecompressedBytes { get; init; } = 2L << 30;

        /// <summary>The largest history window a decoder may allocate (zstd window, LZMA dictionary).</summary>
        public int MaxWindowBytes { get; init; } = 128 << 20;

        /// <summary>Entries over all archives.</summary>
        public int MaxEntries { get; init; } = 1_000_000;

        /// <summary>Bytes of one name, including its terminating NUL.</summary>
        public int MaxNameLength { get; init; } = 4096;

        /// <summary>Bytes of one entry's data.</summary>
        public long MaxFileSize { get; init; } = 1L << 30;

        /// <summary>Bytes of one symbolic link's target (read eagerly).</summary>
        public int MaxLinkTargetLength { get; init; } = 4096;

        /// <summary>cpio archives (and compressed parts) concatenated in one file.</summary>
        public int MaxArchives { get; init; } = 256;

        internal DecompressionLimits ToDecompressionLimits() => new DecompressionLimits(MaxDecompressedBytes, Math.Max(MaxWindowBytes, 4096));
    }
}
