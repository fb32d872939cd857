using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.IO;
using Xunit;

namespace AzureLinuxImage.Tests.Formats
{
    /// <summary>
    /// A sparse raw source holding seeded random data at scattered, deliberately unaligned offsets, and
    /// the checks every format test applies to an image made from it by qemu-img.
    /// </summary>
    internal sealed class RawSource
    {
        private RawSource(string path, long size, List<(long Offset, int Length)> chunks)
        {
            Path = path;
            Size = size;
            Chunks = chunks;
        }

        public string Path { get; }

        public long Size { get; }

        public List<(long Offset, int Length)> Chunks { get; }

        /// <summary>Creates the source: chunks at the start, across cluster and grain edges, in the middle and at the very end.</summary>
        public static RawSource Create(string path, long size, int seed, IEnumerable<(long Offset, int Length)>? extra = null)
        {
            var chunks = new List<(long, int)>
            {
                (0, 4096),
                (65536 - 300, 700),
                ((1 << 20) + 512, 70000),
                (5L << 20 | 12345, 1000),
                (size / 2 - 4096, 3 << 20 > size / 4 ? 8192 : 3 << 20),
                (size - 777, 777),
            };
            if (extra != null)
            {
                chunks.AddRange(extra);
            }
            chunks = chunks.Where(c => c.Item1 >= 0 && c.Item1 + c.Item2 <= size).OrderBy(c => c.Item1).ToList();
            var random = new Random(seed);
            using (var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                fs.SetLength(size);
                foreach ((long offset, int length) in chunks)
                {
                    var data = new byte[length];
                    random.NextBytes(data);
                    data[0] |= 1; // never a zero first byte, so coverage checks are meaningful
                    data[length - 1] |= 1;
                    fs.Position = offset;
                    fs.Write(data, 0, length);
                }
            }
            return new RawSource(path, size, chunks);
        }

        /// <summary>Reads every virtual byte of <paramref name="image"/> and compares it with the source, byte for byte.</summary>
        public void AssertSameContent(DiskImage image, int chunk = 1 << 20)
        {
            Assert.Equal(Size, image.VirtualSize);
            var expected = new byte[chunk];
            var actual = new byte[chunk];
            using var source = new FileStream(Path, FileMode.Open, FileAccess.Read);
            for (long offset = 0; offset < Size; offset += chunk)
            {
                int n = (int)Math.Min(chunk, Size - offset);
                Array.Fill(actual, (byte)0xCC);
                image.Read(offset, actual, 0, n);
                if (!Chunks.Any(c => c.Offset < offset + n && offset < c.Offset + c.Length))
                {
                    // The source was created empty (a hole) and only the chunks were written: zeros here,
                    // compared without reading gigabytes of holes back from the file.
                    int nonZero = actual.AsSpan(0, n).IndexOfAnyExcept((byte)0);
                    Assert.True(nonZero < 0, $"{image.Path}: virtual byte {offset + nonZero} is 0x{(nonZero < 0 ? 0 : actual[nonZero]):X2}, the source has 0x00.");
                    continue;
                }
                source.Position = offset;
                int got = 0;
                while (got < n)
                {
                    got += source.Read(expected, got, n - got);
                }
                if (!expected.AsSpan(0, n).SequenceEqual(actual.AsSpan(0, n)))
                {
                    int i = 0;
                    while (expected[i] == actual[i])
                    {
                        i++;
                    }
                    Assert.Fail($"{image.Path}: virtual byte {offset + i} is 0x{actual[i]:X2}, the source has 0x{expected[i]:X2}.");
                }
            }
        }

        /// <summary>Every data chunk lies inside the allocated ranges, which are ascending, disjoint and inside the disk.</summary>
        public void AssertRangesCoverData(DiskImage image)
        {
            List<ByteRange> ranges = image.GetAllocatedRanges().ToList();
            long previousEnd = -1;
            foreach (ByteRange r in ranges)
            {
                Assert.True(r.Offset > previousEnd && r.Length > 0 && r.End <= image.VirtualSize, $"bad range {r} after {previousEnd}");
                previousEnd = r.End;
            }
            foreach ((long offset, int length) in Chunks)
            {
                for (long p = offset; p < offset + length; p += 512)
                {
                    long q = Math.Min(p, offset + length - 1);
                    Assert.True(ranges.Any(r => r.Offset <= q && q < r.End), $"{image.Path}: byte {q} holds data but no allocated range covers it.");
                }
            }
            long allocated = ranges.Sum(r => r.Length);
            Assert.True(allocated < image.VirtualSize || image.Variant == DiskVariant.Fixed,
                $"a sparse image reports all {image.VirtualSize} bytes allocated");
        }
    }
}
