using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems
{
    /// <summary>Compares what the ext reader returns with the source folder and with debugfs, entry by entry.</summary>
    internal static class ExtOracle
    {
        public sealed record DebugfsStat(uint Inode, string Type, uint Mode, uint Uid, uint Gid, long Size);

        /// <summary>debugfs -R stat for many paths in one process (-f command file).</summary>
        public static Dictionary<string, DebugfsStat> Debugfs(string image, IEnumerable<string> paths, string workDir)
        {
            string debugfs = ExternalTool.Require("debugfs", "e2fsprogs");
            List<string> list = paths.ToList();
            string cmd = Path.Combine(workDir, "debugfs.cmd");
            File.WriteAllLines(cmd, list.Select(p => $"stat \"{p}\""));
            string output = ExternalTool.Run(debugfs, new[] { "-f", cmd, image }).StdOut;
            var result = new Dictionary<string, DebugfsStat>(StringComparer.Ordinal);
            string[] chunks = Regex.Split(output, @"^debugfs:\s+stat\s+", RegexOptions.Multiline);
            foreach (string chunk in chunks.Skip(1))
            {
                string path = chunk.Substring(0, chunk.IndexOf('\n')).Trim().Trim('"');
                Match head = Regex.Match(chunk, @"Inode:\s+(\d+)\s+Type:\s+(\S+)\s+Mode:\s+(\d+)");
                Match owner = Regex.Match(chunk, @"User:\s+(\d+)\s+Group:\s+(\d+).*?Size:\s+(\d+)");
                Assert.True(head.Success && owner.Success, "debugfs output not understood for " + path + ":\n" + chunk);
                result[path] = new DebugfsStat(uint.Parse(head.Groups[1].Value, CultureInfo.InvariantCulture), head.Groups[2].Value,
                    Convert.ToUInt32(head.Groups[3].Value, 8), uint.Parse(owner.Groups[1].Value, CultureInfo.InvariantCulture),
                    uint.Parse(owner.Groups[2].Value, CultureInfo.InvariantCulture), long.Parse(owner.Groups[3].Value, CultureInfo.InvariantCulture));
            }
            return result;
        }

        /// <summary>Every entry of the source folder against the file system: type, size, mode, owner, mtime, link target, bytes; every directory's listing.</summary>
        public static int CompareWithSource(IFileSystem fs, ExtSourceTree tree, string prefix = "")
        {
            Dictionary<string, HostEntry> host = tree.Describe();
            int compared = 0;
            foreach (HostEntry h in host.Values)
            {
                string path = prefix + h.Path;
                FileEntry? e = fs.GetEntry(path, followLastLink: false);
                Assert.True(e != null, path + " is missing");
                FileEntryType expected = h.Type switch
                {
                    'f' => FileEntryType.File,
                    'd' => FileEntryType.Directory,
                    'l' => FileEntryType.Symlink,
                    'p' => FileEntryType.Fifo,
                    _ => throw new InvalidOperationException("unexpected type " + h.Type),
                };
                Assert.Equal(expected, e!.Type);
                Assert.True(h.Mode == e.Mode, $"{path}: mode {Convert.ToString(e.Mode, 8)}, host says {Convert.ToString(h.Mode, 8)}");
                Assert.True(h.Uid == e.Uid && h.Gid == e.Gid, $"{path}: owner {e.Uid}:{e.Gid}, host says {h.Uid}:{h.Gid}");
                Assert.True(h.MtimeSeconds == e.Modified!.Value.ToUnixTimeSeconds(), $"{path}: mtime {e.Modified}, host says {h.MtimeSeconds}");
                if (expected == FileEntryType.Symlink)
                {
                    Assert.Equal(h.LinkTarget, e.LinkTarget);
                    Assert.Equal(h.LinkTarget.Length, e.Size);
                }
                if (expected == FileEntryType.File)
                {
                    Assert.Equal(h.Size, e.Size);
                    if (h.Size <= 64 << 20)
                    {
                        using Stream s = fs.OpenRead(path);
                        byte[] actual = ReadAll(s);
                        Assert.True(File.ReadAllBytes(tree.P(h.Path.TrimStart('/'))).AsSpan().SequenceEqual(actual), path + ": content differs");
                    }
                    else
                    {
                        CompareWindows(fs, path, tree.P(h.Path.TrimStart('/')), h.Size);
                    }
                }
                if (expected == FileEntryType.Directory)
                {
                    var names = fs.List(path).Select(x => x.Name).OrderBy(x => x, StringComparer.Ordinal).ToList();
                    var hostNames = Directory.EnumerateFileSystemEntries(tree.P(h.Path.TrimStart('/'))).Select(x => Path.GetFileName(x)!).OrderBy(x => x, StringComparer.Ordinal).ToList();
                    Assert.Equal(hostNames, names);
                }
                compared++;
            }
            return compared;
        }

        /// <summary>Large sparse files: a few windows (data and holes) rather than gigabytes of zeros.</summary>
        private static void CompareWindows(IFileSystem fs, string path, string hostFile, long size)
        {
            using Stream s = fs.OpenRead(path);
            using var h = new FileStream(hostFile, FileMode.Open, FileAccess.Read);
            foreach (long at in new[] { 0L, 1L << 20, (3L << 30) - 100, 3L << 30, (4L << 30) + 12345, size - 9000, size - 4096 })
            {
                int n = (int)Math.Min(16384, size - at);
                var a = new byte[n];
                var b = new byte[n];
                s.Position = at;
                h.Position = at;
                Assert.Equal(n, ReadFully(s, a));
                Assert.Equal(n, ReadFully(h, b));
                Assert.True(a.AsSpan().SequenceEqual(b), $"{path}: bytes at {at} differ");
            }
        }

        public static byte[] ReadAll(Stream s)
        {
            using var m = new MemoryStream();
            s.CopyTo(m);
            return m.ToArray();
        }

        private static int ReadFully(Stream s, byte[] buffer)
        {
            int done = 0;
            int n;
            while (done < buffer.Length && (n = s.Read(buffer, done, buffer.Length - done)) > 0)
            {
                done += n;
            }
            return done;
        }

        /// <summary>Our inode number, mode, owner and size for each path against debugfs's.</summary>
        public static void CompareWithDebugfs(ExtFileSystem fs, string image, IEnumerable<string> paths, string workDir)
        {
            List<string> list = paths.ToList();
            Dictionary<string, DebugfsStat> oracle = Debugfs(image, list, workDir);
            Assert.Equal(list.Count, oracle.Count);
            foreach (string p in list)
            {
                DebugfsStat d = oracle[p];
                ExtInode inode = fs.InodeOf(p)!;
                Assert.NotNull(inode);
                Assert.Equal(d.Inode, inode.Number);
                FileEntry e = fs.GetEntry(p, followLastLink: false)!;
                Assert.Equal(d.Mode, e.Mode);
                Assert.Equal(d.Uid, e.Uid);
                Assert.Equal(d.Gid, e.Gid);
                Assert.Equal(d.Size, e.Size);
                string type = e.Type switch
                {
                    FileEntryType.File => "regular",
                    FileEntryType.Directory => "directory",
                    FileEntryType.Symlink => "symlink",
                    FileEntryType.Fifo => "FIFO",
                    _ => "other",
                };
                Assert.Equal(d.Type, type);
            }
        }
    }
}
