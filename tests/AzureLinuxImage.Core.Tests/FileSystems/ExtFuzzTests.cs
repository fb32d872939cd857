using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems
{
    /// <summary>Two small ext4 images (with and without metadata_csum) and where debugfs says their structures are.</summary>
    public sealed class ExtFuzzFixture : IDisposable
    {
        public sealed class Image
        {
            public byte[] Bytes = Array.Empty<byte>();
            public long InodeTable;
            public long[] RootDirBlocks = Array.Empty<long>();
            public long[] BigDirBlocks = Array.Empty<long>();
            public long ExtentLeaf;
            public long FragInodeOffset;
            public int InodeSize;
        }

        private readonly TempDirectory tmp = new TempDirectory();

        public ExtFuzzFixture()
        {
            if (ExternalTool.Find("mkfs.ext4") == null || ExternalTool.Find("debugfs") == null)
            {
                return;
            }
            string src = tmp.File("src");
            Directory.CreateDirectory(Path.Combine(src, "dir"));
            Directory.CreateDirectory(Path.Combine(src, "links"));
            File.WriteAllText(Path.Combine(src, "small.txt"), "small\n");
            var rnd = new Random(5);
            var medium = new byte[65536];
            rnd.NextBytes(medium);
            File.WriteAllBytes(Path.Combine(src, "medium.bin"), medium);
            using (var f = new FileStream(Path.Combine(src, "frag"), FileMode.Create))
            {
                var chunk = new byte[4096];
                for (int i = 0; i < 40; i++)
                {
                    rnd.NextBytes(chunk);
                    f.Position = i * 8192L;
                    f.Write(chunk, 0, chunk.Length);
                }
            }
            for (int i = 0; i < 150; i++)
            {
                File.WriteAllText(Path.Combine(src, "dir", $"a-rather-long-file-name-for-entry-{i:D4}"), i.ToString());
            }
            File.CreateSymbolicLink(Path.Combine(src, "links/fast"), "../small.txt");
            File.CreateSymbolicLink(Path.Combine(src, "links/slow"), "/dir/../dir/./../links/../dir/a-rather-long-file-name-for-entry-0001");
            File.CreateSymbolicLink(Path.Combine(src, "links/loop"), "loop");
            Plain = Build(src, "plain.img", "^metadata_csum");
            Checksummed = Build(src, "csum.img", "metadata_csum");
        }

        public Image? Plain { get; }

        public Image? Checksummed { get; }

        private Image Build(string src, string name, string csum)
        {
            string img = tmp.File(name);
            ExtSourceTree.MakeFileSystem(img, src, 4, "-b", "4096", "-N", "256", "-O", csum);
            ExternalTool.Run(ExternalTool.Require("e2fsck", "e2fsprogs"), new[] { "-fyD", img }, check: false);
            string cmd = tmp.File(name + ".cmd");
            File.WriteAllLines(cmd, new[] { "imap <2>", "blocks /", "blocks /dir", "stat /frag", "imap /frag", "stats" });
            string o = ExternalTool.Run(ExternalTool.Require("debugfs", "e2fsprogs"), new[] { "-f", cmd, img }).StdOut;
            string[] parts = Regex.Split(o, @"^debugfs: ", RegexOptions.Multiline);
            long[] Blocks(string s) => s.Split('\n', 2)[1].Split(new[] { ' ', '\n' }, StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();
            Match root = Regex.Match(parts[1], @"located at block (\d+), offset 0x([0-9a-f]+)");
            Match frag = Regex.Match(parts[5], @"located at block (\d+), offset 0x([0-9a-f]+)");
            int inodeSize = int.Parse(Regex.Match(parts[6], @"Inode size:\s+(\d+)").Groups[1].Value);
            var image = new Image
            {
                Bytes = File.ReadAllBytes(img),
                InodeTable = long.Parse(root.Groups[1].Value) * 4096 + Convert.ToInt64(root.Groups[2].Value, 16) - inodeSize,
                RootDirBlocks = Blocks(parts[2]),
                BigDirBlocks = Blocks(parts[3]),
                ExtentLeaf = long.Parse(Regex.Match(parts[4], @"\(ETB0\):(\d+)").Groups[1].Value),
                FragInodeOffset = long.Parse(frag.Groups[1].Value) * 4096 + Convert.ToInt64(frag.Groups[2].Value, 16),
                InodeSize = inodeSize,
            };
            return image;
        }

        public void Dispose() => tmp.Dispose();
    }

    /// <summary>Seeded mutations of each ext structure: every case ends normally or with a typed error, in bounded time and memory.</summary>
    public class ExtFuzzTests : IClassFixture<ExtFuzzFixture>
    {
        private const int Cases = 10_000;
        private readonly ExtFuzzFixture fixture;

        public ExtFuzzTests(ExtFuzzFixture fixture)
        {
            this.fixture = fixture;
        }

        private ExtFuzzFixture.Image Plain => fixture.Plain ?? Skip();

        private ExtFuzzFixture.Image Csum => fixture.Checksummed ?? Skip();

        private static ExtFuzzFixture.Image Skip()
        {
            ExternalTool.Require("mkfs.ext4", "e2fsprogs");
            ExternalTool.Require("debugfs", "e2fsprogs");
            throw new InvalidOperationException("fixture not built");
        }

        /// <summary>Opens the file system and reads everything it can reach: listings, file bytes, link targets.</summary>
        internal static void Exercise(MutatedImage image) => Exercise(image, 16 << 10);

        internal static void Exercise(MutatedImage image, long maxFileBytes)
        {
            using var fs = new ExtFileSystem(image.AsDevice());
            int budget = 200;
            Walk(fs, "/", 0, ref budget, maxFileBytes);
        }

        private static readonly byte[] Sink = new byte[16384];

        private static void Walk(IFileSystem fs, string path, int depth, ref int budget, long maxFileBytes)
        {
            foreach (FileEntry e in fs.List(path))
            {
                if (--budget < 0)
                {
                    return;
                }
                switch (e.Type)
                {
                    case FileEntryType.Directory when depth < 6:
                        Walk(fs, e.Path, depth + 1, ref budget, maxFileBytes);
                        break;
                    case FileEntryType.File:
                        using (Stream s = fs.OpenRead(e.Path))
                        {
                            long left = maxFileBytes;
                            int n;
                            while (left > 0 && (n = s.Read(Sink, 0, Sink.Length)) > 0)
                            {
                                left -= n;
                            }
                        }
                        break;
                    case FileEntryType.Symlink:
                        try
                        {
                            fs.GetEntry(e.Path);
                        }
                        catch (InvalidImageException)
                        {
                            // the loop link, or a mutated target
                        }
                        break;
                }
            }
        }

        [Fact]
        public void The_pristine_images_read_completely()
        {
            foreach (ExtFuzzFixture.Image i in new[] { Plain, Csum })
            {
                var image = new MutatedImage(i.Bytes, "pristine");
                Exercise(image);
                using var fs = new ExtFileSystem(image.AsDevice());
                Assert.True(fs.InodeOf("/dir")!.Has(ExtInode.FlagIndex));
                Assert.True(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(fs.InodeOf("/frag")!.BlockArea.Slice(6)) > 0, "/frag should have an extent tree of depth > 0");
                Assert.Equal(150, fs.List("/dir").Count());
            }
        }

        [Fact]
        public void Superblock_mutations()
        {
            ExtFuzzFixture.Image p = Plain;
            var image = new MutatedImage(p.Bytes, "superblock-fuzz");
            // Fix the checksum-free image's fields; the checksummed one must refuse every change with a typed error.
            Fuzz.Run("superblock", image, Cases, 101, (r, m) => m.Mutate(r, 1024, 0x180), Exercise);
            var csum = new MutatedImage(Csum.Bytes, "superblock-csum-fuzz");
            // Every change is refused, except one that clears the metadata_csum flag itself (0x64..0x67):
            // then, as for the kernel, there is no checksum to verify, so those bytes are left out here.
            int typed = Fuzz.Run("superblock (metadata_csum)", csum, 1000, 102, (r, m) =>
            {
                if (r.Next(2) == 0)
                {
                    m.Mutate(r, 1024, 0x64);
                }
                else
                {
                    m.Mutate(r, 1024 + 0x68, 0x3FC - 0x68);
                }
            }, Exercise);
            Assert.Equal(1000, typed);
        }

        [Fact]
        public void Group_descriptor_mutations()
        {
            var image = new MutatedImage(Plain.Bytes, "gdt-fuzz");
            Fuzz.Run("group descriptors", image, Cases, 201, (r, m) => m.Mutate(r, 4096, 64), Exercise);
            var csum = new MutatedImage(Csum.Bytes, "gdt-csum-fuzz");
            int typed = Fuzz.Run("group descriptors (metadata_csum)", csum, 1000, 202, (r, m) => m.Mutate(r, 4096, 64), Exercise);
            Assert.True(typed > 500, $"only {typed} of 1000 checksummed descriptor mutations were refused");
        }

        [Fact]
        public void Inode_mutations()
        {
            ExtFuzzFixture.Image p = Plain;
            var image = new MutatedImage(p.Bytes, "inode-fuzz");
            Fuzz.Run("inodes", image, Cases, 301, (r, m) => m.Mutate(r, p.InodeTable, 32 * p.InodeSize), Exercise);
            ExtFuzzFixture.Image c = Csum;
            var csum = new MutatedImage(c.Bytes, "inode-csum-fuzz");
            Fuzz.Run("inodes (metadata_csum)", csum, 1000, 302, (r, m) => m.Mutate(r, c.InodeTable, 32 * c.InodeSize), Exercise);
        }

        [Fact]
        public void Extent_tree_mutations()
        {
            ExtFuzzFixture.Image p = Plain;
            var image = new MutatedImage(p.Bytes, "extent-fuzz");
            Fuzz.Run("extent tree", image, Cases, 401, (r, m) =>
            {
                if (r.Next(2) == 0)
                {
                    m.Mutate(r, p.ExtentLeaf * 4096, 12 + (12 * 40));
                }
                else
                {
                    m.Mutate(r, p.FragInodeOffset + 0x28, 60);
                }
            }, m => Exercise(m, 1 << 20));
        }

        [Fact]
        public void Directory_block_mutations()
        {
            ExtFuzzFixture.Image p = Plain;
            var image = new MutatedImage(p.Bytes, "dir-fuzz");
            long[] blocks = p.RootDirBlocks.Concat(p.BigDirBlocks).ToArray();
            Fuzz.Run("directory blocks", image, Cases, 501, (r, m) => m.Mutate(r, blocks[r.Next(blocks.Length)] * 4096, 4096), Exercise);
            ExtFuzzFixture.Image c = Csum;
            var csum = new MutatedImage(c.Bytes, "dir-csum-fuzz");
            long[] cblocks = c.RootDirBlocks.Concat(c.BigDirBlocks).ToArray();
            Fuzz.Run("directory blocks (metadata_csum)", csum, 1000, 502, (r, m) => m.Mutate(r, cblocks[r.Next(cblocks.Length)] * 4096, 4096), Exercise);
        }

        [Fact]
        public void Hostile_structures_give_typed_errors()
        {
            ExtFuzzFixture.Image p = Plain;
            var image = new MutatedImage(p.Bytes, "hostile");
            using (var fs = new ExtFileSystem(image.AsDevice()))
            {
                Assert.Throws<InvalidImageException>(() => fs.GetEntry("/links/loop"));
            }

            // A cyclic extent tree: the leaf block becomes an index node (depth 1) pointing at itself.
            image.Reset();
            long leaf = p.ExtentLeaf * 4096;
            image.Set(leaf + 6, 1);
            image.SetUInt32(leaf + 12 + 4, (uint)p.ExtentLeaf);
            image.Set(leaf + 12 + 8, 0);
            image.Set(leaf + 12 + 9, 0);
            using (var fs = new ExtFileSystem(image.AsDevice()))
            {
                var e = Assert.Throws<InvalidImageException>(() => ExtOracle.ReadAll(fs.OpenRead("/frag")));
                Assert.Contains("extent", e.Message);
            }

            // A directory entry pointing past the inode table.
            image.Reset();
            using (var fs = new ExtFileSystem(new MutatedImage(p.Bytes, "x").AsDevice()))
            {
                uint smallInode = fs.InodeOf("/small.txt")!.Number;
                byte[] root = image.Region(p.RootDirBlocks[0] * 4096, 4096);
                int at = FindEntry(root, smallInode);
                image.SetUInt32(p.RootDirBlocks[0] * 4096 + at, 0x7FFFFFF0);
            }
            using (var fs = new ExtFileSystem(image.AsDevice()))
            {
                var e = Assert.Throws<InvalidImageException>(() => fs.List("/").ToList());
                Assert.Contains("past the inode table", e.Message);
            }

            // Huge inode and block counts in the superblock: refused before anything is allocated.
            image.Reset();
            image.SetUInt32(1024 + 0x0, 0xFFFFFFFF);
            Assert.Throws<InvalidImageException>(() => new ExtFileSystem(image.AsDevice()));
            image.Reset();
            image.SetUInt32(1024 + 0x4, 0xFFFFFFFF);
            Assert.Throws<InvalidImageException>(() => new ExtFileSystem(image.AsDevice()));
            image.Reset();
            image.SetUInt32(1024 + 0x28, 0xFFFFFFFF);
            Assert.Throws<InvalidImageException>(() => new ExtFileSystem(image.AsDevice()));
        }

        private static int FindEntry(byte[] block, uint inode)
        {
            int pos = 0;
            while (pos < block.Length)
            {
                if (BitConverter.ToUInt32(block, pos) == inode)
                {
                    return pos;
                }
                pos += BitConverter.ToUInt16(block, pos + 4);
            }
            throw new InvalidOperationException("entry not found");
        }
    }
}
