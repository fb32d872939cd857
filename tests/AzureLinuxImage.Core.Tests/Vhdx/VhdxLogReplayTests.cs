using System;
using System.Buffers.Binary;
using System.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Vhdx
{
    /// <summary>
    /// A VHDX left with a pending log (as a crashed Hyper-V host leaves it), built from the spec on top of
    /// a qemu-made file: the reader must replay it in memory and never touch the file. qemu-img, which
    /// replays logs when it opens a file for repair, is the oracle for what the replayed disk holds.
    /// </summary>
    public class VhdxLogReplayTests
    {
        private const int MiB = 1024 * 1024;
        private const long Size = 16L * MiB;

        [Theory]
        [InlineData(0)]
        [InlineData(254)] // the sequence wraps around the end of the circular log
        [InlineData(255)] // the first entry itself wraps around
        public void Pending_log_is_replayed_in_memory_and_the_file_is_unchanged(int startSector)
        {
            using var dir = new TempDirectory();
            (string raw, string vhdx) = MakeBase(dir);
            var layout = VhdxTestFiles.ReadLayout(vhdx);
            byte[] batPage = VhdxTestFiles.ReadAt(vhdx, layout.BatOffset, 4096);
            ulong block2 = BinaryPrimitives.ReadUInt64LittleEndian(batPage.AsSpan(2 * 8));
            ulong block3 = BinaryPrimitives.ReadUInt64LittleEndian(batPage.AsSpan(3 * 8));
            Assert.Equal(6UL, block2 & 7);
            Assert.Equal(6UL, block3 & 7);
            long fileLength = new FileInfo(vhdx).Length;

            // Entry 1 rewrites the first BAT sector: block 1 becomes PAYLOAD_BLOCK_ZERO, block 5 points at
            // block 2's data. Entry 2 zeroes the first 8 KiB of block 3's data in the file. Entry 3 is torn
            // (bad checksum), as when the host died while writing it: it must be ignored.
            byte[] newBat = (byte[])batPage.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(newBat.AsSpan(1 * 8), 2);
            BinaryPrimitives.WriteUInt64LittleEndian(newBat.AsSpan(5 * 8), block2);
            var e1 = new VhdxTestFiles.LogEntrySpec { Sequence = 0x1_0000_0010, TailSector = startSector, FlushedFileOffset = fileLength, LastFileOffset = fileLength };
            e1.Data.Add((layout.BatOffset, newBat));
            var e2 = new VhdxTestFiles.LogEntrySpec { Sequence = 0x1_0000_0011, TailSector = startSector, FlushedFileOffset = fileLength, LastFileOffset = fileLength };
            e2.Zeros.Add(((long)(block3 >> 20) * MiB, 8192));
            var torn = new VhdxTestFiles.LogEntrySpec { Sequence = 0x1_0000_0012, TailSector = startSector, FlushedFileOffset = fileLength, LastFileOffset = fileLength, CorruptChecksum = true };
            torn.Data.Add((layout.BatOffset, batPage));
            VhdxTestFiles.WriteLog(vhdx, Guid.NewGuid(), startSector, e1, e2, torn);

            // The expected disk, from the raw source and the spec's meaning of the log.
            byte[] expected = File.ReadAllBytes(raw);
            Array.Clear(expected, 1 * MiB, MiB);
            Array.Copy(expected, 2 * MiB, expected, 5 * MiB, MiB);
            Array.Clear(expected, 3 * MiB, 8192);
            string expectedPath = dir.File("expected.raw");
            File.WriteAllBytes(expectedPath, expected);

            // Oracle: qemu replays the log of a copy when repairing it. Only for a sequence that does not
            // wrap: qemu's search (block/vhdx-log.c) ranks a sequence by its first entry's number and stops
            // at the end of the buffer, so it replays only part of a wrapped sequence.
            if (startSector == 0)
            {
                string copy = dir.File("copy.vhdx");
                File.Copy(vhdx, copy);
                ExternalTool.QemuImg("check", "-r", "all", copy);
                ToolResult cmp = ExternalTool.Run(ExternalTool.Require("qemu-img", "qemu-utils"), new[] { "compare", "-f", "raw", "-F", "vhdx", expectedPath, copy }, check: false);
                Assert.True(cmp.ExitCode == 0, "qemu's replay differs from the expected content: " + cmp.StdOut + cmp.StdErr);
            }

            string before = VhdxQemuRoundTripTests.Sha256(vhdx);
            using (DiskImage image = DiskImage.Open(vhdx))
            {
                Assert.Contains(image.Warnings, w => w.Contains("in memory only", StringComparison.Ordinal) && w.Contains("2 entries", StringComparison.Ordinal));
                VhdxQemuRoundTripTests.AssertSameContent(expectedPath, image);
                Assert.Equal(new long[] { 0, 2, 3, 5 }, VhdxQemuRoundTripTests.AllocatedBlocks(image, MiB));
            }
            Assert.Equal(before, VhdxQemuRoundTripTests.Sha256(vhdx));
        }

        [Fact]
        public void Torn_log_with_no_complete_sequence_is_an_error_that_says_so()
        {
            using var dir = new TempDirectory();
            (_, string vhdx) = MakeBase(dir);
            var layout = VhdxTestFiles.ReadLayout(vhdx);
            long fileLength = new FileInfo(vhdx).Length;
            var torn = new VhdxTestFiles.LogEntrySpec { Sequence = 7, TailSector = 0, FlushedFileOffset = fileLength, LastFileOffset = fileLength, CorruptChecksum = true };
            torn.Zeros.Add((layout.BatOffset, 4096));
            VhdxTestFiles.WriteLog(vhdx, Guid.NewGuid(), 0, torn);
            string before = VhdxQemuRoundTripTests.Sha256(vhdx);
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(vhdx).Dispose());
            Assert.Equal("VHDX log", e.Structure);
            Assert.Contains("torn", e.Message, StringComparison.Ordinal);
            Assert.Equal(before, VhdxQemuRoundTripTests.Sha256(vhdx));
        }

        [Fact]
        public void Tail_outside_the_sequence_is_an_invalid_log()
        {
            using var dir = new TempDirectory();
            (_, string vhdx) = MakeBase(dir);
            var layout = VhdxTestFiles.ReadLayout(vhdx);
            long fileLength = new FileInfo(vhdx).Length;
            var e1 = new VhdxTestFiles.LogEntrySpec { Sequence = 7, TailSector = 40, FlushedFileOffset = fileLength, LastFileOffset = fileLength };
            e1.Zeros.Add((layout.BatOffset, 4096));
            VhdxTestFiles.WriteLog(vhdx, Guid.NewGuid(), 0, e1);
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(vhdx).Dispose());
            Assert.Equal("VHDX log", e.Structure);
        }

        [Fact]
        public void Log_saying_the_file_was_longer_means_truncation()
        {
            using var dir = new TempDirectory();
            (_, string vhdx) = MakeBase(dir);
            var layout = VhdxTestFiles.ReadLayout(vhdx);
            long fileLength = new FileInfo(vhdx).Length;
            var e1 = new VhdxTestFiles.LogEntrySpec { Sequence = 7, TailSector = 0, FlushedFileOffset = fileLength + (4L * MiB), LastFileOffset = fileLength + (4L * MiB) };
            e1.Zeros.Add((layout.BatOffset, 4096));
            VhdxTestFiles.WriteLog(vhdx, Guid.NewGuid(), 0, e1);
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(vhdx).Dispose());
            Assert.Equal("VHDX log", e.Structure);
            Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Log_writing_into_the_headers_is_refused()
        {
            using var dir = new TempDirectory();
            (_, string vhdx) = MakeBase(dir);
            long fileLength = new FileInfo(vhdx).Length;
            var e1 = new VhdxTestFiles.LogEntrySpec { Sequence = 7, TailSector = 0, FlushedFileOffset = fileLength, LastFileOffset = fileLength };
            e1.Zeros.Add((64 * 1024, 4096));
            VhdxTestFiles.WriteLog(vhdx, Guid.NewGuid(), 0, e1);
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(vhdx).Dispose());
            Assert.StartsWith("VHDX log entry", e.Structure, StringComparison.Ordinal);
        }

        [Fact]
        public void Log_guid_with_no_entries_is_read_with_a_warning()
        {
            using var dir = new TempDirectory();
            (string raw, string vhdx) = MakeBase(dir);
            VhdxTestFiles.PatchHeaders(vhdx, h => Guid.NewGuid().ToByteArray().CopyTo(h, 48));
            using DiskImage image = DiskImage.Open(vhdx);
            Assert.Contains(image.Warnings, w => w.Contains("nothing to replay", StringComparison.Ordinal));
            VhdxQemuRoundTripTests.AssertSameContent(raw, image);
        }

        /// <summary>A 16 MiB dynamic VHDX (1 MiB blocks) whose blocks 0-3 hold random data.</summary>
        internal static (string Raw, string Vhdx) MakeBase(TempDirectory dir)
        {
            string raw = dir.File("base.raw"), vhdx = dir.File("base.vhdx");
            var data = new byte[4 * MiB];
            new Random(1234).NextBytes(data);
            using (var fs = new FileStream(raw, FileMode.Create))
            {
                fs.SetLength(Size);
                fs.Write(data, 0, data.Length);
            }
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M,subformat=dynamic", raw, vhdx);
            return (raw, vhdx);
        }
    }
}
