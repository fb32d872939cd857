using System;
using System.Buffers.Binary;
using System.Security.Cryptography;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// The metadata checksum a btrfs superblock's csum_type names: crc32c (0), xxhash64 (1), sha256 (2),
    /// blake2b-256 (3). It covers everything of a superblock or tree block after its 32-byte csum field.
    /// </summary>
    internal sealed class BtrfsChecksum
    {
        public const int FieldSize = 32;

        private BtrfsChecksum(ushort type, string name, int size)
        {
            Type = type;
            Name = name;
            Size = size;
        }

        public ushort Type { get; }

        public string Name { get; }

        /// <summary>Bytes of the 32-byte field the checksum uses.</summary>
        public int Size { get; }

        /// <summary>The algorithm for a csum_type, or a typed refusal naming the unknown type.</summary>
        public static BtrfsChecksum For(ushort type, string where) => type switch
        {
            0 => new BtrfsChecksum(0, "crc32c", 4),
            1 => new BtrfsChecksum(1, "xxhash64", 8),
            2 => new BtrfsChecksum(2, "sha256", 32),
            3 => new BtrfsChecksum(3, "blake2b", 32),
            _ => throw new UnsupportedImageException(where, $"btrfs superblock: checksum type {type} is not one of crc32c, xxhash64, sha256 or blake2b, so no block can be verified."),
        };

        /// <summary>The checksum of <paramref name="data"/> as stored (little-endian for the integer ones), in the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
        public void Compute(ReadOnlySpan<byte> data, Span<byte> destination)
        {
            switch (Type)
            {
                case 0:
                    BinaryPrimitives.WriteUInt32LittleEndian(destination, ~CrcRegister.Crc32C(uint.MaxValue, data));
                    break;
                case 1:
                    BinaryPrimitives.WriteUInt64LittleEndian(destination, System.IO.Hashing.XxHash64.HashToUInt64(data));
                    break;
                case 2:
                    using (var sha = SHA256.Create())
                    {
                        sha.ComputeHash(data.ToArray()).CopyTo(destination);
                    }
                    break;
                default:
                    Blake2b.Compute(data, destination.Slice(0, 32));
                    break;
            }
        }

        /// <summary>True when the csum field at the start of <paramref name="block"/> matches the rest of it.</summary>
        public bool Matches(ReadOnlySpan<byte> block)
        {
            Span<byte> sum = stackalloc byte[FieldSize];
            Compute(block.Slice(FieldSize), sum);
            return sum.Slice(0, Size).SequenceEqual(block.Slice(0, Size));
        }
    }
}
