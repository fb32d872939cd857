using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.IO;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Vhdx
{
    /// <summary>VHDX files made by qemu-img, read back and compared byte for byte with their raw source.</summary>
    public class VhdxQemuRoundTripTests
    {
        private const long MiB = 1024 * 1024;

        [Theory]
        [InlineData(1, "dynamic")]
        [InlineData(1, "fixed")]
        [InlineData(32, "dynamic")]
        [InlineData(32, "fixed")]
        [InlineData(256, "dynamic")]
        [InlineData(256, "fixed")]
        public void Qemu_vhdx_reads_back_exactly(int blockMiB, string subformat)
        {
            using var dir = new TempDirectory();
            long size = (blockMiB * MiB) + (3 * MiB) + (7 * 512); // partial last block, not MiB-aligned
            string raw = dir.File("source.raw"), vhdx = dir.File("disk.vhdx");
            long[] offsets = { 0, 4096 + 17, (blockMiB * MiB) - 3000, (blockMiB * MiB) + (MiB / 2), size - 1 };
            VhdxTestFiles.MakeRawWithScatteredData(raw, size, blockMiB * 31 + subformat.Length, offsets, 40000);
            // qemu marks zero blocks PAYLOAD_BLOCK_ZERO even in fixed files unless told not to; a fixed
            // file as Hyper-V makes it has every block fully present.
            string zeroState = subformat == "fixed" ? ",block_state_zero=off" : string.Empty;
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", $"block_size={blockMiB}M,subformat={subformat}{zeroState}", raw, vhdx);
            string before = Sha256(vhdx);

            using (DiskImage image = DiskImage.Open(vhdx))
            {
                Assert.Equal(DiskFormat.Vhdx, image.Format);
                Assert.Equal(subformat == "fixed" ? DiskVariant.Fixed : DiskVariant.Dynamic, image.Variant);
                Assert.Equal(size, image.VirtualSize);
                Assert.Equal(512, image.LogicalSectorSize);
                Assert.Contains("QEMU", image.CreatorApplication ?? string.Empty, StringComparison.OrdinalIgnoreCase);
                AssertSameContent(raw, image);
                AssertAllocatedCoversData(raw, image);
                if (subformat == "dynamic")
                {
                    // qemu allocates exactly the blocks that hold a non-zero byte.
                    Assert.Equal(BlocksWithData(raw, blockMiB * MiB), AllocatedBlocks(image, blockMiB * MiB));
                }
                else
                {
                    // Every block is fully present, but qemu leaves what it did not write as file holes:
                    // those read as zeros and are not reported as data.
                    ByteRange[] ranges = image.GetAllocatedRanges().ToArray();
                    Assert.All(ranges, r => Assert.True(r.Offset >= 0 && r.End <= size, r.ToString()));
                    Assert.True(ranges.Sum(r => r.Length) <= Files.AllocatedBytes(vhdx), "the file's holes must not count as data");
                }

                // qemu-img as the oracle: our reading, dumped to raw, equals qemu's reading of the VHDX.
                string dump = dir.File("dump.raw");
                Dump(image, dump);
                ToolResult cmp = ExternalTool.Run(ExternalTool.Require("qemu-img", "qemu-utils"), new[] { "compare", "-f", "raw", "-F", "vhdx", dump, vhdx }, check: false);
                Assert.True(cmp.ExitCode == 0, cmp.StdOut + cmp.StdErr);
            }
            Assert.Equal(before, Sha256(vhdx));
        }

        [Fact]
        public void Sector_bitmap_entries_interleave_after_each_chunk()
        {
            // 256 MiB blocks with 512-byte sectors: chunk ratio 2^23*512/2^28 = 16, so the BAT holds a
            // sector-bitmap entry after every 16 payload entries; data past 4 GiB sits behind one.
            using var dir = new TempDirectory();
            long size = (4L * 1024 * MiB) + (600 * MiB);
            string raw = dir.File("big.raw"), vhdx = dir.File("big.vhdx");
            long[] offsets = { 5 * MiB, (4L * 1024 * MiB) - 20000, (4L * 1024 * MiB) + (300 * MiB), size - 5 };
            VhdxTestFiles.MakeRawWithScatteredData(raw, size, 99, offsets, 65536);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=256M,subformat=dynamic", raw, vhdx);
            using DiskImage image = DiskImage.Open(vhdx);
            using var rawFile = File.OpenRead(raw);
            foreach (long o in offsets)
            {
                long at = Math.Min(o, size - 65536);
                AssertRangeEqual(rawFile, image, at - 4096 < 0 ? 0 : at - 4096, 65536 + 4096 + Math.Min(4096, size - at - 65536));
            }
            ByteRange[] ranges = image.GetAllocatedRanges().ToArray();
            long block = 256 * MiB;
            long[] expectedBlocks = offsets.SelectMany(o => new[] { Math.Min(o, size - 65536) / block, (Math.Min(o, size - 65536) + 65535) / block }).Distinct().OrderBy(b => b).ToArray();
            long[] actualBlocks = BlocksTouched(ranges, block);
            Assert.Equal(expectedBlocks, actualBlocks);
        }

        [Fact]
        public void Logical_sector_4096_is_read_and_warned_about()
        {
            // qemu-img always writes 512-byte logical sectors; the metadata item is changed to 4096 as
            // Hyper-V would write it (no checksum covers metadata, 2.6). 64 one-MiB blocks stay inside the
            // first chunk for both sector sizes, so the BAT layout is the same.
            using var dir = new TempDirectory();
            long size = 64 * MiB;
            string raw = dir.File("s.raw"), vhdx = dir.File("s.vhdx");
            VhdxTestFiles.MakeRawWithScatteredData(raw, size, 4096, new[] { 0L, 3 * MiB, 40 * MiB, size - 1 }, 12288);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M", raw, vhdx);
            var layout = VhdxTestFiles.ReadLayout(vhdx);
            VhdxTestFiles.WriteAt(vhdx, layout.Items[VhdxTestFiles.LogicalSectorSize].Offset, BitConverter.GetBytes(4096));
            VhdxTestFiles.WriteAt(vhdx, layout.Items[VhdxTestFiles.PhysicalSectorSize].Offset, BitConverter.GetBytes(4096));

            using DiskImage image = DiskImage.Open(vhdx);
            Assert.Equal(4096, image.LogicalSectorSize);
            Assert.Equal(4096, image.PhysicalSectorSize);
            Assert.Contains(image.Warnings, w => w.Contains("4 KiB LBAs", StringComparison.Ordinal) && w.Contains("512-byte", StringComparison.Ordinal));
            AssertSameContent(raw, image);
        }

        internal static void AssertSameContent(string raw, DiskImage image)
        {
            using var rawFile = File.OpenRead(raw);
            Assert.Equal(rawFile.Length, image.VirtualSize);
            AssertRangeEqual(rawFile, image, 0, image.VirtualSize);
            // Odd-sized reads at odd offsets, crossing block boundaries.
            var rng = new Random(5);
            for (int i = 0; i < 50; i++)
            {
                int count = rng.Next(1, 300000);
                long at = (long)(rng.NextDouble() * (image.VirtualSize - count));
                AssertRangeEqual(rawFile, image, at, count);
            }
        }

        internal static void AssertRangeEqual(FileStream raw, DiskImage image, long offset, long length)
        {
            var a = new byte[(int)Math.Min(4 * MiB, length)];
            var b = new byte[a.Length];
            long done = 0;
            while (done < length)
            {
                int n = (int)Math.Min(a.Length, length - done);
                raw.Position = offset + done;
                int got = 0;
                while (got < n)
                {
                    got += raw.Read(a, got, n - got);
                }
                image.Read(offset + done, b, 0, n);
                if (!a.AsSpan(0, n).SequenceEqual(b.AsSpan(0, n)))
                {
                    int i = 0;
                    while (a[i] == b[i]) { i++; }
                    Assert.Fail($"content differs at virtual offset {offset + done + i}");
                }
                done += n;
            }
        }

        /// <summary>Every non-zero byte of the source lies inside an allocated range.</summary>
        internal static void AssertAllocatedCoversData(string raw, DiskImage image)
        {
            ByteRange[] ranges = image.GetAllocatedRanges().ToArray();
            int r = 0;
            foreach ((long at, byte[] data, int n) in Chunks(raw))
            {
                for (int i = data.AsSpan(0, n).IndexOfAnyExcept((byte)0); i >= 0 && i < n; i++)
                {
                    if (data[i] == 0) { continue; }
                    long pos = at + i;
                    while (r < ranges.Length && ranges[r].End <= pos) { r++; }
                    Assert.True(r < ranges.Length && ranges[r].Offset <= pos, $"non-zero byte at {pos} is outside every allocated range");
                }
            }
        }

        internal static long[] BlocksWithData(string raw, long blockSize)
        {
            var blocks = new SortedSet<long>();
            foreach ((long at, byte[] data, int n) in Chunks(raw))
            {
                for (long b = at / blockSize; b * blockSize < at + n; b++)
                {
                    int from = (int)Math.Max(0, (b * blockSize) - at), to = (int)Math.Min(n, ((b + 1) * blockSize) - at);
                    if (data.AsSpan(from, to - from).IndexOfAnyExcept((byte)0) >= 0)
                    {
                        blocks.Add(b);
                    }
                }
            }
            return blocks.ToArray();
        }

        private static IEnumerable<(long At, byte[] Data, int Count)> Chunks(string raw)
        {
            using var fs = File.OpenRead(raw);
            var buffer = new byte[4 * MiB];
            long at = 0;
            int n;
            while ((n = fs.Read(buffer, 0, buffer.Length)) > 0)
            {
                yield return (at, buffer, n);
                at += n;
            }
        }

        internal static long[] AllocatedBlocks(DiskImage image, long blockSize) => BlocksTouched(image.GetAllocatedRanges(), blockSize);

        /// <summary>The blocks any of <paramref name="ranges"/> reaches into (ranges need not be block-aligned: file holes are left out).</summary>
        internal static long[] BlocksTouched(IEnumerable<ByteRange> ranges, long blockSize) => ranges
            .SelectMany(r => Enumerable.Range(0, (int)(((r.End - 1) / blockSize) - (r.Offset / blockSize) + 1)).Select(i => (r.Offset / blockSize) + i))
            .Distinct().ToArray();

        internal static void Dump(DiskImage image, string path)
        {
            using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
            var buffer = new byte[4 * MiB];
            for (long at = 0; at < image.VirtualSize; at += buffer.Length)
            {
                int n = (int)Math.Min(buffer.Length, image.VirtualSize - at);
                image.Read(at, buffer, 0, n);
                fs.Write(buffer, 0, n);
            }
        }

        internal static string Sha256(string path)
        {
            using var s = File.OpenRead(path);
            return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(s));
        }
    }
}
