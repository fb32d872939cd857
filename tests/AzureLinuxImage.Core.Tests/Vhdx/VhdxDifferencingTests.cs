using System;
using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Vhdx
{
    /// <summary>
    /// Differencing VHDX chains. qemu-img cannot create (or read) differencing VHDX, so children are built
    /// from the spec by <see cref="VhdxBuilder"/>, whose non-differencing output qemu-img checks first.
    /// </summary>
    public class VhdxDifferencingTests
    {
        private const int MiB = 1024 * 1024;
        private const long Size = 24L * MiB;

        [Fact]
        public void Builder_output_is_a_vhdx_qemu_reads_the_same_way()
        {
            using var dir = new TempDirectory();
            var builder = new VhdxBuilder { VirtualSize = Size };
            var rng = new Random(3);
            byte[] expected = new byte[Size];
            foreach (long sector in new long[] { 0, 9, 2047, 2048, 30000, (Size / 512) - 4 })
            {
                var data = new byte[2048];
                rng.NextBytes(data);
                builder.Write(sector, data);
                Array.Copy(data, 0, expected, sector * 512, data.Length);
            }
            string vhdx = dir.File("built.vhdx"), raw = dir.File("expected.raw");
            builder.Save(vhdx);
            File.WriteAllBytes(raw, expected);
            ToolResult cmp = ExternalTool.Run(ExternalTool.Require("qemu-img", "qemu-utils"), new[] { "compare", "-f", "raw", "-F", "vhdx", raw, vhdx }, check: false);
            Assert.True(cmp.ExitCode == 0, cmp.StdOut + cmp.StdErr);
            using DiskImage image = DiskImage.Open(vhdx);
            VhdxQemuRoundTripTests.AssertSameContent(raw, image);
        }

        [Fact]
        public void Two_level_chain_reads_child_sectors_over_parent_sectors()
        {
            using var dir = new TempDirectory();
            (string parent, byte[] expected) = MakeParent(dir);
            Guid parentLink = VhdxTestFiles.ReadLayout(parent).DataWriteGuid;
            var rng = new Random(11);

            // Child 1: relative path, scattered sector runs (partially present blocks), one block fully
            // present (its unwritten sectors are zeros, not the parent's) and one block explicitly zero.
            var child1Guid = Guid.NewGuid();
            var child1 = new VhdxBuilder
            {
                VirtualSize = Size,
                DataWriteGuid = child1Guid,
                Locator = new Dictionary<string, string> { ["parent_linkage"] = parentLink.ToString("B"), ["relative_path"] = @".\parent.vhdx" },
            };
            WriteRuns(child1, expected, rng, new long[] { 1, 7, 2040, 2047, 2048, 4000, 9001, 20480 });
            child1.FullBlock(6);
            Array.Clear(expected, 6 * MiB, MiB);
            WriteRuns(child1, expected, rng, new long[] { (6 * 2048) + 100 });
            child1.ZeroBlock(2);
            Array.Clear(expected, 2 * MiB, MiB);
            child1.Save(dir.File("child1.vhdx"));

            // Child 2: only an absolute Windows path (found by file name next to it) and a volume path.
            var child2 = new VhdxBuilder
            {
                VirtualSize = Size,
                Locator = new Dictionary<string, string>
                {
                    ["parent_linkage"] = child1Guid.ToString("B"),
                    ["absolute_win32_path"] = @"C:\VMs\disks\child1.vhdx",
                    ["volume_path"] = @"\\?\Volume{26A21BDA-A627-11D7-9931-806E6F6E6963}\VMs\disks\child1.vhdx",
                },
            };
            WriteRuns(child2, expected, rng, new long[] { 3, 2047, 4001, 40000 });
            string leaf = dir.File("child2.vhdx");
            child2.Save(leaf);
            string expectedPath = dir.File("expected.raw");
            File.WriteAllBytes(expectedPath, expected);

            string before = VhdxQemuRoundTripTests.Sha256(leaf);
            using (DiskImage image = DiskImage.Open(leaf))
            {
                Assert.Equal(DiskVariant.Differencing, image.Variant);
                Assert.Equal(dir.File("child1.vhdx"), image.Parent!.Path);
                Assert.Equal(DiskVariant.Differencing, image.Parent.Variant);
                Assert.Equal(parent, image.Parent.Parent!.Path);
                VhdxQemuRoundTripTests.AssertSameContent(expectedPath, image);
                VhdxQemuRoundTripTests.AssertAllocatedCoversData(expectedPath, image);
            }
            Assert.Equal(before, VhdxQemuRoundTripTests.Sha256(leaf));
        }

        [Fact]
        public void Parent_with_another_data_write_guid_is_refused()
        {
            using var dir = new TempDirectory();
            MakeParent(dir);
            var child = new VhdxBuilder
            {
                VirtualSize = Size,
                Locator = new Dictionary<string, string> { ["parent_linkage"] = Guid.NewGuid().ToString("B"), ["relative_path"] = "parent.vhdx" },
            };
            child.Save(dir.File("child.vhdx"));
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(dir.File("child.vhdx")).Dispose());
            Assert.Equal("VHDX parent locator parent_linkage", e.Structure);
        }

        [Fact]
        public void Parent_linkage2_is_accepted()
        {
            using var dir = new TempDirectory();
            (string parent, byte[] expected) = MakeParent(dir);
            var child = new VhdxBuilder
            {
                VirtualSize = Size,
                Locator = new Dictionary<string, string>
                {
                    ["parent_linkage"] = Guid.NewGuid().ToString("B"),
                    ["parent_linkage2"] = VhdxTestFiles.ReadLayout(parent).DataWriteGuid.ToString("B"),
                    ["relative_path"] = "parent.vhdx",
                },
            };
            child.Save(dir.File("child.vhdx"));
            File.WriteAllBytes(dir.File("expected.raw"), expected);
            using DiskImage image = DiskImage.Open(dir.File("child.vhdx"));
            VhdxQemuRoundTripTests.AssertSameContent(dir.File("expected.raw"), image);
        }

        [Fact]
        public void Vhd_parent_is_refused_because_the_spec_requires_vhdx()
        {
            using var dir = new TempDirectory();
            ExternalTool.QemuImg("create", "-f", "vpc", "-o", "subformat=dynamic", dir.File("parent.vhd"), "24M");
            var child = new VhdxBuilder
            {
                VirtualSize = Size,
                Locator = new Dictionary<string, string> { ["parent_linkage"] = Guid.NewGuid().ToString("B"), ["relative_path"] = "parent.vhd" },
            };
            child.Save(dir.File("child.vhdx"));
            var e = Assert.Throws<UnsupportedImageException>(() => DiskImage.Open(dir.File("child.vhdx")).Dispose());
            Assert.Contains("MS-VHDX requires", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Missing_parent_is_not_found()
        {
            using var dir = new TempDirectory();
            var child = new VhdxBuilder
            {
                VirtualSize = Size,
                Locator = new Dictionary<string, string> { ["parent_linkage"] = Guid.NewGuid().ToString("B"), ["relative_path"] = @"..\elsewhere\gone.vhdx" },
            };
            child.Save(dir.File("child.vhdx"));
            var e = Assert.Throws<AzureLinuxImageException>(() => DiskImage.Open(dir.File("child.vhdx")).Dispose());
            Assert.Equal("ParentNotFound", e.ErrorId);
            Assert.Equal(ErrorKind.NotFound, e.Kind);
        }

        [Fact]
        public void Chain_that_loops_is_refused()
        {
            using var dir = new TempDirectory();
            var guid = Guid.NewGuid();
            var child = new VhdxBuilder
            {
                VirtualSize = Size,
                DataWriteGuid = guid,
                Locator = new Dictionary<string, string> { ["parent_linkage"] = guid.ToString("B"), ["relative_path"] = "self.vhdx" },
            };
            child.Save(dir.File("self.vhdx"));
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(dir.File("self.vhdx")).Dispose());
            Assert.Contains("loops", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Chain_with_4096_byte_sectors_uses_one_bitmap_bit_per_4_kib()
        {
            using var dir = new TempDirectory();
            (string parent, byte[] expected) = MakeParent(dir);
            var layout = VhdxTestFiles.ReadLayout(parent);
            VhdxTestFiles.WriteAt(parent, layout.Items[VhdxTestFiles.LogicalSectorSize].Offset, BitConverter.GetBytes(4096));
            var child = new VhdxBuilder
            {
                VirtualSize = Size,
                LogicalSectorSize = 4096,
                Locator = new Dictionary<string, string> { ["parent_linkage"] = layout.DataWriteGuid.ToString("B"), ["relative_path"] = "parent.vhdx" },
            };
            var rng = new Random(12);
            foreach (long sector in new long[] { 0, 5, 255, 256, 300, 3000, (Size / 4096) - 1 })
            {
                var data = new byte[4096];
                rng.NextBytes(data);
                child.Write(sector, data);
                Array.Copy(data, 0, expected, sector * 4096, data.Length);
            }
            child.Save(dir.File("child.vhdx"));
            File.WriteAllBytes(dir.File("expected.raw"), expected);
            using DiskImage image = DiskImage.Open(dir.File("child.vhdx"));
            Assert.Equal(4096, image.LogicalSectorSize);
            VhdxQemuRoundTripTests.AssertSameContent(dir.File("expected.raw"), image);
        }

        [Fact]
        public void Parent_with_another_sector_size_is_refused()
        {
            using var dir = new TempDirectory();
            (string parent, _) = MakeParent(dir);
            var child = new VhdxBuilder
            {
                VirtualSize = Size,
                LogicalSectorSize = 4096,
                Locator = new Dictionary<string, string> { ["parent_linkage"] = VhdxTestFiles.ReadLayout(parent).DataWriteGuid.ToString("B"), ["relative_path"] = "parent.vhdx" },
            };
            child.Save(dir.File("child.vhdx"));
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(dir.File("child.vhdx")).Dispose());
            Assert.Contains("logical sectors", e.Message, StringComparison.Ordinal);
        }

        private static (string Path, byte[] Content) MakeParent(TempDirectory dir)
        {
            string raw = dir.File("parent.raw"), vhdx = dir.File("parent.vhdx");
            var content = new byte[Size];
            new Random(8).NextBytes(content.AsSpan(0, 12 * MiB));
            File.WriteAllBytes(raw, content);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M,subformat=dynamic", raw, vhdx);
            File.Delete(raw);
            return (vhdx, content);
        }

        private static void WriteRuns(VhdxBuilder builder, byte[] expected, Random rng, long[] sectors)
        {
            foreach (long s in sectors)
            {
                var data = new byte[512 * rng.Next(1, 6)];
                rng.NextBytes(data);
                builder.Write(s, data);
                Array.Copy(data, 0, expected, s * 512, data.Length);
            }
        }
    }
}
