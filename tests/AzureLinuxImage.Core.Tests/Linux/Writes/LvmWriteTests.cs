using System;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Partitions;
using Xunit;
using static AzureLinuxImage.Tests.Linux.Writes.WritableTestImages;

namespace AzureLinuxImage.Tests.Linux.Writes
{
    /// <summary>
    /// Writes to a root on an LVM linear volume laid out in two segments, out of order on the PV: every
    /// LV byte must land at its PV extent (issue 17), nothing outside the LV's extents may change, and a
    /// striped volume is refused with a clear error.
    /// </summary>
    public class LvmWriteTests
    {
        private const string Pv0 = "Pv0aaaBBBBccccDDDDeeeeFFFFgggggg";

        [Fact]
        public void A_root_on_a_two_segment_linear_lv_is_written_through_its_extents()
        {
            using var tmp = new TempDirectory();
            string disk = tmp.File("lvm.raw");
            PartitionTableTests.Truncate(disk, 72L << 20);
            ExternalTool.Run(ExternalTool.Require("sgdisk", "gdisk"), new[] { "-Z", "-o", "-a", "2048", "-n", "1:2048:+64M", "-t", "1:8E00", "-c", "1:pv0", disk });
            long pvOffset = PartitionTableTests.SfdiskJson(disk)[0].Start * 512;
            string root = RootTree(tmp, "root", "/dev/mapper/vg0-root / ext4 errors=remount-ro 0 1\n/dev/vg0/data /srv ext4 defaults 0 2\n");
            MkfsExt4(tmp.File("root.img"), root, 24, "root", "70070000-1111-2222-3333-555555555555");
            string dataSrc = tmp.File("data");
            Directory.CreateDirectory(dataSrc);
            File.WriteAllText(Path.Combine(dataSrc, "file"), "striped\n");
            MkfsExt4(tmp.File("data.img"), dataSrc, 8, "data", "da7a0000-1111-2222-3333-555555555555");
            // root: LV extents 0-11 at PV extents 30-41, 12-23 at PV extents 0-11; data striped is not writable.
            var segments = new (long Start, long Count, long PvStart)[] { (0, 12, 30), (12, 12, 0) };
            string lvs = LvmTestWriter.Linear("root", (0, 12, "pv0", 30), (12, 12, "pv0", 0)) + LvmTestWriter.Striped("data", 8, 128, ("pv0", 42), ("pv0", 50));
            using (var f = new FileStream(disk, FileMode.Open))
            {
                LvmTestWriter.WritePv(f, pvOffset, 63L << 20, Pv0, LvmTestWriter.VolumeGroup("vg0", 3, new[] { ("pv0", Pv0, 62L) }, lvs));
                LvmTestWriter.PlaceLinear(f, File.ReadAllBytes(tmp.File("root.img")), pvOffset, segments);
                LvmTestWriter.PlaceStriped(f, File.ReadAllBytes(tmp.File("data.img")), 128 * 512, (pvOffset, 42), (pvOffset, 50));
            }
            byte[] before = File.ReadAllBytes(disk);
            var payload = new byte[6_000_000];
            new Random(17).NextBytes(payload);

            using (var image = WritableLinuxImage.Open(disk, null, overwrite: false, TestContext.Current.CancellationToken))
            {
                var striped = Assert.Throws<AzureLinuxImageException>(() => image.FileSystem.WriteFile("/srv/file", new MemoryStream(new byte[] { 1 })));
                Assert.Equal("FileSystemNotWritable", striped.ErrorId);
                Assert.Contains("striped", striped.Message);
                image.FileSystem.WriteFile("/opt/payload.bin", new MemoryStream(payload)); // 6 MB of a 24 MiB volume: spans both segments' blocks
                image.FileSystem.WriteFile("/etc/hostname", new MemoryStream(System.Text.Encoding.ASCII.GetBytes("lvmhost\n")));
                Assert.Contains(image.VolumeChanges, v => v.Volume.Contains("vg0/root", StringComparison.Ordinal));
                image.Commit();
            }

            // Reassemble the LV from its extents as device-mapper would, and check it with the real tools.
            byte[] after = File.ReadAllBytes(disk);
            var lv = new byte[24L << 20];
            foreach (var s in segments)
            {
                Buffer.BlockCopy(after, (int)(pvOffset + LvmTestWriter.PeStart + (s.PvStart << 20)), lv, (int)(s.Start << 20), (int)(s.Count << 20));
            }
            string lvFile = tmp.File("lv.img");
            File.WriteAllBytes(lvFile, lv);
            AssertExtClean(lvFile, 0);
            Assert.Equal("lvmhost\n", DebugfsCat(lvFile, 0, "/etc/hostname"));
            string dumped = tmp.File("payload.out");
            ExternalTool.Run("debugfs", new[] { "-R", $"dump /opt/payload.bin {dumped}", lvFile });
            Assert.Equal(payload, File.ReadAllBytes(dumped));

            // Nothing outside the root LV's extents changed (the PV label, metadata, the striped LV, the GPT).
            var inLv = new bool[after.Length];
            foreach (var s in segments)
            {
                Array.Fill(inLv, true, (int)(pvOffset + LvmTestWriter.PeStart + (s.PvStart << 20)), (int)(s.Count << 20));
            }
            int outside = Enumerable.Range(0, after.Length).Count(i => !inLv[i] && after[i] != before[i]);
            Assert.Equal(0, outside);
        }
    }
}
