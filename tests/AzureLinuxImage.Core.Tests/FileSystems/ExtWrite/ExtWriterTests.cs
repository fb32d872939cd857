using System;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.ExtWrite
{
    /// <summary>Every write operation on each ext flavour, checked by e2fsck -fn and debugfs after the commit.</summary>
    public class ExtWriterTests
    {
        public static TheoryData<string, string[]> Flavours => new TheoryData<string, string[]>
        {
            { "ext4-default", new[] { "-b", "4096" } },
            { "ext4-no-csum", new[] { "-b", "4096", "-O", "^metadata_csum" } },
            { "ext4-32bit", new[] { "-b", "4096", "-O", "^64bit" } },
            { "ext4-no-flex", new[] { "-b", "4096", "-O", "^flex_bg" } },
            { "ext4-1k", new[] { "-b", "1024" } },
            { "ext3", new[] { "-b", "4096", "-t", "ext3" } },
            { "ext2", new[] { "-b", "1024", "-t", "ext2" } },
            { "ext4-meta-bg", new[] { "-b", "1024", "-O", "meta_bg,^resize_inode" } },
            { "ext4-csum-seed", new[] { "-b", "4096", "-O", "metadata_csum_seed" } },
        };

        [Theory]
        [MemberData(nameof(Flavours))]
        public void Create_replace_delete_and_link_leave_a_clean_file_system(string name, string[] options)
        {
            using var tmp = new TempDirectory();
            string src = tmp.File("src");
            Directory.CreateDirectory(Path.Combine(src, "etc"));
            File.WriteAllText(Path.Combine(src, "etc", "waagent.conf"), "Provisioning.Agent=auto\n");
            File.WriteAllBytes(Path.Combine(src, "big.bin"), ExtWriteOracle.Random(1, 3 << 20));
            File.WriteAllText(Path.Combine(src, "gone.txt"), "delete me\n");
            Directory.CreateDirectory(Path.Combine(src, "tree/a/b"));
            File.WriteAllText(Path.Combine(src, "tree/a/b/c"), "c\n");
            File.WriteAllText(Path.Combine(src, "tree/x"), "x\n");
            string image = ExtWriteOracle.Mkfs(tmp.Path, name, src, 64, options.Concat(new[] { "-N", "2048" }).ToArray());
            ExtWriteOracle.AssertClean(image, "before");

            byte[] large = ExtWriteOracle.Random(2, (5 << 20) + 17);
            byte[] replacement = ExtWriteOracle.Random(3, 70000);
            string slowTarget = "/" + new string('t', 100) + "/target";
            using (var s = new WriteSession(image))
            {
                IFileSystemWriter w = s.Writer;
                w.WriteFile("/etc/waagent.conf", new MemoryStream(Encoding.ASCII.GetBytes("Provisioning.Agent=waagent\nResourceDisk.Format=n\n")));
                w.WriteFile("/big.bin", new MemoryStream(replacement));
                w.WriteFile("/new-large.bin", new MemoryStream(large), new NewItemAttributes { Mode = 0x180, Uid = 1000, Gid = 100 });
                w.CreateDirectory("/newdir", new NewItemAttributes { Mode = 0x1C0, Uid = 5, Gid = 6 });
                w.WriteFile("/newdir/inner", new MemoryStream(Encoding.ASCII.GetBytes("inner\n")));
                w.CreateSymlink("/fast-link", "etc/waagent.conf");
                w.CreateSymlink("/slow-link", slowTarget);
                w.Delete("/gone.txt");
                w.Delete("/tree", recursive: true);
                w.SetAttributes("/etc/waagent.conf", mode: 0x100, uid: 42, gid: 43);
                // Reads through the writer see the staged state.
                Assert.Equal("inner\n", new StreamReader(w.OpenRead("/newdir/inner")).ReadToEnd());
                Assert.Null(w.GetEntry("/tree"));
                Assert.Equal(slowTarget, w.GetEntry("/slow-link", followLastLink: false)!.LinkTarget);
                w.Commit();
            }

            ExtWriteOracle.AssertClean(image, "after");
            Assert.Equal("Provisioning.Agent=waagent\nResourceDisk.Format=n\n", Encoding.ASCII.GetString(ExtWriteOracle.Dump(image, "/etc/waagent.conf", tmp.Path)));
            Assert.Equal(replacement, ExtWriteOracle.Dump(image, "/big.bin", tmp.Path));
            Assert.Equal(large, ExtWriteOracle.Dump(image, "/new-large.bin", tmp.Path));
            var st = ExtWriteOracle.Stat(image, "/new-large.bin");
            Assert.Equal((0x180u, 1000u, 100u, (long)large.Length, "regular"), (st.Mode, st.Uid, st.Gid, st.Size, st.Type));
            st = ExtWriteOracle.Stat(image, "/etc/waagent.conf");
            Assert.Equal((0x100u, 42u, 43u), (st.Mode, st.Uid, st.Gid));
            st = ExtWriteOracle.Stat(image, "/newdir");
            Assert.Equal((0x1C0u, 5u, 6u, "directory", 2), (st.Mode, st.Uid, st.Gid, st.Type, st.Links));
            Assert.Contains("etc/waagent.conf", ExtWriteOracle.Debugfs(image, "stat /fast-link"));
            Assert.Contains("Fast link dest", ExtWriteOracle.Debugfs(image, "stat /fast-link"));
            Assert.Equal(slowTarget, Encoding.ASCII.GetString(ExtWriteOracle.Dump(image, "/slow-link", tmp.Path)));
            Assert.Contains("File not found", ExtWriteOracle.Debugfs(image, "stat /gone.txt") + ExtWriteOracle.Debugfs(image, "stat /tree"), StringComparison.Ordinal);
        }
    }
}
