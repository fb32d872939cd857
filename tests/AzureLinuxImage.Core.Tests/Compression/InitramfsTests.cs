using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Compression.CompressionOracle;

namespace AzureLinuxImage.Tests.Compression
{
    public class InitramfsTests
    {
        // How mkinitramfs/dracut compress (and the tool that proves it), by name.
        private static readonly Dictionary<string, (string Tool, string Package, string Args)> Compressors = new()
        {
            ["gzip"] = ("gzip", "gzip", "-9 -n -c"),
            ["zstd"] = ("zstd", "zstd", "-q -c -19"),
            ["xz"] = ("xz", "xz-utils", "--check=crc32 -c -6"),
            ["lzma"] = ("xz", "xz-utils", "--format=lzma -c"),
            ["lz4"] = ("lz4", "lz4", "-l -9 -c"),
            ["bzip2"] = ("bzip2", "bzip2", "-9 -c"),
        };

        public static TheoryData<string, bool> Cases()
        {
            var d = new TheoryData<string, bool>();
            foreach (string c in Compressors.Keys)
            {
                d.Add(c, false);
                d.Add(c, true);
            }
            return d;
        }

        /// <summary>A small root: directories, text and binary files, a symlink, a hard link, an empty file, a FIFO.</summary>
        private static void MakeTree(string root)
        {
            Directory.CreateDirectory(Path.Combine(root, "conf"));
            Directory.CreateDirectory(Path.Combine(root, "etc/modprobe.d"));
            Directory.CreateDirectory(Path.Combine(root, "usr/lib/modules/6.1.0-13-amd64/kernel/drivers/hv"));
            Directory.CreateDirectory(Path.Combine(root, "usr/bin"));
            File.WriteAllText(Path.Combine(root, "conf/modules"), "hv_vmbus\nhv_storvsc\nhv_netvsc\n");
            File.WriteAllText(Path.Combine(root, "etc/modprobe.d/blacklist udf.conf"), "blacklist udf\n");
            File.WriteAllBytes(Path.Combine(root, "usr/lib/modules/6.1.0-13-amd64/kernel/drivers/hv/hv_vmbus.ko"), Make("binary", 300_000));
            File.WriteAllBytes(Path.Combine(root, "usr/bin/random.bin"), Make("random", 70_001));
            File.WriteAllBytes(Path.Combine(root, "usr/bin/empty"), Array.Empty<byte>());
            File.WriteAllBytes(Path.Combine(root, "usr/bin/text"), Make("text", 123_457));
            File.CreateSymbolicLink(Path.Combine(root, "bin"), "usr/bin");
            Shell($"ln {Q(Path.Combine(root, "usr/bin/text"))} {Q(Path.Combine(root, "usr/bin/text-hardlink"))}");
            Shell($"mkfifo {Q(Path.Combine(root, "conf/fifo"))}");
        }

        private static string Cpio(string root, string output, string format = "newc")
        {
            ExternalTool.Require("cpio", "cpio");
            Shell($"cd {Q(root)} && find . | LC_ALL=C sort | cpio --quiet -o -H {format} > {Q(output)}");
            return output;
        }

        private static List<string> CpioList(string archive)
        {
            string stdout = ExternalTool.Run("/bin/bash", new[] { "-c", $"cpio --quiet -it < {Q(archive)}" }).StdOut;
            return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        }

        private static List<CpioEntry> Read(string file, InitramfsLimits? limits = null, Action<CpioEntry>? each = null)
        {
            using var fs = File.OpenRead(file);
            var list = new List<CpioEntry>();
            foreach (CpioEntry e in Initramfs.ReadEntries(fs, limits ?? InitramfsLimits.Default))
            {
                each?.Invoke(e);
                list.Add(e);
            }
            return list;
        }

