using System;
using System.Buffers.Binary;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Partitions.Lvm
{
    /// <summary>
    /// A metadata area (lvm2 lib/format_text/layout.h, mda_header): a 512-byte header with its CRC and
    /// magic, and a circular buffer whose first raw_locn points at the current text metadata.
    /// </summary>
    internal static class LvmMetadataArea
    {
        public const int HeaderSize = 512;

        /// <summary>Metadata text above this size is refused (lvm2's default area is 1 MiB).</summary>
        public const long MaxTextBytes = 16 << 20;

        private static readonly byte[] Magic = Encoding.ASCII.GetBytes(" LVM2 x[5A%r0N*>");

        /// <summary>The current metadata text of the area at <paramref name="offset"/>, or null when the area holds none (or it is marked ignored).</summary>
        public static string? ReadText(BlockDevice device, long offset, long size)
        {
            if (size < HeaderSize || offset < 0 || offset > device.Length - size)
            {
                throw new InvalidImageException(device.Description, "LVM2 metadata area", $"area at {offset} of {size} bytes lies outside the device.");
            }
            var h = new byte[HeaderSize];
            device.Read(offset, h, 0, HeaderSize);
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(h);
            uint crc = LvmLabel.Crc(h.AsSpan(4));
            if (crc != stored)
            {
                throw new InvalidImageException(device.Description, "LVM2 metadata area header", $"CRC is 0x{crc:X8}, the header says 0x{stored:X8}.");
            }
            if (!h.AsSpan(4, 16).SequenceEqual(Magic))
            {
                throw new InvalidImageException(device.Description, "LVM2 metadata area header", "the magic string is missing.");
            }
            uint version = BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(20));
            ulong start = BinaryPrimitives.ReadUInt64LittleEndian(h.AsSpan(24));
            if (version != 1 || start != (ulong)offset)
            {
                throw new InvalidImageException(device.Description, "LVM2 metadata area header", $"version {version} or start {start} does not match an area at {offset}.");
            }
            ulong textOffset = BinaryPrimitives.ReadUInt64LittleEndian(h.AsSpan(40));
            ulong textSize = BinaryPrimitives.ReadUInt64LittleEndian(h.AsSpan(48));
            uint textCrc = BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(56));
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(60));
            if (textOffset == 0 || textSize == 0 || (flags & 1) != 0)
            {
                return null;
            }
            if (textSize > (ulong)Math.Min(MaxTextBytes, size - HeaderSize) || textOffset < HeaderSize || textOffset >= (ulong)size)
            {
                throw new InvalidImageException(device.Description, "LVM2 metadata location", $"{textSize} bytes at {textOffset} do not fit the {size}-byte area.");
            }
            var text = new byte[textSize];
            // The buffer is circular: text that reaches the area's end continues after the header.
            long first = Math.Min((long)textSize, size - (long)textOffset);
            device.Read(offset + (long)textOffset, text, 0, (int)first);
            if (first < (long)textSize)
            {
                device.Read(offset + HeaderSize, text, (int)first, (int)((long)textSize - first));
            }
            uint computed = LvmLabel.Crc(text);
            if (computed != textCrc)
            {
                throw new InvalidImageException(device.Description, "LVM2 metadata text", $"CRC is 0x{computed:X8}, the location says 0x{textCrc:X8}.");
            }
            int end = Array.IndexOf(text, (byte)0);
            return Encoding.UTF8.GetString(text, 0, end < 0 ? text.Length : end);
        }
    }
}
