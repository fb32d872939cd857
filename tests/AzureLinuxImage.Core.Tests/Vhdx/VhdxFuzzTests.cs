using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.IO.Hashing;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Vhdx
{
    /// <summary>
    /// Seeded mutation fuzzing: 10,000 damaged small VHDX files (a qemu-made dynamic file, the same with a
    /// pending log, a spec-built differencing child). Bytes are changed in the file identifier, headers,
    /// region tables, metadata, BAT, log and parent locator, half the time with the checksums fixed so the
    /// damage reaches the field checks. Every case must open-and-read or fail with an
    /// AzureLinuxImageException, within a time and an allocation bound.
    /// </summary>
    public class VhdxFuzzTests
    {
        private const int MiB = 1024 * 1024;
        private const int Cases = 10_000;
        private static readonly TimeSpan PerCaseLimit = TimeSpan.FromSeconds(3);
        private const long PerCaseAllocationLimit = 96L * MiB;

        private sealed class Target
        {
            public string Path = string.Empty;
            public byte[] Original = Array.Empty<byte>();
            public List<(long Start, int Length, int CrcAt, int CrcLength)> Areas = new();
        }

        [Fact]
        public void Mutated_vhdx_files_fail_only_with_typed_errors()
        {
            using var dir = new TempDirectory();
            Target[] targets = { Plain(dir), WithLog(dir), Differencing(dir) };
            var buffer = new byte[MiB];
            Target t = targets[0];
            var touched = new List<(long Start, int Length)>();
            FuzzOutcome outcome = FuzzHarness.Run(new FuzzRun("VHDX", 20261122, Cases)
            {
                Mutate = (rng, c) =>
                {
                    t = targets[c % targets.Length];
                    int mutations = 1 + rng.Next(4);
                    bool fixCrc = rng.Next(2) == 0;
                    for (int m = 0; m < mutations; m++)
                    {
                        var area = t.Areas[rng.Next(t.Areas.Count)];
                        byte[] bytes = (byte[])t.Original.AsSpan((int)area.Start, area.Length).ToArray();
                        Mutate(bytes, rng, t.Original.LongLength);
                        if (fixCrc && area.CrcAt >= 0)
                        {
                            int crcStart = area.CrcAt - 4; // structures start 4 bytes before their checksum field
                            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(area.CrcAt), 0);
                            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(area.CrcAt), Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, bytes.AsSpan(crcStart, area.CrcLength)));
                        }
                        VhdxTestFiles.WriteAt(t.Path, area.Start, bytes);
                        touched.Add((area.Start, area.Length));
                    }
                },
                Exercise = (_, _) => ReadSample(t.Path, buffer),
                Restore = () =>
                {
                    foreach ((long start, int length) in touched)
                    {
                        VhdxTestFiles.WriteAt(t.Path, start, t.Original.AsSpan((int)start, length).ToArray());
                    }
                    touched.Clear();
                },
                Describe = () => $"{Path.GetFileName(t.Path)}, areas {string.Join(", ", touched.Select(a => $"[{a.Start}, +{a.Length})"))}",
                Classify = Classify,
                PerCaseTime = PerCaseLimit,
                PerCaseAllocation = PerCaseAllocationLimit,
                Watchdog = TimeSpan.FromMinutes(3),
            });
            TestContext.Current.TestOutputHelper?.WriteLine(outcome.ToString());
            // The loop must exercise both outcomes, and more than one kind of refusal.
            Assert.True(outcome.Completed > 100, outcome.ToString());
            Assert.True(outcome.ByError.Count >= 10, outcome.ToString());
        }

        /// <summary>Opens and reads a bounded sample: the start, the end, and the first allocated ranges.</summary>
        private static void ReadSample(string path, byte[] buffer)
        {
            using DiskImage image = DiskImage.Open(path);
            long size = image.VirtualSize;
            for (long at = 0; at < Math.Min(size, 2L * MiB); at += MiB)
            {
                image.Read(at, buffer, 0, (int)Math.Min(MiB, size - at));
            }
            int tail = (int)Math.Min(65536, size);
            image.Read(size - tail, buffer, 0, tail);
            foreach (ByteRange r in image.GetAllocatedRanges().Take(8))
            {
                image.Read(r.Offset + (r.Length / 2), buffer, 0, (int)Math.Min(65536, r.Length / 2));
            }
        }

        private static string Classify(AzureLinuxImageException e) => e is InvalidImageException i
            ? i.Structure.StartsWith("VHDX BAT entry", StringComparison.Ordinal) ? "VHDX BAT entry"
                : i.Structure.StartsWith("VHDX metadata entry", StringComparison.Ordinal) ? "VHDX metadata entry"
                : i.Structure.StartsWith("VHDX region table entry", StringComparison.Ordinal) ? "VHDX region table entry"
                : i.Structure.StartsWith("VHDX log entry", StringComparison.Ordinal) ? "VHDX log entry" : i.Structure
            : e.ErrorId;

        private static void Mutate(byte[] bytes, Random rng, long fileLength)
        {
            int at = rng.Next(bytes.Length);
            switch (rng.Next(5))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)rng.Next(256);
                    break;
                case 2:
                    if (at + 4 <= bytes.Length)
                    {
                        uint[] values = { 0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 4096, MiB, MiB + 1, 256 * MiB, (uint)fileLength, 2047, 2048, 65535 };
                        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at & ~3), values[rng.Next(values.Length)]);
                    }
                    break;
                case 3:
                    if (at + 8 <= bytes.Length)
                    {
                        ulong[] values = { 0, ulong.MaxValue, long.MaxValue, (ulong)fileLength, 6UL | (1UL << 20), 6UL | (3UL << 20), 7UL | (4UL << 20), 6UL | (0xFFFFFFFFFFFUL << 20), 64UL << 40 };
                        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at & ~7), values[rng.Next(values.Length)]);
                    }
                    break;
                default:
                    int run = Math.Min(bytes.Length - at, rng.Next(1, 32));
                    Array.Clear(bytes, at, run);
                    break;
            }
        }

        private static Target Load(string path, bool log, long? locator = null, int locatorLength = 0)
        {
            var layout = VhdxTestFiles.ReadLayout(path);
            var t = new Target { Path = path, Original = File.ReadAllBytes(path) };
            t.Areas.Add((0, 520, -1, 0));
            t.Areas.Add((64 * 1024, 4096, 4, 4096));
            t.Areas.Add((128 * 1024, 4096, 4, 4096));
            t.Areas.Add((64 * 1024, 96, -1, 0));
            t.Areas.Add((192 * 1024, 64 * 1024, 4, 64 * 1024));
            t.Areas.Add((256 * 1024, 64 * 1024, 4, 64 * 1024));
            t.Areas.Add((layout.MetadataOffset, 32 + (32 * 8), -1, 0));
            long firstItem = layout.Items.Values.Min(i => i.Offset);
            long lastItem = layout.Items.Values.Max(i => i.Offset + i.Length);
            t.Areas.Add((firstItem, (int)(lastItem - firstItem), -1, 0));
            t.Areas.Add((layout.BatOffset, 128, -1, 0));
            if (log)
            {
                int entryLength = BinaryPrimitives.ReadInt32LittleEndian(t.Original.AsSpan((int)layout.LogOffset + 8));
                t.Areas.Add((layout.LogOffset, entryLength, 4, entryLength));
                t.Areas.Add((layout.LogOffset, 512, -1, 0));
            }
            return t;
        }

        private static Target Plain(TempDirectory dir)
        {
            string raw = dir.File("plain.raw"), vhdx = dir.File("plain.vhdx");
            MakeRaw(raw, 2L * MiB + 512 * 5);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M,subformat=dynamic", raw, vhdx);
            return Load(vhdx, log: false);
        }

        private static Target WithLog(TempDirectory dir)
        {
            string raw = dir.File("log.raw"), vhdx = dir.File("log.vhdx");
            MakeRaw(raw, 3L * MiB);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M,subformat=dynamic", raw, vhdx);
            var layout = VhdxTestFiles.ReadLayout(vhdx);
            long length = new FileInfo(vhdx).Length;
            byte[] bat = VhdxTestFiles.ReadAt(vhdx, layout.BatOffset, 4096);
            BinaryPrimitives.WriteUInt64LittleEndian(bat.AsSpan(8), 2); // block 1 becomes zero
            var e1 = new VhdxTestFiles.LogEntrySpec { Sequence = 40, TailSector = 0, FlushedFileOffset = length, LastFileOffset = length };
            e1.Data.Add((layout.BatOffset, bat));
            e1.Zeros.Add((layout.BatOffset + 4096, 4096));
            VhdxTestFiles.WriteLog(vhdx, Guid.NewGuid(), 0, e1);
            return Load(vhdx, log: true);
        }

        private static Target Differencing(TempDirectory dir)
        {
            string raw = dir.File("parent.raw"), parent = dir.File("parent.vhdx"), child = dir.File("child.vhdx");
            MakeRaw(raw, 4L * MiB);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M,subformat=dynamic", raw, parent);
            var builder = new VhdxBuilder
            {
                VirtualSize = 4L * MiB,
                Locator = new Dictionary<string, string> { ["parent_linkage"] = VhdxTestFiles.ReadLayout(parent).DataWriteGuid.ToString("B"), ["relative_path"] = "parent.vhdx" },
            };
            var data = new byte[4096];
            new Random(2).NextBytes(data);
            builder.Write(3, data);
            builder.Write(2048 + 77, data);
            builder.FullBlock(3);
            builder.Save(child);
            return Load(child, log: false);
        }

        private static void MakeRaw(string path, long size)
        {
            var data = new byte[size];
            new Random(9).NextBytes(data.AsSpan(0, (int)Math.Min(size, 1536 * 1024)));
            data[size - 1] = 1;
            File.WriteAllBytes(path, data);
        }
    }
}
