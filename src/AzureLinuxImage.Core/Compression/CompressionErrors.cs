using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Compression
{
    /// <summary>The errors every decoder throws, so messages and ids stay uniform.</summary>
    internal static class CompressionErrors
    {
        public static InvalidImageException Invalid(string source, string structure, string problem) =>
            new InvalidImageException(source, structure, problem);

        public static InvalidImageException Truncated(string source, string structure) =>
            new InvalidImageException(source, structure, "the compressed data ends in the middle of this structure (truncated file?).");

        public static UnsupportedImageException Unsupported(string source, string what) =>
            new UnsupportedImageException(source, what);

        /// <summary>A limit of <see cref="DecompressionLimits"/> was reached: never a crash or an allocation the input chose.</summary>
        public static AzureLinuxImageException LimitExceeded(string source, string what) =>
            new AzureLinuxImageException("DecompressionLimitExceeded", ErrorKind.InvalidData,
                $"{source}: {what} (a limit against decompression bombs; raise it only for input you trust).", source);
    }
}
