using System;
using System.Buffers.Binary;
using System.Collections.Generic;
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
    /// <summary>Two small images (v5 and v4) with every structure the fuzz loops aim at, built once for the class.</summary>
    public sealed class XfsFuzzImages : IDisposable
    {
        private readonly TempDirectory dir = new TempDirectory();

        public XfsFuzzImages()
        {
            if (ExternalTool.Find("mkfs.xfs") == null || ExternalTool.Find("xfs_db") == null)
            {
                return;
            }
            string src = dir.File("src");
            Directory.CreateDirectory(src);
            var entries = new List<ProtoEntry>();
            int n = 0;
            void File(string path, byte[] content)
            {
                string s = Path.Combine(src, "f" + (n++));
                System.IO.File.WriteAllBytes(s, content);
                entries.Add(new ProtoEntry(path, '-', 0x1A4, 0, 0, s, null));
            }
            File("/hello", Encoding.ASCII.GetBytes("hello\n"));
            File("/data", XfsImages.Bytes(9, 20_000));
            File("/empty", Array.Empty<byte>());
            entries.Add(new ProtoEntry("/link", 'l', 0x1FF, 0, 0, null, "hello"));
            entries.Add(new ProtoEntry("/remote-link", 'l', 0x1FF, 0, 0, null, string.Concat(Enumerable.Repeat("remote/", 60)) + "hello"));
            entries.Add(new ProtoEntry("/dirs", 'd', 0x1ED, 0, 0, null, null));
            entries.Add(new ProtoEntry("/dirs/block", 'd', 0x1ED, 0, 0, null, null));
            for (int i = 0; i < 40; i++)
            {
                File($"/dirs/block/entry-{i:D3}", Array.Empty<byte>());
            }
            entries.Add(new ProtoEntry("/dirs/leaf", 'd', 0x1ED, 0, 0, null, null));
            for (int i = 0; i < 200; i++)
            {
                File($"/dirs/leaf/leaf-format-entry-{i:D4}", Array.Empty<byte>());
            }
            entries.Add(new ProtoEntry("/dirs/btree", 'd', 0x1ED, 0, 0, null, null));
            for (int i = 0; i < 1500; i++)
            {
                File($"/dirs/btree/btree-format-directory-entry-with-a-long-name-{i:D5}", Encoding.ASCII.GetBytes("c" + i));
            }
            string proto = XfsImages.WriteProto(dir.File("proto"), entries);
            V5 = Target.Build(XfsImages.Mkfs(dir.File("v5.img"), 48L << 20, proto), true);
            V4 = Target.Build(XfsImages.Mkfs(dir.File("v4.img"), 48L << 20, proto, "-m", "crc=0"), false);
        }

        internal Target? V5 { get; }

        internal Target? V4 { get; }

        public void Dispose() => dir.Dispose();

        /// <summary>Where the structures are in one image (located with xfs_db and a clean read).</summary>
        internal sealed class Target
        {
            public bool Crc { get; private set; }

            public int BlockSize { get; private set; }

            public int InodeSize { get; private set; }

            public long InodeChunk { get; private set; }

            public List<long> DirBlocks { get; } = new List<long>();

            public long BtreeLeaf { get; private set; }

            public FuzzBlockDevice Device { get; private set; } = null!;

            internal static Target Build(string image, bool v5)
            {
                if (v5)
                {
                    XfsFileSystemTests.AddRemoteSymlinkHeader(image, "/remote-link");
                }
                var t = new Target { Crc = v5 };
                using (XfsFileSystem fs = XfsImages.Open(image, out DiskImage disk))
                using (disk)
                {
                    t.BlockSize = fs.Superblock.BlockSize;
                    t.InodeSize = fs.Superblock.InodeSize;
                    t.InodeChunk = XfsBtreeFileTests.ConvertToByte(image, "inode", (long)fs.Superblock.RootInode);
                    foreach (string d in new[] { "/dirs/block", "/dirs/leaf" })
                    {
                        foreach (XfsExtent e in fs.GetExtents(d).Where(e => e.Logical < (1L << 35) / fs.Superblock.BlockSize))
                        {
                            for (long b = 0; b < e.Count; b++)
                            {
                                t.DirBlocks.Add((e.Physical + b) * t.BlockSize);
                            }
                        }
                    }
                    ulong btree = fs.GetInodeNumber("/dirs/btree");
                    string field = v5 ? "u3.bmbt.ptrs[1]" : "u.bmbt.ptrs[1]";
                    Dictionary<string, string> root = XfsImages.Fields(XfsImages.Db(image, $"inode {btree}", "print " + field));
                    t.BtreeLeaf = XfsBtreeFileTests.ConvertToByte(image, "fsblock", long.Parse(root[field]));
                }
                t.Device = new FuzzBlockDevice(image);
                return t;
            }
        }
    }

    /// <summary>
    /// Seeded mutation fuzzing of each XFS structure: superblock, inode chunk, directory data blocks and
    /// bmbt blocks. Half the v5 cases re-seal the mutated structure's CRC so the parser behind the
    /// checksum is reached; every case must end normally or with an AzureLinuxImageException.
    /// </summary>
    public class XfsFuzzTests : IClassFixture<XfsFuzzImages>
    {
        private const int CasesPerArea = 10_000;
        private readonly XfsFuzzImages images;
        private readonly ITestOutputHelper output;

        public XfsFuzzTests(XfsFuzzImages images, ITestOutputHelper output)
        {
            this.images = images;
            this.output = output;
        }

        private (XfsFuzzImages.Target V5, XfsFuzzImages.Target V4) Targets()
        {
            ExternalTool.Require("mkfs.xfs", "xfsprogs");
            ExternalTool.Require("xfs_db", "xfsprogs");
            return (images.V5!, images.V4!);
        }

        private void Loop(string area, Action<Random, XfsFuzzImages.Target> mutate, Action<XfsFileSystem> exercise)
        {
            var (v5, v4) = Targets();
            foreach (var (t, seed) in new[] { (v5, 5), (v4, 4) })
            {
                // A clean image must pass the exercise, or the loop proves nothing.
                exercise(XfsFileSystem.Open(t.Device));
                var (rejected, accepted) = FuzzBlockDevice.Run(t.Device, seed, CasesPerArea / 2, (rng, _) => mutate(rng, t), d => exercise(XfsFileSystem.Open(d)));
                output.WriteLine($"{area} v{(t.Crc ? 5 : 4)}: {rejected} rejected with typed errors, {accepted} read without error");
                Assert.True(rejected > 0, "no mutation was detected: the loop is not reaching the parser");
            }
        }

        private static void Reseal(XfsFuzzImages.Target t, Random rng, long offset, int length, int crcOffset)
        {
            if (t.Crc && rng.Next(2) == 0)
            {
                byte[] b = t.Device.Copy(offset, length);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(crcOffset), XfsChecksum.Compute(b, 0, length, crcOffset));
                t.Device.Write(offset + crcOffset, b.AsSpan(crcOffset, 4).ToArray());
            }
        }

        private static void Walk(XfsFileSystem fs, string path, int limit)
        {
            foreach (FileEntry e in fs.List(path).Take(limit))
            {
                if (e.Type == FileEntryType.File && e.Size <= 1 << 20)
                {
                    using Stream s = fs.OpenRead(e.Path);
                    s.CopyTo(Stream.Null);
                }
            }
        }

        [Fact]
        public void Superblock_mutations_give_typed_errors()
        {
            Loop("superblock", (rng, t) =>
            {
                t.Device.Mutate(rng, 0, 264);
                Reseal(t, rng, 0, 512, 224);
            }, fs =>
            {
                Walk(fs, "/", 20);
                fs.GetEntry("/link");
            });
        }

        [Fact]
        public void Inode_mutations_give_typed_errors()
        {
            Loop("inode", (rng, t) =>
            {
                // The first inode chunk: the root, the top-level files, links and directories.
                int inode = rng.Next(8);
                long at = t.InodeChunk + ((long)inode * t.InodeSize);
                t.Device.Mutate(rng, at, t.InodeSize);
                Reseal(t, rng, at, t.InodeSize, 100);
            }, fs =>
            {
                Walk(fs, "/", 20);
                fs.GetEntry("/link");
                fs.GetEntry("/remote-link", followLastLink: false);
                Walk(fs, "/dirs", 5);
                Walk(fs, "/dirs/block", 5);
                fs.List("/dirs/btree").Take(3).ToList();
            });
        }

        [Fact]
        public void Directory_block_mutations_give_typed_errors()
        {
            Loop("directory", (rng, t) =>
            {
                long at = t.DirBlocks[rng.Next(t.DirBlocks.Count)];
                t.Device.Mutate(rng, at, t.BlockSize);
                Reseal(t, rng, at, t.BlockSize, 4);
            }, fs =>
            {
                fs.List("/dirs/block").Count();
                fs.GetEntry("/dirs/leaf/leaf-format-entry-0199");
                fs.List("/dirs/leaf").Take(40).Count();
            });
        }

        [Fact]
        public void Bmbt_block_mutations_give_typed_errors()
        {
            Loop("bmbt", (rng, t) =>
            {
                int header = t.Crc ? 72 : 24;
                // Mostly the header and the first records, where the pointers and counts are.
                t.Device.Mutate(rng, t.BtreeLeaf, rng.Next(2) == 0 ? header + 64 : t.BlockSize);
                Reseal(t, rng, t.BtreeLeaf, t.BlockSize, 64);
            }, fs =>
            {
                fs.List("/dirs/btree").Take(5).Count();
                fs.GetEntry("/dirs/btree/btree-format-directory-entry-with-a-long-name-01499");
            });
        }
    }
}
