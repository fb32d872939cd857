using System;
using System.Buffers.Binary;
using System.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems.Fat;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.Fat
{
    /// <summary>Damaged FAT volumes: fsck.fat -n must see the damage too, and the reader must name it.</summary>
    public class FatHostileTests
    {
        [Theory]
        [InlineData(12, 4L << 20)]
        [InlineData(16, 32L << 20)]
        [InlineData(32, 48L << 20)]
        public void A_cluster_chain_that_loops_is_refused(int fatBits, long size)
        {
            using var dir = new TempDirectory();
            string image = FatFileSystemTests.Build(dir, fatBits, size, out _);
            uint first;
            FatBootSector boot;
            using (DiskImage disk = DiskImage.Open(image))
            {
                var device = new DiskSlice(disk, 0, disk.VirtualSize, "esp.img");
                var sector = new byte[512];
                device.Read(0, sector, 0, 512);
                boot = FatBootSector.Parse(sector, device.Length, "esp.img");
                using FatFileSystem fs = FatFileSystem.Open(device);
                first = FirstCluster(image, boot, fs);
            }
            // The file's second cluster points back at its first: a loop inside the file's length.
            uint second = first + 1;
            using (var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
            {
                SetEntry(f, boot, second, first);
            }
            string fsck = ExternalTool.Require("fsck.fat", "dosfstools");
            ToolResult check = ExternalTool.Run(fsck, new[] { "-n", image }, check: false);
            Assert.NotEqual(0, check.ExitCode);

            using (DiskImage disk = DiskImage.Open(image))
            using (FatFileSystem fs = FatFileSystem.Open(new DiskSlice(disk, 0, disk.VirtualSize, "esp.img")))
            {
                var e = Assert.Throws<InvalidImageException>(() =>
                {
                    using Stream s = fs.OpenRead("/EFI/BOOT/BOOTX64.EFI");
                    s.CopyTo(Stream.Null);
                });
                Assert.Contains("BOOTX64.EFI", e.Structure);
            }
        }

        [Fact]
        public void A_boot_sector_whose_volume_is_larger_than_the_device_is_refused()
        {
            using var dir = new TempDirectory();
            string image = FatFileSystemTests.Build(dir, 16, 32L << 20, out _);
            using DiskImage disk = DiskImage.Open(image);
            var e = Assert.Throws<InvalidImageException>(() => FatFileSystem.Open(new DiskSlice(disk, 0, 16L << 20, "half")));
            Assert.Contains("BPB_TotSec", e.Structure);
        }

        /// <summary>BOOTX64.EFI's first cluster, from its directory entry (found by its 8.3 name in EFI/BOOT).</summary>
        private static uint FirstCluster(string image, FatBootSector boot, FatFileSystem fs)
        {
            // mcopy wrote the file contiguously; its cluster is found by scanning the data area for its first bytes.
            byte[] head = FatFileSystemTests.Bytes(1, 300_000).AsSpan(0, 64).ToArray();
            using var f = File.OpenRead(image);
            var cluster = new byte[boot.ClusterSize];
            for (uint c = 2; c < boot.ClusterCount + 2; c++)
            {
                f.Position = boot.ClusterOffset(c);
                f.ReadExactly(cluster);
                if (cluster.AsSpan(0, 64).SequenceEqual(head))
                {
                    Assert.NotNull(fs.GetEntry("/EFI/BOOT/BOOTX64.EFI"));
                    return c;
                }
            }
            throw new InvalidOperationException("BOOTX64.EFI's data was not found");
        }

        private static void SetEntry(FileStream f, FatBootSector boot, uint cluster, uint value)
        {
            switch (boot.Type)
            {
                case FatType.Fat12:
                    {
                        long at = boot.FatOffset + cluster + (cluster / 2);
                        var b = new byte[2];
                        f.Position = at;
                        f.ReadExactly(b);
                        uint pair = BinaryPrimitives.ReadUInt16LittleEndian(b);
                        pair = (cluster & 1) != 0 ? (pair & 0x000Fu) | (value << 4) : (pair & 0xF000u) | value;
                        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)pair);
                        f.Position = at;
                        f.Write(b);
                        break;
                    }
                case FatType.Fat16:
                    f.Position = boot.FatOffset + (cluster * 2L);
                    f.Write(BitConverter.GetBytes((ushort)value));
                    break;
                default:
                    f.Position = boot.FatOffset + (cluster * 4L);
                    f.Write(BitConverter.GetBytes(value));
                    break;
            }
        }
    }
}
