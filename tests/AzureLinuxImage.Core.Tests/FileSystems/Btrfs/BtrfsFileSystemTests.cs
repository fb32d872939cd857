using System;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Btrfs;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.Btrfs
{
    /// <summary>The source folder, built once, shared by the mkfs --rootdir tests.</summary>
    public sealed class BtrfsSourceFixture : IDisposable
    {
        private readonly TempDirectory tmp = new TempDirectory();

        public BtrfsSourceFixture()
        {
            Source = tmp.File("src");
            BtrfsSourceTree.Build(Source);
            Small = tmp.File("small");
            BtrfsSourceTree.Build(Small, many: false);
        }

        /// <summary>Every shape, with the 10,000-entry directory.</summary>
        public string Source { get; }

        /// <summary>Every shape but the 10,000-entry directory (checksum and compression variants).</summary>
        public string Small { get; }

        public string Image(string name) => tmp.File(name);

        public void Dispose() => tmp.Dispose();
    }

    /// <summary>The reader against mkfs.btrfs --rootdir: the whole tree equals the folder it was made from.</summary>
    public class BtrfsFileSystemTests : IClassFixture<BtrfsSourceFixture>
    {
        private readonly BtrfsSourceFixture fixture;

        public BtrfsFileSystemTests(BtrfsSourceFixture fixture)
        {
            this.fixture = fixture;
        }

        [Theory]
        [InlineData(4096)]
        [InlineData(16384)]
        [InlineData(65536)]
        public void Whole_tree_equals_the_source_folder_for_every_node_size(int nodeSize)
        {
            string image = BtrfsImages.MakeFromFolder(fixture.Image($"n{nodeSize}.img"), fixture.Source, nodeSize);
            using BtrfsFileSystem fs = BtrfsImages.Open(image);
            int entries = BtrfsImages.AssertTreeEquals(fixture.Source, fs);
            Assert.True(entries > BtrfsSourceTree.ManyEntries);
            Assert.Equal(BtrfsSourceTree.ManyEntries, fs.List("/many").Count());
            Assert.Equal("btrtest", fs.Superblock.Label);
            Assert.Equal(nodeSize, fs.Superblock.NodeSize);
            Assert.Equal(Guid.Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"), fs.Uuid);
        }

        [Fact]
        public void A_damaged_first_DUP_copy_is_read_from_the_second_and_both_damaged_is_a_typed_error()
        {
            string image = BtrfsImages.MakeFromFolder(fixture.Image("dup.img"), fixture.Small, 16384, "crc32c", "-m", "dup");
            ulong rootTree;
            ulong[] copies;
            using (BtrfsFileSystem fs = BtrfsImages.Open(image))
            {
                rootTree = fs.Superblock.RootTree;
                BtrfsVolume volume = BtrfsVolume.Open(new BtrfsImages.FileDevice(image));
                BtrfsChunk chunk = volume.Chunks.Single(c => rootTree >= c.Logical && rootTree < c.End);
                Assert.Equal(2, chunk.Physical.Length);
                copies = chunk.Physical.Select(p => p + (rootTree - chunk.Logical)).ToArray();
            }
            void Damage(ulong at)
            {
                using var f = new FileStream(image, FileMode.Open);
                f.Position = (long)at + 200;
                int b = f.ReadByte();
                f.Position = (long)at + 200;
                f.WriteByte((byte)(b ^ 0xFF));
            }
            Damage(copies[0]);
            using (BtrfsFileSystem fs = BtrfsImages.Open(image))
            {
                BtrfsImages.AssertTreeEquals(fixture.Small, fs);
            }
            Damage(copies[1]);
            var e = Assert.Throws<InvalidImageException>(() => BtrfsImages.Open(image).List("/").ToList());
            Assert.Contains("checksum of the tree block", e.Message);
            Assert.Equal("btrfs root tree", e.Structure);
        }

        [Theory]
        [InlineData("crc32c")]
        [InlineData("xxhash")]
        [InlineData("sha256")]
        [InlineData("blake2")]
        public void Every_checksum_type_is_verified(string csum)
        {
            string image = BtrfsImages.MakeFromFolder(fixture.Image($"c-{csum}.img"), fixture.Small, 16384, csum);
            using (BtrfsFileSystem fs = BtrfsImages.Open(image))
            {
                BtrfsImages.AssertTreeEquals(fixture.Small, fs);
            }
            // One flipped byte in the superblock's label is caught by that checksum.
            using (var f = new FileStream(image, FileMode.Open))
            {
                f.Position = 0x10000 + 0x12B;
                f.WriteByte(0x5A);
            }
            var e = Assert.Throws<InvalidImageException>(() => BtrfsImages.Open(image));
            Assert.Contains("checksum", e.Message);
        }
    }
}
