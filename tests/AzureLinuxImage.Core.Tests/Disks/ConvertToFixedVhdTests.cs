using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>
    /// ConvertTo-FixedVhd against qemu-img: inputs made by qemu-img, outputs checked by qemu-img
    /// (exact MiB size, identical content up to the rounded tail) and by the footer's own bytes.
    /// </summary>
    public class ConvertToFixedVhdTests
    {
        private const long MiB = 1 << 20;

        /// <summary>A raw source with random data at scattered offsets (first sector, a block boundary, the last sector).</summary>
        private static string MakeRaw(TempDirectory dir, long size)
        {
            string raw = dir.File("src.raw");
            Files.CreateSparse(raw, size);
            Files.WriteAt(raw, 0, Files.Random(4096, 1));
            Files.WriteAt(raw, (2 * MiB) - 1024, Files.Random(5000, 2));
            Files.WriteAt(raw, size / 2 / 512 * 512, Files.Random(700_000, 3));
            Files.WriteAt(raw, size - 512, Files.Random(512, 4));
            return raw;
        }

        [Theory]
        [InlineData("subformat=dynamic", 50 * MiB + 12345 * 512)]
        [InlineData("subformat=dynamic,force_size=on", 50 * MiB + 12345 * 512)]
        [InlineData("subformat=dynamic,force_size=on", 64 * MiB)]
        [InlineData("subformat=fixed", 30 * MiB + 7 * 512)]
        [InlineData("subformat=fixed,force_size=on", 30 * MiB + 7 * 512)]
        [InlineData("subformat=fixed,force_size=on", 40 * MiB)]
        public void Qemu_vpc_inputs_become_aligned_fixed_vhds_identical_to_the_source(string options, long size)
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir, size);
            string vhd = dir.File("in.vhd");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vpc", "-o", options, raw, vhd);
            long sourceSize = QemuVirtualSize(vhd, "vpc");
            string before = Files.Sha256(vhd);

            DiskImageInfo info = ConvertToFixedVhd.Run(vhd, dir.File("out.vhd"), false, false, new SilentContext())!;

            long expected = (sourceSize + MiB - 1) / MiB * MiB;
            Assert.Equal(expected, info.VirtualSize);
            Assert.True(info.AzureUploadReady, string.Join("; ", info.NotReadyReasons));
            Assert.Equal(expected, QemuVirtualSize(dir.File("out.vhd"), "vpc"));
            Assert.Equal(expected + 512, new FileInfo(dir.File("out.vhd")).Length);
            ToolResult compare = ExternalTool.QemuImg("compare", "-f", "vpc", "-F", "vpc", vhd, dir.File("out.vhd"));
            Assert.Contains("Images are identical", compare.StdOut);
            Assert.Equal(before, Files.Sha256(vhd));
        }

        [Fact]
        public void Already_aligned_sizes_are_not_grown_and_unaligned_raw_is_rounded_up()
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir, 24 * MiB);
            DiskImageInfo same = ConvertToFixedVhd.Run(raw, dir.File("a.vhd"), false, false, new SilentContext())!;
            Assert.Equal(24 * MiB, same.VirtualSize); // the seed's snippet would give 25 MiB

            string odd = dir.File("odd.raw");
            Files.CreateSparse(odd, (24 * MiB) + 1000);
            Files.WriteAt(odd, (24 * MiB) + 10, Files.Random(990, 9));
            DiskImageInfo rounded = ConvertToFixedVhd.Run(odd, dir.File("b.vhd"), false, false, new SilentContext())!;
            Assert.Equal(25 * MiB, rounded.VirtualSize);
            Assert.Contains("Images are identical", ExternalTool.QemuImg("compare", "-f", "raw", "-F", "vpc", odd, dir.File("b.vhd")).StdOut);
        }

        [Fact]
        public void The_footer_is_an_Azure_fixed_footer_with_a_valid_checksum()
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir, 21 * MiB);
            ConvertToFixedVhd.Run(raw, dir.File("out.vhd"), false, false, new SilentContext());
            byte[] file = File.ReadAllBytes(dir.File("out.vhd"));
            byte[] footer = file[^512..];
            Assert.Equal("conectix", System.Text.Encoding.ASCII.GetString(footer, 0, 8));
            Assert.Equal(new byte[] { 0, 0, 0, 2 }, footer[8..12]);              // features: reserved bit
            Assert.Equal(new byte[] { 0, 1, 0, 0 }, footer[12..16]);             // version 1.0
            Assert.All(footer[16..24], b => Assert.Equal(0xFF, b));              // no data offset
            Assert.Equal(new byte[] { 0, 0, 0, 2 }, footer[60..64]);             // fixed
            long current = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(footer.AsSpan(48));
            long original = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(footer.AsSpan(40));
            Assert.Equal(21 * MiB, current);
            Assert.Equal(current, original);
            uint sum = 0;
            for (int i = 0; i < 512; i++)
            {
                sum += i is >= 64 and < 68 ? 0u : footer[i];
            }
            Assert.Equal(~sum, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(footer.AsSpan(64)));
            Assert.Equal(File.ReadAllBytes(raw), file[..(int)(21 * MiB)]);
        }

        [Fact]
        public void The_output_is_sparse()
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir, 512 * MiB);
            string vhd = dir.File("dyn.vhd");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vpc", raw, vhd);
            ConvertToFixedVhd.Run(vhd, dir.File("out.vhd"), false, false, new SilentContext());
            Assert.True(Files.AllocatedBytes(dir.File("out.vhd")) < 8 * MiB, "zero ranges must not be written");
            Assert.Contains("Images are identical", ExternalTool.QemuImg("compare", "-f", "vpc", "-F", "vpc", vhd, dir.File("out.vhd")).StdOut);
        }

        [Fact]
        public void Raw_allocation_comes_from_the_file_systems_sparse_map()
        {
            using var dir = new TempDirectory();
            string raw = dir.File("sparse.raw");
            Files.CreateSparse(raw, 64 * MiB);
            Files.WriteAt(raw, 8 * MiB, Files.Random(4096, 5));
            Files.WriteAt(raw, 40 * MiB, Files.Random(3 * 4096, 6));
            using DiskImage image = DiskImage.Open(raw);
            var ranges = image.GetAllocatedRanges().ToList();
            Assert.Contains(ranges, r => r.Offset <= 8 * MiB && r.End >= (8 * MiB) + 4096);
            Assert.Contains(ranges, r => r.Offset <= 40 * MiB && r.End >= (40 * MiB) + (3 * 4096));
            Assert.True(ranges.Sum(r => r.Length) < 2 * MiB, "holes must not be reported as data");
        }

        [Fact]
        public void An_existing_destination_needs_force_and_is_replaced_whole()
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir, 21 * MiB);
            File.WriteAllText(dir.File("out.vhd"), "keep me");
            var e = Assert.Throws<AzureLinuxImage.Errors.AzureLinuxImageException>(() => ConvertToFixedVhd.Run(raw, dir.File("out.vhd"), false, false, new SilentContext()));
            Assert.Equal("DestinationExists", e.ErrorId);
            Assert.Equal("keep me", File.ReadAllText(dir.File("out.vhd")));
            ConvertToFixedVhd.Run(raw, dir.File("out.vhd"), true, false, new SilentContext());
            Assert.Equal((21 * MiB) + 512, new FileInfo(dir.File("out.vhd")).Length);
            Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));
        }

        [Fact]
        public void A_cancelled_conversion_leaves_nothing_at_the_destination()
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir, 64 * MiB);
            using var cts = new System.Threading.CancellationTokenSource();
            cts.Cancel();
            Assert.ThrowsAny<OperationCanceledException>(() => ConvertToFixedVhd.Run(raw, dir.File("out.vhd"), false, false, new SilentContext(cts.Token)));
            Assert.False(File.Exists(dir.File("out.vhd")));
            Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));
        }

        /// <summary>
        /// The progress a real conversion reports: offsets only move forward, every report but the last is short
        /// of the total, and the end is reported exactly once (the contexts show every completion they get).
        /// Rounded up (the last chunk ends past the source) and already aligned.
        /// </summary>
        [Theory]
        [InlineData(9 * MiB + 5 * 512)]
        [InlineData(8 * MiB)]
        public void A_conversion_reports_forward_offsets_and_its_end_exactly_once(long size)
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir, size);
            string qcow = dir.File("src.qcow2");
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "qcow2", raw, qcow);
            var context = new ProgressRecorder();

            ConvertToFixedVhd.Run(qcow, dir.File("out.vhd"), false, false, context);

            var reports = context.Reports.Where(r => r.Activity == ConvertToFixedVhd.Activity).ToList();
            Assert.Equal(context.Reports.Count, reports.Count);
            Assert.True(reports.Count >= 3, $"only {reports.Count} progress reports");
            long total = QemuVirtualSize(qcow, "qcow2");
            Assert.All(reports, r => Assert.Equal(total, r.Total));
            Assert.Single(reports, r => r.Done >= r.Total);
            Assert.Equal(total, reports[reports.Count - 1].Done);
            for (int i = 1; i < reports.Count; i++)
            {
                Assert.True(reports[i].Done >= reports[i - 1].Done, $"report {i} went back from {reports[i - 1].Done} to {reports[i].Done}");
            }
            Assert.Contains("Images are identical", ExternalTool.QemuImg("compare", "-f", "qcow2", "-F", "vpc", qcow, dir.File("out.vhd")).StdOut);
        }

        [Fact]
        public void WhatIf_writes_nothing()
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir, 21 * MiB);
            Assert.Null(ConvertToFixedVhd.Run(raw, dir.File("out.vhd"), false, false, new DecliningContext()));
            Assert.False(File.Exists(dir.File("out.vhd")));
        }

        [Fact]
        public void The_cli_converts_and_describes_as_json_with_exit_codes()
        {
            using var dir = new TempDirectory();
            string raw = MakeRaw(dir, (30 * MiB) + 512);
            ToolResult convert = AzLinux.Run("convert", raw, dir.File("cli.vhd"), "--json");
            Assert.True(convert.ExitCode == 0, convert.StdErr);
            using JsonDocument json = JsonDocument.Parse(convert.StdOut);
            Assert.Equal(31 * MiB, json.RootElement.GetProperty("virtualSize").GetInt64());
            Assert.Equal("Vhd", json.RootElement.GetProperty("format").GetString());
            Assert.True(json.RootElement.GetProperty("azureUploadReady").GetBoolean());

            ToolResult again = AzLinux.Run("convert", raw, dir.File("cli.vhd"));
            Assert.NotEqual(0, again.ExitCode);
            Assert.Contains("DestinationExists", again.StdErr);

            ToolResult info = AzLinux.Run("info", raw, "--json");
            Assert.Equal(0, info.ExitCode);
            using JsonDocument rawInfo = JsonDocument.Parse(info.StdOut);
            Assert.False(rawInfo.RootElement.GetProperty("azureUploadReady").GetBoolean());
            Assert.Equal(2, rawInfo.RootElement.GetProperty("notReadyReasons").GetArrayLength());
        }

        internal static long QemuVirtualSize(string path, string format)
        {
            ToolResult r = ExternalTool.QemuImg("info", "-f", format, "--output=json", path);
            using JsonDocument d = JsonDocument.Parse(r.StdOut);
            return d.RootElement.GetProperty("virtual-size").GetInt64();
        }

        /// <summary>Answers yes and keeps every progress report, in order.</summary>
        private sealed class ProgressRecorder : IOperationContext
        {
            public System.Collections.Generic.List<(string Activity, long Done, long Total)> Reports { get; } = new System.Collections.Generic.List<(string Activity, long Done, long Total)>();
            public System.Threading.CancellationToken Cancellation => default;
            public bool ShouldProcess(string target, string action) => true;
            public void Progress(string activity, string status, long done, long total) => Reports.Add((activity, done, total));
            public void Verbose(string message) { }
            public void Warning(string message) { }
        }

        private sealed class DecliningContext : IOperationContext
        {
            public System.Threading.CancellationToken Cancellation => default;
            public bool ShouldProcess(string target, string action) => false;
            public void Progress(string activity, string status, long done, long total) { }
            public void Verbose(string message) { }
            public void Warning(string message) { }
        }
    }
}
