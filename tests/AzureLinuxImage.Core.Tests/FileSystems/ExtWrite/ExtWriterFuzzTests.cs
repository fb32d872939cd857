using System;
using System.IO;
using System.Text;
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
            Apply(w, which);
            w.Commit();
        }

        private static void Apply(IFileSystemWriter w, int which)
        {
            switch (which % 5)
            {
                case 0: w.WriteFile("/small.txt", new MemoryStream(Content)); break;
                case 1: w.WriteFile("/dir/a-new-name-in-the-htree", new MemoryStream(Content)); break;
                case 2: w.Delete("/frag"); break;
                case 3: w.CreateDirectory("/dir/sub"); break;
                default: w.WriteFile("/frag", new MemoryStream(Content)); break;
            }
        }

        /// <summary>What debugfs must find after <see cref="Apply"/> made edit <paramref name="which"/>.</summary>
        private static void AssertApplied(string image, int which, string workDir)
        {
            switch (which % 5)
            {
                case 0:
                    Assert.Equal(Content, ExtWriteOracle.Dump(image, "/small.txt", workDir));
                    break;
                case 1:
                    Assert.Equal(Content, ExtWriteOracle.Dump(image, "/dir/a-new-name-in-the-htree", workDir));
                    // The names already in the hashed directory are still found beside the new one.
                    Assert.Equal("37", Encoding.ASCII.GetString(ExtWriteOracle.Dump(image, "/dir/a-rather-long-file-name-for-entry-0037", workDir)));
                    break;
                case 2:
                    Assert.Contains("File not found", ExtWriteOracle.Debugfs(image, "stat /frag"), StringComparison.Ordinal);
                    break;
                case 3:
                    var st = ExtWriteOracle.Stat(image, "/dir/sub");
                    Assert.Equal(("directory", 2), (st.Type, st.Links));
                    break;
                default:
                    Assert.Equal(Content, ExtWriteOracle.Dump(image, "/frag", workDir));
                    break;
            }
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

        /// <summary>
        /// Each edit on each unmutated image, committed to a file: e2fsck -fn must find the result clean and
        /// debugfs must read back what was written (the oracle the mutated cases cannot have).
        /// </summary>
        [Fact]
        public void The_pristine_images_take_every_edit()
        {
            using var tmp = new TempDirectory();
            foreach (bool csum in new[] { false, true })
            {
                for (int which = 0; which < 5; which++)
                {
                    string image = tmp.File($"{(csum ? "csum" : "plain")}-{which}.img");
                    File.WriteAllBytes(image, Get(csum).Bytes);
                    using (var s = new WriteSession(image))
                    {
                        Apply(s.Writer, which);
                        s.Writer.Commit();
                    }
                    ExtWriteOracle.AssertClean(image, $"after edit {which} ({(csum ? "metadata_csum" : "no metadata_csum")})");
                    AssertApplied(image, which, tmp.Path);
                    File.Delete(image);
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
