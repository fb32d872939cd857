using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Btrfs;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.Btrfs
{
    /// <summary>
    /// btrfs images made by the real tools: mkfs.btrfs --rootdir (no mount), and, for what btrfs-progs 6.2's
    /// mkfs cannot make (subvolumes, snapshots, compressed extents, preallocation), the kernel through a
    /// loop mount. Kernel-made images need root: the test fails under CI=true and is skipped otherwise.
    /// </summary>
    internal static class BtrfsImages
    {
        /// <summary>mkfs.btrfs -r SOURCE with the given node size and checksum; returns the image path.</summary>
        public static string MakeFromFolder(string image, string source, int nodeSize = 16384, string csum = "crc32c", params string[] extra)
        {
            string mkfs = ExternalTool.Require("mkfs.btrfs", "btrfs-progs");
            var args = new List<string> { "-q", "-f", "-L", "btrtest", "-U", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "-n", nodeSize.ToString(CultureInfo.InvariantCulture), "--csum", csum, "-r", source };
            args.AddRange(extra);
            args.Add(image);
            using (var f = new FileStream(image, FileMode.Create))
            {
                f.SetLength(256L << 20);
            }
            ExternalTool.Run(mkfs, args.ToArray());
            return image;
        }

        /// <summary>Skips (or fails under CI) unless the kernel can loop-mount btrfs here.</summary>
        public static void RequireKernelMount()
        {
            ExternalTool.Require("mkfs.btrfs", "btrfs-progs");
            ExternalTool.Require("mount", "mount");
            string? problem = null;
            if (Environment.UserName != "root")
            {
                problem = "building btrfs subvolumes and compressed extents needs root (loop mount): btrfs-progs 6.2's mkfs has no --subvol or --compress.";
            }
            else if (!File.ReadAllText("/proc/filesystems").Contains("btrfs", StringComparison.Ordinal) &&
                     ExternalTool.Run(ExternalTool.Require("modprobe", "kmod"), new[] { "btrfs" }, check: false).ExitCode != 0)
            {
                problem = "the kernel has no btrfs module to mount the test image.";
            }
            if (problem != null)
            {
                ExternalTool.Unavailable(problem);
            }
        }

        /// <summary>Creates an empty btrfs, loop-mounts it with <paramref name="mountOptions"/>, runs <paramref name="fill"/> on the mount point, unmounts.</summary>
        public static void MakeWithKernel(string image, long size, string mountOptions, Action<string> fill, params string[] mkfsOptions)
        {
            RequireKernelMount();
            using (var f = new FileStream(image, FileMode.Create))
            {
                f.SetLength(size);
            }
            var args = new List<string> { "-q", "-f", "-L", "kernel" };
            args.AddRange(mkfsOptions);
            args.Add(image);
            ExternalTool.Run(ExternalTool.Require("mkfs.btrfs", "btrfs-progs"), args.ToArray());
            string mnt = image + ".mnt";
            Directory.CreateDirectory(mnt);
            ExternalTool.Run("/bin/mount", new[] { "-o", "loop" + (mountOptions.Length > 0 ? "," + mountOptions : string.Empty), image, mnt });
            try
            {
                fill(mnt);
                Sh("sync");
            }
            finally
            {
                ExternalTool.Run("/bin/umount", new[] { mnt });
                Directory.Delete(mnt);
            }
        }

        public static string Sh(string command) => ExternalTool.Run("/bin/sh", new[] { "-c", command }).StdOut;

        public static BtrfsFileSystem Open(string image) => BtrfsFileSystem.Open(new FileDevice(image));

        /// <summary>An image file as a block device (read-only).</summary>
        internal sealed class FileDevice : BlockDevice
        {
            private readonly string path;

            public FileDevice(string path)
            {
                this.path = path;
                Length = new FileInfo(path).Length;
            }

            public override long Length { get; }

            public override string Description => path;

            public override void Read(long offset, byte[] buffer, int index, int count)
            {
                using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.RandomAccess);
                f.Position = offset;
                f.ReadExactly(buffer, index, count);
            }
        }

        /// <summary>
        /// Asserts that the tree under <paramref name="fsPath"/> equals the host folder: the same entries, and for each its
        /// type, mode, owner, mtime (seconds), size and content (files), target (links) and extended attributes.
        /// </summary>
        public static int AssertTreeEquals(string hostRoot, BtrfsFileSystem fs, string fsPath = "/")
        {
            string find = ExternalTool.Require("find", "findutils");
            string output = ExternalTool.Run(find, new[] { hostRoot, "-mindepth", "1", "-printf", "/%P\t%y\t%s\t%m\t%U\t%G\t%T@\t%l\n" }).StdOut;
            var host = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] f = line.Split('\t');
                host[f[0]] = f;
            }
            Dictionary<string, Dictionary<string, string>> xattrs = HostXattrs(hostRoot);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            string prefix = fsPath == "/" ? string.Empty : fsPath;
            void Walk(string dir)
            {
                foreach (FileEntry e in fs.List(dir))
                {
                    string rel = e.Path.Substring(prefix.Length);
                    Assert.True(seen.Add(rel), $"{rel} listed twice");
                    Assert.True(host.TryGetValue(rel, out string[]? h), $"{rel} is in the image but not in the folder");
                    char type = e.Type switch
                    {
                        FileEntryType.File => 'f',
                        FileEntryType.Directory => 'd',
                        FileEntryType.Symlink => 'l',
                        FileEntryType.Fifo => 'p',
                        FileEntryType.CharacterDevice => 'c',
                        FileEntryType.BlockDevice => 'b',
                        _ => 's',
                    };
                    Assert.True(h![1][0] == type, $"{rel}: type {type}, host {h[1]}");
                    Assert.True(Convert.ToUInt32(h[3], 8) == e.Mode, $"{rel}: mode {Convert.ToString(e.Mode, 8)}, host {h[3]}");
                    Assert.True(uint.Parse(h[4], CultureInfo.InvariantCulture) == e.Uid && uint.Parse(h[5], CultureInfo.InvariantCulture) == e.Gid, $"{rel}: owner {e.Uid}:{e.Gid}, host {h[4]}:{h[5]}");
                    Assert.True(long.Parse(h[6].Split('.')[0], CultureInfo.InvariantCulture) == e.Modified!.Value.ToUnixTimeSeconds(), $"{rel}: mtime {e.Modified}, host {h[6]}");
                    if (type == 'f')
                    {
                        Assert.True(long.Parse(h[2], CultureInfo.InvariantCulture) == e.Size, $"{rel}: size {e.Size}, host {h[2]}");
                        using Stream s = fs.OpenRead(e.Path);
                        Assert.True(Sha256(File.OpenRead(hostRoot + rel)) == Sha256(s), $"{rel}: content differs");
                    }
                    else if (type == 'l')
                    {
                        Assert.Equal(h[7], e.LinkTarget);
                    }
                    var want = xattrs.TryGetValue(rel, out Dictionary<string, string>? x) ? x : new Dictionary<string, string>();
                    var got = fs.GetXattrs(e.Path).ToDictionary(k => k.Key, k => Convert.ToBase64String(k.Value));
                    Assert.True(want.OrderBy(k => k.Key).SequenceEqual(got.OrderBy(k => k.Key)), $"{rel}: xattrs {string.Join(",", got.Keys)}, host {string.Join(",", want.Keys)}");
                    if (type == 'd')
                    {
                        Walk(e.Path);
                    }
                }
            }
            Walk(fsPath);
            var missing = host.Keys.Where(k => !seen.Contains(k)).Take(5).ToList();
            Assert.True(missing.Count == 0, "in the folder but not in the image: " + string.Join(", ", missing));
            return seen.Count;
        }

        private static Dictionary<string, Dictionary<string, string>> HostXattrs(string root)
        {
            const string Script = "import os,sys,json,base64\nr=sys.argv[1];o={}\nfor d,ds,fs in os.walk(r):\n for n in ds+fs:\n  p=os.path.join(d,n);x={}\n  for a in os.listxattr(p,follow_symlinks=False):\n   x[a]=base64.b64encode(os.getxattr(p,a,follow_symlinks=False)).decode()\n  if x: o['/'+os.path.relpath(p,r)]=x\nprint(json.dumps(o))\n";
            string json = ExternalTool.Run(ExternalTool.Require("python3", "python3"), new[] { "-c", Script, root }).StdOut;
            return JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, string>>>(json)!;
        }

        public static string Sha256(Stream s)
        {
            using (s)
            using (var sha = SHA256.Create())
            {
                return Convert.ToHexString(sha.ComputeHash(s));
            }
        }
    }
}
