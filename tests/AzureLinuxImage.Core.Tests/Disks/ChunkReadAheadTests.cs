using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>
    /// The conversion's read-ahead thread (issue 20): chunks in order and exact, a read failure delivered
    /// after every chunk read before it, a cancel or an early stop never leaving its thread blocked.
    /// </summary>
    public class ChunkReadAheadTests
    {
        private const long MiB = 1 << 20;
        private const int Chunk = 64 << 10;

        /// <summary>A raw disk with random data in three places, one straddling chunk boundaries.</summary>
        private static string MakeRaw(TempDirectory dir)
        {
            string raw = dir.File("src.raw");
            Files.CreateSparse(raw, 8 * MiB);
            Files.WriteAt(raw, 0, Files.Random(4096, 1));
            Files.WriteAt(raw, MiB - 1000, Files.Random(300_000, 2));
            Files.WriteAt(raw, (6 * MiB) + 512, Files.Random(70_000, 3));
            return raw;
        }

        private static List<(long Offset, byte[] Data)> Drain(ChunkReadAhead chunks)
        {
            var seen = new List<(long, byte[])>();
            while (chunks.TryNext(out long offset, out byte[] buffer, out int length))
            {
                seen.Add((offset, buffer.AsSpan(0, length).ToArray()));
            }
            return seen;
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(8)]
        public void Chunks_come_in_order_on_chunk_boundaries_with_the_disks_bytes(int depth)
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir);
            byte[] whole = File.ReadAllBytes(raw);
            var ranges = new[] { new ByteRange(0, 4096), new ByteRange(MiB - 1024, 301_000), new ByteRange((6 * MiB) + 512, 70_000) };
            using DiskImage image = DiskImage.Open(raw);

            List<(long Offset, byte[] Data)> seen;
            using (var chunks = new ChunkReadAhead(image, ranges, Chunk, depth, CancellationToken.None))
            {
                seen = Drain(chunks);
                Assert.False(chunks.TryNext(out _, out _, out _)); // stays ended
            }

            // Every byte of every range exactly once, in ascending order, no chunk crossing a Chunk boundary.
            var expected = new List<long>();
            foreach (ByteRange r in ranges)
            {
                for (long pos = r.Offset; pos < r.End; pos = Math.Min(r.End, ((pos / Chunk) + 1) * Chunk))
                {
                    expected.Add(pos);
                }
            }
            Assert.Equal(expected, seen.Select(c => c.Offset));
            foreach ((long offset, byte[] data) in seen)
            {
                Assert.Equal((offset + data.Length - 1) / Chunk, offset / Chunk);
                Assert.True(whole.AsSpan((int)offset, data.Length).SequenceEqual(data), $"chunk at {offset} differs from the disk");
            }
            Assert.Equal(ranges.Sum(r => r.Length), seen.Sum(c => (long)c.Data.Length));
        }

        private static bool DisposesWithin(IDisposable disposable, TimeSpan bound)
        {
            var thread = new Thread(disposable.Dispose) { IsBackground = true };
            thread.Start();
            return thread.Join(bound);
        }

        private static byte[] ReadAt(string path, long offset, int count)
        {
            using var f = File.OpenRead(path);
            var b = new byte[count];
            f.Position = offset;
            f.ReadExactly(b);
            return b;
        }

        /// <summary>A qcow2 whose L2 entry for cluster <paramref name="badCluster"/> has reserved bits set (qcow2.txt: bits 1-8 must be zero).</summary>
        private static string MakeQcow2WithBadEntry(TempDirectory dir, int badCluster)
        {
            string raw = dir.File("full.raw");
            File.WriteAllBytes(raw, Files.Random((int)(4 * MiB), 7));
            string qcow2 = dir.File("bad.qcow2");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=65536", raw, qcow2);
            byte[] header = ReadAt(qcow2, 0, 48);
            long l1 = (long)BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(40));
            long l2 = (long)(BinaryPrimitives.ReadUInt64BigEndian(ReadAt(qcow2, l1, 8)) & 0x00FFFFFFFFFFFE00UL);
            long at = l2 + (badCluster * 8L);
            ulong entry = BinaryPrimitives.ReadUInt64BigEndian(ReadAt(qcow2, at, 8)) | 0x2;
            var bytes = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(bytes, entry);
            Files.WriteAt(qcow2, at, bytes);
            return qcow2;
        }

        [Fact]
        public void A_read_failure_comes_after_every_chunk_read_before_it_and_a_conversion_leaves_nothing()
        {
            using var dir = new TempDirectory();
            const int badCluster = 3;
            string qcow2 = MakeQcow2WithBadEntry(dir, badCluster);
            byte[] whole = ReadAt(dir.File("full.raw"), 0, (int)(4 * MiB));

            var seen = new List<(long Offset, byte[] Data)>();
            using (DiskImage image = DiskImage.Open(qcow2))
            using (var chunks = new ChunkReadAhead(image, new[] { new ByteRange(0, 4 * MiB) }, Chunk, 8, CancellationToken.None))
            {
                var error = Assert.Throws<InvalidImageException>(() =>
                {
                    while (chunks.TryNext(out long offset, out byte[] buffer, out int length))
                    {
                        seen.Add((offset, buffer.AsSpan(0, length).ToArray()));
                        if (seen.Count == 1)
                        {
                            // Hold the first chunk while the reader runs on into the failure, with chunks 1 and 2 still unread.
                            Thread.Sleep(300);
                        }
                    }
                });
                Assert.Contains(qcow2, error.Message);
                Assert.Contains($"cluster {badCluster}", error.Message);
            }
            Assert.Equal(Enumerable.Range(0, badCluster).Select(i => (long)i * Chunk), seen.Select(c => c.Offset));
            Assert.All(seen, c => Assert.True(whole.AsSpan((int)c.Offset, c.Data.Length).SequenceEqual(c.Data)));

            // Through the conversion: the typed error, no output and no partial file left, the source unchanged.
            string before = Files.Sha256(qcow2);
            Assert.Throws<InvalidImageException>(() => ConvertToFixedVhd.Run(qcow2, dir.File("out.vhd"), false, false, new SilentContext()));
            Assert.False(File.Exists(dir.File("out.vhd")));
            Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));
            Assert.Equal(before, Files.Sha256(qcow2));
        }

        [Fact]
        public void A_cancel_mid_way_throws_at_the_next_chunk_and_dispose_returns()
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir);
            using DiskImage image = DiskImage.Open(raw);
            using var cts = new CancellationTokenSource();
            var chunks = new ChunkReadAhead(image, new[] { new ByteRange(0, 8 * MiB) }, Chunk, 2, cts.Token);
            Assert.True(chunks.TryNext(out long first, out _, out _));
            Assert.Equal(0, first);
            cts.Cancel();
            Assert.ThrowsAny<OperationCanceledException>(() => chunks.TryNext(out _, out _, out _));
            // The reader, blocked on a full ring, is released (a generous bound: the failure is a hang).
            Assert.True(DisposesWithin(chunks, TimeSpan.FromSeconds(30)), "Dispose hung");
        }

        [Fact]
        public void Stopping_early_releases_the_reader_blocked_on_a_full_ring()
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir);
            using DiskImage image = DiskImage.Open(raw);
            var chunks = new ChunkReadAhead(image, new[] { new ByteRange(0, 8 * MiB) }, Chunk, 2, CancellationToken.None);
            Assert.True(chunks.TryNext(out _, out _, out _));
            Assert.True(DisposesWithin(chunks, TimeSpan.FromSeconds(30)), "Dispose hung");
        }
    }
}
