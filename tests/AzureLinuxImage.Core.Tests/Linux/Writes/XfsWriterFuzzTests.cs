using System;
using System.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems.Xfs;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Tests.FileSystems;
using AzureLinuxImage.Tests.FileSystems.Xfs;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Linux.Writes
{
    /// <summary>
    /// Hostile images opened for writing (issue 17): the XFS fuzz images with mutated inodes (CRC re-sealed
    /// half the time, so the writer's own parsing is reached), then one in-place edit and its commit. Only
    /// typed errors may come out, and no committed byte may land outside the volume.
    /// </summary>
    public class XfsWriterFuzzTests : IClassFixture<XfsFuzzImages>
    {
        private const int Cases = 2_000;
        private readonly XfsFuzzImages images;

        public XfsWriterFuzzTests(XfsFuzzImages images)
        {
            this.images = images;
        }

        [Fact]
        public void Mutated_inodes_opened_for_writing_give_typed_errors_and_no_write_outside_the_volume()
        {
            ExternalTool.Require("mkfs.xfs", "xfsprogs");
            ExternalTool.Require("xfs_db", "xfsprogs");
            var t = images.V5!;
            var sink = new FuzzHarness.BoundedSink(t.Device.Length);
            void Edit(BlockDevice device)
            {
                var w = XfsFileSystemWriter.Open(new StagedBlockDevice(device, sink));
                w.WriteFile("/hello", new MemoryStream(System.Text.Encoding.ASCII.GetBytes("HELLO\n")));
                w.SetAttributes("/data", mode: 0x180);
                w.Commit();
            }
            Edit(t.Device); // a clean image takes the edit, or the loop proves nothing
            Assert.True(sink.Writes > 0);
            var (rejected, accepted) = FuzzBlockDevice.Run(t.Device, 17, Cases, (rng, d) =>
            {
                int inode = rng.Next(8);
                long at = t.InodeChunk + ((long)inode * t.InodeSize);
                d.Mutate(rng, at, t.InodeSize);
                if (rng.Next(2) == 0)
                {
                    byte[] b = d.Copy(at, t.InodeSize);
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(100), XfsChecksum.Compute(b, 0, t.InodeSize, 100));
                    d.Write(at + 100, b.AsSpan(100, 4).ToArray());
                }
            }, d => Edit(d));
            Assert.True(rejected > 0, "no mutation was detected: the loop is not reaching the parser");
            TestContext.Current.TestOutputHelper?.WriteLine($"{rejected} rejected with typed errors, {accepted} edited");
        }
    }
}
