using System;
using System.Buffers.Binary;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.Partitions.Lvm;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>
    /// Recognises what a block device holds by its on-disk signature (never by partition type), the way
    /// blkid does, and reads the UUID and label fstab may refer to it by.
    /// </summary>
    internal static class FileSystemProbe
    {
        private const int HeadSize = 8192;

        public static DetectedFileSystem Probe(BlockDevice device)
        {
            string where = device.Description;
            byte[] head = ReadUpTo(device, 0, HeadSize);

            // ext: superblock at 1024, magic at 0x38 (super.rst).
            if (head.Length >= 2048 && ExtSuperblock.HasMagic(head.AsSpan(1024)))
            {
                ReadOnlySpan<byte> sb = head.AsSpan(1024, 1024);
                uint compat = BinaryPrimitives.ReadUInt32LittleEndian(sb.Slice(0x5C));
                uint incompat = BinaryPrimitives.ReadUInt32LittleEndian(sb.Slice(0x60));
                uint ro = BinaryPrimitives.ReadUInt32LittleEndian(sb.Slice(0x64));
                FileSystemKind kind = (incompat & (ExtSuperblock.IncompatExtents | ExtSuperblock.Incompat64Bit | ExtSuperblock.IncompatFlexBg | ExtSuperblock.IncompatInlineData)) != 0 ||
                    (ro & (ExtSuperblock.RoCompatHugeFile | ExtSuperblock.RoCompatGdtCsum | ExtSuperblock.RoCompatMetadataCsum | 0x60)) != 0
                    ? FileSystemKind.Ext4
                    : (compat & ExtSuperblock.CompatHasJournal) != 0 ? FileSystemKind.Ext3 : FileSystemKind.Ext2;
                if ((incompat & ExtSuperblock.IncompatJournalDev) == 0)
                {
                    return new DetectedFileSystem(kind, Uuid(sb.Slice(0x68, 16)), Text(sb.Slice(0x78, 16)), where);
                }
            }

            // XFS: "XFSB" at 0, big-endian superblock; UUID at 32, label (sb_fname) at 108.
            if (head.Length >= 512 && head.AsSpan(0, 4).SequenceEqual(Ascii("XFSB")))
            {
                return new DetectedFileSystem(FileSystemKind.Xfs, Uuid(head.AsSpan(32, 16)), Text(head.AsSpan(108, 12)), where);
            }

            // LVM2 PV label in one of the first four sectors.
            if (LvmLabel.FindLabelSector(head) >= 0)
            {
                LvmLabel? label = LvmLabel.TryRead(device);
                if (label != null)
                {
                    return new DetectedFileSystem(FileSystemKind.LvmPhysicalVolume, label.PvUuidFormatted, null, where);
                }
            }

            // Swap: SWAPSPACE2 in the last 10 bytes of the first page (page sizes of x86 to ppc64/arm64).
            foreach (int page in new[] { 4096, 8192, 16384, 65536 })
            {
                byte[] tail = page <= head.Length ? head.AsSpan(page - 10, 10).ToArray() : ReadUpTo(device, page - 10, 10);
                if (tail.Length == 10 && (tail.AsSpan().SequenceEqual(Ascii("SWAPSPACE2")) || tail.AsSpan().SequenceEqual(Ascii("SWAP-SPACE"))))
                {
                    bool v2 = tail[9] == (byte)'2';
                    return v2 && head.Length >= 1024 + 44
                        ? new DetectedFileSystem(FileSystemKind.Swap, Uuid(head.AsSpan(1024 + 12, 16)), Text(head.AsSpan(1024 + 28, 16)), where)
                        : new DetectedFileSystem(FileSystemKind.Swap, null, null, where);
                }
            }

            // btrfs: primary superblock at 64 KiB, magic "_BHRfS_M" at +0x40, fsid at +0x20, label at +0x12B.
            byte[] btrfs = ReadUpTo(device, 0x10000, 0x12B + 256);
            if (btrfs.Length == 0x12B + 256 && btrfs.AsSpan(0x40, 8).SequenceEqual(Ascii("_BHRfS_M")))
            {
                return new DetectedFileSystem(FileSystemKind.Btrfs, Uuid(btrfs.AsSpan(0x20, 16)), Text(btrfs.AsSpan(0x12B, 256)), where);
            }

            // md RAID superblock: v1.1 at 0, v1.2 at 4 KiB (magic a92b4efc little-endian).
            if ((head.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(head) == 0xA92B4EFC) ||
                (head.Length >= 4100 && BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(4096)) == 0xA92B4EFC))
            {
                return new DetectedFileSystem(FileSystemKind.LinuxRaidMember, null, null, where);
            }

            if (IsFat(head, out string? serial, out string? fatLabel))
            {
                return new DetectedFileSystem(FileSystemKind.Vfat, serial, fatLabel, where);
            }
            return new DetectedFileSystem(FileSystemKind.Unknown, null, null, where);
        }

        /// <summary>A FAT boot sector: jump, a sane BPB and the FAT type string (Microsoft FAT spec, "BPB").</summary>
        private static bool IsFat(byte[] b, out string? serial, out string? label)
        {
            serial = label = null;
            if (b.Length < 512 || b[510] != 0x55 || b[511] != 0xAA || (b[0] != 0xEB && b[0] != 0xE9))
            {
                return false;
            }
            int bytesPerSector = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(11));
            int sectorsPerCluster = b[13];
            if (bytesPerSector < 512 || bytesPerSector > 4096 || (bytesPerSector & (bytesPerSector - 1)) != 0 ||
                sectorsPerCluster == 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) != 0 || b[16] == 0)
            {
                return false;
            }
            int at;
            if (b.AsSpan(82, 5).SequenceEqual(Ascii("FAT32")))
            {
                at = 67;
            }
            else if (b.AsSpan(54, 3).SequenceEqual(Ascii("FAT")))
            {
                at = 39;
            }
            else
            {
                return false;
            }
            uint id = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
            serial = (id >> 16).ToString("X4") + "-" + (id & 0xFFFF).ToString("X4");
            string l = Encoding.ASCII.GetString(b, at + 4, 11).TrimEnd(' ', '\0');
            label = l.Length == 0 || l == "NO NAME" ? null : l;
            return true;
        }

        private static byte[] ReadUpTo(BlockDevice device, long offset, int count)
        {
            if (offset >= device.Length)
            {
                return Array.Empty<byte>();
            }
            int n = (int)Math.Min(count, device.Length - offset);
            var b = new byte[n];
            device.Read(offset, b, 0, n);
            return b;
        }

        private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

        private static string Uuid(ReadOnlySpan<byte> b) => ExtSuperblock.UuidFromBytes(b).ToString("D");

        private static string? Text(ReadOnlySpan<byte> b)
        {
            int n = b.IndexOf((byte)0);
            string s = Encoding.UTF8.GetString(b.Slice(0, n < 0 ? b.Length : n).ToArray());
            return s.Length == 0 ? null : s;
        }
    }
}