        private static (string File, List<string> Expected) Build(TempDirectory dir, string compression, bool early, string format = "newc")
        {
            string root = Path.Combine(dir.Path, "root");
            MakeTree(root);
            string main = Cpio(root, dir.File("main.cpio"), format);
            var expected = new List<string>();
            var parts = new List<byte[]>();
            if (early)
            {
                string earlyRoot = Path.Combine(dir.Path, "early");
                Directory.CreateDirectory(Path.Combine(earlyRoot, "kernel/x86/microcode"));
                File.WriteAllBytes(Path.Combine(earlyRoot, "kernel/x86/microcode/GenuineIntel.bin"), Make("random", 10_000));
                string earlyCpio = Cpio(earlyRoot, dir.File("early.cpio"));
                expected.AddRange(CpioList(earlyCpio));
                parts.Add(File.ReadAllBytes(earlyCpio));
            }
            expected.AddRange(CpioList(main));
            var c = Compressors[compression];
            parts.Add(Compress(dir, File.ReadAllBytes(main), c.Tool, c.Package, c.Args));
            string initrd = dir.File("initrd.img");
            File.WriteAllBytes(initrd, Concat(parts.ToArray()));
            return (initrd, expected);
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void Lists_what_cpio_and_lsinitramfs_list(string compression, bool early)
        {
            using var dir = new TempDirectory();
            var (initrd, expected) = Build(dir, compression, early);
            var byContent = new Dictionary<string, string?>();
            List<CpioEntry> entries = Read(initrd, null, e =>
            {
                if (e.Name == "conf/modules" || e.Name.StartsWith("etc/modprobe.d/", StringComparison.Ordinal))
                {
                    byContent[e.Name] = e.ReadAllText();
                }
            });
            Assert.Equal(expected, entries.Select(e => e.Name.StartsWith("./", StringComparison.Ordinal) ? e.Name.Substring(2) : e.Name).ToList());
            if (ExternalTool.Find("lsinitramfs") != null)
            {
                string ls = ExternalTool.Run("lsinitramfs", new[] { initrd }).StdOut;
                Assert.Equal(ls.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList(), entries.Select(e => e.Name).ToList());
            }
            Assert.Equal("hv_vmbus\nhv_storvsc\nhv_netvsc\n", byContent["conf/modules"]);
            Assert.Equal("blacklist udf\n", byContent["etc/modprobe.d/blacklist udf.conf"]);
            CpioEntry link = entries.Single(e => e.Name == "bin");
            Assert.Equal(CpioEntryType.SymbolicLink, link.Type);
            Assert.Equal("usr/bin", link.LinkTarget);
            Assert.Equal(CpioEntryType.Fifo, entries.Single(e => e.Name == "conf/fifo").Type);
            Assert.Equal(CpioEntryType.Directory, entries.Single(e => e.Name == "usr").Type);
            CpioEntry[] hard = entries.Where(e => e.Name.StartsWith("usr/bin/text", StringComparison.Ordinal)).ToArray();
            Assert.Equal(2, hard.Length);
            Assert.Equal(hard[0].Inode, hard[1].Inode);
            Assert.Equal(123_457, hard.Max(e => e.Size));
            Assert.Equal(early ? CompressionFormat.None : entries.Last().Compression, entries.First().Compression);
        }

        [Fact]
        public void Reads_file_contents_byte_for_byte_and_verifies_070702_checksums()
        {
            using var dir = new TempDirectory();
            var (initrd, expected) = Build(dir, "zstd", early: true, format: "crc");
            var contents = new Dictionary<string, byte[]>();
            List<CpioEntry> entries = Read(initrd, null, e =>
            {
                if (e.Type == CpioEntryType.File && e.Size > 0)
                {
                    contents[e.Name] = e.ReadContent(1 << 20)!;
                }
            });
            Assert.Equal(expected, entries.Select(e => e.Name).ToList());
            string root = Path.Combine(dir.Path, "root");
            Assert.Equal(File.ReadAllBytes(Path.Combine(root, "usr/lib/modules/6.1.0-13-amd64/kernel/drivers/hv/hv_vmbus.ko")), contents["usr/lib/modules/6.1.0-13-amd64/kernel/drivers/hv/hv_vmbus.ko"]);
            Assert.Equal(File.ReadAllBytes(Path.Combine(root, "usr/bin/random.bin")), contents["usr/bin/random.bin"]);

            // A flipped data byte breaks the 070702 sum (uncompressed archive, so the flip reaches the data).
            byte[] raw = File.ReadAllBytes(dir.File("main.cpio"));
            int at = IndexOf(raw, Encoding.ASCII.GetBytes("hv_vmbus\nhv_storvsc"));
            raw[at] ^= 1;
            string broken = dir.File("broken.cpio");
            File.WriteAllBytes(broken, raw);
            var e = Assert.Throws<InvalidImageException>(() => Read(broken));
            Assert.Contains("checksum", e.Structure, StringComparison.Ordinal);
        }

        [Fact]
        public void Content_can_only_be_read_while_the_entry_is_current()
        {
            using var dir = new TempDirectory();
            var (initrd, _) = Build(dir, "zstd", early: false);
            List<CpioEntry> entries = Read(initrd);
            CpioEntry modules = entries.Single(e => e.Name == "conf/modules");
            Assert.Throws<InvalidOperationException>(() => modules.ReadAllText());
        }

        [Fact]
        public void Several_compressed_parts_and_padding_are_read_in_order()
        {
            using var dir = new TempDirectory();
            var (first, expected1) = Build(dir, "zstd", early: true);
            byte[] one = File.ReadAllBytes(first);
            string sub = Path.Combine(dir.Path, "second");
            Directory.CreateDirectory(Path.Combine(sub, "extra"));
            File.WriteAllText(Path.Combine(sub, "extra/file"), "x");
            string cpio2 = Cpio(sub, dir.File("second.cpio"));
            byte[] two = Compress(dir, File.ReadAllBytes(cpio2), "zstd", "zstd", "-q -c -3");
            byte[] three = Compress(dir, File.ReadAllBytes(cpio2), "gzip", "gzip", "-c -9");
            byte[] four = Compress(dir, File.ReadAllBytes(cpio2), "xz", "xz-utils", "-c --check=crc32");
            string file = dir.File("multi.img");
            File.WriteAllBytes(file, Concat(one, new byte[4 - (one.Length % 4)], new byte[512], two, three, new byte[4], four));
            var names = Read(file).Select(e => e.Name).ToList();
            var second = CpioList(cpio2);
            Assert.Equal(expected1.Concat(second).Concat(second).Concat(second).ToList(), names);
        }

        [Fact]
        public void Limits_and_garbage_give_typed_errors()
        {
            using var dir = new TempDirectory();
            var (initrd, _) = Build(dir, "zstd", early: false);
            var e = Assert.Throws<AzureLinuxImageException>(() => Read(initrd, new InitramfsLimits { MaxDecompressedBytes = 100_000 }));
            Assert.Equal("DecompressionLimitExceeded", e.ErrorId);
            e = Assert.Throws<AzureLinuxImageException>(() => Read(initrd, new InitramfsLimits { MaxEntries = 5 }));
            Assert.Equal("DecompressionLimitExceeded", e.ErrorId);
            e = Assert.Throws<AzureLinuxImageException>(() => Read(initrd, new InitramfsLimits { MaxFileSize = 1000 }));
            Assert.Equal("DecompressionLimitExceeded", e.ErrorId);
            string garbage = dir.File("garbage");
            File.WriteAllBytes(garbage, Encoding.ASCII.GetBytes("this is not an initramfs"));
            Assert.Throws<InvalidImageException>(() => Read(garbage));
            Assert.Empty(Read(dir.File("main.cpio") + ".none", null, null, allowMissing: true));
        }

        private static List<CpioEntry> Read(string file, InitramfsLimits? limits, Action<CpioEntry>? each, bool allowMissing)
        {
            if (allowMissing && !File.Exists(file))
            {
                File.WriteAllBytes(file, new byte[1024]);
            }
            return Read(file, limits, each);
        }

        private static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
                {
                    return i;
                }
            }
            throw new InvalidOperationException("not found");
        }
    }
}
