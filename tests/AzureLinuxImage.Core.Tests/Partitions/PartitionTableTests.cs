using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Tests.FileSystems;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Partitions
{
    /// <summary>MBR and GPT tables written by sfdisk and sgdisk, read back and compared with sfdisk --json.</summary>
    public class PartitionTableTests
    {
        private const int Sector = 512;

        internal static void Dd(string source, string disk, long offsetBytes)
        {
            ExternalTool.Run(ExternalTool.Require("dd", "coreutils"), new[] { "if=" + source, "of=" + disk, "bs=512", "seek=" + (offsetBytes / Sector), "conv=notrunc,sparse", "status=none" });
        }

        internal static void Truncate(string path, long size)
        {
            using var f = new FileStream(path, FileMode.Create);
            f.SetLength(size);
        }

        /// <summary>sfdisk's own reading of the table: start, size, type (code or GUID), uuid, name.</summary>
        internal static List<(long Start, long Size, string Type, string? Uuid, string? Name, string Node)> SfdiskJson(string disk)
        {
            string json = ExternalTool.Run(ExternalTool.Require("sfdisk", "fdisk"), new[] { "-J", disk }).StdOut;
            using JsonDocument doc = JsonDocument.Parse(json);
            var list = new List<(long, long, string, string?, string?, string)>();
            foreach (JsonElement p in doc.RootElement.GetProperty("partitiontable").GetProperty("partitions").EnumerateArray())
            {
                list.Add((p.GetProperty("start").GetInt64(), p.GetProperty("size").GetInt64(), p.GetProperty("type").GetString()!,
                    p.TryGetProperty("uuid", out JsonElement u) ? u.GetString() : null, p.TryGetProperty("name", out JsonElement n) ? n.GetString() : null,
                    p.GetProperty("node").GetString()!));
            }
            return list;
        }

        [Fact]
        public void Mbr_primary_extended_and_logical_partitions_match_sfdisk_and_a_logical_one_holds_a_readable_ext4()
        {
            using var tmp = new TempDirectory();
            string disk = tmp.File("mbr.raw");
            Truncate(disk, 200L << 20);
            string layout = "label: dos\nlabel-id: 0x1234abcd\nunit: sectors\n" +
                "start=2048, size=40960, type=83, bootable\n" +
                "start=43008, type=5\n" +
                "size=65536, type=83\n" +
                "size=16384, type=82\n" +
                "size=20480, type=8e\n" +
                "type=fd\n";
            ExternalTool.Run(ExternalTool.Require("sfdisk", "fdisk"), new[] { "-q", disk }, stdin: layout);
            var oracle = SfdiskJson(disk).Where(p => p.Type != "5").ToList();

            Directory.CreateDirectory(tmp.File("src"));
            File.WriteAllText(tmp.File("src/hello"), "from a logical partition\n");
            ExtSourceTree.MakeFileSystem(tmp.File("fs.img"), tmp.File("src"), 32);
            Dd(tmp.File("fs.img"), disk, oracle[1].Start * Sector);

            using DiskImage image = DiskImage.Open(disk);
            PartitionTable table = PartitionTable.Read(image);
            Assert.Equal(PartitionStyle.Mbr, table.Scheme);
            Assert.Empty(table.Warnings);
            Assert.Equal(oracle.Count, table.Partitions.Count);
            for (int i = 0; i < oracle.Count; i++)
            {
                PartitionInfo p = table.Partitions[i];
                Assert.Equal(oracle[i].Start * Sector, p.Offset);
                Assert.Equal(oracle[i].Size * Sector, p.Length);
                Assert.Equal("0x" + oracle[i].Type.ToUpperInvariant().PadLeft(2, '0'), p.TypeId);
                Assert.EndsWith(p.Number.ToString(), oracle[i].Node);
                Assert.Equal(p.Number >= 5, p.IsLogical);
            }
            Assert.Equal(new[] { 1, 5, 6, 7, 8 }, table.Partitions.Select(p => p.Number));
            Assert.Equal(new[] { PartitionKind.LinuxFileSystem, PartitionKind.LinuxFileSystem, PartitionKind.LinuxSwap, PartitionKind.LinuxLvm, PartitionKind.LinuxRaid }, table.Partitions.Select(p => p.Kind));
            Assert.True(table.Partitions[0].Bootable);
            Assert.Equal("1234abcd-05", table.Partitions[1].PartUuid);

            PartitionInfo logical = table.Partitions[1];
            DetectedFileSystem probed = FileSystemProbe.Probe(PartitionTable.Open(image, logical));
            Assert.Equal(FileSystemKind.Ext4, probed.Kind);
            Assert.Equal("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", probed.Uuid);
            Assert.Equal("testlabel", probed.Label);
            using var fs = new ExtFileSystem(PartitionTable.Open(image, logical));
            Assert.Equal("from a logical partition\n", ExtFileSystemTests.ReadText(fs, "/hello"));
        }

        [Fact]
        public void An_ebr_chain_that_loops_ends_with_a_warning()
        {
            using var tmp = new TempDirectory();
            string disk = tmp.File("loop.raw");
            Truncate(disk, 64L << 20);
            ExternalTool.Run(ExternalTool.Require("sfdisk", "fdisk"), new[] { "-q", disk }, stdin: "label: dos\nunit: sectors\nstart=2048, type=5\nsize=4096, type=83\nsize=4096, type=83\n");
            var logical = SfdiskJson(disk).Where(p => p.Type != "5").ToList();
            // The second EBR's link points back at the first EBR (offset 0 inside the extended partition).
            long secondEbr = (logical[1].Start - 2048) * Sector; // sfdisk leaves 2048 sectors between an EBR and its partition
            using (var f = new FileStream(disk, FileMode.Open))
            {
                var entry = new byte[16];
                entry[4] = 0x05;
                BitConverter.GetBytes(0u).CopyTo(entry, 8);
                BitConverter.GetBytes(8192u).CopyTo(entry, 12);
                f.Position = secondEbr + 446 + 16;
                f.Write(entry, 0, 16);
            }
            using DiskImage image = DiskImage.Open(disk);
            PartitionTable table = PartitionTable.Read(image);
            Assert.Equal(2, table.Partitions.Count);
            Assert.Contains(table.Warnings, w => w.Contains("loops"));
        }

        private static string MakeGpt(TempDirectory tmp, long size = 256L << 20)
        {
            string disk = tmp.File("gpt.raw");
            Truncate(disk, size);
            ExternalTool.Run(ExternalTool.Require("sgdisk", "gdisk"), new[]
            {
                "-Z", "-o", "-a", "2048",
                "-n", "1:2048:+1M", "-t", "1:EF02", "-c", "1:bios boot",
                "-n", "2:0:+64M", "-t", "2:EF00", "-c", "2:EFI System Partition",
                "-n", "3:0:+32M", "-t", "3:8300", "-c", "3:root",
                "-n", "4:0:+16M", "-t", "4:8200", "-c", "4:swap",
                "-n", "5:0:+16M", "-t", "5:8E00", "-c", "5:lvm",
                "-n", "6:0:+16M", "-t", "6:FD00", "-c", "6:raid",
                "-n", "7:0:0", "-t", "7:0700", "-c", "7:data",
                disk,
            });
            return disk;
        }

        private static void AssertMatchesSfdisk(string disk, PartitionTable table)
        {
            var oracle = SfdiskJson(disk);
            Assert.Equal(oracle.Count, table.Partitions.Count);
            for (int i = 0; i < oracle.Count; i++)
            {
                PartitionInfo p = table.Partitions[i];
                Assert.Equal(oracle[i].Start * Sector, p.Offset);
                Assert.Equal(oracle[i].Size * Sector, p.Length);
                Assert.Equal(oracle[i].Type, p.TypeId, ignoreCase: true);
                Assert.Equal(oracle[i].Uuid, p.PartUuid, ignoreCase: true);
                Assert.Equal(oracle[i].Name, p.Name);
            }
        }

        [Fact]
        public void Gpt_entries_names_guids_and_types_match_sfdisk()
        {
            using var tmp = new TempDirectory();
            string disk = MakeGpt(tmp);
            using DiskImage image = DiskImage.Open(disk);
            PartitionTable table = PartitionTable.Read(image);
            Assert.Equal(PartitionStyle.Gpt, table.Scheme);
            Assert.Empty(table.Warnings);
            AssertMatchesSfdisk(disk, table);
            Assert.Equal(new[] { PartitionKind.BiosBoot, PartitionKind.EfiSystem, PartitionKind.LinuxFileSystem, PartitionKind.LinuxSwap, PartitionKind.LinuxLvm, PartitionKind.LinuxRaid, PartitionKind.MicrosoftBasicData },
                table.Partitions.Select(p => p.Kind));
            Assert.Equal(new[] { "BIOS boot", "EFI System", "Linux filesystem", "Linux swap", "Linux LVM", "Linux RAID", "Microsoft basic data" }, table.Partitions.Select(p => p.TypeName));
        }

        [Theory]
        [InlineData(512 + 20, "header")]
        [InlineData(1024 + 7, "entries")]
        public void A_damaged_primary_gpt_falls_back_to_the_backup_with_a_warning(long offset, string what)
        {
            using var tmp = new TempDirectory();
            string disk = MakeGpt(tmp);
            var before = SfdiskJson(disk);
            using (var f = new FileStream(disk, FileMode.Open))
            {
                f.Position = offset;
                int b = f.ReadByte();
                f.Position = offset;
                f.WriteByte((byte)(b ^ 0x5A));
            }
            using DiskImage image = DiskImage.Open(disk);
            PartitionTable table = PartitionTable.Read(image);
            string warning = Assert.Single(table.Warnings);
            Assert.Contains("primary GPT header is damaged", warning);
            Assert.Contains(what == "header" ? "header CRC32" : "partition entries", warning);
            Assert.Contains("backup", warning);
            Assert.Equal(before.Select(p => p.Start * Sector), table.Partitions.Select(p => p.Offset));
            Assert.Equal(before.Select(p => p.Uuid!.ToUpperInvariant()), table.Partitions.Select(p => p.PartUuid!.ToUpperInvariant()));
        }

        [Fact]
        public void Both_gpt_headers_damaged_is_a_typed_error_and_a_grown_disk_is_a_warning()
        {
            using var tmp = new TempDirectory();
            string disk = MakeGpt(tmp);
            using (var f = new FileStream(disk, FileMode.Open))
            {
                f.SetLength(f.Length + (8 << 20)); // grown without moving the backup header
            }
            using (DiskImage image = DiskImage.Open(disk))
            {
                PartitionTable table = PartitionTable.Read(image);
                Assert.Contains(table.Warnings, w => w.Contains("not at the last sector"));
            }
            using (var f = new FileStream(disk, FileMode.Open))
            {
                f.Position = 512 + 100;
                f.WriteByte(0xFF);
                f.Position = 512 + 16;
                f.WriteByte(0x01);
            }
            using (DiskImage image = DiskImage.Open(disk))
            {
                var e = Assert.Throws<InvalidImageException>(() => PartitionTable.Read(image));
                Assert.Contains("GPT header", e.Message);
            }
        }

        [Fact]
        public void Swap_and_vfat_signatures_give_uuid_and_label()
        {
            using var tmp = new TempDirectory();
            string swap = tmp.File("swap.img");
            Truncate(swap, 8L << 20);
            ExternalTool.Run(ExternalTool.Require("mkswap", "util-linux"), new[] { "-U", "11111111-2222-3333-4444-555555555555", "-L", "myswap", swap });
            string fat = tmp.File("fat.img");
            Truncate(fat, 64L << 20);
            ExternalTool.Run(ExternalTool.Require("mkfs.vfat", "dosfstools"), new[] { "-F", "32", "-i", "ABCD1234", "-n", "ESP", fat });
            string xfs = tmp.File("xfs.img");
            Truncate(xfs, 300L << 20);
            ExternalTool.Run(ExternalTool.Require("mkfs.xfs", "xfsprogs"), new[] { "-q", "-f", "-L", "xroot", "-m", "uuid=22222222-3333-4444-5555-666666666666", xfs });
            string btrfs = tmp.File("btrfs.img");
            Truncate(btrfs, 128L << 20);
            ExternalTool.Run(ExternalTool.Require("mkfs.btrfs", "btrfs-progs"), new[] { "-q", "-f", "-L", "broot", "-U", "33333333-4444-5555-6666-777777777777", btrfs });

            DetectedFileSystem Probe(string file)
            {
                using DiskImage d = DiskImage.Open(file);
                return FileSystemProbe.Probe(new DiskSlice(d, 0, d.VirtualSize, file));
            }
            DetectedFileSystem s = Probe(swap);
            Assert.Equal((FileSystemKind.Swap, "11111111-2222-3333-4444-555555555555", "myswap"), (s.Kind, s.Uuid, s.Label));
            DetectedFileSystem v = Probe(fat);
            Assert.Equal((FileSystemKind.Vfat, "ABCD-1234", "ESP"), (v.Kind, v.Uuid, v.Label));
            DetectedFileSystem x = Probe(xfs);
            Assert.Equal((FileSystemKind.Xfs, "22222222-3333-4444-5555-666666666666", "xroot"), (x.Kind, x.Uuid, x.Label));
            DetectedFileSystem b = Probe(btrfs);
            Assert.Equal((FileSystemKind.Btrfs, "33333333-4444-5555-6666-777777777777", "broot"), (b.Kind, b.Uuid, b.Label));
            // The seam the probe feeds: XFS, FAT and btrfs open through FileSystemOpeners.
            using (DiskImage xd = DiskImage.Open(xfs))
            using (IFileSystem xfsFs = FileSystemOpeners.Open(new DiskSlice(xd, 0, xd.VirtualSize, xfs), FileSystemKind.Xfs))
            {
                Assert.Equal(FileEntryType.Directory, xfsFs.GetEntry("/")!.Type);
            }
            using DiskImage fd = DiskImage.Open(fat);
            using (IFileSystem fatFs = FileSystemOpeners.Open(new DiskSlice(fd, 0, fd.VirtualSize, fat), FileSystemKind.Vfat))
            {
                Assert.Empty(fatFs.List("/"));
            }
            // btrfs opens too (issue 21); a FAT volume opened as btrfs is a typed error naming the superblock.
            using (DiskImage bd = DiskImage.Open(btrfs))
            using (IFileSystem btrfsFs = FileSystemOpeners.Open(new DiskSlice(bd, 0, bd.VirtualSize, btrfs), FileSystemKind.Btrfs))
            {
                Assert.Equal(FileEntryType.Directory, btrfsFs.GetEntry("/")!.Type);
            }
            Assert.Contains("btrfs superblock", Assert.Throws<InvalidImageException>(() => FileSystemOpeners.Open(new DiskSlice(fd, 0, fd.VirtualSize, fat), FileSystemKind.Btrfs)).Message);
        }
    }
}
