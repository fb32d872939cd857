using System;

namespace AzureLinuxImage.IO
{
    /// <summary>A range of bytes [Offset, Offset + Length) of a virtual disk.</summary>
    public readonly struct ByteRange : IEquatable<ByteRange>
    {
        /// <summary>Creates a range.</summary>
        public ByteRange(long offset, long length)
        {
            Offset = offset;
            Length = length;
        }

        /// <summary>First byte.</summary>
        public long Offset { get; }

        /// <summary>Number of bytes.</summary>
        public long Length { get; }

        /// <summary>One past the last byte.</summary>
        public long End => Offset + Length;

        /// <inheritdoc />
        public bool Equals(ByteRange other) => Offset == other.Offset && Length == other.Length;

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is ByteRange r && Equals(r);

        /// <inheritdoc />
        public override int GetHashCode() => (Offset.GetHashCode() * 397) ^ Length.GetHashCode();

        /// <inheritdoc />
        public override string ToString() => $"[{Offset}, {End})";
    }
}
