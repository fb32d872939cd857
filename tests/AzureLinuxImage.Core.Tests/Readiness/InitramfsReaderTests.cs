using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>The interim gzip initramfs reader against cpio(1) on real and crafted archives, and under mutation.</summary>
    public sealed class InitramfsReaderTests
    {
        private static List<string> List(byte[] data) => GzipInitramfsReader.List(new MemoryStream(data), "initrd").ToList();

        /// <summary>Names as `cpio -t` prints them (without "./" and without ".").</summary>
        private static List<string> CpioList(byte[] uncompressedArchive)
        {
            using var t = new TempDirectory();
            File.WriteAllBytes(t.File("a.cpio"), uncompressedArchive);
            string cpio = ExternalTool.Require("cpio", "cpio");
            ToolResult r = ExternalTool.Run("sh", new[] { "-c", $"'{cpio}' -t --quiet < '{t.File("a.cpio")}'" });
            return r.StdOut.Split('\n').Where(l => l.Length > 0).Select(l => l.StartsWith("./") ? l.Substring(2) : l).ToList();
        }

        [Fact]
        public void RealDebianInitrdRecompressedWithGzipListsWhatCpioLists()
        {
            LinuxRoot.RequireDebianCache();
            string zstd = ExternalTool.Require("zstd", "zstd");
            string initrd = Directory.GetFiles(Path.Combine(LinuxRoot.CachePath, "boot"), "initrd.img-*").First();
            using var t = new TempDirectory();
            ExternalTool.Run("sh", new[] { "-c", $"'{zstd}' -dc '{initrd}' > '{t.File("raw.cpio")}' && gzip -1 -c '{t.File("raw.cpio")}' > '{t.File("initrd.gz")}'" });
            List<string> expected = CpioList(File.ReadAllBytes(t.File("raw.cpio")));
            List<string> actual = List(File.ReadAllBytes(t.File("initrd.gz")));
            Assert.True(expected.Count > 200, $"only {expected.Count} entries");
            Assert.Equal(expected.Where(n => n != ".").ToList(), actual.Where(n => n != ".").ToList());
            Assert.Contains(actual, n => n.EndsWith("/hv_storvsc.ko", StringComparison.Ordinal));
        }

        [Fact]
        public void RealDebianRootWithAGzipInitrdPassesTheInitrdRule()
        {
            LinuxRoot.RequireDebianCache();
            string zstd = ExternalTool.Require("zstd", "zstd");
            using LinuxRoot root = LinuxRoot.Synthetic();
            string initrd = Directory.GetFiles(Path.Combine(LinuxRoot.CachePath, "boot"), "initrd.img-*").First();
            string kver = Path.GetFileName(initrd).Substring("initrd.img-".Length);
            ExternalTool.Run("sh", new[] { "-c", $"mkdir -p '{root.Full("boot")}' && '{zstd}' -dc '{initrd}' | gzip -1 > '{root.Full("boot/" + Path.GetFileName(initrd))}'" });
            root.Write($"boot/vmlinuz-{kver}", "kernel");
            root.Write($"lib/modules/{kver}/kernel/drivers/hv/hv_vmbus.ko", "m");
            ReadinessFinding f = DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "InitrdHyperVDrivers");
            Assert.Equal(ReadinessStatus.Pass, f.Status);
            Assert.Contains("gzip", f.Message);
        }

        [Fact]
        public void UnsupportedCompressionIsATypedError()
        {
            byte[] zstdMagic = { 0x28, 0xB5, 0x2F, 0xFD, 0, 0, 0, 0 };
            var ex = Assert.Throws<UnsupportedImageException>(() => List(zstdMagic));
            Assert.Contains("zstd", ex.Message);
        }

        /// <summary>Seeded mutations of a small gzip initramfs: every case lists or fails with a typed error, quickly.</summary>
        [Fact]
        public void MutatedInitramfsNeverCrashesOrHangs()
        {
            byte[] gz = PlantedDefectTests.Initramfs(new[] { "init", "usr/lib/modules/6.1.0-1-amd64/kernel/drivers/hv/hv_vmbus.ko", "etc/modprobe.d/x.conf" });
            byte[] raw = PlantedDefectTests.Initramfs(new[] { "kernel/x86/microcode/AuthenticAMD.bin" }, gzip: false);
            var seeds = new[] { gz, raw, raw.Concat(gz).ToArray() };
            var random = new Random(20261122);
            int typed = 0;
            for (int i = 0; i < 3000; i++)
            {
                byte[] input = (byte[])seeds[i % seeds.Length].Clone();
                int mutations = 1 + random.Next(4);
                for (int m = 0; m < mutations; m++)
                {
                    switch (random.Next(3))
                    {
                        case 0:
                            input[random.Next(input.Length)] = (byte)random.Next(256);
                            break;
                        case 1:
                            input = input.Take(random.Next(input.Length)).ToArray();
                            if (input.Length == 0)
                            {
                                input = new byte[] { 0x30 };
                            }
                            break;
                        default:
                            int at = random.Next(input.Length);
                            input[at] = (byte)"0123456789abcdefxyz\0"[random.Next(20)];
                            break;
                    }
                }
                long before = GC.GetAllocatedBytesForCurrentThread();
                var sw = Stopwatch.StartNew();
                try
                {
                    List(input);
                }
                catch (AzureLinuxImageException)
                {
                    typed++;
                }
                Assert.True(sw.ElapsedMilliseconds < 2000, $"case {i} took {sw.ElapsedMilliseconds} ms");
                Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20, $"case {i} allocated too much");
            }
            Assert.True(typed > 300, $"only {typed} of 3000 mutations were rejected: the mutations are too weak to test anything");
        }
    }
}
