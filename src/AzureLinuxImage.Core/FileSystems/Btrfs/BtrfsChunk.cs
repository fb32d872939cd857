using System;
using System.Buffers.Binary;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// struct btrfs_chunk (48 bytes, then num_stripes btrfs_stripe of 32 bytes): one logical range
    /// [key.offset, key.offset + length) and where its copies lie on the devices.
    /// </summary>
    internal sealed class BtrfsChunk
    {
        public const int HeaderSize = 48;
        public const int StripeSize = 32;

        public const ulong TypeData = 0x1;
        public const ulong TypeSystem = 0x2;
        public const ulong TypeMetadata = 0x4;
        public const ulong Raid0 = 0x8;
        public const ulong Raid1 = 0x10;
        public const ulong Dup = 0x20;
        public const ulong Raid10 = 0x40;
        public const ulong Raid5 = 0x80;
        public const ulong Raid6 = 0x100;
        public const ulong Raid1C3 = 0x200;
        public const ulong Raid1C4 = 0x400;
        private const ulong Profiles = Raid0 | Raid1 | Dup | Raid10 | Raid5 | Raid6 | Raid1C3 | Raid1C4;

        private BtrfsChunk(ulong logical, ulong length, ulong type, ulong[] physical)
        {
            Logical = logical;
            Length = length;
            Type = type;
            Physical = physical;
        }

        public ulong Logical { get; }

        public ulong Length { get; }

        public ulong Type { get; }

        /// <summary>Device offsets of the copies (one for single, two for DUP), all on this device.</summary>
        public ulong[] Physical { get; }

        public ulong End => Logical + Length;

        /// <summary>Bytes the item at <paramref name="b"/> takes (so the sys_chunk_array can be walked).</summary>
        public static int ItemSize(ReadOnlySpan<byte> b, string where, string structure)
        {
            if (b.Length < HeaderSize)
            {
                throw new InvalidImageException(where, structure, "the chunk item is truncated.");
            }
            int stripes = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(44));
            return HeaderSize + (stripes * StripeSize);
        }

        /// <summary>Parses and validates one chunk item for the single device <paramref name="sb"/> describes.</summary>
        public static BtrfsChunk Parse(ulong logical, ReadOnlySpan<byte> b, BtrfsSuperblock sb, long deviceLength, string where, string structure)
        {
            if (b.Length < HeaderSize)
            {
                throw new InvalidImageException(where, structure, $"the chunk item at logical 0x{logical:X} is {b.Length} bytes, shorter than its {HeaderSize}-byte header.");
            }
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(b);
            ulong type = BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(24));
            int stripes = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(44));
            if (stripes == 0 || b.Length != HeaderSize + (stripes * StripeSize))
            {
                throw new InvalidImageException(where, structure, $"the chunk at logical 0x{logical:X} has {stripes} stripes, which does not match its {b.Length}-byte item.");
            }
            ulong sector = (ulong)sb.SectorSize;
            if (length == 0 || length % sector != 0 || logical % sector != 0 || logical > ulong.MaxValue - length)
            {
                throw new InvalidImageException(where, structure, $"the chunk at logical 0x{logical:X} has length {length}, zero, unaligned or overflowing.");
            }
            if ((type & (TypeData | TypeSystem | TypeMetadata)) == 0)
            {
                throw new InvalidImageException(where, structure, $"the chunk at logical 0x{logical:X} has type 0x{type:X}, neither data, system nor metadata.");
            }
            ulong profile = type & Profiles;
            if (profile != 0 && profile != Dup)
            {
                throw new UnsupportedImageException(where, $"btrfs chunk at logical 0x{logical:X} uses the {ProfileName(profile)} profile, which spreads data across devices; only single and DUP (one device) are read.");
            }
            int expected = profile == Dup ? 2 : 1;
            if (stripes != expected)
            {
                throw new InvalidImageException(where, structure, $"the {(profile == Dup ? "DUP" : "single")} chunk at logical 0x{logical:X} has {stripes} stripes, not {expected}.");
            }
            var physical = new ulong[stripes];
            for (int i = 0; i < stripes; i++)
            {
                ReadOnlySpan<byte> stripe = b.Slice(HeaderSize + (i * StripeSize));
                ulong devid = BinaryPrimitives.ReadUInt64LittleEndian(stripe);
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(stripe.Slice(8));
                if (devid != sb.DevId)
                {
                    throw new UnsupportedImageException(where, $"btrfs chunk at logical 0x{logical:X} lies on device {devid}, not on this one ({sb.DevId}); multi-device btrfs is not read.");
                }
                if (offset > (ulong)deviceLength || length > (ulong)deviceLength - offset)
                {
                    throw new InvalidImageException(where, structure, $"stripe {i} of the chunk at logical 0x{logical:X} ([0x{offset:X}, +{length})) runs past the end of the device ({deviceLength} bytes).");
                }
                physical[i] = offset;
            }
            return new BtrfsChunk(logical, length, type, physical);
        }

        private static string ProfileName(ulong profile) => profile switch
        {
            Raid0 => "RAID0",
            Raid1 => "RAID1",
            Raid10 => "RAID10",
            Raid5 => "RAID5",
            Raid6 => "RAID6",
            Raid1C3 => "RAID1C3",
            Raid1C4 => "RAID1C4",
            _ => $"0x{profile:X}",
        };
    }
}
