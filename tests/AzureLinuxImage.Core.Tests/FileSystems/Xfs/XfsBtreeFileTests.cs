using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems.Xfs;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.Xfs
{
    /// <summary>
    /// A fragmented, sparse regular file in btree format. mkfs.xfs 6.1 writes every protofile file as one
    /// extent and nothing here can mount, so the test takes a 48-block file mkfs wrote and re-describes
    /// its own blocks, following the on-disk format: 30 extents (out of physical order, with holes between
    /// them and one unwritten extent) in two bmbt leaves under a node block under the inode root (depth 2).
    /// xfs_repair -n must accept the result and xfs_db's bmap is the oracle for the map.
    /// </summary>
    public class XfsBtreeFileTests
    {
        private const int ExtentCount = 260;
        private const int PerLeaf = ExtentCount / 2;
        private const int DataBlocks = 390;
        private const int UnwrittenExtent = 7;

        /// <summary>The hole between the two leaves' extents: about 5 GiB, so offsets past 4 GiB are read too.</summary>
        private const long BigHole = 1_400_000;
        private const ulong NullBlock = ulong.MaxValue;

        /// <remarks>
        /// xfs_repair requires every non-root btree block to be at least half full, so the depth-1 trees
        /// (inode root over two leaves of 130 records) are checked by xfs_repair -n; the depth-2 trees
        /// (root, a node of two records, the same leaves) only by xfs_db's independent bmap walk.
        /// </remarks>
        [Theory]
        [InlineData(true, 1)]
        [InlineData(false, 1)]
        [InlineData(true, 2)]
        [InlineData(false, 2)]
        public void A_fragmented_bmbt_file_with_holes_reads_as_designed(bool v5, int depth)
        {
            int blocks = DataBlocks + depth + 1;
            using var dir = new TempDirectory();
            string source = dir.File("frag.src");
            byte[] original = XfsImages.Bytes(77, blocks * 4096);
            File.WriteAllBytes(source, original);
            string proto = XfsImages.WriteProto(dir.File("proto"), new[] { new ProtoEntry("/frag", '-', 0x1A4, 0, 0, source, null) });
            string image = XfsImages.Mkfs(dir.File("xfs.img"), 64L << 20, proto, v5 ? new[] { "-b", "size=4096" } : new[] { "-m", "crc=0", "-b", "size=4096" });
            ulong ino = XfsImages.Ls(image, "/").Single(x => x.Name == "frag").Inode;
            var initial = XfsImages.Bmap(image, ino);
            Assert.Single(initial);
            Assert.Equal(blocks, initial[0].Count);
            long start = initial[0].Start;      // file system block number of the file's first block
            long startByte = ConvertToByte(image, "fsblock", start);
            long inodeByte = ConvertToByte(image, "inode", (long)ino);
            const int bs = 4096;

            // The design: extent i has 2 blocks when i is even, else 1; one-block holes between extents and
            // a 5 GiB hole after the first leaf's last extent; physical blocks taken from the end of the data area backwards.
            var design = new List<(long Logical, long Delta, int Count, bool Unwritten)>();
            long logical = 0;
            long physicalEnd = DataBlocks;
            for (int i = 0; i < ExtentCount; i++)
            {
                int count = i % 2 == 0 ? 2 : 1;
                physicalEnd -= count;
                design.Add((logical, physicalEnd, count, i == UnwrittenExtent));
                logical += count + (i == PerLeaf - 1 ? BigHole : 1);
            }
            Assert.Equal(0, physicalEnd);
            long fileBlocks = design[^1].Logical + design[^1].Count;
            long fileSize = (fileBlocks * bs) - 100;

            using (var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
            {
                var sb = new byte[512];
                f.ReadExactly(sb);
                byte[] uuid = sb.AsSpan(32, 16).ToArray();
                int header = v5 ? 72 : 24;
                int maxRecs = (bs - header) / 16;
                long nodeDelta = DataBlocks + 2, leafA = DataBlocks, leafB = DataBlocks + 1;

                byte[] Block(int level, int records, ulong left, ulong right, long delta)
                {
                    var b = new byte[bs];
                    BinaryPrimitives.WriteUInt32BigEndian(b, v5 ? 0x424D4133u : 0x424D4150u);
                    BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)level);
                    BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), (ushort)records);
                    BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(8), left);
                    BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(16), right);
                    if (v5)
                    {
                        BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(24), (ulong)((startByte + (delta * bs)) / 512));
                        uuid.CopyTo(b, 40);
                        BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(56), ino);
                    }
                    return b;
                }
                void Seal(byte[] b, long delta)
                {
                    if (v5)
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(64), XfsChecksum.Compute(b, 0, b.Length, 64));
                    }
                    f.Position = startByte + (delta * bs);
                    f.Write(b);
                }
                void Record(byte[] b, int at, (long Logical, long Delta, int Count, bool Unwritten) e)
                {
                    ulong fsb = (ulong)(start + e.Delta);
                    ulong l0 = ((e.Unwritten ? 1UL : 0UL) << 63) | ((ulong)e.Logical << 9) | (fsb >> 43);
                    ulong l1 = (fsb << 21) | (uint)e.Count;
                    BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(at), l0);
                    BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(at + 8), l1);
                }

                byte[] a = Block(0, PerLeaf, NullBlock, (ulong)(start + leafB), leafA);
                byte[] c = Block(0, PerLeaf, (ulong)(start + leafA), NullBlock, leafB);
                for (int i = 0; i < PerLeaf; i++)
                {
                    Record(a, header + (i * 16), design[i]);
                    Record(c, header + (i * 16), design[PerLeaf + i]);
                }
                Seal(a, leafA);
                Seal(c, leafB);
                if (depth == 2)
                {
                    byte[] node = Block(1, 2, NullBlock, NullBlock, nodeDelta);
                    BinaryPrimitives.WriteUInt64BigEndian(node.AsSpan(header), (ulong)design[0].Logical);
                    BinaryPrimitives.WriteUInt64BigEndian(node.AsSpan(header + 8), (ulong)design[PerLeaf].Logical);
                    BinaryPrimitives.WriteUInt64BigEndian(node.AsSpan(header + (maxRecs * 8)), (ulong)(start + leafA));
                    BinaryPrimitives.WriteUInt64BigEndian(node.AsSpan(header + (maxRecs * 8) + 8), (ulong)(start + leafB));
                    Seal(node, nodeDelta);
                }

                // The inode: btree format, 30 extents, the new size, and the root (xfs_bmdr_block) in the literal area.
                int inodeSize = BinaryPrimitives.ReadUInt16BigEndian(sb.AsSpan(104));
                var inode = new byte[inodeSize];
                f.Position = inodeByte;
                f.ReadExactly(inode);
                Assert.Equal(0, inode[82]); // no attribute fork: the data fork is the whole literal area
                int core = v5 ? 176 : 100;
                inode[5] = 3;
                BinaryPrimitives.WriteInt64BigEndian(inode.AsSpan(56), fileSize);
                BinaryPrimitives.WriteUInt32BigEndian(inode.AsSpan(76), ExtentCount);
                Array.Clear(inode, core, inodeSize - core);
                int rootMax = (inodeSize - core - 4) / 16;
                BinaryPrimitives.WriteUInt16BigEndian(inode.AsSpan(core), (ushort)depth);
                if (depth == 2)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(inode.AsSpan(core + 2), 1);
                    BinaryPrimitives.WriteUInt64BigEndian(inode.AsSpan(core + 4), 0);
                    BinaryPrimitives.WriteUInt64BigEndian(inode.AsSpan(core + 4 + (rootMax * 8)), (ulong)(start + nodeDelta));
                }
                else
                {
                    BinaryPrimitives.WriteUInt16BigEndian(inode.AsSpan(core + 2), 2);
                    BinaryPrimitives.WriteUInt64BigEndian(inode.AsSpan(core + 4), 0);
                    BinaryPrimitives.WriteUInt64BigEndian(inode.AsSpan(core + 12), (ulong)design[PerLeaf].Logical);
                    BinaryPrimitives.WriteUInt64BigEndian(inode.AsSpan(core + 4 + (rootMax * 8)), (ulong)(start + leafA));
                    BinaryPrimitives.WriteUInt64BigEndian(inode.AsSpan(core + 4 + (rootMax * 8) + 8), (ulong)(start + leafB));
                }
                if (v5)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(inode.AsSpan(100), XfsChecksum.Compute(inode, 0, inodeSize, 100));
                }
                f.Position = inodeByte;
                f.Write(inode);
            }

            // The external tools agree the file system is consistent and see our map.
            if (depth == 1)
            {
                ToolResult repair = ExternalTool.Run(ExternalTool.Require("xfs_repair", "xfsprogs"), new[] { "-n", "-f", image }, check: false);
                Assert.True(repair.ExitCode == 0, "xfs_repair -n: " + repair.StdErr + repair.StdOut);
            }
            Assert.Contains("3 (btree)", XfsImages.Db(image, $"inode {ino}", "print core.format"));
            var theirs = XfsImages.Bmap(image, ino);
            Assert.Equal(design.Select(d => (d.Logical, start + d.Delta, (long)d.Count, d.Unwritten)), theirs.Select(t => (t.Offset, t.Start, t.Count, t.Unwritten)));

            using XfsFileSystem fs = XfsImages.Open(image, out DiskImage disk);
            using (disk)
            {
                Assert.Equal(design.Select(d => (d.Logical, d.Count, d.Unwritten)), fs.GetExtents("/frag").Select(e => (e.Logical, (int)e.Count, e.Unwritten)));
                // What the design says bytes [at, at+n) are: source blocks where written, zeros in holes and the unwritten extent.
                byte[] Expected(long at, int n)
                {
                    var e = new byte[n];
                    foreach (var d in design.Where(d => !d.Unwritten))
                    {
                        long from = Math.Max(at, d.Logical * bs);
                        long to = Math.Min(Math.Min(at + n, (d.Logical + d.Count) * bs), fileSize);
                        if (from < to)
                        {
                            Array.Copy(original, (d.Delta * bs) + (from - (d.Logical * bs)), e, from - at, to - from);
                        }
                    }
                    return e;
                }
                Assert.Equal(fileSize, fs.GetEntry("/frag")!.Size);
                Assert.True(fileSize > 5L << 30, "the file is not past 5 GiB");
                using Stream s = fs.OpenRead("/frag");
                void Check(long at, int n)
                {
                    var buffer = new byte[n];
                    s.Position = at;
                    int got = s.ReadAtLeast(buffer, n, throwOnEndOfStream: false);
                    Assert.Equal((int)Math.Min(n, fileSize - at), got);
                    Assert.True(Expected(at, got).AsSpan().SequenceEqual(buffer.AsSpan(0, got)), $"read at {at} differs");
                }
                // Both leaves' ranges in full, the end of the file, and seeded reads anywhere (mostly the hole).
                long firstEnd = (design[PerLeaf - 1].Logical + design[PerLeaf - 1].Count) * bs;
                Check(0, (int)firstEnd + 8192);
                long secondStart = design[PerLeaf].Logical * bs;
                Check(secondStart - 8192, (int)(fileSize - secondStart) + 8192);
                Check(fileSize - 10, 100);
                var rng = new Random(5);
                for (int i = 0; i < 200; i++)
                {
                    Check(rng.NextInt64(fileSize), 9000);
                }
            }
        }

        internal static long ConvertToByte(string image, string kind, long value)
        {
            string converted = XfsImages.Db(image, $"convert {kind} {value} byte");
            return long.Parse(converted.Substring(converted.IndexOf('(') + 1).Split(')')[0]);
        }
    }
}
