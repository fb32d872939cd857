using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Xfs;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.Xfs
{
    /// <summary>
    /// A real Debian 12 root on XFS (v5, ftype, finobt, sparse inodes: the RHEL-style default), built by
    /// tests/fixtures/build-debian-image.sh in an MBR disk, compared entry by entry with the cached
    /// root folder it was made from (find -printf is the oracle for type, mode, owner, size, link target).
    /// </summary>
    public class XfsDebianRootTests
    {
        private static readonly string RootfsCache = ExternalTool.DebianRootfsCache;

        /// <summary>Files the build script writes itself (so they differ from the cache).</summary>
        private static readonly HashSet<string> Rewritten = new HashSet<string>(StringComparer.Ordinal) { "/etc/fstab", "/etc/hostname", "/boot/grub/grub.cfg", "/boot/grub", "/.complete" };

        private readonly ITestOutputHelper output;

        public XfsDebianRootTests(ITestOutputHelper output)
        {
            this.output = output;
        }

        [Fact]
        public void A_Debian_12_xfs_root_in_an_mbr_disk_matches_the_folder_it_was_built_from()
        {
            string script = Infrastructure.Repository.File("tests/fixtures/build-debian-image.sh");
            if (!File.Exists(script) || !File.Exists(Path.Combine(RootfsCache, ".complete")))
            {
                ExternalTool.Unavailable($"the Debian 12 root cache ({RootfsCache}/.complete) or {script} is missing; the readiness build creates it.");
            }
            string sfdisk = ExternalTool.Require("sfdisk", "fdisk");
            ExternalTool.Require("mkfs.xfs", "xfsprogs");
            using var dir = new TempDirectory();
            string image = dir.File("debian-xfs.raw");
            string built = ExternalTool.Run("/bin/bash", new[] { script, image, "--fs", "xfs", "--table", "mbr" }, timeoutSeconds: 900).StdOut;
            string uuid = built.Substring(built.IndexOf("UUID=", StringComparison.Ordinal) + 5, 36);

            using JsonDocument table = JsonDocument.Parse(ExternalTool.Run(sfdisk, new[] { "-J", image }).StdOut);
            JsonElement part = table.RootElement.GetProperty("partitiontable").GetProperty("partitions")[0];
            long start = part.GetProperty("start").GetInt64() * 512;
            long size = part.GetProperty("size").GetInt64() * 512;

            using DiskImage disk = DiskImage.Open(image);
            using XfsFileSystem fs = XfsFileSystem.Open(new DiskSlice(disk, start, size, "partition 1 of " + image));
            Assert.Equal(5, fs.Superblock.Version);
            Assert.Equal(Guid.Parse(uuid), fs.Superblock.Uuid);
            Assert.Equal("rootfs", fs.Superblock.Label);

            // /etc lists as the folder does, and /etc/os-release reads through its symlink.
            var expectedEtc = Directory.EnumerateFileSystemEntries(Path.Combine(RootfsCache, "etc")).Select(p => Path.GetFileName(p)!)
                .Where(n => !n.Any(char.IsWhiteSpace)).OrderBy(n => n, StringComparer.Ordinal).ToList();
            Assert.Equal(expectedEtc, fs.List("/etc").Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal).ToList());
            FileEntry link = fs.GetEntry("/etc/os-release", followLastLink: false)!;
            Assert.Equal(FileEntryType.Symlink, link.Type);
            Assert.Equal(ReadLink(Path.Combine(RootfsCache, "etc/os-release")), link.LinkTarget);
            using (var r = new StreamReader(fs.OpenRead("/etc/os-release")))
            {
                string text = r.ReadToEnd();
                Assert.Equal(File.ReadAllText(Path.Combine(RootfsCache, "usr/lib/os-release")), text);
                Assert.Contains("VERSION_ID=\"12\"", text);
            }
            using (var r = new StreamReader(fs.OpenRead("/etc/fstab")))
            {
                Assert.StartsWith($"UUID={uuid} / xfs", r.ReadToEnd());
            }
            // /bin -> usr/bin and /usr/bin/sh -> dash: two links resolved inside the image.
            FileEntry sh = fs.GetEntry("/bin/sh")!;
            Assert.Equal(FileEntryType.File, sh.Type);
            Assert.Equal("/usr/bin/dash", sh.Path);

            // Every entry against find -printf of the source folder.
            var oracle = FindPrintf(RootfsCache);
            var stopwatch = Stopwatch.StartNew();
            var seen = new Dictionary<string, FileEntry>(StringComparer.Ordinal);
            var pending = new Stack<string>();
            pending.Push("/");
            while (pending.Count > 0)
            {
                foreach (FileEntry e in fs.List(pending.Pop()))
                {
                    seen[e.Path] = e;
                    if (e.Type == FileEntryType.Directory)
                    {
                        pending.Push(e.Path);
                    }
                }
            }
            long bytes = 0;
            foreach (FileEntry e in seen.Values.Where(e => e.Path.StartsWith("/etc/", StringComparison.Ordinal) && e.Type == FileEntryType.File))
            {
                using Stream s = fs.OpenRead(e.Path);
                var ms = new MemoryStream();
                s.CopyTo(ms);
                bytes += ms.Length;
                if (!Rewritten.Contains(e.Path))
                {
                    Assert.True(File.ReadAllBytes(RootfsCache + e.Path).AsSpan().SequenceEqual(ms.ToArray()), $"{e.Path} differs from the source");
                }
            }
            stopwatch.Stop();
            output.WriteLine($"listed {seen.Count} entries and read {bytes} bytes of /etc in {stopwatch.ElapsedMilliseconds} ms");

            int compared = 0;
            foreach (var (path, o) in oracle)
            {
                // The build script leaves out names with spaces and sockets; mkfs.xfs 6.1's protofile reader drops
                // names with ':' (ucf's ":etc:default:grub": xfs_db's ls of /var/lib/ucf/cache is empty too).
                if (Rewritten.Contains(path) || path.Any(char.IsWhiteSpace) || path.Contains(':') || o.Type == 's' || path.StartsWith("/boot/grub/", StringComparison.Ordinal))
                {
                    continue;
                }
                Assert.True(seen.TryGetValue(path, out FileEntry? e), $"{path} is missing");
                FileEntryType type = o.Type switch
                {
                    'f' => FileEntryType.File,
                    'd' => FileEntryType.Directory,
                    'l' => FileEntryType.Symlink,
                    'c' => FileEntryType.CharacterDevice,
                    'b' => FileEntryType.BlockDevice,
                    _ => FileEntryType.Fifo,
                };
                Assert.Equal(type, e!.Type);
                // The build script's protofile keeps setuid, setgid and rwx bits (not the sticky bit).
                Assert.True((o.Mode & 0xDFF) == e.Mode, $"{path}: mode {Convert.ToString(e.Mode, 8)}, expected {Convert.ToString(o.Mode & 0xDFF, 8)}");
                Assert.True(o.Uid == e.Uid && o.Gid == e.Gid, $"{path}: owner {e.Uid}:{e.Gid}, expected {o.Uid}:{o.Gid}");
                if (type == FileEntryType.File || type == FileEntryType.Symlink)
                {
                    Assert.True(o.Size == e.Size, $"{path}: size {e.Size}, expected {o.Size}");
                }
                if (type == FileEntryType.Symlink)
                {
                    Assert.Equal(o.Target, e.LinkTarget);
                }
                compared++;
            }
            output.WriteLine($"compared {compared} entries with find -printf");
            Assert.True(compared > 5000, $"only {compared} entries compared");
        }


        private static string ReadLink(string path) => new FileInfo(path).LinkTarget ?? string.Empty;

        private sealed record Host(char Type, uint Mode, uint Uid, uint Gid, long Size, string? Target);

        private static Dictionary<string, Host> FindPrintf(string root)
        {
            string find = ExternalTool.Require("find", "findutils");
            string text = ExternalTool.Run(find, new[] { root, "-mindepth", "1", "-printf", "/%P\\0%y\\0%m\\0%U\\0%G\\0%s\\0%l\\0" }).StdOut;
            string[] f = text.Split('\0');
            var result = new Dictionary<string, Host>(StringComparer.Ordinal);
            for (int i = 0; i + 7 <= f.Length; i += 7)
            {
                string path = f[i].TrimStart('\n', '\r');
                result[path] = new Host(f[i + 1][0], Convert.ToUInt32(f[i + 2], 8), uint.Parse(f[i + 3]), uint.Parse(f[i + 4]), long.Parse(f[i + 5]), f[i + 1][0] == 'l' ? f[i + 6] : null);
            }
            return result;
        }
    }
}
