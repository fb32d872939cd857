using System;
using System.Diagnostics;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.IO;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Vhdx
{
    /// <summary>A 16 TiB VHDX with 1 MiB blocks has a 128 MiB BAT: it must be streamed through the page cache, never loaded.</summary>
    public class VhdxLargeDiskTests
    {
        private const long MiB = 1024 * 1024;

        [Fact]
        public void Sixteen_tib_disk_is_read_with_bounded_memory()
        {
            using var dir = new TempDirectory();
            string vhdx = dir.File("huge.vhdx");
            long size = 16L * 1024 * 1024 * MiB;
            ExternalTool.QemuImg("create", "-f", "vhdx", "-o", "block_size=1M", vhdx, size.ToString());
            // Written by qemu-io through its own log, at the very end: behind 4095 sector-bitmap entries.
            ExternalTool.Run(ExternalTool.Require("qemu-io", "qemu-utils"), new[] { "-f", "vhdx", "-c", $"write -P 0x5a {size - MiB} 65536", vhdx });

            long before = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            using (DiskImage image = DiskImage.Open(vhdx))
            {
                Assert.Equal(size, image.VirtualSize);
                var buffer = new byte[2 * 65536];
                image.Read(size - MiB, buffer, 0, buffer.Length);
                Assert.Equal(-1, buffer.AsSpan(0, 65536).IndexOfAnyExcept((byte)0x5a));
                Assert.Equal(-1, buffer.AsSpan(65536).IndexOfAnyExcept((byte)0));
                image.Read(size / 2, buffer, 0, buffer.Length);
                Assert.Equal(-1, buffer.AsSpan().IndexOfAnyExcept((byte)0));
                // The last block is the only one present; qemu-io wrote its first 64 KiB and left the rest
                // of it a hole in the file, which reads as zeros and need not count as data.
                ByteRange[] ranges = image.GetAllocatedRanges().ToArray();
                Assert.Equal(size - MiB, Assert.Single(ranges).Offset);
                Assert.InRange(ranges[0].Length, 65536, MiB);
            }
            watch.Stop();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 8 * MiB, $"opening and scanning a 128 MiB BAT allocated {allocated} bytes");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
        }
    }
}
