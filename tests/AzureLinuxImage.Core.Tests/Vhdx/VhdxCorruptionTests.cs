using System;
using System.Buffers.Binary;
using System.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Vhdx
{
    /// <summary>Damaged structures give typed errors naming the structure; one damaged copy of a duplicated structure is survivable.</summary>
    public class VhdxCorruptionTests
    {
        private const int MiB = 1024 * 1024;

        private static string Base(TempDirectory dir) => VhdxLogReplayTests.MakeBase(dir).Vhdx;

        private static InvalidImageException Invalid(string path)
        {
            return Assert.Throws<InvalidImageException>(() =>
            {
                using DiskImage image = DiskImage.Open(path);
                var buffer = new byte[MiB];
                for (long at = 0; at < image.VirtualSize; at += MiB)
                {
                    image.Read(at, buffer, 0, (int)Math.Min(MiB, image.VirtualSize - at));
                }
                foreach (ByteRange _ in image.GetAllocatedRanges())
                {
                }
            });
        }

        [Fact]
        public void Both_headers_damaged()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            VhdxTestFiles.WriteAt(v, (64 * 1024) + 100, new byte[] { 0xFF });
            VhdxTestFiles.WriteAt(v, (128 * 1024) + 100, new byte[] { 0xFF });
            Assert.Equal("VHDX header", Invalid(v).Structure);
        }

        [Fact]
        public void One_damaged_header_falls_back_to_the_other()
        {
            using var dir = new TempDirectory();
            (string raw, string v) = VhdxLogReplayTests.MakeBase(dir);
            VhdxTestFiles.WriteAt(v, (64 * 1024) + 4, new byte[] { 0x12, 0x34 });
            using DiskImage image = DiskImage.Open(v);
            VhdxQemuRoundTripTests.AssertSameContent(raw, image);
        }

        [Fact]
        public void Higher_sequence_number_header_wins()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            // Header 2 gets a higher sequence number and a log offset pointing past the file: if it is
            // (rightly) chosen, the open fails on its log offset; if header 1 were used it would succeed.
            byte[] h2 = VhdxTestFiles.ReadAt(v, 128 * 1024, 4096);
            byte[] h1 = VhdxTestFiles.ReadAt(v, 64 * 1024, 4096);
            BinaryPrimitives.WriteUInt64LittleEndian(h2.AsSpan(8), BinaryPrimitives.ReadUInt64LittleEndian(h1.AsSpan(8)) + 5);
            BinaryPrimitives.WriteUInt64LittleEndian(h2.AsSpan(72), 1024L * MiB);
            VhdxTestFiles.FixCrc(h2);
            VhdxTestFiles.WriteAt(v, 128 * 1024, h2);
            Assert.Equal("VHDX header log offset", Invalid(v).Structure);
        }

        [Fact]
        public void Both_region_tables_damaged()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            VhdxTestFiles.WriteAt(v, (192 * 1024) + 20, new byte[] { 0x55 });
            VhdxTestFiles.WriteAt(v, (256 * 1024) + 20, new byte[] { 0x55 });
            Assert.Equal("VHDX region table", Invalid(v).Structure);
        }

        [Fact]
        public void Damaged_first_region_table_uses_the_copy_with_a_warning()
        {
            using var dir = new TempDirectory();
            (string raw, string v) = VhdxLogReplayTests.MakeBase(dir);
            VhdxTestFiles.WriteAt(v, (192 * 1024) + 20, new byte[] { 0x55 });
            using DiskImage image = DiskImage.Open(v);
            Assert.Contains(image.Warnings, w => w.Contains("copy at 256 KiB", StringComparison.Ordinal));
            VhdxQemuRoundTripTests.AssertSameContent(raw, image);
        }

        [Fact]
        public void Overlapping_regions()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            var layout = VhdxTestFiles.ReadLayout(v);
            // Point the second entry at the first entry's offset.
            VhdxTestFiles.PatchRegionTables(v, t => BinaryPrimitives.WriteInt64LittleEndian(t.AsSpan(16 + 32 + 16), BinaryPrimitives.ReadInt64LittleEndian(t.AsSpan(16 + 16))));
            Assert.StartsWith("VHDX region table entry", Invalid(v).Structure, StringComparison.Ordinal);
        }

        [Fact]
        public void Region_past_the_end_of_the_file()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            VhdxTestFiles.PatchRegionTables(v, t => BinaryPrimitives.WriteInt64LittleEndian(t.AsSpan(16 + 16), 4096L * MiB));
            Assert.StartsWith("VHDX region table entry", Invalid(v).Structure, StringComparison.Ordinal);
        }

        [Fact]
        public void Unknown_required_region_is_unsupported()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            long end = new FileInfo(v).Length;
            using (var fs = new FileStream(v, FileMode.Open))
            {
                fs.SetLength(end + MiB);
            }
            VhdxTestFiles.PatchRegionTables(v, t =>
            {
                int e = 16 + (2 * 32);
                Guid.NewGuid().ToByteArray().CopyTo(t, e);
                BinaryPrimitives.WriteInt64LittleEndian(t.AsSpan(e + 16), end);
                BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(e + 24), MiB);
                BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(e + 28), 1);
                BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(8), 3);
            });
            var e = Assert.Throws<UnsupportedImageException>(() => DiskImage.Open(v).Dispose());
            Assert.Contains("marked required", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Unknown_optional_region_and_item_and_equal_headers_are_accepted()
        {
            using var dir = new TempDirectory();
            (string raw, string v) = VhdxLogReplayTests.MakeBase(dir);
            long end = new FileInfo(v).Length;
            using (var fs = new FileStream(v, FileMode.Open))
            {
                fs.SetLength(end + MiB);
            }
            VhdxTestFiles.PatchRegionTables(v, t =>
            {
                int e = 16 + (2 * 32);
                Guid.NewGuid().ToByteArray().CopyTo(t, e);
                BinaryPrimitives.WriteInt64LittleEndian(t.AsSpan(e + 16), end);
                BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(e + 24), MiB);
                BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(8), 3);
            });
            var layout = VhdxTestFiles.ReadLayout(v);
            byte[] entry = new byte[32];
            Guid.NewGuid().ToByteArray().CopyTo(entry, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(24), 1); // user item, not required
            VhdxTestFiles.WriteAt(v, layout.MetadataOffset + 32 + (layout.Items.Count * 32), entry);
            VhdxTestFiles.WriteAt(v, layout.MetadataOffset + 10, BitConverter.GetBytes((ushort)(layout.Items.Count + 1)));
            VhdxTestFiles.PatchHeaders(v, h => BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(8), 9));
            using DiskImage image = DiskImage.Open(v);
            VhdxQemuRoundTripTests.AssertSameContent(raw, image);
        }

        [Fact]
        public void Metadata_signature_damaged()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            VhdxTestFiles.WriteAt(v, VhdxTestFiles.ReadLayout(v).MetadataOffset, new byte[] { (byte)'X' });
            Assert.Equal("VHDX metadata table", Invalid(v).Structure);
        }

        [Fact]
        public void Block_size_not_a_power_of_two()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            VhdxTestFiles.WriteAt(v, VhdxTestFiles.ReadLayout(v).Items[VhdxTestFiles.FileParameters].Offset, BitConverter.GetBytes(3 * MiB));
            Assert.Equal("VHDX file parameters block size", Invalid(v).Structure);
        }

        [Fact]
        public void Logical_sector_size_other_than_512_or_4096()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            VhdxTestFiles.WriteAt(v, VhdxTestFiles.ReadLayout(v).Items[VhdxTestFiles.LogicalSectorSize].Offset, BitConverter.GetBytes(1024));
            Assert.Equal("VHDX logical sector size", Invalid(v).Structure);
        }

        [Fact]
        public void Metadata_item_outside_its_region()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            var layout = VhdxTestFiles.ReadLayout(v);
            int index = layout.Items[VhdxTestFiles.VirtualDiskSize].EntryIndex;
            VhdxTestFiles.WriteAt(v, layout.MetadataOffset + 32 + (index * 32) + 16, BitConverter.GetBytes((uint)layout.MetadataLength - 4));
            Assert.StartsWith("VHDX metadata entry", Invalid(v).Structure, StringComparison.Ordinal);
        }

        [Fact]
        public void Unknown_required_metadata_item_is_unsupported()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            var layout = VhdxTestFiles.ReadLayout(v);
            int count = layout.Items.Count;
            byte[] entry = new byte[32];
            Guid.NewGuid().ToByteArray().CopyTo(entry, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(24), 4); // IsRequired, system item
            VhdxTestFiles.WriteAt(v, layout.MetadataOffset + 32 + (count * 32), entry);
            VhdxTestFiles.WriteAt(v, layout.MetadataOffset + 10, BitConverter.GetBytes((ushort)(count + 1)));
            var e = Assert.Throws<UnsupportedImageException>(() => DiskImage.Open(v).Dispose());
            Assert.Contains("marked required", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Missing_required_metadata_item()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            var layout = VhdxTestFiles.ReadLayout(v);
            int index = layout.Items[VhdxTestFiles.VirtualDiskSize].EntryIndex;
            // Renamed to an unknown optional item: the virtual disk size is then missing.
            VhdxTestFiles.WriteAt(v, layout.MetadataOffset + 32 + (index * 32), Guid.NewGuid().ToByteArray());
            VhdxTestFiles.WriteAt(v, layout.MetadataOffset + 32 + (index * 32) + 24, new byte[4]);
            Assert.Equal("VHDX metadata", Invalid(v).Structure);
        }

        [Theory]
        [InlineData(6UL | (4096UL << 20), "outside the file")]    // 4 GiB into a 9 MiB file
        [InlineData(6UL | (2UL << 20), "overlaps file metadata")] // onto the BAT/metadata at 2 MiB
        [InlineData(6UL | (1UL << 20), "overlaps file metadata")] // onto the log
        [InlineData(4UL, "reserved state")]
        [InlineData(7UL | (5UL << 20), "partially present")]      // only differencing files may use it
        public void Bad_bat_entry(ulong entry, string problem)
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            VhdxTestFiles.WriteAt(v, VhdxTestFiles.ReadLayout(v).BatOffset + 8, BitConverter.GetBytes(entry));
            InvalidImageException e = Invalid(v);
            Assert.Equal("VHDX BAT entry 1", e.Structure);
            Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Bat_region_too_small_for_the_disk()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            var layout = VhdxTestFiles.ReadLayout(v);
            // 1 MiB of BAT holds 131072 entries; a disk of 200 GiB with 1 MiB blocks needs more.
            VhdxTestFiles.WriteAt(v, layout.Items[VhdxTestFiles.VirtualDiskSize].Offset, BitConverter.GetBytes(200L * 1024 * MiB));
            Assert.Equal("VHDX BAT region", Invalid(v).Structure);
        }

        [Fact]
        public void Truncated_file()
        {
            using var dir = new TempDirectory();
            string v = Base(dir);
            using (var fs = new FileStream(v, FileMode.Open))
            {
                fs.SetLength(fs.Length - MiB);
            }
            Invalid(v);
        }

        [Fact]
        public void File_identifier_only()
        {
            using var dir = new TempDirectory();
            string v = dir.File("tiny.vhdx");
            File.WriteAllBytes(v, System.Text.Encoding.ASCII.GetBytes("vhdxfile"));
            Invalid(v);
        }
    }
}
