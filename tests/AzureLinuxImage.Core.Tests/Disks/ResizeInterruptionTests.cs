using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>
    /// Resize stopped after each individual write (issue 16), injected, no timing luck. Every state must
    /// be a fixed VHD qemu-img reads, of the old or the new size, with the partitions intact; a state
    /// sgdisk -v objects to must be reported by info as an unfinished resize, and running resize again
    /// must finish it (sgdisk -v: no problems, the new size).
    /// </summary>
    public class ResizeInterruptionTests
    {
        private const long MiB = 1 << 20;
        private const long OldSize = (20 * MiB) + (37 * 512);

        private sealed class Stop : Exception
        {
        }

        private static string MakeGptVhd(TempDirectory dir, string name)
        {
            string sgdisk = ExternalTool.Require("sgdisk", "gdisk");
            string raw = dir.File(name + ".raw");
            Files.CreateSparse(raw, OldSize);
            ExternalTool.Run(sgdisk, new[] { "-o", "-n", "1:2048:+4M", "-t", "1:EF02", "-n", "2:0:+10M", "-t", "2:8300", raw });
            Files.WriteAt(raw, 2048 * 512, Files.Random(4096, 1));
            Files.WriteAt(raw, (8 * MiB) + 4096, Files.Random(65536, 2));
            string vhd = dir.File(name + ".vhd");
            ConvertToFixedVhd.Run(raw, vhd, false, skipAlignment: true, new SilentContext());
            File.Delete(raw);
            return vhd;
        }

        private static (long Size, string Verify, byte[] Partitions) Inspect(TempDirectory dir, string vhd)
        {
            string flat = dir.File("flat.raw");
            File.Delete(flat);
            ExternalTool.QemuImg("info", "-f", "vpc", vhd);
            ExternalTool.QemuImg("convert", "-f", "vpc", "-O", "raw", vhd, flat);
            ToolResult sgdisk = ExternalTool.Run(ExternalTool.Require("sgdisk", "gdisk"), new[] { "-v", flat }, check: false);
            string verify = sgdisk.StdOut + sgdisk.StdErr;
            byte[] partitions = new byte[14 * MiB];
            using (var f = File.OpenRead(flat))
            {
                f.Position = 2048 * 512;
                f.ReadExactly(partitions);
            }
            return (new FileInfo(flat).Length, verify, partitions);
        }

        [Theory]
        [InlineData(64)]
        [InlineData(16)]
        public void Stopping_after_any_write_leaves_a_readable_vhd_and_a_second_resize_finishes(int newSizeMiB)
        {
            using var dir = new TempDirectory();
            string original = MakeGptVhd(dir, "original");
            byte[] partitions = Inspect(dir, original).Partitions;
            long newSize = newSizeMiB * MiB;

            var steps = new List<string>();
            string probe = dir.File("probe.vhd");
            File.Copy(original, probe);
            ResizeVhdAligned.Run(probe, newSize, new SilentContext(), steps.Add);
            Assert.True(steps.Count >= 5, string.Join(", ", steps));

            for (int stopAt = 1; stopAt <= steps.Count; stopAt++)
            {
                string vhd = dir.File("case.vhd");
                File.Copy(original, vhd, overwrite: true);
                int writes = 0;
                Assert.Throws<Stop>(() => ResizeVhdAligned.Run(vhd, newSize, new SilentContext(), _ =>
                {
                    if (++writes == stopAt)
                    {
                        throw new Stop();
                    }
                }));
                string where = $"stopped after write {stopAt} ({steps[stopAt - 1]})";

                var (size, verify, now) = Inspect(dir, vhd);
                Assert.True(size == OldSize || size == newSize, $"{where}: size {size}");
                Assert.True(partitions.AsSpan().SequenceEqual(now), $"{where}: partition data changed");
                if (!verify.Contains("No problems found"))
                {
                    DiskImageInfo info = GetDiskImageInfo.Run(vhd, new SilentContext());
                    Assert.True(info.NotReadyReasons.Any(r => r.Contains("resize that did not finish")), $"{where}: sgdisk -v objects and info does not say why: {verify}");
                }

                var context = new SilentContext();
                ResizeVhdAligned.Run(vhd, newSize, context);
                var (finalSize, finalVerify, finalPartitions) = Inspect(dir, vhd);
                Assert.Equal(newSize, finalSize);
                Assert.True(finalVerify.Contains("No problems found"), $"{where}, then resized again: {finalVerify}");
                Assert.True(partitions.AsSpan().SequenceEqual(finalPartitions), $"{where}: partition data changed by the second resize");
                Assert.DoesNotContain(GetDiskImageInfo.Run(vhd, new SilentContext()).NotReadyReasons, r => r.Contains("resize that did not finish"));
            }
        }
    }
}
