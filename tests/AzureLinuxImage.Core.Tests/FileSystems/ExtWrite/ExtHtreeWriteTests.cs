using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.ExtWrite
{
    /// <summary>Hashed directories: names added to (splitting leaves, adding an index level) and removed from a 10,000-name htree.</summary>
    public class ExtHtreeWriteTests
    {
        private readonly ITestOutputHelper output;

        public ExtHtreeWriteTests(ITestOutputHelper output)
        {
            this.output = output;
        }

        private static bool Indexed(string image)
        {
            var m = System.Text.RegularExpressions.Regex.Match(ExtWriteOracle.Debugfs(image, "stat /many"), @"Flags:\s+0x([0-9a-f]+)");
            Assert.True(m.Success);
            return (Convert.ToUInt32(m.Groups[1].Value, 16) & 0x1000) != 0;
        }

        [Theory]
        // mkfs -d links names one by one into a linear directory (quadratic): the real tools make a
        // 600-name index, the writer grows it to 10,000 (splitting leaves, and on 1 KiB blocks adding a level).
        [InlineData("4k-csum-10000", 600, 9600, 0, new[] { "-b", "4096" })]
        [InlineData("4k-nocsum", 600, 3000, 0, new[] { "-b", "4096", "-O", "^metadata_csum" })]
        [InlineData("1k-two-levels", 600, 4000, 1, new[] { "-b", "1024" })]
        [InlineData("ext3-1k", 600, 2000, 1, new[] { "-b", "1024", "-t", "ext3" })]
        public void Names_added_to_and_removed_from_an_htree_directory_keep_it_valid(string name, int existing, int added, int levels, string[] options)
        {
            using var tmp = new TempDirectory();
            string src = tmp.File("src");
            Directory.CreateDirectory(Path.Combine(src, "many"));
            for (int i = 0; i < existing; i++)
            {
                File.WriteAllText(Path.Combine(src, "many", $"existing-entry-{i:D5}"), i.ToString());
            }
            string image = ExtWriteOracle.Mkfs(tmp.Path, name, src, 64, options.Concat(new[] { "-N", "16384" }).ToArray());
            // mkfs -d writes linear directories; e2fsck -D indexes them as the kernel would have.
            ToolResult fsck = ExternalTool.Run(ExternalTool.Require("e2fsck", "e2fsprogs"), new[] { "-fyD", image }, check: false);
            Assert.True(fsck.ExitCode <= 1, fsck.StdOut + fsck.StdErr);
            ExtWriteOracle.AssertClean(image, "before");
            Assert.True(Indexed(image), "e2fsck -D should have indexed /many");

            var sw = System.Diagnostics.Stopwatch.StartNew();
            var rnd = new Random(17);
            var expected = new HashSet<string>(Enumerable.Range(0, existing).Select(i => $"existing-entry-{i:D5}"), StringComparer.Ordinal);
            using (var s = new WriteSession(image))
            {
                IFileSystemWriter w = s.Writer;
                for (int i = 0; i < added; i++)
                {
                    string n = "added-" + i + "-" + new string((char)('a' + rnd.Next(26)), rnd.Next(1, 120));
                    w.WriteFile("/many/" + n, new MemoryStream(Encoding.ASCII.GetBytes(n)));
                    expected.Add(n);
                    if (i % 4 == 0)
                    {
                        string victim = $"existing-entry-{rnd.Next(existing):D5}";
                        if (expected.Remove(victim))
                        {
                            w.Delete("/many/" + victim);
                        }
                    }
                }
                output.WriteLine($"{added} adds: {sw.ElapsedMilliseconds} ms");
                Assert.Equal(expected.Count, w.List("/many").Count());
                w.Commit();
                output.WriteLine($"committed: {sw.ElapsedMilliseconds} ms");
            }

            ExtWriteOracle.AssertClean(image, "after");
            Assert.True(Indexed(image), "/many should still be indexed");
            Assert.Contains($"Indirect levels: {levels}", ExtWriteOracle.Debugfs(image, "htree_dump /many"), StringComparison.Ordinal);
            using DiskImage disk = DiskImage.Open(image);
            using var fs = new ExtFileSystem(new DiskSlice(disk, 0, disk.VirtualSize, image));
            var names = fs.List("/many").Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
            Assert.True(expected.SetEquals(names), $"{expected.Except(names).Count()} names missing, {names.Except(expected).Count()} unexpected");
            // debugfs looks names up through the hash index (htree_dump would too): a few at random.
            foreach (string n in expected.OrderBy(_ => rnd.Next()).Take(20))
            {
                Assert.Equal(Encoding.ASCII.GetBytes(n.StartsWith("added", StringComparison.Ordinal) ? n : n.Substring("existing-entry-".Length).TrimStart('0').PadLeft(1, '0')),
                    ExtWriteOracle.Dump(image, "/many/" + n, tmp.Path));
            }
        }
    }
}
