using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Partitions;
using Xunit;

namespace AzureLinuxImage.Tests.Linux.Writes
{
    /// <summary>
    /// Small real Linux disks for the write tests, made by the real tools: sgdisk/sfdisk for the tables,
    /// mkfs.ext4 -d (Debian's default features: 64bit, flex_bg, metadata_csum) and mkfs.xfs -p (v5, CRCs)
    /// for the file systems, and the real checkers as oracles (e2fsck -fn and debugfs through
    /// "image?offset=N", xfs_repair -n and xfs_db on the partition copied out).
    /// </summary>
    internal static class WritableTestImages
    {
        public const string WaagentConf =
            "# Microsoft Azure Linux Agent Configuration\n" +
            "\n" +
            "# Which provisioning agent to use.\n" +
            "Provisioning.Agent=auto\n" +
            "\n" +
            "# Format if unformatted.\n" +
            "ResourceDisk.Format=n\n" +
            "ResourceDisk.Filesystem=ext4\n" +
            "ResourceDisk.MountPoint=/mnt/resource\n" +
            "ResourceDisk.EnableSwap=n   # keep this comment\n" +
            "ResourceDisk.SwapSizeMB=0\n";

        /// <summary>A root tree: os-release, fstab (given), /bin → usr/bin, hostname, waagent.conf, a hard-linked pair.</summary>
        public static string RootTree(TempDirectory tmp, string name, string fstab)
        {
            string root = tmp.File(name);
            foreach (string d in new[] { "etc", "usr/bin", "boot", "opt", "var/lib" })
            {
                Directory.CreateDirectory(Path.Combine(root, d));
            }
            File.WriteAllText(Path.Combine(root, "etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n");
            File.WriteAllText(Path.Combine(root, "etc/fstab"), fstab);
            File.WriteAllText(Path.Combine(root, "etc/hostname"), "writehost\n");
            File.WriteAllText(Path.Combine(root, "etc/waagent.conf"), WaagentConf);
            File.WriteAllText(Path.Combine(root, "usr/bin/sh"), "#!shell\n");
            File.CreateSymbolicLink(Path.Combine(root, "bin"), "usr/bin");
            File.CreateSymbolicLink(Path.Combine(root, "etc/agent.conf"), "waagent.conf");
            File.WriteAllText(Path.Combine(root, "opt/big.bin"), new string('b', 300_000));
            return root;
        }

        /// <summary>GPT: 1 root ext4 (48 MiB), 2 /boot ext4 (16 MiB, by UUID), 3 ESP FAT (/boot/efi, by PARTUUID). Returns the partition offsets.</summary>
        public static (string Disk, long Root, long Boot, long Esp) Ext4Gpt(TempDirectory tmp, string name = "ext4.raw", string extraMkfs = "")
        {
            string sgdisk = ExternalTool.Require("sgdisk", "gdisk");
            string disk = tmp.File(name);
            PartitionTableTests.Truncate(disk, 96L << 20);
            ExternalTool.Run(sgdisk, new[] { "-Z", "-o", "-a", "2048",
                "-n", "1:2048:+48M", "-t", "1:8300", "-c", "1:root",
                "-n", "2:0:+16M", "-t", "2:8300", "-c", "2:boot",
                "-n", "3:0:+16M", "-t", "3:EF00", "-c", "3:esp", disk });
            var parts = PartitionTableTests.SfdiskJson(disk);
            long Off(int n) => parts[n - 1].Start * 512;
            string bootUuid = "b0070000-1111-2222-3333-444444444444";
            string root = RootTree(tmp, name + ".root",
                "UUID=70070000-1111-2222-3333-444444444444 / ext4 errors=remount-ro 0 1\n" +
                $"UUID={bootUuid} /boot ext4 defaults 0 2\n" +
                $"PARTUUID={parts[2].Uuid!.ToLowerInvariant()} /boot/efi vfat umask=0077 0 1\n");
            string boot = tmp.File(name + ".boot");
            Directory.CreateDirectory(Path.Combine(boot, "grub"));
            File.WriteAllText(Path.Combine(boot, "grub/grub.cfg"), "linux /vmlinuz root=UUID=70070000-1111-2222-3333-444444444444\n");
            Directory.CreateDirectory(Path.Combine(boot, "efi"));
            MkfsExt4(tmp.File(name + ".root.img"), root, 48, "root", "70070000-1111-2222-3333-444444444444", extraMkfs);
            MkfsExt4(tmp.File(name + ".boot.img"), boot, 16, "boot", bootUuid, extraMkfs);
            PartitionTableTests.Dd(tmp.File(name + ".root.img"), disk, Off(1));
            PartitionTableTests.Dd(tmp.File(name + ".boot.img"), disk, Off(2));
            string esp = tmp.File(name + ".esp.img");
            PartitionTableTests.Truncate(esp, 16L << 20);
            ExternalTool.Run(ExternalTool.Require("mkfs.vfat", "dosfstools"), new[] { "-n", "ESP", esp });
            PartitionTableTests.Dd(esp, disk, Off(3));
            return (disk, Off(1), Off(2), Off(3));
        }

        /// <summary>MBR with one XFS v5 root partition (320 MiB, sparse: mkfs.xfs's minimum is 300 MiB).</summary>
        public static (string Disk, long Root, long Length) XfsMbr(TempDirectory tmp, string name = "xfs.raw")
        {
            string disk = tmp.File(name);
            PartitionTableTests.Truncate(disk, 330L << 20);
            ExternalTool.Run(ExternalTool.Require("sfdisk", "fdisk"), new[] { "-q", disk }, stdin: "label: dos\nunit: sectors\nstart=2048, type=83, bootable\n");
            var parts = PartitionTableTests.SfdiskJson(disk);
            string root = RootTree(tmp, name + ".root", "UUID=70070000-aaaa-2222-3333-444444444444 / xfs defaults 0 1\n");
            string proto = tmp.File(name + ".proto");
            File.WriteAllLines(proto, Proto(root));
            string img = tmp.File(name + ".img");
            PartitionTableTests.Truncate(img, parts[0].Size * 512);
            ExternalTool.Run(ExternalTool.Require("mkfs.xfs", "xfsprogs"), new[] { "-q", "-f", "-L", "root", "-m", "uuid=70070000-aaaa-2222-3333-444444444444", "-p", proto, img });
            PartitionTableTests.Dd(img, disk, parts[0].Start * 512);
            return (disk, parts[0].Start * 512, parts[0].Size * 512);
        }

        /// <summary>mkfs.xfs's protofile for a tree (regular files, directories, symlinks; owner root).</summary>
        private static IEnumerable<string> Proto(string root)
        {
            yield return "/dev/null";
            yield return "0 0";
            yield return "d--755 0 0";
            foreach (string line in ProtoDir(root, 1))
            {
                yield return line;
            }
            yield return "$";
        }

        private static IEnumerable<string> ProtoDir(string dir, int depth)
        {
            string pad = new string(' ', depth);
            foreach (string entry in Directory.EnumerateFileSystemEntries(dir).OrderBy(e => e, StringComparer.Ordinal))
            {
                string name = Path.GetFileName(entry);
                var info = new FileInfo(entry);
                if (info.LinkTarget != null)
                {
                    yield return $"{pad}{name} l--777 0 0 {info.LinkTarget}";
                }
                else if (Directory.Exists(entry))
                {
                    yield return $"{pad}{name} d--755 0 0";
                    foreach (string l in ProtoDir(entry, depth + 1))
                    {
                        yield return l;
                    }
                    yield return $"{pad}$";
                }
                else
                {
                    yield return $"{pad}{name} ---644 0 0 {entry}";
                }
            }
        }

        public static void MkfsExt4(string image, string source, int sizeMiB, string label, string uuid, string extra = "")
        {
            var args = new List<string> { "-q", "-F", "-d", source, "-L", label, "-U", uuid, "-E", "root_owner=0:0" };
            if (extra.Length > 0)
            {
                args.AddRange(extra.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
            args.Add(image);
            args.Add(sizeMiB + "M");
            ExternalTool.Run(ExternalTool.Require("mkfs.ext4", "e2fsprogs"), args.ToArray());
        }

        public static string Hash(string path)
        {
            using var f = File.OpenRead(path);
            return Convert.ToHexString(SHA256.HashData(f));
        }

        /// <summary>e2fsck -fn on the file system at <paramref name="offset"/>: the exit code and what it printed.</summary>
        public static ToolResult E2fsck(string disk, long offset) =>
            ExternalTool.Run(ExternalTool.Require("e2fsck", "e2fsprogs"), new[] { "-fn", $"{disk}?offset={offset}" }, check: false);

        public static void AssertExtClean(string disk, long offset)
        {
            ToolResult r = E2fsck(disk, offset);
            Assert.True(r.ExitCode == 0, $"e2fsck -fn at offset {offset}: exit {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
        }

        /// <summary>debugfs -R "cat PATH" on the file system at <paramref name="offset"/>.</summary>
        public static string DebugfsCat(string disk, long offset, string path) =>
            ExternalTool.Run(ExternalTool.Require("debugfs", "e2fsprogs"), new[] { "-R", $"cat {path}", $"{disk}?offset={offset}" }).StdOut;

        public static string DebugfsStat(string disk, long offset, string path) =>
            ExternalTool.Run(ExternalTool.Require("debugfs", "e2fsprogs"), new[] { "-R", $"stat {path}", $"{disk}?offset={offset}" }).StdOut;

        /// <summary>Copies the partition out (sparse) for the XFS tools, which take no offset.</summary>
        public static string Extract(string disk, long offset, long length, string to)
        {
            ExternalTool.Run(ExternalTool.Require("dd", "coreutils"), new[] { "if=" + disk, "of=" + to, "bs=1M", "iflag=skip_bytes,count_bytes",
                "skip=" + offset, "count=" + length, "conv=sparse", "status=none" });
            return to;
        }

        public static void AssertXfsClean(string partition)
        {
            ToolResult r = ExternalTool.Run(ExternalTool.Require("xfs_repair", "xfsprogs"), new[] { "-n", "-f", partition }, check: false);
            Assert.True(r.ExitCode == 0, $"xfs_repair -n: exit {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
        }

        /// <summary>A file's bytes as xfs_db reads them (inode, block map, then each data block).</summary>
        public static string XfsDbCat(string partition, string path, long size)
        {
            string xfsDb = ExternalTool.Require("xfs_db", "xfsprogs");
            string inode = ExternalTool.Run(xfsDb, new[] { "-r", "-f", "-c", $"path {path}", "-c", "stack", partition }).StdOut;
            // "inode 1234 ..." as the current object after path
            var m = System.Text.RegularExpressions.Regex.Match(inode, @"inode (\d+)");
            Assert.True(m.Success, "xfs_db path: " + inode);
            string bmap = ExternalTool.Run(xfsDb, new[] { "-r", "-f", "-c", $"inode {m.Groups[1].Value}", "-c", "bmap", partition }).StdOut;
            var bytes = new List<byte>();
            using var f = File.OpenRead(partition);
            string sb = ExternalTool.Run(xfsDb, new[] { "-r", "-f", "-c", "sb 0", "-c", "print blocksize agblocks agblklog", partition }).StdOut;
            int blockSize = int.Parse(System.Text.RegularExpressions.Regex.Match(sb, @"blocksize = (\d+)").Groups[1].Value);
            long agBlocks = long.Parse(System.Text.RegularExpressions.Regex.Match(sb, @"agblocks = (\d+)").Groups[1].Value);
            int agBlkLog = int.Parse(System.Text.RegularExpressions.Regex.Match(sb, @"agblklog = (\d+)").Groups[1].Value);
            foreach (System.Text.RegularExpressions.Match e in System.Text.RegularExpressions.Regex.Matches(bmap, @"data offset (\d+) startblock (\d+) \(\d+/\d+\) count (\d+)"))
            {
                long fsb = long.Parse(e.Groups[2].Value);
                long linear = ((fsb >> agBlkLog) * agBlocks) + (fsb & ((1L << agBlkLog) - 1));
                var buf = new byte[long.Parse(e.Groups[3].Value) * blockSize];
                f.Position = linear * blockSize;
                f.ReadExactly(buf);
                bytes.AddRange(buf);
            }
            return System.Text.Encoding.UTF8.GetString(bytes.Take((int)size).ToArray());
        }
    }
}
