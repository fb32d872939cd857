using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Tests.Infrastructure;

namespace AzureLinuxImage.Tests.FileSystems
{
    /// <summary>
    /// An image file held in memory as its non-zero 4 KiB chunks, with byte mutations that are undone
    /// after each fuzz case. Used by the seeded mutation loops of the file system readers.
    /// </summary>
    internal sealed class FuzzBlockDevice : BlockDevice
    {
        private const int Chunk = 4096;
        private readonly Dictionary<long, byte[]> chunks = new Dictionary<long, byte[]>();
        private readonly Dictionary<long, byte[]?> saved = new Dictionary<long, byte[]?>();

        public FuzzBlockDevice(string imagePath)
        {
            using var f = File.OpenRead(imagePath);
            Length = f.Length;
            var buffer = new byte[Chunk];
            for (long index = 0; index * Chunk < Length; index++)
            {
                int n = (int)Math.Min(Chunk, Length - (index * Chunk));
                f.ReadExactly(buffer, 0, n);
                if (Array.FindIndex(buffer, 0, n, b => b != 0) >= 0)
                {
                    chunks[index] = (byte[])buffer.Clone();
                }
            }
        }

        public override long Length { get; }

        public override string Description => "fuzz image";

        public override void Read(long offset, byte[] buffer, int index, int count)
        {
            if (offset < 0 || count < 0 || offset > Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(offset));
            }
            while (count > 0)
            {
                long c = offset / Chunk;
                int within = (int)(offset % Chunk);
                int n = Math.Min(count, Chunk - within);
                if (chunks.TryGetValue(c, out byte[]? data))
                {
                    Buffer.BlockCopy(data, within, buffer, index, n);
                }
                else
                {
                    Array.Clear(buffer, index, n);
                }
                offset += n;
                index += n;
                count -= n;
            }
        }

        public byte Get(long offset) => chunks.TryGetValue(offset / Chunk, out byte[]? d) ? d[offset % Chunk] : (byte)0;

        public void Set(long offset, byte value)
        {
            long c = offset / Chunk;
            if (!saved.ContainsKey(c))
            {
                saved[c] = chunks.TryGetValue(c, out byte[]? original) ? (byte[])original.Clone() : null;
            }
            if (!chunks.TryGetValue(c, out byte[]? data))
            {
                data = new byte[Chunk];
                chunks[c] = data;
            }
            data[offset % Chunk] = value;
        }

        /// <summary>A copy of [offset, offset+count) as it is now.</summary>
        public byte[] Copy(long offset, int count)
        {
            var b = new byte[count];
            Read(offset, b, 0, count);
            return b;
        }

        public void Write(long offset, byte[] data)
        {
            for (int i = 0; i < data.Length; i++)
            {
                Set(offset + i, data[i]);
            }
        }

        public void Restore()
        {
            foreach (KeyValuePair<long, byte[]?> s in saved)
            {
                if (s.Value == null)
                {
                    chunks.Remove(s.Key);
                }
                else
                {
                    chunks[s.Key] = s.Value;
                }
            }
            saved.Clear();
        }

        /// <summary>
        /// Applies 1-4 seeded mutations inside [start, start+length): random bytes, bit flips, and
        /// boundary values (0, 1, all ones, sign bits) written as 2-, 4- or 8-byte big- or little-endian fields.
        /// </summary>
        public void Mutate(Random rng, long start, int length)
        {
            int count = rng.Next(1, 5);
            for (int m = 0; m < count; m++)
            {
                long at = start + rng.Next(length);
                switch (rng.Next(4))
                {
                    case 0:
                        Set(at, (byte)rng.Next(256));
                        break;
                    case 1:
                        Set(at, (byte)(Get(at) ^ (1 << rng.Next(8))));
                        break;
                    default:
                        {
                            int width = new[] { 2, 4, 8 }[rng.Next(3)];
                            at = start + (rng.Next(length) / width * width);
                            ulong[] interesting = { 0, 1, ulong.MaxValue, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFF, 0x7FFFFFFF, 0xFFFF, 0x100, (ulong)rng.Next() };
                            ulong v = interesting[rng.Next(interesting.Length)];
                            bool big = rng.Next(2) == 0;
                            for (int i = 0; i < width && at + i < start + length; i++)
                            {
                                int shift = big ? (width - 1 - i) * 8 : i * 8;
                                Set(at + i, (byte)(v >> shift));
                            }
                            break;
                        }
                }
            }
        }

        /// <summary>Which 4 KiB chunks the current case changed (for a failure message).</summary>
        public string Damage() => string.Join(", ", saved.Keys.OrderBy(k => k).Select(k => $"chunk {k} (bytes {k * Chunk}-{(k * Chunk) + Chunk - 1})"));

        /// <summary>
        /// Runs <paramref name="cases"/> seeded cases through <see cref="FuzzHarness"/>: mutate, exercise, restore.
        /// </summary>
        public static (int Rejected, int Accepted) Run(FuzzBlockDevice device, int seed, int cases, Action<Random, FuzzBlockDevice> mutate, Action<FuzzBlockDevice> exercise)
        {
            FuzzOutcome o = FuzzHarness.Run(new FuzzRun($"{device.Description} (seed {seed})", seed, cases)
            {
                Mutate = (r, _) => mutate(r, device),
                Exercise = (_, _) => exercise(device),
                Restore = device.Restore,
                Describe = device.Damage,
            });
            return (o.TypedErrors, o.Completed);
        }
    }
}
