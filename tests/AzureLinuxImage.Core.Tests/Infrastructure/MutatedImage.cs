using System;
using System.Collections.Generic;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using Xunit;

namespace AzureLinuxImage.Tests.Infrastructure
{
    /// <summary>
    /// A pristine image in memory with a few bytes patched per fuzz case: cases cost the patches, not a
    /// copy of the image. Exposed both as a <see cref="DiskImage"/> and as a <see cref="BlockDevice"/>.
    /// </summary>
    internal sealed class MutatedImage : DiskImage
    {
        private readonly byte[] pristine;
        private readonly SortedDictionary<long, byte> patches = new SortedDictionary<long, byte>();

        public MutatedImage(byte[] pristine, string name)
        {
            this.pristine = pristine;
            Path = name;
        }

        public override string Path { get; }

        public override DiskFormat Format => DiskFormat.Raw;

        public override DiskVariant Variant => DiskVariant.Fixed;

        public override long VirtualSize => pristine.Length;

        public IReadOnlyDictionary<long, byte> Patches => patches;

        public void Reset() => patches.Clear();

        public void Set(long offset, byte value) => patches[offset] = value;

        public void SetUInt32(long offset, uint value)
        {
            for (int i = 0; i < 4; i++)
            {
                Set(offset + i, (byte)(value >> (8 * i)));
            }
        }

        /// <summary>The current (patched) bytes of a small region, for recomputing checksums after a mutation.</summary>
        public byte[] Region(long offset, int count)
        {
            var b = new byte[count];
            ReadCore(offset, b, 0, count);
            return b;
        }

        /// <summary>1-4 random bytes of [start, start+length) set to random values, bit flips, or boundary values.</summary>
        public void Mutate(Random rnd, long start, int length)
        {
            int n = 1 + rnd.Next(4);
            for (int i = 0; i < n; i++)
            {
                long at = start + rnd.Next(length);
                byte old = pristine[at];
                byte value;
                switch (rnd.Next(4))
                {
                    case 0: value = (byte)rnd.Next(256); break;
                    case 1: value = (byte)(old ^ (1 << rnd.Next(8))); break;
                    case 2: value = 0xFF; break;
                    default: value = 0; break;
                }
                // Every mutation changes the byte, so a checksum must catch it.
                Set(at, value == old ? (byte)(old ^ 0x80) : value);
            }
        }

        public BlockDevice AsDevice() => new DiskSlice(this, 0, pristine.Length, Path);

        protected override void ReadCore(long offset, byte[] buffer, int index, int count)
        {
            Buffer.BlockCopy(pristine, (int)offset, buffer, index, count);
            if (patches.Count == 0)
            {
                return;
            }
            foreach (var p in patches)
            {
                if (p.Key >= offset && p.Key < offset + count)
                {
                    buffer[index + (p.Key - offset)] = p.Value;
                }
            }
        }

        protected override IEnumerable<ByteRange> GetAllocatedRangesCore()
        {
            yield return new ByteRange(0, pristine.Length);
        }
    }

    /// <summary>Seeded mutation loops over a <see cref="MutatedImage"/>, run by <see cref="FuzzHarness"/>.</summary>
    internal static class Fuzz
    {
        /// <returns>How many cases ended in a typed error (the rest read without one).</returns>
        public static int Run(string structure, MutatedImage image, int cases, int seed, Action<Random, MutatedImage> mutate, Action<MutatedImage> exercise) =>
            FuzzHarness.Run(new FuzzRun(structure, seed, cases)
            {
                Mutate = (r, _) => mutate(r, image),
                Exercise = (_, _) => exercise(image),
                Restore = image.Reset,
                Describe = () => Describe(image),
            }).TypedErrors;

        private static string Describe(MutatedImage image)
        {
            var parts = new List<string>();
            foreach (var p in image.Patches)
            {
                parts.Add($"{p.Key}=0x{p.Value:X2}");
            }
            return string.Join(", ", parts);
        }
    }
}
