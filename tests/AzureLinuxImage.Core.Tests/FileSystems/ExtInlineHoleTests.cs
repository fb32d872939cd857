using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems
{
    /// <summary>
    /// Issue 27 item 6: mkfs.ext4 -d -O inline_data makes a file that is only a hole an inline-data inode whose size
    /// exceeds its inline space; e2fsck accepts it and the kernel reads zeros past the inline bytes.
    /// </summary>
    public class ExtInlineHoleTests
    {
        private const int Size = 3 << 20;

        [Fact]
        public void A_hole_past_inline_data_reads_as_zeros_like_the_kernel()
        {
            string sgdisk = ExternalTool.Require("sgdisk", "gdisk");
            string debugfs = ExternalTool.Require("debugfs", "e2fsprogs");
            using var tmp = new TempDirectory();
            string tree = tmp.File("tree");
            Directory.CreateDirectory(tree);
            using (FileStream f = File.Create(Path.Combine(tree, "hole")))
            {
                f.SetLength(Size);
            }
            File.WriteAllText(Path.Combine(tree, "small"), "abc");
            // What azlinux cat needs to take the volume for a Linux root.
            Directory.CreateDirectory(Path.Combine(tree, "etc"));
            Directory.CreateDirectory(Path.Combine(tree, "bin"));
            File.WriteAllText(Path.Combine(tree, "etc", "os-release"), "ID=debian\n");
            string fsImage = tmp.File("p.img");
            ExtSourceTree.MakeFileSystem(fsImage, tree, 16, "-O", "inline_data");
            ExternalTool.Run(ExternalTool.Require("e2fsck", "e2fsprogs"), new[] { "-fn", fsImage });
            // The premise: the file is an inline-data inode (flag 0x10000000) of size 3 MiB with no blocks.
            string stat = ExternalTool.Run(debugfs, new[] { "-R", "stat /hole", fsImage }).StdOut;
            Assert.Contains("Flags: 0x10000000", stat);
            Assert.Contains("Size: " + Size, stat);

            string disk = tmp.File("disk.raw");
            using (FileStream d = File.Create(disk))
            {
                d.SetLength((2048L * 512) + new FileInfo(fsImage).Length + (1 << 20));
            }
            ExternalTool.Run(sgdisk, new[] { "-o", "-n", "1:2048:0", "-t", "1:8300", disk });
            ExternalTool.Run("dd", new[] { "if=" + fsImage, "of=" + disk, "bs=512", "seek=2048", "conv=notrunc,sparse", "status=none" });

            string zeros = Hex(SHA256.HashData(new byte[Size]));
            ToolResult cat = ExternalTool.Run("/bin/bash", new[] { "-c", $"set -o pipefail; dotnet '{Repository.CliDll}' cat '{disk}' /hole | sha256sum" }, check: false);
            Assert.True(cat.ExitCode == 0, cat.StdErr);
            Assert.Equal(zeros, cat.StdOut.Split(' ')[0]);
            Assert.Equal("abc", AzLinux.Run("cat", disk, "/small").StdOut.TrimEnd('\n')); // ExternalTool collects stdout by lines

            // debugfs dumps only the 60 inline bytes (its own limit): they match ours, zeros.
            string dumped = tmp.File("dumped");
            ExternalTool.Run(debugfs, new[] { "-R", $"dump /hole {dumped}", fsImage });
            Assert.Equal(new byte[File.ReadAllBytes(dumped).Length], File.ReadAllBytes(dumped));
            // The kernel reads the whole size as zeros (needs root and loop devices; skipped otherwise, required in CI).
            string mnt = tmp.File("mnt");
            Directory.CreateDirectory(mnt);
            ToolResult mount = ExternalTool.Run("mount", new[] { "-o", "loop,ro", fsImage, mnt }, check: false);
            if (mount.ExitCode != 0)
            {
                ExternalTool.Unavailable("mount -o loop is not available here: " + mount.StdErr);
            }
            try
            {
                using FileStream k = File.OpenRead(Path.Combine(mnt, "hole"));
                Assert.Equal(zeros, Hex(SHA256.HashData(k)));
            }
            finally
            {
                ExternalTool.Run("umount", new[] { mnt }, check: false);
            }
        }

        private static string Hex(byte[] b) => string.Concat(b.Select(x => x.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }
}
