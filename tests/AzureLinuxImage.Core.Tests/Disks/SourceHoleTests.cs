using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Vhdx;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>
    /// Holes of the source file under allocated blocks (VHDX, dynamic VHD, VDI) read as zeros, so they are
    /// left out of the allocated ranges and never read or copied. Files made by qemu-img, holes as qemu-img
    /// leaves them or punched with fallocate(1); qemu-img reads the same files as the oracle.
    /// </summary>
    public class SourceHoleTests
    {
        private const long MiB = 1024 * 1024;

        /// <summary>
        /// The benchmark's shape, smaller: 32 MiB blocks, data runs that start and end inside blocks. qemu-img
        /// writes only the data it has, so the rest of each block is a hole in the VHDX file.
        /// </summary>
        [Fact]
        public void Qemu_sparse_vhdx_converts_identically_without_reading_its_holes()
        {
            using var dir = new TempDirectory();
            long size = (200 * MiB) + (123 * 512);
            string raw = dir.File("src.raw"), vhdx = dir.File("src.vhdx"), vhd = dir.File("out.vhd");
            Files.CreateSparse(raw, size);
            foreach (long at in new[] { 5 * MiB, 60 * MiB + 4096, 150 * MiB })
            {
                Files.WriteAt(raw, at, Files.Random((int)(8 * MiB), (int)(at / MiB)));
            }
            Files.WriteAt(raw, size - 1000, Files.Random(1000, 9));
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=32M", raw, vhdx);

            using (DiskImage image = DiskImage.Open(vhdx))
            {
                VhdxQemuRoundTripTests.AssertSameContent(raw, image);
                VhdxQemuRoundTripTests.AssertAllocatedCoversData(raw, image);
                long reported = image.GetAllocatedRanges().Sum(r => r.Length);
                long presentBlocks = VhdxQemuRoundTripTests.BlocksWithData(raw, 32 * MiB).Length * 32 * MiB;
                Assert.True(reported <= Files.AllocatedBytes(vhdx), $"{reported} bytes reported as data, more than the file holds");
                Assert.True(reported < presentBlocks / 2, $"{reported} of {presentBlocks} bytes of present blocks reported as data");
            }

            ConvertToFixedVhd.Run(vhdx, vhd, false, false, new SilentContext());
            ToolResult cmp = ExternalTool.Run(ExternalTool.Require("qemu-img", "qemu-utils"), new[] { "compare", "-f", "vhdx", "-F", "vpc", vhdx, vhd }, check: false);
            Assert.True(cmp.ExitCode == 0, cmp.StdOut + cmp.StdErr);
        }

        /// <summary>
        /// A hole punched over data inside a block: the disk reads zeros there (as qemu does), the allocated
        /// ranges shrink by exactly the hole, and the conversion equals qemu-img's reading of the same file.
        /// </summary>
        [Theory]
        [InlineData("vhdx", "subformat=dynamic,block_size=8M")]
        [InlineData("vpc", "subformat=dynamic,force_size=on")]
        [InlineData("vdi", "static=off")]
        public void A_hole_punched_in_a_blocks_data_reads_as_zeros_and_is_not_data(string format, string options)
        {
            using var dir = new TempDirectory();
            long size = 48 * MiB;
            string raw = dir.File("src.raw"), image = dir.File("src." + format), vhd = dir.File("out.vhd");
            Files.CreateSparse(raw, size);
            byte[] data = Files.Random((int)(12 * MiB), 17);
            Files.WriteAt(raw, 20 * MiB, data);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", format, "-o", options, raw, image);
            long before;
            using (DiskImage disk = DiskImage.Open(image))
            {
                before = disk.GetAllocatedRanges().Sum(r => r.Length);
            }

            // Where the source's bytes at virtual 24 MiB sit in the file (random data is unique), found
            // without any format parser, then 1 MiB from the next 4 KiB boundary punched out.
            long virtualAt = 24 * MiB;
            long fileAt = Find(image, data.AsSpan((int)(virtualAt - (20 * MiB)), 65536).ToArray());
            long holeAt = (fileAt + 4095) / 4096 * 4096;
            long hole = MiB;
            ExternalTool.Run(ExternalTool.Require("fallocate", "util-linux"), new[] { "-p", "-o", holeAt.ToString(), "-l", hole.ToString(), image });
            Assert.True(Files.AllocatedBytes(image) < new FileInfo(image).Length);
            byte[] expected = File.ReadAllBytes(raw);
            Array.Clear(expected, (int)(virtualAt + (holeAt - fileAt)), (int)hole);
            string expectedRaw = dir.File("expected.raw");
            File.WriteAllBytes(expectedRaw, expected);

            using (DiskImage disk = DiskImage.Open(image))
            {
                VhdxQemuRoundTripTests.AssertSameContent(expectedRaw, disk);
                VhdxQemuRoundTripTests.AssertAllocatedCoversData(expectedRaw, disk);
                Assert.Equal(before - hole, disk.GetAllocatedRanges().Sum(r => r.Length));
            }
            ConvertToFixedVhd.Run(image, vhd, false, false, new SilentContext());
            Assert.Contains("Images are identical", ExternalTool.QemuImg("compare", "-f", format, "-F", "vpc", image, vhd).StdOut);
            Assert.Contains("Images are identical", ExternalTool.QemuImg("compare", "-f", "raw", "-F", "vpc", expectedRaw, vhd).StdOut);
        }

        /// <summary>A pending log may write into what is a hole in the file: after replay that is data, not zeros.</summary>
        [Fact]
        public void A_replayed_log_writing_into_a_hole_is_data()
        {
            using var dir = new TempDirectory();
            (string raw, string vhdx) = VhdxLogReplayTests.MakeBase(dir);
            var layout = VhdxTestFiles.ReadLayout(vhdx);
            ulong block2 = BinaryPrimitives.ReadUInt64LittleEndian(VhdxTestFiles.ReadAt(vhdx, layout.BatOffset + (2 * 8), 8));
            Assert.Equal(6UL, block2 & 7); // fully present
            long dataAt = (long)(block2 >> 20) * MiB;
            ExternalTool.Run(ExternalTool.Require("fallocate", "util-linux"), new[] { "-p", "-o", dataAt.ToString(), "-l", MiB.ToString(), vhdx });
            long fileLength = new FileInfo(vhdx).Length;
            byte[] sector = Files.Random(4096, 33);
            var entry = new VhdxTestFiles.LogEntrySpec { Sequence = 0x2_0000_0001, TailSector = 0, FlushedFileOffset = fileLength, LastFileOffset = fileLength };
            entry.Data.Add((dataAt + 8192, sector));
            VhdxTestFiles.WriteLog(vhdx, Guid.NewGuid(), 0, entry);

            byte[] expected = File.ReadAllBytes(raw);
            Array.Clear(expected, (int)(2 * MiB), (int)MiB);
            sector.CopyTo(expected, (2 * MiB) + 8192);
            string expectedRaw = dir.File("expected.raw");
            File.WriteAllBytes(expectedRaw, expected);
            using (DiskImage image = DiskImage.Open(vhdx))
            {
                VhdxQemuRoundTripTests.AssertSameContent(expectedRaw, image);
                VhdxQemuRoundTripTests.AssertAllocatedCoversData(expectedRaw, image);
            }
            string vhd = dir.File("out.vhd");
            ConvertToFixedVhd.Run(vhdx, vhd, false, false, new SilentContext());
            Assert.Contains("Images are identical", ExternalTool.QemuImg("compare", "-f", "raw", "-F", "vpc", expectedRaw, vhd).StdOut);
        }

        /// <summary>A block whose data runs past the end of a cut file is an error, not zeros that look like a hole.</summary>
        [Theory]
        [InlineData("vhdx", "subformat=dynamic,block_size=8M")]
        [InlineData("vpc", "subformat=dynamic,force_size=on")]
        [InlineData("vdi", "static=off")]
        public void Data_cut_off_by_truncation_is_an_error_not_a_hole(string format, string options)
        {
            using var dir = new TempDirectory();
            string raw = dir.File("src.raw"), image = dir.File("src." + format);
            Files.CreateSparse(raw, 48 * MiB);
            byte[] data = Files.Random((int)(16 * MiB), 5);
            Files.WriteAt(raw, 24 * MiB, data);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", format, "-o", options, raw, image);
            long fileAt = Find(image, data.AsSpan((int)(14 * MiB), 65536).ToArray());
            using (var f = new FileStream(image, FileMode.Open, FileAccess.Write))
            {
                f.SetLength(fileAt);
            }
            Assert.ThrowsAny<AzureLinuxImageException>(() => ConvertToFixedVhd.Run(image, dir.File("out.vhd"), false, false, new SilentContext()));
            Assert.False(File.Exists(dir.File("out.vhd")));
        }

        /// <summary>The file offset of <paramref name="needle"/> (64 KiB of random data, so unique in the file).</summary>
        private static long Find(string path, byte[] needle)
        {
            byte[] file = File.ReadAllBytes(path);
            int at = file.AsSpan().IndexOf(needle);
            Assert.True(at >= 0, "the data was not found in the image file");
            return at;
        }
    }
}
