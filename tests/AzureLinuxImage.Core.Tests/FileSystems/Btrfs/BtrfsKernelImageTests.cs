using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Btrfs;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.Btrfs
{
    /// <summary>
    /// What only the kernel writes (btrfs-progs 6.2's mkfs has no --subvol or --compress): compressed extents,
    /// holes with and without the no-holes feature, preallocated extents, subvolumes, snapshots and a default
    /// subvolume. Checked against the source folder, `btrfs restore` and `btrfs inspect-internal dump-tree`.
    /// </summary>
    public class BtrfsKernelImageTests : IClassFixture<BtrfsSourceFixture>
    {
        private readonly BtrfsSourceFixture fixture;

        public BtrfsKernelImageTests(BtrfsSourceFixture fixture)
        {
            this.fixture = fixture;
        }

        [Theory]
        [InlineData("zlib")]
        [InlineData("lzo")]
        [InlineData("zstd")]
        public void Compressed_extents_read_back_as_the_source(string compression)
        {
            string image = fixture.Image($"k-{compression}.img");
            BtrfsImages.MakeWithKernel(image, 512L << 20, "compress-force=" + compression, mnt =>
                BtrfsImages.Sh($"cp -a --sparse=always '{fixture.Small}/.' '{mnt}/'"));
            string dump = ExternalTool.Run(ExternalTool.Require("btrfs", "btrfs-progs"), new[] { "inspect-internal", "dump-tree", "-t", "5", image }).StdOut;
            // The oracle says the data really is compressed, inline and in extents.
            int code = compression == "zlib" ? 1 : compression == "lzo" ? 2 : 3;
            Assert.Matches($"type 1 \\(regular\\)[^\\n]*\\n[^\\n]*\\n[^\\n]*\\n[^\\n]*compression {code}", dump);
            Assert.Contains($"inline extent data size", dump);
            Assert.Matches($"type 0 \\(inline\\)[^\\n]*\\n[^\\n]*compression {code}", dump);
            using BtrfsFileSystem fs = BtrfsImages.Open(image);
            BtrfsImages.AssertTreeEquals(fixture.Small, fs);
            AssertSameAsRestore(image, fs, "/", 5);
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Holes_and_preallocated_extents_read_as_zeros(bool noHoles)
        {
            string image = fixture.Image($"holes-{noHoles}.img");
            BtrfsImages.MakeWithKernel(image, 256L << 20, string.Empty, mnt =>
            {
                BtrfsImages.Sh($"cp -a --sparse=always '{fixture.Small}/sparse' '{mnt}/sparse'");
                BtrfsImages.Sh($"fallocate -l 1M '{mnt}/prealloc' && printf 'head' | dd of='{mnt}/prealloc' conv=notrunc status=none && fallocate -o 2M -l 64K -n '{mnt}/prealloc' && truncate -s 3M '{mnt}/prealloc'");
                BtrfsImages.Sh($"printf tail | dd of='{mnt}/hole-then-data' bs=1 seek=5000000 status=none");
            }, noHoles ? new[] { "-O", "no-holes" } : new[] { "-O", "^no-holes" });
            string dump = ExternalTool.Run(ExternalTool.Require("btrfs", "btrfs-progs"), new[] { "inspect-internal", "dump-tree", "-t", "5", image }).StdOut;
            Assert.Contains("type 2 (prealloc)", dump);
            if (!noHoles)
            {
                Assert.Contains("disk byte 0 nr 0", dump);
            }
            using BtrfsFileSystem fs = BtrfsImages.Open(image);
            Assert.Equal(BtrfsImages.Sha256(File.OpenRead(Path.Combine(fixture.Small, "sparse"))), BtrfsImages.Sha256(fs.OpenRead("/sparse")));
            byte[] pre = ReadAll(fs.OpenRead("/prealloc"));
            Assert.Equal(3 << 20, pre.Length);
            Assert.Equal("head", System.Text.Encoding.ASCII.GetString(pre, 0, 4));
            Assert.True(pre.Skip(4).All(b => b == 0));
            byte[] late = ReadAll(fs.OpenRead("/hole-then-data"));
            Assert.Equal(5000004, late.Length);
            Assert.True(late.Take(5000000).All(b => b == 0));
            Assert.Equal("tail", System.Text.Encoding.ASCII.GetString(late, 5000000, 4));
        }

        /// <summary>The layouts of Fedora (top level holding root and home) and openSUSE (@, @/home, snapshots, the default set to a snapshot).</summary>
        [Fact]
        public void Subvolumes_snapshots_and_the_default_subvolume()
        {
            string image = fixture.Image("subvol.img");
            BtrfsImages.MakeWithKernel(image, 256L << 20, string.Empty, mnt => BtrfsImages.Sh(string.Join(" && ", new[]
            {
                $"btrfs -q subvolume create '{mnt}/@'",
                $"btrfs -q subvolume create '{mnt}/@/home'",
                $"mkdir -p '{mnt}/@/.snapshots/1' '{mnt}/@/etc' '{mnt}/@/deep/er'",
                $"echo root-etc > '{mnt}/@/etc/hostname'",
                $"echo user-file > '{mnt}/@/home/user.txt'",
                $"btrfs -q subvolume create '{mnt}/@/deep/er/nested'",
                $"echo nested > '{mnt}/@/deep/er/nested/n.txt'",
                $"btrfs -q subvolume snapshot -r '{mnt}/@' '{mnt}/@/.snapshots/1/snapshot'",
                $"echo changed-after-snapshot > '{mnt}/@/etc/hostname'",
                $"btrfs subvolume set-default \"$(btrfs subvolume show '{mnt}/@/.snapshots/1/snapshot' | sed -n 's/^[[:space:]]*Subvolume ID:[[:space:]]*//p')\" '{mnt}'",
            })));
            using BtrfsFileSystem fs = BtrfsImages.Open(image);
            IReadOnlyList<BtrfsSubvolumeInfo> subs = fs.ListSubvolumes();
            // The oracle: btrfs inspect-internal dump-tree's ROOT_BACKREF items (id, parent, name).
            string dump = ExternalTool.Run(ExternalTool.Require("btrfs", "btrfs-progs"), new[] { "inspect-internal", "dump-tree", "-t", "1", image }).StdOut;
            var backrefs = Regex.Matches(dump, @"key \((\d+) ROOT_BACKREF (\d+)\)[^\n]*\n[^\n]*name (\S+)")
                .Select(m => (ulong.Parse(m.Groups[1].Value), ulong.Parse(m.Groups[2].Value), m.Groups[3].Value)).OrderBy(x => x.Item1).ToList();
            Assert.Equal(backrefs, subs.Select(s => (s.Id, s.ParentId, s.Path.Split('/').Last())).OrderBy(x => x.Item1).ToList());
            Assert.Equal(new[] { "@", "@/.snapshots/1/snapshot", "@/deep/er/nested", "@/home" }, subs.Select(s => s.Path).OrderBy(p => p, StringComparer.Ordinal));
            BtrfsSubvolumeInfo snap = subs.Single(s => s.Path == "@/.snapshots/1/snapshot");
            BtrfsSubvolumeInfo at = subs.Single(s => s.Path == "@");
            Assert.True(snap.IsSnapshot && snap.ReadOnly && snap.IsDefault);
            Assert.Equal(at.Uuid, snap.ParentUuid);
            Assert.False(at.IsSnapshot || at.ReadOnly || at.IsDefault);

            // Opened without subvol=, the default (the snapshot) is what is seen.
            Assert.Equal(snap.Id, fs.SubvolumeId);
            Assert.Equal("root-etc\n", ReadText(fs, "/etc/hostname"));
            using BtrfsFileSystem top = fs.OpenSubvolume(5);
            Assert.Equal("changed-after-snapshot\n", ReadText(top, "/@/etc/hostname"));
            Assert.Equal("user-file\n", ReadText(top, "/@/home/user.txt"));
            Assert.Equal("nested\n", ReadText(top, "/@/deep/er/nested/n.txt"));
            using BtrfsFileSystem home = fs.OpenSubvolume("/@/home/")!;
            Assert.Equal("user-file\n", ReadText(home, "/user.txt"));
            Assert.Equal((ulong)subs.Single(s => s.Path == "@/home").Id, home.SubvolumeId);
            using BtrfsFileSystem root = fs.OpenSubvolume("@")!;
            Assert.Equal("changed-after-snapshot\n", ReadText(root, "/etc/hostname"));
            Assert.Null(fs.OpenSubvolume("nope"));
            Assert.Equal("BtrfsSubvolumeNotFound", Assert.Throws<AzureLinuxImageException>(() => fs.OpenSubvolume(999)).ErrorId);
            AssertSameAsRestore(image, root, "/", at.Id);
        }

        [Fact]
        public void Multi_device_btrfs_is_refused_clearly()
        {
            BtrfsImages.RequireKernelMount();
            string a = fixture.Image("raid-a.img");
            string b = fixture.Image("raid-b.img");
            foreach (string f in new[] { a, b })
            {
                using var s = new FileStream(f, FileMode.Create);
                s.SetLength(256L << 20);
            }
            ExternalTool.Run(ExternalTool.Require("mkfs.btrfs", "btrfs-progs"), new[] { "-q", "-f", "-d", "raid1", "-m", "raid1", a, b });
            var e = Assert.Throws<UnsupportedImageException>(() => BtrfsImages.Open(a));
            Assert.Contains("2 devices", e.Message);
        }

        /// <summary>`btrfs restore` (btrfs-progs' own userland reader) extracts subvolume <paramref name="rootId"/>; every file must read the same through us.</summary>
        private void AssertSameAsRestore(string image, BtrfsFileSystem fs, string fsPath, ulong rootId)
        {
            string outDir = image + ".restore";
            Directory.CreateDirectory(outDir);
            ExternalTool.Run(ExternalTool.Require("btrfs", "btrfs-progs"), new[] { "restore", "-r", rootId.ToString(), "-x", "-S", image, outDir });
            int files = 0;
            foreach (string f in Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories))
            {
                if (new FileInfo(f).LinkTarget != null)
                {
                    continue;
                }
                string rel = f.Substring(outDir.Length);
                Assert.True(BtrfsImages.Sha256(File.OpenRead(f)) == BtrfsImages.Sha256(fs.OpenRead(fsPath.TrimEnd('/') + rel)), $"{rel} differs from btrfs restore");
                files++;
            }
            Assert.True(files > 0);
            Directory.Delete(outDir, true);
        }

        private static string ReadText(IFileSystem fs, string path)
        {
            using var r = new StreamReader(fs.OpenRead(path));
            return r.ReadToEnd();
        }

        private static byte[] ReadAll(Stream s)
        {
            using (s)
            using (var m = new MemoryStream())
            {
                s.CopyTo(m);
                return m.ToArray();
            }
        }
    }
}
