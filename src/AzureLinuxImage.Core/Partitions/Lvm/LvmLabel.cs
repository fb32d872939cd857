using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Partitions.Lvm
{
    /// <summary>
    /// The LVM2 physical volume label (lvm2 lib/label/label.h, lib/format_text/layout.h): "LABELONE" in one
    /// of the first four sectors, a CRC, type "LVM2 001", then the pv_header with the PV UUID and the
    /// lists of data and metadata areas.
    /// </summary>
    internal sealed class LvmLabel
    {
        public const int SectorSize = 512;
        public const int ScanSectors = 4;

        /// <summary>lvm2's calc_crc: the IEEE table with this initial value and no final inversion.</summary>
        public const uint InitialCrc = 0xF597A6CF;

        /// <summary>At most this many areas per list are read; lvm2 writes one or two.</summary>
        private const int MaxAreas = 16;

        private LvmLabel(string pvUuid, ulong deviceSize, IReadOnlyList<(long Offset, long Size)> dataAreas, IReadOnlyList<(long Offset, long Size)> metadataAreas)
        {
            PvUuid = pvUuid;
            DeviceSize = deviceSize;
            DataAreas = dataAreas;
            MetadataAreas = metadataAreas;
        }

        /// <summary>The 32-character PV UUID without dashes.</summary>
        public string PvUuid { get; }

        /// <summary>As lvm2 prints it: 6-4-4-4-4-4-6 groups.</summary>
        public string PvUuidFormatted => FormatUuid(PvUuid);

        public ulong DeviceSize { get; }

        public IReadOnlyList<(long Offset, long Size)> DataAreas { get; }

        public IReadOnlyList<(long Offset, long Size)> MetadataAreas { get; }

        public static uint Crc(ReadOnlySpan<byte> data) => CrcRegister.Crc32(InitialCrc, data);

        /// <summary>The sector (0-3) holding "LABELONE" with type "LVM2 001", or -1.</summary>
        public static int FindLabelSector(ReadOnlySpan<byte> head)
        {
            for (int s = 0; s < ScanSectors && (s + 1) * SectorSize <= head.Length; s++)
            {
                ReadOnlySpan<byte> sector = head.Slice(s * SectorSize, SectorSize);
                if (sector.Slice(0, 8).SequenceEqual(Encoding.ASCII.GetBytes("LABELONE")) && sector.Slice(24, 8).SequenceEqual(Encoding.ASCII.GetBytes("LVM2 001")))
                {
                    return s;
                }
            }
            return -1;
        }

        /// <summary>Null when the device has no LVM2 label; throws when a label is there but damaged.</summary>
        public static LvmLabel? TryRead(BlockDevice device)
        {
            if (device.Length < ScanSectors * SectorSize)
            {
                return null;
            }
            var head = new byte[ScanSectors * SectorSize];
            device.Read(0, head, 0, head.Length);
            int s = FindLabelSector(head);
            if (s < 0)
            {
                return null;
            }
            ReadOnlySpan<byte> sector = head.AsSpan(s * SectorSize, SectorSize);
            ulong sectorField = BinaryPrimitives.ReadUInt64LittleEndian(sector.Slice(8));
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(16));
            uint offset = BinaryPrimitives.ReadUInt32LittleEndian(sector.Slice(20));
            uint crc = Crc(sector.Slice(20));
            if (crc != stored)
            {
                throw new InvalidImageException(device.Description, "LVM2 label", $"CRC is 0x{crc:X8}, the label says 0x{stored:X8}.");
            }
            if (sectorField != (ulong)s)
            {
                throw new InvalidImageException(device.Description, "LVM2 label", $"found in sector {s} but it says sector {sectorField}.");
            }
            if (offset < 32 || offset > SectorSize - 48)
            {
                throw new InvalidImageException(device.Description, "LVM2 pv_header", $"offset {offset} is outside the label sector.");
            }
            ReadOnlySpan<byte> pv = sector.Slice((int)offset);
            string uuid = Encoding.ASCII.GetString(pv.Slice(0, 32).ToArray());
            foreach (char c in uuid)
            {
                if (!char.IsLetterOrDigit(c) && c != '!' && c != '#')
                {
                    throw new InvalidImageException(device.Description, "LVM2 pv_header", "the PV UUID has characters lvm2 never writes.");
                }
            }
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(pv.Slice(32));
            int pos = 40;
            List<(long, long)> data = ReadAreas(device, pv, ref pos);
            List<(long, long)> meta = ReadAreas(device, pv, ref pos);
            return new LvmLabel(uuid, size, data, meta);
        }

        private static List<(long, long)> ReadAreas(BlockDevice device, ReadOnlySpan<byte> pv, ref int pos)
        {
            var list = new List<(long, long)>();
            while (true)
            {
                if (pos + 16 > pv.Length)
                {
                    throw new InvalidImageException(device.Description, "LVM2 pv_header", "the area list runs past the label sector.");
                }
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(pv.Slice(pos));
                ulong size = BinaryPrimitives.ReadUInt64LittleEndian(pv.Slice(pos + 8));
                pos += 16;
                if (offset == 0)
                {
                    return list;
                }
                if (list.Count >= MaxAreas || offset > (ulong)device.Length || size > (ulong)device.Length)
                {
                    throw new InvalidImageException(device.Description, "LVM2 pv_header", $"an area at {offset} of {size} bytes lies outside the device, or there are too many.");
                }
                list.Add(((long)offset, (long)size));
            }
        }

        public static string FormatUuid(string uuid)
        {
            if (uuid.Length != 32)
            {
                return uuid;
            }
            int[] groups = { 6, 4, 4, 4, 4, 4, 6 };
            var sb = new StringBuilder();
            int at = 0;
            foreach (int g in groups)
            {
                if (sb.Length > 0)
                {
                    sb.Append('-');
                }
                sb.Append(uuid, at, g);
                at += g;
            }
            return sb.ToString();
        }
    }
}
