using System;
using System.IO;
using System.Linq;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Compression
{
    /// <summary>The real Debian 12 initrd (zstd, built by mkinitramfs in ../shared/scripts/build-debian-image.sh's cached root).</summary>
    public class DebianInitrdTests
    {
        internal static string RequireInitrd()
        {
            string root = ExternalTool.RequireDebianRootfs();
            string? initrd = Directory.GetFiles(Path.Combine(root, "boot"), "initrd.img-*").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault();
            if (initrd == null)
            {
                ExternalTool.Unavailable($"{root}/boot holds no initrd.img-*: the root cache is incomplete.");
            }
            return initrd!;
        }

        [Fact]
        public void Lists_the_real_initrd_as_the_reference_tools_do()
        {
            string initrd = RequireInitrd();
            string expected = ExternalTool.Find("lsinitramfs") != null
                ? ExternalTool.Run("lsinitramfs", new[] { initrd }).StdOut
                : ExternalTool.Run("/bin/bash", new[] { "-c", $"zstd -dc {CompressionOracle.Q(initrd)} | cpio --quiet -it" }).StdOut;
            using var fs = File.OpenRead(initrd);
            var entries = Initramfs.ReadEntries(fs, InitramfsLimits.Default, initrd).ToList();
            Assert.Equal(expected.Split('\n', StringSplitOptions.RemoveEmptyEntries), entries.Select(e => e.Name).ToArray());
            foreach (string module in new[] { "hv_vmbus.ko", "hv_storvsc.ko", "hv_netvsc.ko" })
            {
                Assert.Contains(entries, e => e.Type == CpioEntryType.File && e.Name.EndsWith("/" + module, StringComparison.Ordinal) && e.Size > 0);
            }
            Assert.Contains(entries, e => e.Compression == CompressionFormat.Zstd);
        }
    }
}
