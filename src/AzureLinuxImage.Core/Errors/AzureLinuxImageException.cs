using System;

namespace AzureLinuxImage.Errors
{
    /// <summary>What kind of failure an <see cref="AzureLinuxImageException"/> is; the cmdlets map it to an ErrorCategory.</summary>
    public enum ErrorKind
    {
        /// <summary>A file's content is malformed or inconsistent.</summary>
        InvalidData,
        /// <summary>A file or a parent image does not exist.</summary>
        NotFound,
        /// <summary>A valid input uses something this module does not handle.</summary>
        NotSupported,
        /// <summary>The destination exists and overwriting was not asked for.</summary>
        AlreadyExists,
        /// <summary>The caller asked for something that cannot be done (shrinking below a partition, for example).</summary>
        InvalidArgument,
        /// <summary>The operation was cancelled.</summary>
        Cancelled,
        /// <summary>An I/O or network failure outside the input's content.</summary>
        ResourceUnavailable,
        /// <summary>Something waited for (a Resource Manager operation) did not finish within the time allowed.</summary>
        OperationTimeout,
    }

    /// <summary>
    /// Every failure the module reports on purpose. <see cref="ErrorId"/> is stable (PascalCase),
    /// <see cref="FilePath"/> names the file concerned, and the message says what is wrong and what to do.
    /// </summary>
    public class AzureLinuxImageException : Exception
    {
        /// <summary>Creates an error.</summary>
        public AzureLinuxImageException(string errorId, ErrorKind kind, string message, string? filePath = null, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Kind = kind;
            FilePath = filePath;
        }

        /// <summary>A stable identifier such as <c>InvalidDiskImage</c>.</summary>
        public string ErrorId { get; }

        /// <summary>The kind of failure.</summary>
        public ErrorKind Kind { get; }

        /// <summary>The file concerned, when there is one.</summary>
        public string? FilePath { get; }
    }

    /// <summary>A disk image (or a structure inside one) is malformed: <see cref="Structure"/> names the field.</summary>
    public sealed class InvalidImageException : AzureLinuxImageException
    {
        /// <summary>Creates the error; the message is prefixed with the file and the structure.</summary>
        public InvalidImageException(string filePath, string structure, string problem, Exception? inner = null)
            : base("InvalidDiskImage", ErrorKind.InvalidData, $"{filePath}: {structure}: {problem}", filePath, inner)
        {
            Structure = structure;
        }

        /// <summary>The structure or field that is wrong, e.g. "VHD footer checksum".</summary>
        public string Structure { get; }
    }

    /// <summary>The input is valid but uses a format or feature this module does not read.</summary>
    public sealed class UnsupportedImageException : AzureLinuxImageException
    {
        /// <summary>Creates the error.</summary>
        public UnsupportedImageException(string filePath, string message)
            : base("UnsupportedDiskImage", ErrorKind.NotSupported, $"{filePath}: {message}", filePath)
        {
        }
    }
}
