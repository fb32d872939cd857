using System;
using System.Globalization;
using System.IO;
using AzureLinuxImage.Tests.Infrastructure;

namespace AzureLinuxImage.Tests.FileSystems.Btrfs
{
    /// <summary>
    /// The ext reader's source folder (sparse files, links of every shape, modes, owners, a fifo) plus what btrfs
    /// stores differently: inline-sized files, a large file, compressible text, extended attributes, a hard
    /// link, a device node and a directory of 10,000 entries.
    /// </summary>
    internal static class BtrfsSourceTree
    {
        public const int ManyEntries = 10_000;

        public static string Build(string root, bool many = true)
        {
            _ = new ExtSourceTree(root, bigSparse: false, manyEntries: false);
            var rnd = new Random(77);
            var inline = new byte[2000];
            rnd.NextBytes(inline);
            File.WriteAllBytes(Path.Combine(root, "inline-2000"), inline);
            var large = new byte[3 << 20];
            rnd.NextBytes(large);
            File.WriteAllBytes(Path.Combine(root, "large.bin"), large);
            using (var w = new StreamWriter(Path.Combine(root, "text.log")))
            {
                for (int i = 0; i < 60_000; i++)
                {
                    w.WriteLine($"line {i} of a compressible log file, value {i * 7 % 1000}");
                }
            }
            File.WriteAllText(Path.Combine(root, "compressible-inline"), new string('a', 3000));
            File.WriteAllText(Path.Combine(root, "hardlink-source"), "two names\n");
            BtrfsImages.Sh($"ln '{root}/hardlink-source' '{root}/dir/hardlink-second'");
            BtrfsImages.Sh($"python3 -c \"import os; os.setxattr('{root}/small.txt', 'user.comment', b'hello'); os.setxattr('{root}/dir', 'user.dir', b'x' * 300); os.setxattr('{root}/large.bin', 'user.empty', b'')\"");
            if (Environment.UserName == "root")
            {
                BtrfsImages.Sh($"mknod '{root}/dir/null' c 1 3 && setfattr -h -n trusted.t -v 1 '{root}/links' 2>/dev/null || true");
            }
            if (many)
            {
                string dir = Path.Combine(root, "many");
                Directory.CreateDirectory(dir);
                for (int i = 0; i < ManyEntries; i++)
                {
                    File.WriteAllText(Path.Combine(dir, "entry-" + i.ToString("D5", CultureInfo.InvariantCulture)), i % 501 == 0 ? i.ToString(CultureInfo.InvariantCulture) : string.Empty);
                }
            }
            return root;
        }
    }
}
