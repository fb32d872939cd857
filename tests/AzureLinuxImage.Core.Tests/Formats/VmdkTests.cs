using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Formats
{
    /// <summary>VMDK images made by qemu-img in every hosted subformat, read back byte for byte against their raw source.</summary>
    public sealed class VmdkTests
    {
        private const long Size = (24L << 20) + 1536;

        /// <summary>Past one 2 GiB extent, so the split subformats really have two extent files.</summary>
        private const long SplitSize = (2L << 30) + (64L << 20) + 512;

        public static TheoryData<string, long, DiskVariant, int> Variants => new TheoryData<string, long, DiskVariant, int>
        {
            { "monolithicSparse", Size, DiskVariant.Dynamic, 1 },
            { "monolithicFlat", Size, DiskVariant.Fixed, 2 },
            { "streamOptimized", Size, DiskVariant.Dynamic, 1 },
            { "twoGbMaxExtentSparse", SplitSize, DiskVariant.Dynamic, 3 },
            { "twoGbMaxExtentFlat", SplitSize, DiskVariant.Fixed, 3 },
        };

        [Theory]
        [MemberData(nameof(Variants))]
        public void ConvertedImageReadsLikeItsSource(string subformat, long size, DiskVariant variant, int files)
        {
            using var dir = new TempDirectory();
            var extra = new[] { ((2L << 30) - 1000, 5000), ((2L << 30) + (32L << 20) + 4096, 100000) };
            RawSource raw = RawSource.Create(dir.File("src.raw"), size, 31, extra);
            string image = dir.File("disk.vmdk");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=" + subformat, raw.Path, image);
            Assert.Equal(files, Directory.GetFiles(dir.Path).Length - 1);

            using DiskImage disk = DiskImage.Open(image);
            Assert.Equal(DiskFormat.Vmdk, disk.Format);
            Assert.Equal(variant, disk.Variant);
            raw.AssertSameContent(disk, 4 << 20);
            raw.AssertRangesCoverData(disk);
        }

        [Theory]
        [InlineData("monolithicSparse", false)]
        [InlineData("twoGbMaxExtentSparse", true)]
        public void DeltaDiskReadsThroughItsParent(string subformat, bool absolute)
        {
            using var dir = new TempDirectory();
            RawSource raw = RawSource.Create(dir.File("src.raw"), Size, 5);
            string parent = dir.File("base.vmdk");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vmdk", raw.Path, parent);
            string child = dir.File("child.vmdk");
            ExternalTool.QemuImg("create", "-f", "vmdk", "-o", "subformat=" + subformat + ",zeroed_grain=on", "-b", absolute ? parent : "base.vmdk", "-F", "vmdk", child);
            ExternalTool.Run(ExternalTool.Require("qemu-io", "qemu-utils"), new[]
            {
                "-f", "vmdk", "-c", "write -P 0xA5 1052672 4096", "-c", "write -z 5242880 65536", "-c", "write -P 0x5A 20971520 70000", child,
            });
            string expected = dir.File("expected.raw");
            ExternalTool.QemuImg("convert", "-O", "raw", child, expected);

            using DiskImage disk = DiskImage.Open(child);
            Assert.Equal(DiskVariant.Differencing, disk.Variant);
            Assert.Equal(parent, disk.Parent!.Path);
            Qcow2Tests.AssertSameAsRaw(expected, disk);
            Assert.Contains(disk.GetAllocatedRanges(), r => r.Offset <= 20971520 && 20971520 + 70000 <= r.End);
        }

        [Fact]
        public void StreamWithGrainDirectoryAtTheEndIsReadThroughTheFooter()
        {
            using var dir = new TempDirectory();
            RawSource raw = RawSource.Create(dir.File("src.raw"), Size, 14);
            string image = dir.File("s.vmdk");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw.Path, image);
            // qemu writes the directory location in the header; VMware's streams say GD_AT_END there and put
            // it in a footer: footer marker, header copy, end-of-stream marker (Virtual Disk Format 1.1).
            byte[] bytes = File.ReadAllBytes(image);
            Assert.Equal(0, bytes.Length % 512);
            byte[] header = bytes.AsSpan(0, 512).ToArray();
            var trailer = new byte[1536];
            BinaryPrimitives.WriteUInt64LittleEndian(trailer.AsSpan(0), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(12), 3);
            header.CopyTo(trailer, 512);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(56), ulong.MaxValue);
            File.WriteAllBytes(image, bytes.Concat(trailer).ToArray());

            using DiskImage disk = DiskImage.Open(image);
            raw.AssertSameContent(disk);
            raw.AssertRangesCoverData(disk);

            File.WriteAllBytes(image, bytes); // GD_AT_END without the footer
            Assert.Contains("footer", Assert.Throws<InvalidImageException>(() => DiskImage.Open(image).Dispose()).Message);
        }

        [Fact]
        public void RedundantGrainDirectoryIsUsedWhenThePrimaryIsUnusable()
        {
            using var dir = new TempDirectory();
            RawSource raw = RawSource.Create(dir.File("src.raw"), Size, 15);
            string image = dir.File("m.vmdk");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vmdk", raw.Path, image);
            byte[] bytes = File.ReadAllBytes(image);
            Assert.NotEqual(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)) & 2); // qemu sets the RGD flag
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(56), 0x7FFFFFFF);
            File.WriteAllBytes(image, bytes);

            using DiskImage disk = DiskImage.Open(image);
            raw.AssertSameContent(disk);
            Assert.Contains(disk.Warnings, w => w.Contains("redundant"));
        }

        [Fact]
        public void ParentWithOtherCidIsRefused()
        {
            using var dir = new TempDirectory();
            string parent = dir.File("base.vmdk");
            ExternalTool.QemuImg("create", "-f", "vmdk", parent, "4M");
            string child = dir.File("child.vmdk");
            ExternalTool.QemuImg("create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", "-b", "base.vmdk", "-F", "vmdk", child);
            string text = File.ReadAllText(child);
            int at = text.IndexOf("parentCID=", StringComparison.Ordinal) + "parentCID=".Length;
            string changed = text.Substring(0, at) + "0badc0de" + text.Substring(at + 8);
            File.WriteAllText(child, changed);
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(child).Dispose());
            Assert.Contains("0badc0de", e.Message);
        }

        [Theory]
        [InlineData("RW 8192 FLAT \"/etc/passwd\" 0", "outside the descriptor's folder")]
        [InlineData("RW 8192 FLAT \"../x-flat.vmdk\" 0", "outside the descriptor's folder")]
        [InlineData("RW 8192 VMFSSPARSE \"x-delta.vmdk\"", "VMFSSPARSE")]
        [InlineData("RW 8192 SESPARSE \"x-sesparse.vmdk\"", "SESPARSE")]
        [InlineData("RW 8192 VMFSRDM \"x-rdm.vmdk\"", "raw device")]
        public void UnsafeOrUnsupportedExtentsAreRefused(string extentLine, string expected)
        {
            using var dir = new TempDirectory();
            string descriptor = dir.File("x.vmdk");
            File.WriteAllText(descriptor, "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n" + extentLine + "\n");
            var e = Assert.Throws<UnsupportedImageException>(() => DiskImage.Open(descriptor).Dispose());
            Assert.Contains(expected, e.Message);
        }

        [Fact]
        public void CowdFileIsRefused()
        {
            using var dir = new TempDirectory();
            string path = dir.File("delta.vmdk");
            var bytes = new byte[2048];
            Encoding.ASCII.GetBytes("COWD").CopyTo(bytes, 0);
            File.WriteAllBytes(path, bytes);
            Assert.Contains("COWD", Assert.Throws<UnsupportedImageException>(() => DiskImage.Open(path).Dispose()).Message);
        }

        [Fact]
        public void CorruptTablesGiveTypedErrors()
        {
            using var dir = new TempDirectory();
            RawSource raw = RawSource.Create(dir.File("src.raw"), 4L << 20, 12);
            string image = dir.File("d.vmdk");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vmdk", raw.Path, image);
            byte[] bytes = File.ReadAllBytes(image);
            long gd = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(56)) * 512;
            long gt = (long)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)gd)) * 512;

            byte[] copy = (byte[])bytes.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan((int)gt), 0x7FFFFFFF); // grain far past the end
            File.WriteAllBytes(image, copy);
            using (DiskImage disk = DiskImage.Open(image))
            {
                Assert.Contains("past the end", Assert.Throws<InvalidImageException>(() => disk.Read(0, new byte[512], 0, 512)).Message);
            }

            copy = (byte[])bytes.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan((int)gd), 0x7FFFFFFF); // grain table past the end
            File.WriteAllBytes(image, copy);
            using (DiskImage disk = DiskImage.Open(image))
            {
                Assert.Throws<InvalidImageException>(() => disk.GetAllocatedRanges().ToList());
            }

            copy = (byte[])bytes.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(20), 3); // grain size not a power of two
            File.WriteAllBytes(image, copy);
            Assert.Contains("grain size", Assert.Throws<InvalidImageException>(() => DiskImage.Open(image).Dispose()).Message);
        }

        [Fact]
        public void DamagedCompressedGrainGivesTypedError()
        {
            using var dir = new TempDirectory();
            RawSource raw = RawSource.Create(dir.File("src.raw"), 1L << 20, 13);
            string image = dir.File("s.vmdk");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw.Path, image);
            byte[] bytes = File.ReadAllBytes(image);
            // The first grain marker follows the header and descriptor: find LBA 0 with a non-zero size.
            long overhead = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(64)) * 512;
            Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan((int)overhead)));
            for (int i = 14; i < 80; i++)
            {
                bytes[overhead + i] ^= 0x5A;
            }
            File.WriteAllBytes(image, bytes);
            using DiskImage disk = DiskImage.Open(image);
            Assert.Contains("grain", Assert.Throws<InvalidImageException>(() => disk.Read(0, new byte[4096], 0, 4096)).Message);
        }
    }
}
