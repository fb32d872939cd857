using System;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems
{
    /// <summary>ext2/3/4 images made by mkfs.ext4 -d from a folder of the test's making, read back and compared with the folder and debugfs.</summary>
    public class ExtFileSystemTests
    {
        private static readonly string[] DebugfsPaths =
        {
            "/", "/empty", "/one-block", "/small.txt", "/medium.bin", "/sparse", "/tiny-inline", "/inline-xattr", "/dir", "/dir/owned", "/dir/mode0640",
            "/dir/fifo", "/dir/sub/deeper/file.conf", "/links/fast", "/links/slow", "/links/abs", "/emptydir",
        };

        [Theory]
        [InlineData("ext4-default", 4096, new[] { "-b", "4096" })]
        [InlineData("ext4-no-csum-32bit", 4096, new[] { "-b", "4096", "-O", "^metadata_csum,^64bit" })]
        [InlineData("ext4-64bit-csum-seed", 4096, new[] { "-b", "4096", "-O", "64bit,metadata_csum,metadata_csum_seed" })]
        [InlineData("ext3-indirect", 4096, new[] { "-b", "4096", "-t", "ext3" })]
        [InlineData("ext4-noextent", 4096, new[] { "-b", "4096", "-O", "^extent,^64bit,^metadata_csum" })]
        [InlineData("ext2-1k", 1024, new[] { "-t", "ext2", "-b", "1024" })]
        [InlineData("ext4-1k-csum", 1024, new[] { "-b", "1024" })]
        [InlineData("ext4-inline", 4096, new[] { "-b", "4096", "-O", "inline_data", "-I", "256" })]
        [InlineData("ext4-meta-bg", 4096, new[] { "-b", "4096", "-O", "meta_bg,^resize_inode" })]
        public void Every_entry_matches_the_source_folder_and_debugfs(string name, int blockSize, string[] options)
        {
            using var tmp = new TempDirectory();
            var tree = new ExtSourceTree(tmp.File("src"), bigSparse: name == "ext4-default" || name == "ext3-indirect", manyEntries: false,
                // mkfs.ext4 -d with inline_data drops a sparse file's trailing hole (its own debugfs shows the short size).
                trailingHole: name != "ext4-inline");
            string image = tmp.File(name + ".img");
            ExtSourceTree.MakeFileSystem(image, tree.Root, 96, options.Concat(new[] { "-N", "8000" }).ToArray());

            using DiskImage disk = DiskImage.Open(image);
            using var fs = new ExtFileSystem(new DiskSlice(disk, 0, disk.VirtualSize, image));
            Assert.Equal(blockSize, fs.BlockSize);
            Assert.Equal("testlabel", fs.Superblock.Label);
            Assert.Equal(new Guid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"), fs.Superblock.Uuid);
            Assert.Empty(fs.Warnings);

            int compared = ExtOracle.CompareWithSource(fs, tree);
            Assert.True(compared > 20);
            ExtOracle.CompareWithDebugfs(fs, image, DebugfsPaths, tmp.Path);

            // Links resolve inside the file system; loops and dangling links end cleanly.
            Assert.Equal("hello ext\n", ReadText(fs, "/links/fast"));
            Assert.Equal("key=value\n", ReadText(fs, "/links/slow"));
            Assert.Equal("hello ext\n", ReadText(fs, "/links/escape"));
            Assert.Equal("/dir/sub", fs.GetEntry("/links/todir")!.Path);
            Assert.Contains(fs.List("/links/todir/deeper"), e => e.Name == "file.conf");
            Assert.Null(fs.GetEntry("/links/dangling"));
            Assert.Throws<InvalidImageException>(() => fs.GetEntry("/links/loop1"));
        }

        [Theory]
        [InlineData("^metadata_csum")]
        [InlineData("metadata_csum")]
        public void A_5000_entry_directory_is_an_htree_and_every_name_is_found(string csum)
        {
            using var tmp = new TempDirectory();
            var tree = new ExtSourceTree(tmp.File("src"), bigSparse: false, manyEntries: true);
            string image = tmp.File("htree.img");
            ExtSourceTree.MakeFileSystem(image, tree.Root, 64, "-b", "4096", "-N", "8000", "-O", csum);
            // mkfs -d writes linear directories; e2fsck -D rebuilds large ones as hash trees, as the kernel would have.
            ToolResult fsck = ExternalTool.Run(ExternalTool.Require("e2fsck", "e2fsprogs"), new[] { "-fyD", image }, check: false);
            Assert.True(fsck.ExitCode <= 1, fsck.StdOut + fsck.StdErr);
            using DiskImage disk = DiskImage.Open(image);
            using var fs = new ExtFileSystem(new DiskSlice(disk, 0, disk.VirtualSize, image));
            ExtInode many = fs.InodeOf("/many")!;
            Assert.True(many.Has(ExtInode.FlagIndex), "mkfs should have indexed a directory of 5,000 entries");
            Assert.Equal(ExtSourceTree.ManyEntries, fs.List("/many").Count());
            for (int i = 0; i < ExtSourceTree.ManyEntries; i += 7)
            {
                FileEntry e = fs.GetEntry($"/many/entry-with-a-long-name-{i:D5}")!;
                Assert.Equal(i % 97 == 0 ? i.ToString(System.Globalization.CultureInfo.InvariantCulture).Length : 0, e.Size);
            }
            ExtOracle.CompareWithSource(fs, tree);
        }

        [Fact]
        public void A_journal_needing_recovery_is_reported_as_a_warning()
        {
            using var tmp = new TempDirectory();
            Directory.CreateDirectory(tmp.File("src"));
            File.WriteAllText(tmp.File("src/a"), "a");
            string image = tmp.File("j.img");
            ExtSourceTree.MakeFileSystem(image, tmp.File("src"), 16);
            // debugfs's ssv sets a superblock field the way the kernel leaves it after a crash (and fixes the checksum).
            ExternalTool.Run(ExternalTool.Require("debugfs", "e2fsprogs"), new[] { "-w", "-R", "feature needs_recovery", image });
            using DiskImage disk = DiskImage.Open(image);
            using var fs = new ExtFileSystem(new DiskSlice(disk, 0, disk.VirtualSize, image));
            Assert.Contains(fs.Warnings, w => w.Contains("journal needs recovery"));
            Assert.Equal("a", ReadText(fs, "/a"));
        }

        internal static string ReadText(IFileSystem fs, string path)
        {
            using var r = new StreamReader(fs.OpenRead(path));
            return r.ReadToEnd();
        }
    }
}
