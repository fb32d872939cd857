using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using AzureLinuxImage.Tests.Infrastructure;

namespace AzureLinuxImage.Tests.FileSystems
{
    /// <summary>
    /// A folder of the test's making with every shape the ext reader must handle, turned into a file
    /// system by mkfs.ext4 -d (no mount, no loop device), and the facts the host reports about each entry.
    /// </summary>
    internal sealed class ExtSourceTree
    {
        public const long BigSparseSize = 5L << 30;
        public const int ManyEntries = 5000;

        public ExtSourceTree(string root, bool bigSparse, bool manyEntries, bool trailingHole = true)
        {
            Root = root;
            var rnd = new Random(1234);
            Directory.CreateDirectory(root);
            File.WriteAllBytes(P("empty"), Array.Empty<byte>());
            File.WriteAllBytes(P("one-block"), Bytes(rnd, 4096));
            File.WriteAllText(P("small.txt"), "hello ext\n");
            File.WriteAllBytes(P("medium.bin"), Bytes(rnd, (1 << 20) + 123));
            File.WriteAllText(P("tiny-inline"), "fits in i_block");
            File.WriteAllBytes(P("inline-xattr"), Bytes(rnd, 100));
            using (var f = new FileStream(P("sparse"), FileMode.Create))
            {
                f.Position = 1 << 20;
                f.Write(Bytes(rnd, 5000), 0, 5000);
                f.Position = 10 << 20;
                f.Write(Bytes(rnd, 70000), 0, 70000);
                if (trailingHole)
                {
                    f.SetLength(12 << 20);
                }
            }
            if (bigSparse)
            {
                using var f = new FileStream(P("big-sparse"), FileMode.Create);
                f.Position = BigSparseSize - 8192;
                f.Write(Bytes(rnd, 8192), 0, 8192);
                f.Position = 3L << 30;
                f.Write(Bytes(rnd, 4096), 0, 4096);
            }
            Directory.CreateDirectory(P("dir/sub/deeper"));
            File.WriteAllText(P("dir/sub/deeper/file.conf"), "key=value\n");
            File.WriteAllText(P("dir/owned"), "owned by someone else\n");
            File.WriteAllText(P("dir/mode0640"), "private\n");
            Directory.CreateDirectory(P("links"));
            File.CreateSymbolicLink(P("links/fast"), "../small.txt");
            File.CreateSymbolicLink(P("links/slow"), "/dir/sub/deeper/../deeper/./../../sub/deeper/../../sub/deeper/../deeper/file.conf");
            File.CreateSymbolicLink(P("links/abs"), "/medium.bin");
            File.CreateSymbolicLink(P("links/todir"), "../dir/sub");
            File.CreateSymbolicLink(P("links/dangling"), "/nowhere");
            File.CreateSymbolicLink(P("links/loop1"), "loop2");
            File.CreateSymbolicLink(P("links/loop2"), "/links/loop1");
            File.CreateSymbolicLink(P("links/escape"), "../../../../../../small.txt");
            Directory.CreateDirectory(P("emptydir"));
            if (manyEntries)
            {
                Directory.CreateDirectory(P("many"));
                for (int i = 0; i < ManyEntries; i++)
                {
                    File.WriteAllText(P($"many/entry-with-a-long-name-{i:D5}"), i % 97 == 0 ? i.ToString(CultureInfo.InvariantCulture) : string.Empty);
                }
            }
            string chmod = ExternalTool.Require("chmod", "coreutils");
            ExternalTool.Run(chmod, new[] { "0640", P("dir/mode0640") });
            ExternalTool.Run(chmod, new[] { "4755", P("dir/owned") });
            // Ownership is copied by mkfs -d; only root can give it away.
            if (Environment.UserName == "root")
            {
                ExternalTool.Run(ExternalTool.Require("chown", "coreutils"), new[] { "1234:5678", P("dir/owned") });
            }
            ExternalTool.Run(ExternalTool.Require("mkfifo", "coreutils"), new[] { P("dir/fifo") });
            ExternalTool.Run(ExternalTool.Require("touch", "coreutils"), new[] { "-h", "-d", "2001-02-03 04:05:06", P("dir/sub/deeper/file.conf") });
        }

        public string Root { get; }

        public string P(string relative) => Path.Combine(Root, relative);

        /// <summary>What the host says about every entry: find -printf, one process.</summary>
        public Dictionary<string, HostEntry> Describe()
        {
            string find = ExternalTool.Require("find", "findutils");
            string output = ExternalTool.Run(find, new[] { Root, "-mindepth", "1", "-printf", "/%P\t%y\t%s\t%m\t%U\t%G\t%T@\t%l\n" }).StdOut;
            var result = new Dictionary<string, HostEntry>(StringComparer.Ordinal);
            foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] f = line.Split('\t');
                result[f[0]] = new HostEntry(f[0], f[1][0], long.Parse(f[2], CultureInfo.InvariantCulture), Convert.ToUInt32(f[3], 8),
                    uint.Parse(f[4], CultureInfo.InvariantCulture), uint.Parse(f[5], CultureInfo.InvariantCulture),
                    WholeSeconds(f[6]), f[7]);
            }
            return result;
        }

        /// <summary>
        /// The seconds of find's "%T@" (seconds.nanoseconds) read as text: as a double, 1795330324.9999999990
        /// rounds up to the next second, and the file then seemed a second younger than in the image.
        /// </summary>
        private static long WholeSeconds(string secondsDotFraction) =>
            long.Parse(secondsDotFraction.Split('.')[0], CultureInfo.InvariantCulture);

        /// <summary>Builds an ext image file of <paramref name="sizeMiB"/> from the folder with mkfs.ext4 -d and the given options.</summary>
        public static void MakeFileSystem(string image, string source, int sizeMiB, params string[] options)
        {
            string mkfs = ExternalTool.Require("mkfs.ext4", "e2fsprogs");
            var args = new List<string> { "-q", "-F", "-d", source, "-L", "testlabel", "-U", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "-E", "root_owner=0:0" };
            args.AddRange(options);
            args.Add(image);
            args.Add(sizeMiB.ToString(CultureInfo.InvariantCulture) + "M");
            ExternalTool.Run(mkfs, args.ToArray());
        }

        private static byte[] Bytes(Random rnd, int n)
        {
            var b = new byte[n];
            rnd.NextBytes(b);
            return b;
        }
    }

    internal sealed record HostEntry(string Path, char Type, long Size, uint Mode, uint Uid, uint Gid, long MtimeSeconds, string LinkTarget);
}
