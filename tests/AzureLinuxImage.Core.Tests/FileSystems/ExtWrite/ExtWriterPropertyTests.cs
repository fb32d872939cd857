using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.ExtWrite
{
    /// <summary>
    /// Seeded random sequences of create/replace/delete/mkdir/symlink/chmod applied to the writer and to a
    /// folder on this machine (the model); after each sequence e2fsck -fn is clean and the image's tree
    /// equals the folder's (type, bytes, mode, link target). 5 x 550 = 2,750 operations per run; the
    /// inline_data row starts with inline directories (mkfs.ext4 -d of empty folders).
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public class ExtWriterPropertyTests
    {
        private const int Operations = 550;
        private const string NameChars = "abcdefghijklmnopqrstuvwxyz0123456789._-";
        private static readonly uint[] Modes = { 0x1A4, 0x180, 0x1ED, 0x100, 0x1FF, 0x9A4 };

        [Theory]
        [InlineData("ext4", 101, new[] { "-b", "4096" })]
        [InlineData("ext4-1k-nocsum", 202, new[] { "-b", "1024", "-O", "^metadata_csum,^64bit" })]
        [InlineData("ext3", 303, new[] { "-b", "4096", "-t", "ext3" })]
        [InlineData("ext2-1k", 404, new[] { "-b", "1024", "-t", "ext2" })]
        [InlineData("ext4-inline", 505, new[] { "-b", "4096", "-O", "inline_data", "-I", "256" })]
        public void Random_sequences_match_a_host_folder(string name, int seed, string[] options)
        {
            using var tmp = new TempDirectory();
            string model = tmp.File("model");
            var dirs = new List<string> { "/" };
            if (options.Contains("inline_data"))
            {
                // 40 empty directories in the source: mkfs.ext4 -d makes them inline, so names go in and out of inodes and overflow into blocks.
                foreach (string root in new[] { tmp.File("empty-src"), model })
                {
                    for (int i = 0; i < 40; i++)
                    {
                        Directory.CreateDirectory(Path.Combine(root, "i" + i));
                        File.SetUnixFileMode(Path.Combine(root, "i" + i), (UnixFileMode)0x1ED);
                    }
                }
                dirs.AddRange(Enumerable.Range(0, 40).Select(i => "/i" + i));
            }
            string image = ExtWriteOracle.Mkfs(tmp.Path, name, tmp.File("empty-src"), 160, options.Concat(new[] { "-N", "4096" }).ToArray());
            Directory.CreateDirectory(model);
            File.SetUnixFileMode(model, (UnixFileMode)0x1ED);
            var rnd = new Random(seed);
            int inlineAdds = 0, inlineRemoves = 0;
            var files = new List<string>();
            var links = new List<string>();
            var session = new WriteSession(image);
            try
            {
                for (int op = 0; op < Operations; op++)
                {
                    IFileSystemWriter w = session.Writer;
                    int kind = rnd.Next(100);
                    if (kind < 30 || files.Count == 0 && kind < 50)
                    {
                        string path = NewPath(rnd, dirs, model);
                        inlineAdds += InInline(w, path) ? 1 : 0;
                        byte[] content = Content(rnd);
                        uint mode = Modes[rnd.Next(Modes.Length)];
                        w.WriteFile(path, new MemoryStream(content), new NewItemAttributes { Mode = mode, Uid = (uint)rnd.Next(3), Gid = 7 });
                        File.WriteAllBytes(Host(model, path), content);
                        File.SetUnixFileMode(Host(model, path), (UnixFileMode)mode);
                        files.Add(path);
                    }
                    else if (kind < 50)
                    {
                        string path = files[rnd.Next(files.Count)];
                        byte[] content = Content(rnd);
                        w.WriteFile(path, new MemoryStream(content));
                        UnixFileMode keep = File.GetUnixFileMode(Host(model, path));
                        File.WriteAllBytes(Host(model, path), content);
                        File.SetUnixFileMode(Host(model, path), keep);
                    }
                    else if (kind < 65)
                    {
                        var all = files.Concat(links).Concat(dirs.Where(d => d != "/")).ToList();
                        if (all.Count == 0)
                        {
                            continue;
                        }
                        string path = all[rnd.Next(all.Count)];
                        bool isDir = dirs.Contains(path);
                        inlineRemoves += InInline(w, path) ? 1 : 0;
                        w.Delete(path, recursive: isDir);
                        if (isDir)
                        {
                            Directory.Delete(Host(model, path), true);
                            string prefix = path + "/";
                            dirs.RemoveAll(d => d == path || d.StartsWith(prefix, StringComparison.Ordinal));
                            files.RemoveAll(d => d.StartsWith(prefix, StringComparison.Ordinal));
                            links.RemoveAll(d => d.StartsWith(prefix, StringComparison.Ordinal));
                        }
                        else
                        {
                            File.Delete(Host(model, path));
                            files.Remove(path);
                            links.Remove(path);
                        }
                    }
                    else if (kind < 80)
                    {
                        string path = NewPath(rnd, dirs, model);
                        inlineAdds += InInline(w, path) ? 1 : 0;
                        uint mode = rnd.Next(2) == 0 ? 0x1EDu : 0x1C0u;
                        w.CreateDirectory(path, new NewItemAttributes { Mode = mode });
                        Directory.CreateDirectory(Host(model, path));
                        File.SetUnixFileMode(Host(model, path), (UnixFileMode)mode);
                        dirs.Add(path);
                    }
                    else if (kind < 95)
                    {
                        string path = NewPath(rnd, dirs, model);
                        inlineAdds += InInline(w, path) ? 1 : 0;
                        string target = rnd.Next(2) == 0 ? "../" + RandomName(rnd) : "/" + string.Join("/", Enumerable.Range(0, rnd.Next(3, 30)).Select(_ => RandomName(rnd)));
                        w.CreateSymlink(path, target);
                        File.CreateSymbolicLink(Host(model, path), target);
                        links.Add(path);
                    }
                    else
                    {
                        var all = files.Concat(dirs.Where(d => d != "/")).ToList();
                        if (all.Count == 0)
                        {
                            continue;
                        }
                        string path = all[rnd.Next(all.Count)];
                        uint mode = Modes[rnd.Next(Modes.Length)];
                        w.SetAttributes(path, mode: mode);
                        File.SetUnixFileMode(Host(model, path), (UnixFileMode)mode);
                    }
                    if (op % 137 == 136)
                    {
                        // Commit part-way, and sometimes start a new session on the committed image.
                        w.Commit();
                        if (rnd.Next(2) == 0)
                        {
                            session.Dispose();
                            session = new WriteSession(image);
                        }
                    }
                }
                session.Writer.Commit();
            }
            finally
            {
                session.Dispose();
            }

            ExtWriteOracle.AssertClean(image, $"after {Operations} operations (seed {seed})");
            using DiskImage disk = DiskImage.Open(image);
            using var fs = new ExtFileSystem(new DiskSlice(disk, 0, disk.VirtualSize, image));
            int compared = Compare(fs, model, "/");
            Assert.True(compared > 50, $"only {compared} entries compared");
            if (options.Contains("inline_data"))
            {
                // Names went into and out of inline directories, and some overflowed into a block.
                int overflowed = dirs.Count(d => d.Length <= 4 && d.StartsWith("/i", StringComparison.Ordinal) && int.TryParse(d.AsSpan(2), out _) && !fs.InodeOf(d, followLastLink: false)!.Has(ExtInode.FlagInlineData));
                Assert.True(inlineAdds >= 50 && inlineRemoves >= 5 && overflowed >= 5, $"{inlineAdds} names added to and {inlineRemoves} removed from inline directories, {overflowed} overflowed");
            }
        }

        internal static int Compare(IFileSystem fs, string model, string dir)
        {
            int n = 0;
            var hostNames = Directory.EnumerateFileSystemEntries(Host(model, dir)).Select(p => Path.GetFileName(p)!).OrderBy(x => x, StringComparer.Ordinal).ToList();
            var imageEntries = fs.List(dir).Where(e => e.Name != "lost+found" || dir != "/").OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
            Assert.Equal(hostNames, imageEntries.Select(e => e.Name).ToList());
            foreach (FileEntry e in imageEntries)
            {
                string host = Host(model, e.Path);
                var info = new FileInfo(host);
                if (info.LinkTarget != null)
                {
                    Assert.Equal(FileEntryType.Symlink, e.Type);
                    Assert.Equal(info.LinkTarget, e.LinkTarget);
                }
                else if (Directory.Exists(host))
                {
                    Assert.Equal(FileEntryType.Directory, e.Type);
                    Assert.True((uint)File.GetUnixFileMode(host) == e.Mode, $"{e.Path}: mode {Convert.ToString(e.Mode, 8)}, model {Convert.ToString((int)File.GetUnixFileMode(host), 8)}");
                    n += Compare(fs, model, e.Path);
                }
                else
                {
                    Assert.Equal(FileEntryType.File, e.Type);
                    Assert.True((uint)File.GetUnixFileMode(host) == e.Mode, $"{e.Path}: mode {Convert.ToString(e.Mode, 8)}, model {Convert.ToString((int)File.GetUnixFileMode(host), 8)}");
                    using Stream s = fs.OpenRead(e.Path);
                    Assert.True(File.ReadAllBytes(host).AsSpan().SequenceEqual(ExtOracle.ReadAll(s)), e.Path + ": content differs");
                }
                n++;
            }
            return n;
        }

        /// <summary>True when the directory holding <paramref name="path"/> keeps its entries inline (before the operation).</summary>
        private static bool InInline(IFileSystemWriter w, string path)
        {
            int slash = path.LastIndexOf('/');
            return ((ExtFileSystemWriter)w).Reader.InodeOf(slash == 0 ? "/" : path.Substring(0, slash), followLastLink: false)!.Has(ExtInode.FlagInlineData);
        }

        private static string Host(string model, string path) => path == "/" ? model : Path.Combine(model, path.TrimStart('/'));

        private static string NewPath(Random rnd, List<string> dirs, string model)
        {
            while (true)
            {
                string dir = dirs[rnd.Next(dirs.Count)];
                string path = (dir == "/" ? "" : dir) + "/" + RandomName(rnd);
                string host = Host(model, path);
                if (!File.Exists(host) && !Directory.Exists(host) && new FileInfo(host).LinkTarget == null && path != "/lost+found")
                {
                    return path;
                }
            }
        }

        private static string RandomName(Random rnd)
        {
            int len = rnd.Next(10) == 0 ? rnd.Next(60, 200) : rnd.Next(1, 24);
            var c = new char[len];
            for (int i = 0; i < len; i++)
            {
                c[i] = NameChars[rnd.Next(NameChars.Length)];
            }
            string s = new string(c);
            return s == "." || s == ".." ? s + "x" : s;
        }

        private static byte[] Content(Random rnd)
        {
            int r = rnd.Next(100);
            int size = r < 70 ? rnd.Next(0, 5000) : r < 96 ? rnd.Next(5000, 200_000) : rnd.Next(200_000, 3_000_000);
            var b = new byte[size];
            rnd.NextBytes(b);
            return b;
        }
    }
}
