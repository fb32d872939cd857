using System;
using System.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.ExtWrite
{
    /// <summary>
    /// The ext fuzz images (mutated superblock, descriptors, inodes, directory and extent blocks) opened for
    /// writing, one edit made and committed: every case ends normally or with a typed error, and no write
    /// lands outside the device.
    /// </summary>
    public class ExtWriterFuzzTests : IClassFixture<ExtFuzzFixture>
    {
        private const int Cases = 1500;
        private readonly ExtFuzzFixture fixture;

        public ExtWriterFuzzTests(ExtFuzzFixture fixture)
        {
            this.fixture = fixture;
        }

        private static readonly byte[] Content = ExtWriteOracle.Random(3, 9000);

        /// <summary>Opens for writing and makes one of a few edits (by case), then commits.</summary>
        private static void Edit(MutatedImage image, int which)
        {
            BlockDevice inner = image.AsDevice();
            var device = new StagedBlockDevice(inner, new FuzzHarness.BoundedSink(inner.Length));
            using IFileSystemWriter w = ExtFileSystem.OpenForWriting(device);
            switch (which % 5)
            {
                case 0: w.WriteFile("/small.txt", new MemoryStream(Content)); break;
                case 1: w.WriteFile("/dir/a-new-name-in-the-htree", new MemoryStream(Content)); break;
                case 2: w.Delete("/frag"); break;
                case 3: w.CreateDirectory("/dir/sub"); break;
                default: w.WriteFile("/frag", new MemoryStream(Content)); break;
            }
            w.Commit();
        }

        private ExtFuzzFixture.Image Get(bool csum)
        {
            ExtFuzzFixture.Image? i = csum ? fixture.Checksummed : fixture.Plain;
            if (i == null)
            {
                ExternalTool.Require("mkfs.ext4", "e2fsprogs");
                ExternalTool.Require("debugfs", "e2fsprogs");
                throw new InvalidOperationException("fixture not built");
            }
            return i;
        }

        [Fact]
        public void The_pristine_images_take_every_edit()
        {
            foreach (bool csum in new[] { false, true })
            {
                for (int which = 0; which < 5; which++)
                {
                    Edit(new MutatedImage(Get(csum).Bytes, "pristine"), which);
                }
            }
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void Mutated_structures_give_typed_errors_when_written(bool csum)
        {
            ExtFuzzFixture.Image p = Get(csum);
            var image = new MutatedImage(p.Bytes, csum ? "write-fuzz-csum" : "write-fuzz");
            long[] dirBlocks = new long[p.RootDirBlocks.Length + p.BigDirBlocks.Length];
            p.RootDirBlocks.CopyTo(dirBlocks, 0);
            p.BigDirBlocks.CopyTo(dirBlocks, p.RootDirBlocks.Length);
            int n = 0;
            Fuzz.Run("ext write", image, Cases, csum ? 902 : 901, (r, m) =>
            {
                switch (r.Next(5))
                {
                    case 0: m.Mutate(r, 1024, 0x180); break;
                    case 1: m.Mutate(r, 4096, 64); break;
                    case 2: m.Mutate(r, p.InodeTable, 32 * p.InodeSize); break;
                    case 3: m.Mutate(r, dirBlocks[r.Next(dirBlocks.Length)] * 4096, 4096); break;
                    default: m.Mutate(r, p.ExtentLeaf * 4096, 12 + (12 * 40)); break;
                }
            }, m => Edit(m, n++));
        }
    }
}
