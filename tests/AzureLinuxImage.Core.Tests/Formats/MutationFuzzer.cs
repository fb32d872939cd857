using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.IO;
using AzureLinuxImage.Tests.Infrastructure;

namespace AzureLinuxImage.Tests.Formats
{
    /// <summary>
    /// Seeded mutation of container files for <see cref="FuzzHarness"/>. Each case patches a few bytes of one
    /// valid image in place (bit flips, interesting integers, random bytes, block copies, truncation), opens
    /// it through <see cref="DiskImage.Open"/>, reads and enumerates ranges, then restores the bytes.
    /// </summary>
    internal static class MutationFuzzer
    {
        private static readonly ulong[] Interesting =
        {
            0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x200, 0x1FF, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
            0xFFFFFFFE, 0xFFFFFFFF, 0x100000000, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF,
        };

        /// <summary>Generous on a loaded 2-core machine; a real hang or quadratic blow-up is far above it.</summary>
        public static readonly TimeSpan PerCaseLimit = TimeSpan.FromSeconds(5);

        public const long PerCaseAllocationLimit = 64L << 20;

        /// <summary>Runs <paramref name="cases"/> cases over <paramref name="targets"/> (files already in place, mutated one at a time) through <see cref="FuzzHarness"/>.</summary>
        public static FuzzOutcome Run(string name, int seed, int cases, IReadOnlyList<string> targets)
        {
            var originals = targets.ToDictionary(t => t, File.ReadAllBytes);
            var buffer = new byte[65536];
            string target = targets[0];
            List<(long Offset, byte[] Bytes)> patches = new List<(long Offset, byte[] Bytes)>();
            long truncateTo = -1;
            bool applied = false;
            return FuzzHarness.Run(new FuzzRun(name, seed, cases)
            {
                Mutate = (random, _) =>
                {
                    target = targets[random.Next(targets.Count)];
                    patches = Mutate(random, originals[target], out truncateTo);
                    Apply(target, patches, truncateTo);
                    applied = true;
                },
                Exercise = (random, _) => Exercise(target, random, buffer),
                Restore = () =>
                {
                    if (applied)
                    {
                        Restore(target, originals[target], patches, truncateTo);
                        applied = false;
                    }
                },
                Describe = () => $"{System.IO.Path.GetFileName(target)}, patches {Describe(patches, truncateTo)}",
                PerCaseTime = PerCaseLimit,
                PerCaseAllocation = PerCaseAllocationLimit,
            });
        }

        /// <summary>Opens, reads the start in odd-sized pieces, reads a few random places, enumerates ranges.</summary>
        private static void Exercise(string path, Random random, byte[] buffer)
        {
            using DiskImage image = DiskImage.Open(path);
            long size = image.VirtualSize;
            long limit = Math.Min(size, 1 << 20);
            for (long offset = 0; offset < limit;)
            {
                int n = (int)Math.Min(limit - offset, random.Next(1, buffer.Length + 1));
                image.Read(offset, buffer, 0, n);
                offset += n;
            }
            for (int k = 0; k < 4 && size > 0; k++)
            {
                int n = (int)Math.Min(size, 4096);
                long offset = (long)(random.NextDouble() * (size - n));
                image.Read(offset, buffer, 0, n);
            }
            long previousEnd = -1;
            foreach (ByteRange r in image.GetAllocatedRanges().Take(4096))
            {
                if (r.Offset <= previousEnd || r.Length <= 0 || r.End > size)
                {
                    throw new InvalidOperationException($"bad allocated range {r} after {previousEnd} in a disk of {size} bytes");
                }
                previousEnd = r.End;
            }
        }

        private static List<(long, byte[])> Mutate(Random random, byte[] original, out long truncateTo)
        {
            truncateTo = -1;
            var patches = new List<(long, byte[])>();
            int count = random.Next(1, 5);
            for (int m = 0; m < count; m++)
            {
                // Half the mutations land in the first 4 KiB, where headers and descriptors live.
                long span = random.Next(2) == 0 ? Math.Min(4096, original.Length) : original.Length;
                long at = (long)(random.NextDouble() * span);
                switch (random.Next(10))
                {
                    case 0:
                    case 1:
                    case 2:
                        patches.Add((at, new[] { (byte)(original[at] ^ (1 << random.Next(8))) }));
                        break;
                    case 3:
                    case 4:
                    case 5:
                    {
                        int width = random.Next(2) == 0 ? 4 : 8;
                        at &= ~(long)(width - 1);
                        ulong value = Interesting[random.Next(Interesting.Length)];
                        if (random.Next(4) == 0)
                        {
                            value += (ulong)random.Next(-4, 5);
                        }
                        var bytes = new byte[Math.Min(width, original.Length - at)];
                        bool bigEndian = random.Next(2) == 0;
                        for (int b = 0; b < bytes.Length; b++)
                        {
                            int shift = 8 * (bigEndian ? width - 1 - b : b);
                            bytes[b] = (byte)(value >> shift);
                        }
                        patches.Add((at, bytes));
                        break;
                    }
                    case 6:
                    case 7:
                        patches.Add((at, new[] { (byte)random.Next(256) }));
                        break;
                    case 8:
                    {
                        int length = (int)Math.Min(random.Next(1, 64), original.Length - at);
                        long from = (long)(random.NextDouble() * (original.Length - length));
                        patches.Add((at, original.AsSpan((int)from, length).ToArray()));
                        break;
                    }
                    default:
                        if (random.Next(3) == 0)
                        {
                            truncateTo = (long)(random.NextDouble() * original.Length);
                        }
                        break;
                }
            }
            return patches;
        }

        private static void Apply(string path, List<(long Offset, byte[] Bytes)> patches, long truncateTo)
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Write);
            foreach ((long offset, byte[] bytes) in patches)
            {
                fs.Position = offset;
                fs.Write(bytes, 0, bytes.Length);
            }
            if (truncateTo >= 0)
            {
                fs.SetLength(truncateTo);
            }
        }

        private static void Restore(string path, byte[] original, List<(long Offset, byte[] Bytes)> patches, long truncateTo)
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Write);
            if (truncateTo >= 0)
            {
                fs.Position = truncateTo;
                fs.Write(original, (int)truncateTo, original.Length - (int)truncateTo);
            }
            foreach ((long offset, byte[] bytes) in patches)
            {
                fs.Position = offset;
                fs.Write(original, (int)offset, bytes.Length);
            }
        }

        private static string Describe(List<(long Offset, byte[] Bytes)> patches, long truncateTo) =>
            string.Join(", ", patches.Select(p => $"@{p.Offset}={Convert.ToHexString(p.Bytes)}")) + (truncateTo >= 0 ? $", truncated to {truncateTo}" : string.Empty);
    }
}
