using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems.Xfs;
using AzureLinuxImage.Tests.Infrastructure;

namespace AzureLinuxImage.Tests.FileSystems.Xfs
{
    /// <summary>What the test put into an image: the expected metadata of one entry (content comes from the source folder).</summary>
    internal sealed record ProtoEntry(string Path, char Type, uint Mode, uint Uid, uint Gid, string? Source, string? LinkTarget);

    /// <summary>
    /// Builds XFS images with the real mkfs.xfs from a protofile (xfsprogs proto.c: one line per entry,
    /// "name mode uid gid [source|target]", directories closed by '$'), so no mount is needed.
    /// </summary>
    internal static class XfsImages
    {
        /// <summary>mkfs.xfs refuses file systems under 300 MB unless run by its own test suite; these variables say so.</summary>
        private static readonly string[] SmallFsEnvironment = { "TEST_DIR", "TEST_DEV", "QA_CHECK_FS" };

        public static string Mkfs(string image, long size, string? proto, params string[] options)
        {
            string mkfs = ExternalTool.Require("mkfs.xfs", "xfsprogs");
            using (var f = new FileStream(image, FileMode.Create))
            {
                f.SetLength(size);
            }
            var args = new List<string> { "-q", "-f" };
            args.AddRange(options);
            if (proto != null)
            {
                args.Add("-p");
                args.Add(proto);
            }
            args.Add(image);
            foreach (string v in SmallFsEnvironment)
            {
                Environment.SetEnvironmentVariable(v, "1");
            }
            ExternalTool.Run(mkfs, args.ToArray());
            return image;
        }

        /// <summary>Runs xfs_db read-only with the given commands and returns its output.</summary>
        public static string Db(string image, params string[] commands)
        {
            string db = ExternalTool.Require("xfs_db", "xfsprogs");
            var args = new List<string> { "-r" };
            foreach (string c in commands)
            {
                args.Add("-c");
                args.Add(c);
            }
            args.Add(image);
            return ExternalTool.Run(db, args.ToArray()).StdOut;
        }

        /// <summary>Runs xfs_db in expert (write) mode.</summary>
        public static string DbWrite(string image, params string[] commands)
        {
            string db = ExternalTool.Require("xfs_db", "xfsprogs");
            var args = new List<string> { "-x" };
            foreach (string c in commands)
            {
                args.Add("-c");
                args.Add(c);
            }
            args.Add(image);
            return ExternalTool.Run(db, args.ToArray()).StdOut;
        }

        /// <summary>"name = value" lines of xfs_db print output.</summary>
        public static Dictionary<string, string> Fields(string output)
        {
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string line in output.Split('\n'))
            {
                int eq = line.IndexOf(" = ", StringComparison.Ordinal);
                if (eq > 0)
                {
                    d[line.Substring(0, eq).Trim()] = line.Substring(eq + 3).Trim();
                }
            }
            return d;
        }

        /// <summary>(name, inode) pairs of xfs_db's "ls" of a directory.</summary>
        public static List<(string Name, ulong Inode)> Ls(string image, string dir)
        {
            var result = new List<(string, ulong)>();
            foreach (string line in Db(image, "ls " + dir).Split('\n'))
            {
                // "<dir offset> <inode> <type> <hash> <name length> <name> (good)"
                string[] t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (t.Length >= 7 && t[t.Length - 1] == "(good)" && ulong.TryParse(t[1], out ulong ino))
                {
                    result.Add((t[t.Length - 2], ino));
                }
            }
            return result;
        }

        /// <summary>"data offset O startblock B (a/b) count C flag F" lines of xfs_db's bmap.</summary>
        public static List<(long Offset, long Start, long Count, bool Unwritten)> Bmap(string image, ulong inode)
        {
            var result = new List<(long, long, long, bool)>();
            foreach (string line in Db(image, $"inode {inode}", "bmap").Split('\n'))
            {
                string[] t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (t.Length >= 10 && t[0] == "data" && t[1] == "offset")
                {
                    result.Add((long.Parse(t[2]), long.Parse(t[4]), long.Parse(t[7]), t[9] == "1"));
                }
            }
            return result;
        }

        public static XfsFileSystem Open(string image, out DiskImage disk)
        {
            disk = DiskImage.Open(image);
            return XfsFileSystem.Open(new DiskSlice(disk, 0, disk.VirtualSize, "test image " + Path.GetFileName(image)));
        }

        /// <summary>A deterministic pseudo-random buffer.</summary>
        public static byte[] Bytes(int seed, int length)
        {
            var b = new byte[length];
            new Random(seed).NextBytes(b);
            return b;
        }

        /// <summary>
        /// Writes the protofile for a tree of entries (parents before children, paths '/'-separated, no
        /// spaces in names). Regular files and symlinks must name their source or target.
        /// </summary>
        public static string WriteProto(string protoPath, IReadOnlyList<ProtoEntry> entries)
        {
            var sb = new StringBuilder();
            sb.Append("/dev/null\n0 0\nd--755 0 0\n");
            var children = entries.GroupBy(e => Parent(e.Path)).ToDictionary(g => g.Key, g => g.ToList());
            void Emit(string dir, int depth)
            {
                if (!children.TryGetValue(dir, out List<ProtoEntry>? list))
                {
                    return;
                }
                foreach (ProtoEntry e in list)
                {
                    string name = e.Path.Substring(e.Path.LastIndexOf('/') + 1);
                    string mode = $"{e.Type}--{Convert.ToString(e.Mode, 8).PadLeft(3, '0')}";
                    sb.Append(' ', depth).Append(name).Append(' ').Append(mode).Append(' ').Append(e.Uid).Append(' ').Append(e.Gid);
                    if (e.Type == '-')
                    {
                        sb.Append(' ').Append(e.Source);
                    }
                    else if (e.Type == 'l')
                    {
                        sb.Append(' ').Append(e.LinkTarget);
                    }
                    sb.Append('\n');
                    if (e.Type == 'd')
                    {
                        Emit(e.Path, depth + 1);
                        sb.Append(' ', depth + 1).Append("$\n");
                    }
                }
            }
            Emit("/", 1);
            sb.Append("$\n");
            File.WriteAllText(protoPath, sb.ToString());
            return protoPath;
        }

        private static string Parent(string path)
        {
            int i = path.LastIndexOf('/');
            return i <= 0 ? "/" : path.Substring(0, i);
        }
    }
}
