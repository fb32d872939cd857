using System;
using System.Buffers.Binary;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// struct btrfs_file_extent_item (key: inode, 108, file offset). Inline extents carry the data
    /// after a 21-byte header; regular and prealloc extents name a range of a disk extent
    /// [disk_bytenr, +disk_num_bytes) whose decompressed bytes [offset, +num_bytes) are the file's.
    /// </summary>
    internal sealed class BtrfsFileExtent
    {
        public const byte Inline = 0;
        public const byte Regular = 1;
        public const byte Prealloc = 2;

        public const byte CompressNone = 0;
        public const byte CompressZlib = 1;
        public const byte CompressLzo = 2;
        public const byte CompressZstd = 3;

        /// <summary>BTRFS_MAX_COMPRESSED: no compressed extent holds more (or takes more on disk).</summary>
        public const int MaxCompressed = 128 * 1024;

        private const int InlineHeader = 21;
        private const int RegularSize = 53;

        private BtrfsFileExtent()
        {
        }

        /// <summary>Offset in the file (the key's offset).</summary>
        public ulong FileOffset { get; private set; }

        public byte Type { get; private set; }

        public byte Compression { get; private set; }

        /// <summary>Decompressed size of the whole disk extent (or of the inline data).</summary>
        public ulong RamBytes { get; private set; }

        public ulong DiskBytenr { get; private set; }

        public ulong DiskNumBytes { get; private set; }

        /// <summary>Where in the decompressed extent the file's bytes start.</summary>
        public ulong Offset { get; private set; }

        /// <summary>File bytes this item covers (for inline: <see cref="RamBytes"/>).</summary>
        public ulong NumBytes { get; private set; }

        public byte[] InlineData { get; private set; } = Array.Empty<byte>();

        /// <summary>A hole written as an extent (disk_bytenr 0) or preallocated space: reads as zeros.</summary>
        public bool ReadsAsZeros => Type == Prealloc || (Type == Regular && DiskBytenr == 0);

        public ulong End => FileOffset + NumBytes;

        public static BtrfsFileExtent Parse(ulong fileOffset, ReadOnlySpan<byte> b, int sectorSize, ulong inode, string where, string structure)
        {
            if (b.Length < InlineHeader)
            {
                throw new InvalidImageException(where, structure, $"EXTENT_DATA of inode {inode} at {fileOffset} is {b.Length} bytes, shorter than its header.");
            }
            var e = new BtrfsFileExtent
            {
                FileOffset = fileOffset,
                RamBytes = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(8)),
                Compression = b[16],
                Type = b[20],
            };
            byte encryption = b[17];
            ushort otherEncoding = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(18));
            if (encryption != 0 || otherEncoding != 0)
            {
                throw new UnsupportedImageException(where, $"btrfs inode {inode}: the extent at {fileOffset} is encrypted or encoded (encryption {encryption}, other_encoding {otherEncoding}), which is not read.");
            }
            if (e.Compression > CompressZstd)
            {
                throw new InvalidImageException(where, structure, $"EXTENT_DATA of inode {inode} at {fileOffset} names compression {e.Compression}, not none, zlib, lzo or zstd.");
            }
            switch (e.Type)
            {
                case Inline:
                    if (fileOffset != 0 || e.RamBytes == 0 || e.RamBytes > (ulong)sectorSize ||
                        (e.Compression == CompressNone && e.RamBytes != (ulong)(b.Length - InlineHeader)))
                    {
                        throw new InvalidImageException(where, structure, $"the inline extent of inode {inode} at {fileOffset} holds {e.RamBytes} bytes in a {b.Length - InlineHeader}-byte item (inline data starts the file and fits a sector).");
                    }
                    e.InlineData = b.Slice(InlineHeader).ToArray();
                    e.NumBytes = e.RamBytes;
                    break;
                case Regular:
                case Prealloc:
                    if (b.Length != RegularSize)
                    {
                        throw new InvalidImageException(where, structure, $"EXTENT_DATA of inode {inode} at {fileOffset} is {b.Length} bytes, not {RegularSize}.");
                    }
                    e.DiskBytenr = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(21));
                    e.DiskNumBytes = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(29));
                    e.Offset = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(37));
                    e.NumBytes = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(45));
                    ulong sector = (ulong)sectorSize;
                    if (e.NumBytes == 0 || e.NumBytes > long.MaxValue || fileOffset > long.MaxValue - e.NumBytes || fileOffset % sector != 0 ||
                        e.Offset > e.RamBytes || e.NumBytes > e.RamBytes - e.Offset)
                    {
                        throw new InvalidImageException(where, structure, $"EXTENT_DATA of inode {inode} at {fileOffset} covers [{e.Offset}, +{e.NumBytes}) of a {e.RamBytes}-byte extent, which is empty, unaligned or out of range.");
                    }
                    if (e.DiskBytenr != 0)
                    {
                        bool compressed = e.Compression != CompressNone;
                        if (e.DiskNumBytes == 0 || e.DiskBytenr % sector != 0 || e.DiskBytenr > ulong.MaxValue - e.DiskNumBytes ||
                            (compressed && (e.DiskNumBytes > MaxCompressed || e.RamBytes > MaxCompressed)) ||
                            (!compressed && e.Offset + e.NumBytes > e.DiskNumBytes))
                        {
                            throw new InvalidImageException(where, structure, $"EXTENT_DATA of inode {inode} at {fileOffset} names disk extent [0x{e.DiskBytenr:X}, +{e.DiskNumBytes}) of {e.RamBytes} bytes, which is unaligned, too large or shorter than the range used.");
                        }
                    }
                    break;
                default:
                    throw new InvalidImageException(where, structure, $"EXTENT_DATA of inode {inode} at {fileOffset} has type {e.Type}, not inline, regular or prealloc.");
            }
            return e;
        }
    }
}
