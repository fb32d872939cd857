using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Formats
{
    /// <summary>VDI images made by qemu-img (static and dynamic), and differencing images built from them.</summary>
    public sealed class VdiTests
    {
        private const long Size = (24L << 20) + 1536;
        private const int Block = 1 << 20;

        [Theory]
        [InlineData("static", DiskVariant.Fixed)]
        [InlineData("dynamic", DiskVariant.Dynamic)]
        public void ConvertedImageReadsLikeItsSource(string kind, DiskVariant variant)
        {
            using var dir = new TempDirectory();
            RawSource raw = RawSource.Create(dir.File("src.raw"), Size, 77);
            string image = dir.File("disk.vdi");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vdi", "-o", "static=" + (kind == "static" ? "on" : "off"), raw.Path, image);

            using DiskImage disk = DiskImage.Open(image);
            Assert.Equal(DiskFormat.Vdi, disk.Format);
            Assert.Equal(variant, disk.Variant);
            raw.AssertSameContent(disk);
            raw.AssertRangesCoverData(disk);
        }

        [Fact]
        public void DifferencingImageFindsItsParentByUuid()
        {
            using var dir = new TempDirectory();
            RawSource parentRaw = RawSource.Create(dir.File("parent.raw"), Size, 1);
            string parent = dir.File("parent.vdi");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vdi", parentRaw.Path, parent);
            // Unrelated VDI in the same folder: must not be taken for the parent.
            ExternalTool.QemuImg("create", "-f", "vdi", dir.File("other.vdi"), "24M");

            // The child holds whole random blocks 2, 7 and 20; everything else is unallocated.
            var random = new Random(2);
            int[] childBlocks = { 2, 7, 20 };
            byte[] expected = File.ReadAllBytes(parentRaw.Path);
            string childRaw = dir.File("child.raw");
            using (var fs = new FileStream(childRaw, FileMode.CreateNew))
            {
                fs.SetLength(Size);
                foreach (int b in childBlocks)
                {
                    var data = new byte[Block];
                    random.NextBytes(data);
                    fs.Position = (long)b * Block;
                    fs.Write(data);
                    data.CopyTo(expected, b * Block);
                }
            }
            string child = dir.File("child.vdi");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vdi", childRaw, child);
            byte[] parentHeader = ReadHead(parent);
            byte[] header = File.ReadAllBytes(child);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(76), 4); // differencing
            parentHeader.AsSpan(392, 16).CopyTo(header.AsSpan(424)); // uuid link = parent's image UUID
            parentHeader.AsSpan(408, 16).CopyTo(header.AsSpan(440)); // parent modification UUID
            // Block 5 discarded: reads as zeros although the parent has data there.
            uint map = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(340));
            Assert.Equal(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan((int)map + (5 * 4))));
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan((int)map + (5 * 4)), 0xFFFFFFFE);
            Array.Clear(expected, 5 * Block, Block);
            File.WriteAllBytes(child, header);

            using DiskImage disk = DiskImage.Open(child);
            Assert.Equal(DiskVariant.Differencing, disk.Variant);
            Assert.Equal(parent, disk.Parent!.Path);
            var actual = new byte[Size];
            for (long o = 0; o < Size; o += Block)
            {
                disk.Read(o, actual, (int)o, (int)Math.Min(Block, Size - o));
            }
            Assert.True(expected.AsSpan().SequenceEqual(actual), "differencing VDI content differs from parent + child blocks");
            foreach (int b in childBlocks)
            {
                Assert.Contains(disk.GetAllocatedRanges(), r => r.Offset <= (long)b * Block && (long)(b + 1) * Block <= r.End);
            }
        }

        [Fact]
        public void DifferencingImageWithoutParentIsNamed()
        {
            using var dir = new TempDirectory();
            string child = dir.File("child.vdi");
            ExternalTool.QemuImg("create", "-f", "vdi", child, "4M");
            byte[] bytes = File.ReadAllBytes(child);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(76), 4);
            new Guid("0a1b2c3d-0000-4000-8000-123456789abc").ToByteArray().CopyTo(bytes, 424);
            File.WriteAllBytes(child, bytes);
            var e = Assert.Throws<AzureLinuxImageException>(() => DiskImage.Open(child).Dispose());
            Assert.Equal("ParentNotFound", e.ErrorId);
            Assert.Contains("0a1b2c3d-0000-4000-8000-123456789abc", e.Message);
        }

        [Fact]
        public void CorruptHeaderAndMapGiveTypedErrors()
        {
            using var dir = new TempDirectory();
            RawSource raw = RawSource.Create(dir.File("src.raw"), 4L << 20, 9);
            string image = dir.File("d.vdi");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vdi", raw.Path, image);
            byte[] bytes = File.ReadAllBytes(image);
            uint map = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(340));

            byte[] copy = (byte[])bytes.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan((int)map), 1000);
            File.WriteAllBytes(image, copy);
            using (DiskImage disk = DiskImage.Open(image))
            {
                var e = Assert.Throws<InvalidImageException>(() => disk.Read(0, new byte[512], 0, 512));
                Assert.Contains("block map entry 0", e.Message);
            }

            copy = (byte[])bytes.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(376), 3000); // block size not a power of two
            File.WriteAllBytes(image, copy);
            Assert.Contains("block size", Assert.Throws<InvalidImageException>(() => DiskImage.Open(image).Dispose()).Message);

            copy = (byte[])bytes.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(68), 0); // version 0.0
            File.WriteAllBytes(image, copy);
            Assert.Contains("version", Assert.Throws<UnsupportedImageException>(() => DiskImage.Open(image).Dispose()).Message);

            File.WriteAllBytes(image, bytes.AsSpan(0, (int)map + 8).ToArray()); // map cut short
            Assert.Contains("block map", Assert.Throws<InvalidImageException>(() => DiskImage.Open(image).Dispose()).Message);
        }

        private static byte[] ReadHead(string path) => File.ReadAllBytes(path).AsSpan(0, 512).ToArray();
    }
}
