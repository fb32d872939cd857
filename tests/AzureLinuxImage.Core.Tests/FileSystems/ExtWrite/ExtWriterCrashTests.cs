using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.ExtWrite
{
    /// <summary>
    /// Crash consistency: the same edits committed through a sink that fails before its Nth write, for
    /// every N of the commit. e2fsck -fn may then report only leaked space and counts (bitmaps, free
    /// counts, unattached inodes, link counts), never a damaged directory or a doubly used block, and
    /// every file reads either its old or its new content.
    /// </summary>
    public class ExtWriterCrashTests
    {
        private readonly ITestOutputHelper output;

        public ExtWriterCrashTests(ITestOutputHelper output)
        {
            this.output = output;
        }

        /// <summary>What e2fsck may say after a crash: space and counts, nothing that loses or corrupts a file or directory.</summary>
        private static readonly Regex Allowed = new Regex(
            @"^(Pass \d|e2fsck |Block bitmap differences: ( +-\S+)*$|Inode bitmap differences: ( +-\S+)*$|(Block|Inode) bitmap differences: Group \d+ (block|inode) bitmap does not match checksum|Fix\? no|Free blocks count wrong|Free inodes count wrong|Directories count wrong|" +
            @"Unattached (zero-length )?inode|Connect to /lost\+found\? no|Inode \d+ ref count is \d+, should be \d+|Padding at end of .* bitmap is not set|" +
            @"\S+: \*+ WARNING: Filesystem still has errors|\S+: \d+/\d+ files|Group \d+ (block|inode) bitmap does not match checksum|Clear\? no|" +
            @"Extended attribute block \d+ has reference count \d+, should be \d+|Unconnected directory inode \d+|'\.\.' in .* should be <The NULL inode> \(0\)\.|" +
            @"IGNORED\.|\s*[-+(]|\s*$)",
            RegexOptions.Compiled);

        private static readonly string[] Forbidden = { "Entry '", "multiply-claimed", "duplicate", "HTREE", "bad block", "Problem in HTREE", "has deleted/unused inode", "directory corrupted", "Duplicate" };

        [Theory]
        [InlineData("ext4", new[] { "-b", "4096" })]
        [InlineData("ext3-1k", new[] { "-b", "1024", "-t", "ext3" })]
        [InlineData("ext4-inline", new[] { "-b", "4096", "-O", "inline_data", "-I", "256" })]
        public void A_commit_cut_at_every_write_leaves_old_or_new_content_and_at_worst_leaks(string name, string[] options)
        {
            using var tmp = new TempDirectory();
            string src = tmp.File("src");
            Directory.CreateDirectory(Path.Combine(src, "etc"));
            Directory.CreateDirectory(Path.Combine(src, "dir"));
            File.WriteAllText(Path.Combine(src, "etc", "waagent.conf"), "OLD\n");
            File.WriteAllBytes(Path.Combine(src, "big"), ExtWriteOracle.Random(5, 300_000));
            File.WriteAllText(Path.Combine(src, "old"), "to be removed\n");
            File.WriteAllText(Path.Combine(src, "etc", "gone"), "to be removed\n");
            for (int i = 0; i < 400; i++)
            {
                File.WriteAllText(Path.Combine(src, "dir", $"entry-with-a-longer-name-{i:D4}"), i.ToString());
            }
            string pristine = ExtWriteOracle.Mkfs(tmp.Path, name, src, 24, options.Concat(new[] { "-N", "1024" }).ToArray());
            ExternalTool.Run(ExternalTool.Require("e2fsck", "e2fsprogs"), new[] { "-fyD", pristine }, check: false);
            ExtWriteOracle.AssertClean(pristine, "pristine");

            byte[] newBig = ExtWriteOracle.Random(6, 450_000);
            var newNames = Enumerable.Range(0, 60).Select(i => $"added-name-number-{i:D4}-with-some-length").ToList();
            var etcNames = Enumerable.Range(0, 4).Select(i => $"etc-{i}").ToList();

            void Edit(IFileSystemWriter w)
            {
                w.WriteFile("/etc/waagent.conf", new MemoryStream(Encoding.ASCII.GetBytes("NEW CONTENT\n")));
                w.WriteFile("/big", new MemoryStream(newBig));
                w.CreateDirectory("/newdir");
                w.WriteFile("/newdir/file", new MemoryStream(Encoding.ASCII.GetBytes("created\n")));
                w.CreateSymlink("/newdir/slow", "/" + new string('s', 200));
                w.Delete("/old");
                // With inline_data /etc is inline: a name removed and added in place, then an overflow into a block.
                w.Delete("/etc/gone");
                foreach (string n in etcNames)
                {
                    w.WriteFile("/etc/" + n, new MemoryStream(Encoding.ASCII.GetBytes(n)));
                }
                foreach (string n in newNames)
                {
                    w.WriteFile("/dir/" + n, new MemoryStream(Encoding.ASCII.GetBytes(n)));
                }
                for (int i = 0; i < 400; i += 13)
                {
                    w.Delete($"/dir/entry-with-a-longer-name-{i:D4}");
                }
                w.Commit();
            }

            // The full commit: how many writes it makes.
            string full = tmp.File("full.img");
            File.Copy(pristine, full);
            int writes;
            using (var s = new WriteSession(full))
            {
                Edit(s.Writer);
                writes = s.Sink.Writes;
                output.WriteLine($"{writes} writes, {s.Sink.Flushes} flushes");
            }
            ExtWriteOracle.AssertClean(full, "after the full commit");
            if (options.Contains("inline_data"))
            {
                // /etc was inline and overflowed into a block during the commit.
                Assert.Contains("Size of inline data", ExtWriteOracle.Debugfs(pristine, "stat /etc"), StringComparison.Ordinal);
                Assert.DoesNotContain("Size of inline data", ExtWriteOracle.Debugfs(full, "stat /etc"), StringComparison.Ordinal);
            }
            Assert.True(writes > 20, $"only {writes} writes");

            string cut = tmp.File("cut.img");
            var seen = new SortedSet<string>(StringComparer.Ordinal);
            for (int n = 0; n < writes; n++)
            {
                File.Copy(pristine, cut, true);
                using (var s = new WriteSession(cut, failAfter: n))
                {
                    try
                    {
                        Edit(s.Writer);
                    }
                    catch (IOException)
                    {
                        // the simulated crash
                    }
                }
                ToolResult fsck = ExtWriteOracle.Fsck(cut);
                string report = fsck.StdOut + fsck.StdErr;
                foreach (string line in report.Split('\n'))
                {
                    string l = line.TrimEnd('\r');
                    Assert.False(Forbidden.Any(f => l.Contains(f, StringComparison.Ordinal)), $"cut before write {n}: e2fsck reports damage:\n{report}");
                    if (!Allowed.IsMatch(l))
                    {
                        Assert.Fail($"cut before write {n}: e2fsck reports something beyond leaks and counts: '{l}'\n{report}");
                    }
                    if (l.Length > 0 && !l.StartsWith("Pass", StringComparison.Ordinal) && !l.StartsWith(" ", StringComparison.Ordinal))
                    {
                        seen.Add(Regex.Replace(l, @"\d+", "N"));
                    }
                }

                using DiskImage disk = DiskImage.Open(cut);
                using var fs = new ExtFileSystem(new DiskSlice(disk, 0, disk.VirtualSize, cut));
                string conf = Encoding.ASCII.GetString(ExtOracle.ReadAll(fs.OpenRead("/etc/waagent.conf")));
                Assert.True(conf == "OLD\n" || conf == "NEW CONTENT\n", $"cut before write {n}: waagent.conf reads '{conf}'");
                byte[] big = ExtOracle.ReadAll(fs.OpenRead("/big"));
                Assert.True(big.Length == 300_000 && big.AsSpan().SequenceEqual(ExtWriteOracle.Random(5, 300_000)) || big.AsSpan().SequenceEqual(newBig), $"cut before write {n}: /big is neither old nor new");
                var names = fs.List("/dir").Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
                for (int i = 0; i < 400; i++)
                {
                    Assert.True(i % 13 == 0 || names.Contains($"entry-with-a-longer-name-{i:D4}"), $"cut before write {n}: an untouched name was lost");
                }
                foreach (string a in newNames.Where(names.Contains))
                {
                    Assert.Equal(a, Encoding.ASCII.GetString(ExtOracle.ReadAll(fs.OpenRead("/dir/" + a))));
                }
                var etc = fs.List("/etc").Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
                Assert.True(etc.Contains("waagent.conf"), $"cut before write {n}: /etc lost waagent.conf");
                foreach (string a in etcNames.Where(etc.Contains))
                {
                    Assert.Equal(a, Encoding.ASCII.GetString(ExtOracle.ReadAll(fs.OpenRead("/etc/" + a))));
                }
            }
            output.WriteLine("e2fsck said, over all cuts: " + string.Join(" | ", seen));
        }
    }
}
