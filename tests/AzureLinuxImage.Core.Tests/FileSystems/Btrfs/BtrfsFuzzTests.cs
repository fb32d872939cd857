using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Btrfs;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.Btrfs
{
    /// <summary>
    /// A small btrfs with 4 KiB nodes (so every tree has internal nodes), made by mkfs.btrfs --rootdir, and where
    /// its tree blocks are; and, where the kernel can be used, one with zlib, lzo and zstd extents.
    /// </summary>
    public sealed class BtrfsFuzzImages : IDisposable
    {
        private readonly TempDirectory dir = new TempDirectory();

        public BtrfsFuzzImages()
        {
            if (ExternalTool.Find("mkfs.btrfs") == null)
            {
                return;
            }
            string src = dir.File("src");
            Directory.CreateDirectory(Path.Combine(src, "dir"));
            File.WriteAllText(Path.Combine(src, "hello"), "hello\n");
            File.WriteAllBytes(Path.Combine(src, "data"), Files.Random(200_000, 3));
            File.WriteAllBytes(Path.Combine(src, "inline"), Files.Random(1500, 4));
            for (int i = 0; i < 300; i++)
            {
                File.WriteAllText(Path.Combine(src, "dir", $"a-long-directory-entry-name-{i:D4}"), i.ToString());
            }
            File.CreateSymbolicLink(Path.Combine(src, "link"), "dir/a-long-directory-entry-name-0001");
            File.CreateSymbolicLink(Path.Combine(src, "loop"), "loop");
            BtrfsImages.Sh($"python3 -c \"import os; os.setxattr('{src}/hello', 'user.x', b'value')\"");
            string image = BtrfsImages.MakeFromFolder(dir.File("fuzz.img"), src, 4096, "crc32c", "-m", "single");
            Plain = new FuzzBlockDevice(image);
            using (var fs = BtrfsImages.Open(image))
            {
                NodeSize = fs.Superblock.NodeSize;
            }
            Nodes = FindNodes(Plain, NodeSize);
            if (Environment.UserName == "root" && File.ReadAllText("/proc/filesystems").Contains("btrfs", StringComparison.Ordinal))
            {
                string compressed = dir.File("compressed.img");
                BtrfsImages.MakeWithKernel(compressed, 128L << 20, string.Empty, mnt => BtrfsImages.Sh(string.Join(" && ", new[]
                {
                    $"mkdir '{mnt}/z' '{mnt}/l' '{mnt}/s'",
                    $"btrfs property set '{mnt}/z' compression zlib",
                    $"btrfs property set '{mnt}/l' compression lzo",
                    $"btrfs property set '{mnt}/s' compression zstd",
                    $"for d in z l s; do seq 1 40000 > '{mnt}'/$d/text; head -c 3000 /dev/zero | tr '\\0' x > '{mnt}'/$d/inline; done",
                })), "-m", "single");
                Compressed = new FuzzBlockDevice(compressed);
                CompressedExtents = FindCompressedExtents(compressed);
            }
        }

        internal FuzzBlockDevice? Plain { get; }

        public int NodeSize { get; }

        /// <summary>Device offsets of the tree blocks (their header's bytenr and fsid match the superblock).</summary>
        public IReadOnlyList<long> Nodes { get; } = Array.Empty<long>();

        internal FuzzBlockDevice? Compressed { get; }

        /// <summary>(device offset, length) of the compressed data extents, from dump-tree.</summary>
        public IReadOnlyList<(long Offset, int Length)> CompressedExtents { get; } = Array.Empty<(long, int)>();

        private static List<long> FindNodes(FuzzBlockDevice device, int nodeSize)
        {
            byte[] sb = device.Copy(0x10000, 4096);
            var nodes = new List<long>();
            for (long at = 0x20000; at + nodeSize <= device.Length; at += 4096)
            {
                if (device.Get(at + 0x20) != sb[0x20])
                {
                    continue;
                }
                byte[] h = device.Copy(at, 0x65);
                if (h.AsSpan(0x20, 16).SequenceEqual(sb.AsSpan(0x20, 16)) && h[0x64] <= 7 && BinaryPrimitives.ReadUInt64LittleEndian(h.AsSpan(0x30)) != 0 &&
                    ~CrcRegister.Crc32C(uint.MaxValue, device.Copy(at + 32, nodeSize - 32)) == BinaryPrimitives.ReadUInt32LittleEndian(device.Copy(at, 4)))
                {
                    nodes.Add(at);
                }
            }
            return nodes;
        }

        /// <summary>Single-profile data chunks map logical to physical by one offset: dump-tree gives both.</summary>
        private static List<(long, int)> FindCompressedExtents(string image)
        {
            string btrfs = ExternalTool.Require("btrfs", "btrfs-progs");
            string chunks = ExternalTool.Run(btrfs, new[] { "inspect-internal", "dump-tree", "-t", "3", image }).StdOut;
            var map = System.Text.RegularExpressions.Regex.Matches(chunks, @"key \(FIRST_CHUNK_TREE CHUNK_ITEM (\d+)\)[^\n]*\n\s*length (\d+)[\s\S]*?stripe 0 devid \d+ offset (\d+)")
                .Select(m => (Logical: long.Parse(m.Groups[1].Value), Length: long.Parse(m.Groups[2].Value), Physical: long.Parse(m.Groups[3].Value))).ToList();
            string fs = ExternalTool.Run(btrfs, new[] { "inspect-internal", "dump-tree", "-t", "5", image }).StdOut;
            var result = new List<(long, int)>();
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(fs, @"disk byte (\d+) nr (\d+)\n[^\n]*\n\s*extent compression [123]"))
            {
                long logical = long.Parse(m.Groups[1].Value);
                var c = map.First(x => logical >= x.Logical && logical < x.Logical + x.Length);
                result.Add((c.Physical + (logical - c.Logical), int.Parse(m.Groups[2].Value)));
            }
            return result;
        }

        public void Dispose() => dir.Dispose();
    }

    /// <summary>Seeded mutations of every btrfs structure: each case ends normally or with a typed error, in bounded time and memory.</summary>
    public class BtrfsFuzzTests : IClassFixture<BtrfsFuzzImages>
    {
        private const int Cases = 10_000;
        private static readonly byte[] Sink = new byte[65536];
        private readonly BtrfsFuzzImages images;

        public BtrfsFuzzTests(BtrfsFuzzImages images)
        {
            this.images = images;
        }

        private FuzzBlockDevice Plain => images.Plain ?? Skip();

        private static FuzzBlockDevice Skip()
        {
            ExternalTool.Require("mkfs.btrfs", "btrfs-progs");
            throw new InvalidOperationException("fixture not built");
        }

        /// <summary>Opens the file system and reads what it can reach: listings, file bytes, link targets, xattrs, subvolumes.</summary>
        private static void Exercise(FuzzBlockDevice device)
        {
            using BtrfsFileSystem fs = BtrfsFileSystem.Open(device);
            fs.ListSubvolumes();
            int budget = 400;
            Walk(fs, "/", 0, ref budget);
        }

        private static void Walk(BtrfsFileSystem fs, string path, int depth, ref int budget)
        {
            foreach (FileEntry e in fs.List(path))
            {
                if (--budget < 0)
                {
                    return;
                }
                fs.GetXattrs(e.Path);
                switch (e.Type)
                {
                    case FileEntryType.Directory when depth < 4:
                        Walk(fs, e.Path, depth + 1, ref budget);
                        break;
                    case FileEntryType.File:
                        using (Stream s = fs.OpenRead(e.Path))
                        {
                            long left = 1 << 20;
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

        private static void FixChecksum(FuzzBlockDevice d, long at, int size)
        {
            uint crc = ~CrcRegister.Crc32C(uint.MaxValue, d.Copy(at + 32, size - 32));
            var b = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, crc);
            d.Write(at, b);
        }

        [Fact]
        public void The_pristine_image_reads_completely_and_has_multi_level_trees()
        {
            Exercise(Plain);
            Assert.True(images.Nodes.Count > 10, $"{images.Nodes.Count} tree blocks found");
            Assert.Contains(images.Nodes, n => Plain.Get(n + 0x64) > 0);
            using BtrfsFileSystem fs = BtrfsFileSystem.Open(Plain);
            Assert.Equal(300, fs.List("/dir").Count());
        }

        [Fact]
        public void Superblock_mutations_with_a_valid_checksum()
        {
            var (rejected, accepted) = FuzzBlockDevice.Run(Plain, 2101, Cases, (r, d) =>
            {
                // The fields before the label and the sys_chunk_array, where every byte is read.
                if (r.Next(3) == 0)
                {
                    d.Mutate(r, 0x10000 + 0x32B, 0x100);
                }
                else
                {
                    d.Mutate(r, 0x10000 + 0x20, 0x12B - 0x20);
                }
                FixChecksum(d, 0x10000, 4096);
            }, Exercise);
            Assert.True(rejected > Cases / 4, $"only {rejected} of {Cases} rejected");
        }

        [Fact]
        public void Superblock_mutations_without_fixing_the_checksum_are_all_refused()
        {
            // Bit flips, so every case really changes the covered bytes.
            var (rejected, _) = FuzzBlockDevice.Run(Plain, 2102, 1000, (r, d) =>
            {
                long at = 0x10000 + 0x20 + r.Next(4096 - 0x20);
                d.Set(at, (byte)(d.Get(at) ^ (1 << r.Next(8))));
            }, Exercise);
            Assert.Equal(1000, rejected);
        }

        [Fact]
        public void Tree_block_mutations_with_a_valid_checksum()
        {
            IReadOnlyList<long> nodes = images.Nodes;
            int size = images.NodeSize;
            var (rejected, accepted) = FuzzBlockDevice.Run(Plain, 2201, Cases, (r, d) =>
            {
                long node = nodes[r.Next(nodes.Count)];
                // Mostly the header and item table, where the structure is; sometimes anywhere (item data).
                if (r.Next(2) == 0)
                {
                    d.Mutate(r, node + 32, 0x65 - 32 + (25 * 8));
                }
                else
                {
                    d.Mutate(r, node + 32, size - 32);
                }
                FixChecksum(d, node, size);
            }, Exercise);
            Assert.True(rejected > 0 && accepted > 0, $"{rejected} rejected, {accepted} accepted");
        }

        [Fact]
        public void Compressed_extent_mutations()
        {
            if (images.Compressed == null)
            {
                BtrfsImages.RequireKernelMount();
            }
            FuzzBlockDevice d0 = images.Compressed!;
            var extents = images.CompressedExtents;
            Assert.True(extents.Count >= 3, $"{extents.Count} compressed extents found");
            Exercise(d0);
            var (rejected, accepted) = FuzzBlockDevice.Run(d0, 2301, Cases, (r, d) =>
            {
                var (offset, length) = extents[r.Next(extents.Count)];
                d.Mutate(r, offset, Math.Min(length, 512));
            }, Exercise);
            Assert.True(rejected > 0, $"{rejected} rejected, {accepted} accepted");
        }

        [Fact]
        public void Hostile_trees_give_typed_errors_naming_the_structure()
        {
            FuzzBlockDevice d = Plain;
            int size = images.NodeSize;
            long internalNode = images.Nodes.First(n => d.Get(n + 0x64) > 0);
            byte[] header = d.Copy(internalNode, 0x65);
            ulong self = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(0x30));
            ulong generation = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(0x50));
            try
            {
                // Every child pointer names the node itself: a cycle, refused by the level check.
                uint count = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(0x60));
                var ptr = new byte[16];
                BinaryPrimitives.WriteUInt64LittleEndian(ptr, self);
                BinaryPrimitives.WriteUInt64LittleEndian(ptr.AsSpan(8), generation);
                for (int i = 0; i < count; i++)
                {
                    d.Write(internalNode + 0x65 + (i * 33) + 17, ptr);
                }
                FixChecksum(d, internalNode, size);
                var e = Assert.ThrowsAny<InvalidImageException>(() => Exercise(d));
                Assert.Contains("level", e.Message);
                Assert.Contains("btrfs", e.Structure);
            }
            finally
            {
                d.Restore();
            }
        }
    }
}
