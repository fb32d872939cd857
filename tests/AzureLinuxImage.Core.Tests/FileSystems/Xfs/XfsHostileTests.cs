using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Xfs;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.Xfs
{
    /// <summary>
    /// Deliberately damaged XFS images: each damage is written at a place xfs_db names, v5 structures are
    /// re-sealed so the check behind the CRC is what fires, and the reader must answer with an
    /// InvalidImageException naming the structure.
    /// </summary>
    public class XfsHostileTests
    {
        private static string Build(TempDirectory dir, bool v5)
        {
            string target = dir.File("target");
            File.WriteAllText(target, "inside\n");
            string data = dir.File("data");
            File.WriteAllBytes(data, XfsImages.Bytes(3, 10_000));
            string proto = XfsImages.WriteProto(dir.File("proto"), new[]
            {
                new ProtoEntry("/a", 'l', 0x1FF, 0, 0, null, "b"),
                new ProtoEntry("/b", 'l', 0x1FF, 0, 0, null, "/a"),
                new ProtoEntry("/etc", 'd', 0x1ED, 0, 0, null, null),
                new ProtoEntry("/etc/target", '-', 0x1A4, 0, 0, target, null),
                new ProtoEntry("/etc/escape", 'l', 0x1FF, 0, 0, null, "../../../../../etc/target"),
                new ProtoEntry("/file", '-', 0x1A4, 0, 0, data, null),
            });
            return XfsImages.Mkfs(dir.File("h.img"), 32L << 20, proto, v5 ? Array.Empty<string>() : new[] { "-m", "crc=0" });
        }

        /// <summary>Rewrites an inode through <paramref name="edit"/>, re-sealing its v5 CRC.</summary>
        private static void EditInode(string image, ulong ino, bool v5, Action<byte[], int> edit)
        {
            long at = XfsBtreeFileTests.ConvertToByte(image, "inode", (long)ino);
            using var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
            var sb = new byte[512];
            f.ReadExactly(sb);
            int size = BinaryPrimitives.ReadUInt16BigEndian(sb.AsSpan(104));
            var inode = new byte[size];
            f.Position = at;
            f.ReadExactly(inode);
            edit(inode, v5 ? 176 : 100);
            if (v5)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(inode.AsSpan(100), XfsChecksum.Compute(inode, 0, size, 100));
            }
            f.Position = at;
            f.Write(inode);
        }

        private static ulong Ino(string image, string dir, string name) => XfsImages.Ls(image, dir).Single(x => x.Name == name).Inode;

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Link_loops_end_with_an_error_and_dotdot_links_stay_inside(bool v5)
        {
            using var dir = new TempDirectory();
            string image = Build(dir, v5);
            using XfsFileSystem fs = XfsImages.Open(image, out DiskImage disk);
            using (disk)
            {
                var e = Assert.Throws<InvalidImageException>(() => fs.GetEntry("/a"));
                Assert.Contains("loop", e.Message);
                using var r = new StreamReader(fs.OpenRead("/etc/escape"));
                Assert.Equal("inside\n", r.ReadToEnd());
                Assert.Equal("/etc/target", fs.GetEntry("/etc/escape")!.Path);
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void A_directory_entry_pointing_past_the_inode_space_is_refused(bool v5)
        {
            using var dir = new TempDirectory();
            string image = Build(dir, v5);
            ulong root = Ino(image, "/", ".");
            // Shortform root: count, i8count, 4-byte parent, then entries (namelen, offset, name, [ftype], 4-byte inode).
            EditInode(image, root, v5, (b, core) =>
            {
                int pos = core + 6;
                for (int i = 0; i < b[core]; i++)
                {
                    int nameLength = b[pos];
                    string name = Encoding.ASCII.GetString(b, pos + 3, nameLength);
                    if (name == "file")
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(pos + 3 + nameLength + 1), 0xFFFFFF00);
                    }
                    pos += 3 + nameLength + 1 + 4;
                }
            });
            // xfs_db agrees the entry is corrupt.
            ToolResult db = ExternalTool.Run(ExternalTool.Require("xfs_db", "xfsprogs"), new[] { "-r", "-c", "ls /", image }, check: false);
            Assert.Contains("Invalid inode number 0xffffff00", db.StdErr + db.StdOut);
            using XfsFileSystem fs = XfsImages.Open(image, out DiskImage disk);
            using (disk)
            {
                var e = Assert.Throws<InvalidImageException>(() => fs.GetEntry("/file"));
                Assert.Contains("outside the inode space", e.Message);
                Assert.Contains("entry 'file'", e.Structure);
                Assert.NotNull(fs.GetEntry("/etc/target"));
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void A_huge_extent_count_is_refused(bool v5)
        {
            using var dir = new TempDirectory();
            string image = Build(dir, v5);
            ulong file = Ino(image, "/", "file");
            EditInode(image, file, v5, (b, core) => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(76), 0xFFFFFFF0));
            Assert.Contains("4294967280", XfsImages.Db(image, $"inode {file}", "print core.nextents"));
            using XfsFileSystem fs = XfsImages.Open(image, out DiskImage disk);
            using (disk)
            {
                var e = Assert.Throws<InvalidImageException>(() => fs.GetEntry("/file"));
                Assert.Contains("di_nextents", e.Structure);
            }
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void A_btree_root_pointing_at_itself_or_too_deep_is_refused(bool v5)
        {
            using var dir = new TempDirectory();
            string image = Build(dir, v5);
            ulong file = Ino(image, "/", "file");
            long fileBlock = XfsImages.Bmap(image, file)[0].Start;
            int inodeSize = v5 ? 512 : 256;
            int core = v5 ? 176 : 100;
            int rootMax = (inodeSize - core - 4) / 16;
            // A btree root whose only child is a bmbt node (level 1) that points back at itself: a cycle.
            EditInode(image, file, v5, (b, c) =>
            {
                b[5] = 3;
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(76), 1);
                Array.Clear(b, c, inodeSize - c);
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(c), 2);
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(c + 2), 1);
                BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(c + 4 + (rootMax * 8)), (ulong)fileBlock);
            });
            long at = XfsBtreeFileTests.ConvertToByte(image, "fsblock", fileBlock);
            using (var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
            {
                var block = new byte[4096];
                int header = v5 ? 72 : 24;
                BinaryPrimitives.WriteUInt32BigEndian(block, v5 ? 0x424D4133u : 0x424D4150u);
                BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(4), 1);
                BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(6), 1);
                BinaryPrimitives.WriteUInt64BigEndian(block.AsSpan(8), ulong.MaxValue);
                BinaryPrimitives.WriteUInt64BigEndian(block.AsSpan(16), ulong.MaxValue);
                int maxRecs = (4096 - header) / 16;
                BinaryPrimitives.WriteUInt64BigEndian(block.AsSpan(header + (maxRecs * 8)), (ulong)fileBlock);
                if (v5)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(block.AsSpan(24), (ulong)(at / 512));
                    var sb = new byte[512];
                    f.ReadExactly(sb);
                    sb.AsSpan(32, 16).CopyTo(block.AsSpan(40));
                    BinaryPrimitives.WriteUInt64BigEndian(block.AsSpan(56), file);
                    BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(64), XfsChecksum.Compute(block, 0, block.Length, 64));
                }
                f.Position = at;
                f.Write(block);
            }
            using XfsFileSystem fs = XfsImages.Open(image, out DiskImage disk);
            using (disk)
            {
                var e = Assert.Throws<InvalidImageException>(() => fs.OpenRead("/file"));
                Assert.Contains("bmbt", e.Structure);
            }
        }

        [Fact]
        public void A_truncated_device_and_a_corrupt_v5_superblock_are_refused()
        {
            using var dir = new TempDirectory();
            string image = Build(dir, true);
            using (DiskImage disk = DiskImage.Open(image))
            {
                var e = Assert.Throws<InvalidImageException>(() => XfsFileSystem.Open(new DiskSlice(disk, 0, disk.VirtualSize / 2, "half")));
                Assert.Contains("truncated", e.Message);
            }
            using (var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
            {
                f.Position = 108; // sb_fname: changes nothing but the CRC
                f.WriteByte((byte)'X');
            }
            Assert.Contains("bad", XfsImages.Db(image, "sb 0", "print crc"));
            using (DiskImage disk = DiskImage.Open(image))
            {
                var e = Assert.Throws<InvalidImageException>(() => XfsFileSystem.Open(new DiskSlice(disk, 0, disk.VirtualSize, "crc")));
                Assert.Equal("XFS superblock CRC", e.Structure);
            }
        }
    }
}
