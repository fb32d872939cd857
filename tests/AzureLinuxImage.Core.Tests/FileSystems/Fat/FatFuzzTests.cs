using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Fat;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.Fat
{
    /// <summary>FAT12, FAT16 and FAT32 volumes from mkfs.vfat + mcopy, built once for the fuzz loops.</summary>
    public sealed class FatFuzzImages : IDisposable
    {
        private readonly TempDirectory dir = new TempDirectory();

        public FatFuzzImages()
        {
            if (ExternalTool.Find("mkfs.vfat") == null || ExternalTool.Find("mcopy") == null)
            {
                return;
            }
            Images = new[] { (12, 4L << 20), (16, 32L << 20), (32, 48L << 20) }
                .Select(x =>
                {
                    using var sub = new TempDirectory();
                    string built = FatFileSystemTests.Build(sub, x.Item1, x.Item2, out _);
                    string kept = dir.File(Path.GetFileName(built));
                    File.Copy(built, kept);
                    return new FuzzBlockDevice(kept);
                })
                .ToArray();
        }

        internal FuzzBlockDevice[]? Images { get; }

        public void Dispose() => dir.Dispose();
    }

    /// <summary>
    /// Seeded mutation fuzzing of the boot sector (BPB), the FAT and directory entries: every case must
    /// end normally or with an AzureLinuxImageException, in bounded time and allocation.
    /// </summary>
    public class FatFuzzTests : IClassFixture<FatFuzzImages>
    {
        private const int CasesPerArea = 10_000;
        private readonly FatFuzzImages images;
        private readonly ITestOutputHelper output;

        public FatFuzzTests(FatFuzzImages images, ITestOutputHelper output)
        {
            this.images = images;
            this.output = output;
        }

        private static void Exercise(FuzzBlockDevice device)
        {
            using FatFileSystem fs = FatFileSystem.Open(device);
            var pending = new System.Collections.Generic.Stack<(string Path, int Depth)>();
            pending.Push(("/", 0));
            while (pending.Count > 0)
            {
                var (path, depth) = pending.Pop();
                foreach (FileEntry e in fs.List(path).Take(12))
                {
                    if (e.Type == FileEntryType.Directory && depth < 4)
                    {
                        pending.Push((e.Path, depth + 1));
                    }
                    else if (e.Type == FileEntryType.File)
                    {
                        using Stream s = fs.OpenRead(e.Path);
                        var buffer = new byte[16384];
                        s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                    }
                }
            }
            fs.GetEntry("/EFI/BOOT/BOOTX64.EFI");
        }

        private void Loop(string area, Func<FuzzBlockDevice, (long Start, int Length)> region)
        {
            ExternalTool.Require("mkfs.vfat", "dosfstools");
            ExternalTool.Require("mcopy", "mtools");
            FuzzBlockDevice[] devices = images.Images!;
            for (int v = 0; v < devices.Length; v++)
            {
                FuzzBlockDevice device = devices[v];
                Exercise(device);
                var (start, length) = region(device);
                int cases = (CasesPerArea / devices.Length) + 1;
                var (rejected, accepted) = FuzzBlockDevice.Run(device, 100 + v, cases, (rng, d) => d.Mutate(rng, start, length), Exercise);
                output.WriteLine($"{area} FAT{new[] { 12, 16, 32 }[v]}: {rejected} rejected with typed errors, {accepted} read without error");
                Assert.True(rejected > 0, "no mutation was detected: the loop is not reaching the parser");
            }
        }

        private static (int BytesPerSector, long FatStart, long RootDir, long DataStart) Layout(FuzzBlockDevice d)
        {
            byte[] b = d.Copy(0, 512);
            int bps = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(11));
            int reserved = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(14));
            int fats = b[16];
            int rootEntries = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(17));
            long fatSize = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(22));
            if (fatSize == 0)
            {
                fatSize = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(36));
            }
            long fatStart = (long)reserved * bps;
            long root = fatStart + (fats * fatSize * bps);
            return (bps, fatStart, root, root + (rootEntries * 32L));
        }

        [Fact]
        public void Boot_sector_mutations_give_typed_errors() => Loop("BPB", d => (0, 90));

        [Fact]
        public void Fat_mutations_give_typed_errors() => Loop("FAT", d =>
        {
            var l = Layout(d);
            return (l.FatStart, l.BytesPerSector);
        });

        [Fact]
        public void Directory_entry_mutations_give_typed_errors() => Loop("directory", d =>
        {
            // FAT12/16: the fixed root directory; FAT32: the root directory's first cluster (cluster 2 here).
            var l = Layout(d);
            return (l.RootDir == l.DataStart ? l.DataStart : l.RootDir, 1024);
        });
    }
}
