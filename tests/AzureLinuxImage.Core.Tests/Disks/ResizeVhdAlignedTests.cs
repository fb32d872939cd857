using System;
using System.IO;
using System.Text.Json;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>Resize-VhdAligned on GPT and MBR disks made by sgdisk/sfdisk, checked with sgdisk -v and qemu-img.</summary>
    public class ResizeVhdAlignedTests
    {
        private const long MiB = 1 << 20;

        /// <summary>A raw GPT disk (sgdisk) of an unaligned size with data in two partitions, as a fixed VHD.</summary>
        private static (string Vhd, string Raw) GptVhd(TempDirectory dir, long size)
        {
            string sgdisk = ExternalTool.Require("sgdisk", "gdisk");
            string raw = dir.File("gpt.raw");
            Files.CreateSparse(raw, size);
            ExternalTool.Run(sgdisk, new[] { "-o", "-n", "1:2048:+4M", "-t", "1:EF02", "-n", "2:0:+10M", "-t", "2:8300", "-c", "2:rootfs", raw });
            Files.WriteAt(raw, 2048 * 512, Files.Random(4096, 1));
            Files.WriteAt(raw, (8 * MiB) + 4096, Files.Random(65536, 2));
            string vhd = dir.File("gpt.vhd");
            ConvertToFixedVhd.Run(raw, vhd, false, skipAlignment: true, new SilentContext());
            return (vhd, raw);
        }

        private static string SgdiskVerify(TempDirectory dir, string vhd)
        {
            string flat = dir.File("check.raw");
            File.Delete(flat);
            ExternalTool.QemuImg("convert", "-f", "vpc", "-O", "raw", vhd, flat);
            return ExternalTool.Run(ExternalTool.Require("sgdisk", "gdisk"), new[] { "-v", flat }, check: false).StdOut;
        }

        [Fact]
        public void Growing_a_gpt_disk_moves_the_backup_and_sgdisk_finds_no_problem()
        {
            using var dir = new TempDirectory();
            var (vhd, raw) = GptVhd(dir, (20 * MiB) + (37 * 512));
            DiskImageInfo info = ResizeVhdAligned.Run(vhd, null, new SilentContext())!;
            Assert.Equal(21 * MiB, info.VirtualSize);
            Assert.Equal(PartitionStyle.Gpt, info.PartitionStyle);
            Assert.Equal(21 * MiB, ConvertToFixedVhdTests.QemuVirtualSize(vhd, "vpc"));
            Assert.Contains("No problems found", SgdiskVerify(dir, vhd));

            ResizeVhdAligned.Run(vhd, 300 * MiB + 1, new SilentContext());
            Assert.Equal(301 * MiB, ConvertToFixedVhdTests.QemuVirtualSize(vhd, "vpc"));
            string verify = SgdiskVerify(dir, vhd);
            Assert.Contains("No problems found", verify);
            // Partition contents untouched: compare the partitions' span with the original raw.
            byte[] before = File.ReadAllBytes(raw);
            byte[] after = File.ReadAllBytes(dir.File("check.raw"));
            Assert.True(before.AsSpan(2048 * 512, (int)(14 * MiB)).SequenceEqual(after.AsSpan(2048 * 512, (int)(14 * MiB))));
            // The old footer is gone from inside the disk.
            Assert.True(System.Array.TrueForAll(after[(int)(20 * MiB + 37 * 512)..(int)(20 * MiB + 38 * 512)], b => b == 0));
        }

        [Fact]
        public void Converting_a_gpt_disk_to_an_aligned_size_moves_its_backup_too()
        {
            using var dir = new TempDirectory();
            string sgdisk = ExternalTool.Require("sgdisk", "gdisk");
            string raw = dir.File("unaligned.raw");
            Files.CreateSparse(raw, (20 * MiB) + (37 * 512));
            ExternalTool.Run(sgdisk, new[] { "-o", "-n", "1:2048:+10M", "-t", "1:8300", raw });
            Files.WriteAt(raw, 2048 * 512, Files.Random(8192, 7));
            DiskImageInfo info = ConvertToFixedVhd.Run(raw, dir.File("c.vhd"), false, false, new SilentContext())!;
            Assert.Equal(21 * MiB, info.VirtualSize);
            Assert.Contains("No problems found", SgdiskVerify(dir, dir.File("c.vhd")));
            byte[] after = File.ReadAllBytes(dir.File("check.raw"));
            Assert.True(File.ReadAllBytes(raw).AsSpan(2048 * 512, (int)(10 * MiB)).SequenceEqual(after.AsSpan(2048 * 512, (int)(10 * MiB))));
        }

        [Fact]
        public void Growing_is_constant_time_the_new_space_stays_unallocated()
        {
            using var dir = new TempDirectory();
            var (vhd, _) = GptVhd(dir, 20 * MiB);
            long allocatedBefore = Files.AllocatedBytes(vhd);
            ResizeVhdAligned.Run(vhd, 64L << 30, new SilentContext());
            Assert.Equal((64L << 30) + 512, new FileInfo(vhd).Length);
            Assert.True(Files.AllocatedBytes(vhd) - allocatedBefore < MiB, "growing must not write the new space");
        }

        [Fact]
        public void Shrinking_keeps_partitions_and_refuses_to_cut_them()
        {
            using var dir = new TempDirectory();
            var (vhd, _) = GptVhd(dir, 40 * MiB);
            ResizeVhdAligned.Run(vhd, 16 * MiB, new SilentContext());
            Assert.Equal(16 * MiB, ConvertToFixedVhdTests.QemuVirtualSize(vhd, "vpc"));
            Assert.Contains("No problems found", SgdiskVerify(dir, vhd));
            string before = Files.Sha256(vhd);
            var e = Assert.Throws<AzureLinuxImageException>(() => ResizeVhdAligned.Run(vhd, 14 * MiB, new SilentContext()));
            Assert.Equal("ShrinkBelowPartitions", e.ErrorId);
            Assert.Equal(before, Files.Sha256(vhd));
        }

        [Fact]
        public void Mbr_disks_grow_and_keep_their_partitions()
        {
            using var dir = new TempDirectory();
            string sfdisk = ExternalTool.Require("sfdisk", "fdisk");
            string raw = dir.File("mbr.raw");
            Files.CreateSparse(raw, (30 * MiB) + 1024);
            ExternalTool.Run(sfdisk, new[] { "-q", raw }, stdin: "label: dos\nstart=2048, size=20480, type=83\n");
            Files.WriteAt(raw, 2048 * 512, Files.Random(8192, 3));
            string vhd = dir.File("mbr.vhd");
            ConvertToFixedVhd.Run(raw, vhd, false, skipAlignment: true, new SilentContext());
            DiskImageInfo info = ResizeVhdAligned.Run(vhd, null, new SilentContext())!;
            Assert.Equal(31 * MiB, info.VirtualSize);
            Assert.Equal(PartitionStyle.Mbr, info.PartitionStyle);
            Assert.Contains("Images are identical", ExternalTool.QemuImg("compare", "-f", "raw", "-F", "vpc", raw, vhd).StdOut);
            var e = Assert.Throws<AzureLinuxImageException>(() => ResizeVhdAligned.Run(vhd, 5 * MiB, new SilentContext()));
            Assert.Equal("ShrinkBelowPartitions", e.ErrorId);
        }

        [Fact]
        public void Dynamic_vhds_are_refused_with_a_pointer_to_ConvertTo_FixedVhd()
        {
            using var dir = new TempDirectory();
            string raw = dir.File("r.raw");
            Files.CreateSparse(raw, 30 * MiB);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vpc", raw, dir.File("d.vhd"));
            string before = Files.Sha256(dir.File("d.vhd"));
            var e = Assert.Throws<AzureLinuxImageException>(() => ResizeVhdAligned.Run(dir.File("d.vhd"), null, new SilentContext()));
            Assert.Equal("NotAFixedVhd", e.ErrorId);
            Assert.Contains("ConvertTo-FixedVhd", e.Message);
            Assert.Equal(before, Files.Sha256(dir.File("d.vhd")));
        }

        [Fact]
        public void An_aligned_disk_with_its_backup_at_the_end_is_left_alone_and_the_cli_resizes()
        {
            using var dir = new TempDirectory();
            var (vhd, _) = GptVhd(dir, 24 * MiB);
            string before = Files.Sha256(vhd);
            ResizeVhdAligned.Run(vhd, null, new SilentContext());
            Assert.Equal(before, Files.Sha256(vhd));

            ToolResult dry = AzLinux.Run("resize", vhd, "--size", (40 * MiB).ToString(), "--dry-run");
            Assert.Equal(0, dry.ExitCode);
            Assert.Equal(before, Files.Sha256(vhd));
            ToolResult real = AzLinux.Run("resize", vhd, "--size", (40 * MiB).ToString(), "--json");
            Assert.True(real.ExitCode == 0, real.StdErr);
            using JsonDocument json = JsonDocument.Parse(real.StdOut);
            Assert.Equal(40 * MiB, json.RootElement.GetProperty("virtualSize").GetInt64());
            Assert.Contains("No problems found", SgdiskVerify(dir, vhd));
        }
    
        [Theory]
        [InlineData(64, "new footer")]
        [InlineData(64, "old footer cleared")]
        [InlineData(64, "gpt moved")]
        [InlineData(16, "gpt moved")]
        [InlineData(16, "new footer")]
        public void A_crash_after_any_step_leaves_a_valid_vhd_with_the_partitions_intact(int newSizeMiB, string crashAfter)
        {
            using var dir = new TempDirectory();
            var (vhd, raw) = GptVhd(dir, (20 * MiB) + (37 * 512));
            byte[] partitions = File.ReadAllBytes(raw).AsSpan(2048 * 512, (int)(14 * MiB)).ToArray();
            Assert.Throws<SimulatedCrash>(() => ResizeVhdAligned.Run(vhd, newSizeMiB * MiB, new SilentContext(), s =>
            {
                if (s == crashAfter)
                {
                    throw new SimulatedCrash();
                }
            }));
            using var image = AzureLinuxImage.Disks.DiskImage.Open(vhd);
            Assert.Equal(AzureLinuxImage.Disks.DiskVariant.Fixed, image.Variant);
            Assert.True(image.VirtualSize == newSizeMiB * MiB || image.VirtualSize == (20 * MiB) + (37 * 512), $"size {image.VirtualSize}");
            var now = new byte[partitions.Length];
            image.Read(2048 * 512, now, 0, now.Length);
            Assert.Equal(partitions, now);
        }

        private sealed class SimulatedCrash : Exception
        {
        }
    }
}
