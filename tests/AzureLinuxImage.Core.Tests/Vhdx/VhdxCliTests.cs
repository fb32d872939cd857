using System;
using System.IO;
using System.Text.Json;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Vhdx
{
    /// <summary>azlinux info / convert on VHDX files, end to end through the real CLI, checked with qemu-img.</summary>
    public class VhdxCliTests
    {
        private const long MiB = 1024 * 1024;

        [Fact]
        public void Info_and_convert_take_a_vhdx_to_an_azure_ready_fixed_vhd()
        {
            using var dir = new TempDirectory();
            long size = (40 * MiB) + 3072; // not MiB-aligned: the output is rounded up (R-DISK-2)
            string raw = dir.File("disk.raw"), vhdx = dir.File("disk.vhdx"), vhd = dir.File("out.vhd");
            VhdxTestFiles.MakeRawWithScatteredData(raw, size, 77, new[] { 2 * MiB, 17 * MiB + 5, 39 * MiB }, 100000);
            ExternalTool.Run(ExternalTool.Require("sgdisk", "gdisk"), new[] { "-n", "1:2048:+20M", "-t", "1:8300", raw });
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M,subformat=dynamic", raw, vhdx);
            string before = VhdxQemuRoundTripTests.Sha256(vhdx);

            ToolResult info = AzLinux.Run("info", vhdx, "--json");
            Assert.True(info.ExitCode == 0, info.StdErr);
            using (JsonDocument json = JsonDocument.Parse(info.StdOut))
            {
                JsonElement root = json.RootElement;
                Assert.Equal("Vhdx", root.GetProperty("format").GetString());
                Assert.Equal("Dynamic", root.GetProperty("variant").GetString());
                Assert.Equal(size, root.GetProperty("virtualSize").GetInt64());
                Assert.Equal("Gpt", root.GetProperty("partitionStyle").GetString());
                Assert.False(root.GetProperty("azureUploadReady").GetBoolean());
                Assert.True(root.GetProperty("allocatedBytes").GetInt64() < size);
            }

            ToolResult convert = AzLinux.Run("convert", vhdx, vhd, "--json");
            Assert.True(convert.ExitCode == 0, convert.StdErr);
            using (JsonDocument json = JsonDocument.Parse(convert.StdOut))
            {
                Assert.Equal("Vhd", json.RootElement.GetProperty("format").GetString());
                Assert.Equal("Fixed", json.RootElement.GetProperty("variant").GetString());
                Assert.Equal(41 * MiB, json.RootElement.GetProperty("virtualSize").GetInt64());
                Assert.True(json.RootElement.GetProperty("azureUploadReady").GetBoolean());
            }
            // The data is the source's; only the GPT changed: its backup moved to the new last sector,
            // which sgdisk -v confirms on qemu-img's reading of the output.
            string flat = dir.File("out.raw");
            ExternalTool.QemuImg("convert", "-f", "vpc", "-O", "raw", vhd, flat);
            byte[] source = File.ReadAllBytes(raw), output = File.ReadAllBytes(flat);
            Assert.True(source.AsSpan((int)MiB, (int)(38 * MiB)).SequenceEqual(output.AsSpan((int)MiB, (int)(38 * MiB))));
            Assert.Contains("No problems found", ExternalTool.Run(ExternalTool.Require("sgdisk", "gdisk"), new[] { "-v", flat }, check: false).StdOut);
            Assert.Equal((41 * MiB) + 512, new FileInfo(vhd).Length);
            Assert.Equal(before, VhdxQemuRoundTripTests.Sha256(vhdx));
        }

        [Fact]
        public void Four_kib_sector_vhdx_is_converted_with_a_warning()
        {
            using var dir = new TempDirectory();
            string raw = dir.File("s.raw"), vhdx = dir.File("s.vhdx"), vhd = dir.File("s.vhd");
            VhdxTestFiles.MakeRawWithScatteredData(raw, 16 * MiB, 5, new[] { 0L, 9 * MiB }, 8192);
            ExternalTool.QemuImg("convert", "-f", "raw", "-O", "vhdx", "-o", "block_size=1M", raw, vhdx);
            var layout = VhdxTestFiles.ReadLayout(vhdx);
            VhdxTestFiles.WriteAt(vhdx, layout.Items[VhdxTestFiles.LogicalSectorSize].Offset, BitConverter.GetBytes(4096));

            ToolResult info = AzLinux.Run("info", vhdx);
            Assert.True(info.ExitCode == 0, info.StdErr);
            Assert.Contains("4 KiB LBAs", info.StdOut, StringComparison.Ordinal);

            ToolResult convert = AzLinux.Run("convert", vhdx, vhd);
            Assert.True(convert.ExitCode == 0, convert.StdErr);
            Assert.Contains("4 KiB LBAs", convert.StdErr, StringComparison.Ordinal);
            ToolResult cmp = ExternalTool.Run(ExternalTool.Require("qemu-img", "qemu-utils"), new[] { "compare", "-f", "raw", "-F", "vpc", raw, vhd }, check: false);
            Assert.True(cmp.ExitCode == 0, cmp.StdOut + cmp.StdErr);
        }

        [Fact]
        public void Convert_of_a_torn_vhdx_fails_with_the_structure_named()
        {
            using var dir = new TempDirectory();
            (_, string vhdx) = VhdxLogReplayTests.MakeBase(dir);
            long length = new FileInfo(vhdx).Length;
            var torn = new VhdxTestFiles.LogEntrySpec { Sequence = 3, TailSector = 0, FlushedFileOffset = length, LastFileOffset = length, CorruptChecksum = true };
            torn.Zeros.Add((VhdxTestFiles.ReadLayout(vhdx).BatOffset, 4096));
            VhdxTestFiles.WriteLog(vhdx, Guid.NewGuid(), 0, torn);
            ToolResult convert = AzLinux.Run("convert", vhdx, dir.File("x.vhd"));
            Assert.NotEqual(0, convert.ExitCode);
            Assert.Contains("InvalidDiskImage", convert.StdErr, StringComparison.Ordinal);
            Assert.Contains("VHDX log", convert.StdErr, StringComparison.Ordinal);
            Assert.False(File.Exists(dir.File("x.vhd")));
            Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        }
    }
}
