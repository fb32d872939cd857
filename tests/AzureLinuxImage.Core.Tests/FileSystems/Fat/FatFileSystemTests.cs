using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Fat;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.Fat
{
    /// <summary>
    /// FAT12/16/32 volumes made by the real mkfs.vfat and filled by mtools' mcopy (which writes VFAT long
    /// names, NT case flags and times itself), read back and compared with the source folder.
    /// </summary>
    public class FatFileSystemTests
    {
        internal static string Build(TempDirectory dir, int fatBits, long size, out string source)
        {
            string mkfs = ExternalTool.Require("mkfs.vfat", "dosfstools");
            string mcopy = ExternalTool.Require("mcopy", "mtools");
            source = Path.Combine(dir.Path, "src");
            Directory.CreateDirectory(Path.Combine(source, "EFI", "BOOT"));
            Directory.CreateDirectory(Path.Combine(source, "EFI", "debian"));
            Directory.CreateDirectory(Path.Combine(source, "Many entries directory"));
            File.WriteAllBytes(Path.Combine(source, "EFI", "BOOT", "BOOTX64.EFI"), Bytes(1, 300_000));
            File.WriteAllText(Path.Combine(source, "EFI", "debian", "grub.cfg"), "search.fs_uuid 1234 root\nconfigfile $prefix/grub.cfg\n");
            File.WriteAllBytes(Path.Combine(source, "EFI", "debian", "shimx64.efi"), Bytes(2, 4096));
            File.WriteAllBytes(Path.Combine(source, "empty"), Array.Empty<byte>());
            File.WriteAllText(Path.Combine(source, "A long file name with spaces and more than 26 chars.txt"), "long name\n");
            File.WriteAllText(Path.Combine(source, "MixedCase.Txt"), "mixed\n");
            File.WriteAllText(Path.Combine(source, "caf\u00e9-\u00f1.txt"), "unicode\n");
            for (int i = 0; i < 150; i++)
            {
                File.WriteAllText(Path.Combine(source, "Many entries directory", $"entry number {i:D4} with a long name.cfg"), "entry " + i);
            }
            var modified = new DateTime(2023, 6, 15, 10, 20, 30, DateTimeKind.Utc);
            foreach (string f in Directory.EnumerateFileSystemEntries(source, "*", SearchOption.AllDirectories))
            {
                File.SetLastWriteTimeUtc(f, modified);
            }

            string image = Path.Combine(dir.Path, $"fat{fatBits}.img");
            using (var f = new FileStream(image, FileMode.Create))
            {
                f.SetLength(size);
            }
            Environment.SetEnvironmentVariable("TZ", "UTC");
            Environment.SetEnvironmentVariable("MTOOLS_SKIP_CHECK", "1");
            ExternalTool.Run(mkfs, new[] { "-F", fatBits.ToString(), "-n", "ESP" + fatBits, image });
            foreach (string entry in Directory.EnumerateFileSystemEntries(source))
            {
                // ExternalTool runs tools with LC_ALL=C, under which mtools would store each UTF-8 byte as its own character.
                ExternalTool.Run("/usr/bin/env", new[] { "LC_ALL=C.UTF-8", mcopy, "-s", "-m", "-i", image, entry, "::/" });
            }
            return image;
        }

        internal static byte[] Bytes(int seed, int length)
        {
            var b = new byte[length];
            new Random(seed).NextBytes(b);
            return b;
        }

        [Theory]
        [InlineData(12, 4L << 20)]
        [InlineData(16, 32L << 20)]
        [InlineData(32, 48L << 20)]
        public void Every_file_reads_back_as_mcopy_wrote_it(int fatBits, long size)
        {
            using var dir = new TempDirectory();
            string image = Build(dir, fatBits, size, out string source);
            using DiskImage disk = DiskImage.Open(image);
            using FatFileSystem fs = FatFileSystem.Open(new DiskSlice(disk, 0, disk.VirtualSize, "esp.img"));
            Assert.Equal((FatType)fatBits, fs.Type);
            Assert.Equal("ESP" + fatBits, fs.Label);
            Assert.Contains($"FAT{fatBits} 'ESP{fatBits}'", fs.Description);
            Dictionary<string, string> blkid = Blkid(image);
            Assert.Equal(blkid["UUID"], fs.Uuid);
            Assert.Equal(blkid["LABEL"], fs.Label);
            Assert.Equal("FAT" + fatBits, blkid["VERSION"]);

            int files = 0;
            void Compare(string hostDir, string imageDir)
            {
                var want = Directory.EnumerateFileSystemEntries(hostDir).Select(p => Path.GetFileName(p)!).OrderBy(x => x, StringComparer.Ordinal).ToList();
                var have = fs.List(imageDir).ToList();
                Assert.Equal(want, have.Select(e => e.Name).OrderBy(x => x, StringComparer.Ordinal).ToList());
                foreach (FileEntry e in have)
                {
                    string host = Path.Combine(hostDir, e.Name);
                    Assert.Equal(new DateTimeOffset(2023, 6, 15, 10, 20, 30, TimeSpan.Zero), e.Modified);
                    if (Directory.Exists(host))
                    {
                        Assert.Equal(FileEntryType.Directory, e.Type);
                        Compare(host, e.Path);
                        continue;
                    }
                    byte[] expected = File.ReadAllBytes(host);
                    Assert.Equal(FileEntryType.File, e.Type);
                    Assert.Equal(expected.Length, e.Size);
                    using Stream s = fs.OpenRead(e.Path);
                    var ms = new MemoryStream();
                    s.CopyTo(ms);
                    Assert.True(expected.AsSpan().SequenceEqual(ms.ToArray()), $"content of {e.Path} differs");
                    files++;
                }
            }
            Compare(source, "/");
            Assert.Equal(Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Count(), files);

            // Lookups are case-insensitive, like Linux's vfat, and reach files through short names too.
            Assert.NotNull(fs.GetEntry("/efi/boot/bootx64.efi"));
            using (Stream s = fs.OpenRead("/EFI/BOOT/BOOTX64.EFI"))
            {
                s.Seek(250_000, SeekOrigin.Begin);
                var tail = new byte[50_000];
                s.ReadExactly(tail);
                Assert.True(Bytes(1, 300_000).AsSpan(250_000).SequenceEqual(tail));
                s.Seek(10, SeekOrigin.Begin); // backwards: the chain is walked again
                Assert.Equal(Bytes(1, 300_000)[10], (byte)s.ReadByte());
            }
            string? shortName = ShortNameOf(image, "MixedCase.Txt");
            Assert.NotNull(shortName);
            {
                using var r = new StreamReader(fs.OpenRead("/" + shortName));
                Assert.Equal("mixed\n", r.ReadToEnd());
            }
        }

        /// <summary>blkid's low-level probe of an image file ("KEY=value" lines).</summary>
        internal static Dictionary<string, string> Blkid(string image)
        {
            string blkid = ExternalTool.Require("blkid", "util-linux");
            return ExternalTool.Run(blkid, new[] { "-p", "-o", "export", image }).StdOut.Split('\n')
                .Where(l => l.Contains('=')).ToDictionary(l => l.Substring(0, l.IndexOf('=')), l => l.Substring(l.IndexOf('=') + 1).Trim());
        }

        /// <summary>The 8.3 alias mtools gave a long name (mdir prints "NAME EXT size date time longname").</summary>
        private static string? ShortNameOf(string image, string longName)
        {
            string mdir = ExternalTool.Require("mdir", "mtools");
            foreach (string line in ExternalTool.Run(mdir, new[] { "-i", image, "::/" }).StdOut.Split('\n'))
            {
                if (line.TrimEnd().EndsWith(longName, StringComparison.Ordinal))
                {
                    string[] t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return t[1].All(char.IsDigit) ? t[0] : t[0] + "." + t[1];
                }
            }
            return null;
        }
    }
}
