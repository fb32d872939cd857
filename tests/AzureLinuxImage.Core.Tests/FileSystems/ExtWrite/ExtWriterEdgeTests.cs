using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.ExtWrite
{
    /// <summary>Refusals (nothing staged, image unchanged), extended attributes and hard links kept, inline data, failed operations.</summary>
    public class ExtWriterEdgeTests
    {
        private static string Image(TempDirectory tmp, string name, params string[] options)
        {
            string src = tmp.File("src-" + name);
            Directory.CreateDirectory(Path.Combine(src, "etc"));
            File.WriteAllText(Path.Combine(src, "etc", "waagent.conf"), "Provisioning.Agent=auto\n");
            File.WriteAllText(Path.Combine(src, "small"), "small\n");
            return ExtWriteOracle.Mkfs(tmp.Path, name, src, 32, options.Concat(new[] { "-N", "512" }).ToArray());
        }

        private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

        [Theory]
        [InlineData("feature needs_recovery", "JournalNeedsRecovery")]
        [InlineData("ssv state 0", "FileSystemNotClean")]
        [InlineData("ssv state 3", "FileSystemNotClean")]
        [InlineData("ssv last_orphan 12", "FileSystemNotClean")]
        [InlineData("feature quota", "UnsupportedDiskImage")]
        public void A_file_system_the_writer_cannot_keep_consistent_is_refused_untouched(string debugfsCommand, string errorId)
        {
            using var tmp = new TempDirectory();
            string image = Image(tmp, "refused", "-b", "4096");
            ExternalTool.Run(ExternalTool.Require("debugfs", "e2fsprogs"), new[] { "-w", "-R", debugfsCommand, image });
            string before = Hash(image);
            var e = Assert.ThrowsAny<AzureLinuxImageException>(() => new WriteSession(image).Dispose());
            Assert.Equal(errorId, e.ErrorId);
            Assert.Equal(before, Hash(image));
        }

        [Fact]
        public void Nothing_reaches_the_image_before_commit_and_a_failed_operation_stages_nothing()
        {
            using var tmp = new TempDirectory();
            string image = Image(tmp, "staged", "-b", "4096");
            string before = Hash(image);
            using (var s = new WriteSession(image, memoryLimit: 1 << 20))
            {
                s.Writer.WriteFile("/etc/waagent.conf", new MemoryStream(Encoding.ASCII.GetBytes("changed\n")));
                s.Writer.CreateDirectory("/d");
                long staged = s.Device.StagedBytes;
                // Too big for the file system: refused, and what it had allocated is rolled back.
                var e = Assert.Throws<AzureLinuxImageException>(() => s.Writer.WriteFile("/huge", new MemoryStream(new byte[40 << 20])));
                Assert.Equal("FileSystemFull", e.ErrorId);
                Assert.Equal(staged, s.Device.StagedBytes);
                Assert.Null(s.Writer.GetEntry("/huge"));
                Assert.Throws<AzureLinuxImageException>(() => s.Writer.CreateDirectory("/d"));
                Assert.Throws<AzureLinuxImageException>(() => s.Writer.Delete("/etc"));
                Assert.Throws<AzureLinuxImageException>(() => s.Writer.WriteFile("/missing/x", new MemoryStream(new byte[1])));
                Assert.Equal(staged, s.Device.StagedBytes);
                Assert.Equal("changed\n", new StreamReader(s.Writer.OpenRead("/etc/waagent.conf")).ReadToEnd());
                Assert.Equal(before, Hash(image));
            }
            // Disposed without commit: byte-identical.
            Assert.Equal(before, Hash(image));
        }

        [Fact]
        public void A_large_file_is_staged_in_bounded_memory()
        {
            using var tmp = new TempDirectory();
            string image = Image(tmp, "large", "-b", "4096");
            byte[] content = ExtWriteOracle.Random(12, (20 << 20) + 5);
            using (var s = new WriteSession(image, memoryLimit: 1 << 20))
            {
                s.Writer.WriteFile("/large", new MemoryStream(content));
                Assert.True(s.Device.MemoryBytes <= (1 << 20) + (1 << 20), $"{s.Device.MemoryBytes} bytes staged in memory");
                Assert.True(s.Device.StagedBytes >= content.Length);
                Assert.Equal(content, ExtOracle.ReadAll(s.Writer.OpenRead("/large")));
                s.Writer.WriteFile("/large", new MemoryStream(content, 0, 5_000_000));
                s.Writer.Commit();
            }
            ExtWriteOracle.AssertClean(image, "after");
            Assert.Equal(content.AsSpan(0, 5_000_000).ToArray(), ExtWriteOracle.Dump(image, "/large", tmp.Path));
        }

        [Fact]
        public void Replacing_keeps_extended_attributes_and_hard_links_and_deleting_drops_references()
        {
            using var tmp = new TempDirectory();
            string image = Image(tmp, "xattr", "-b", "4096");
            string label = "system_u:object_r:etc_t:s0";
            var debugfs = ExternalTool.Require("debugfs", "e2fsprogs");
            // An in-inode label, an attribute too large for the inode (an attribute block), and a second hard link.
            ExternalTool.Run(debugfs, new[] { "-w", "-R", $"ea_set /etc/waagent.conf security.selinux {label}", image });
            ExternalTool.Run(debugfs, new[] { "-w", "-R", "ea_set /small user.big " + new string('v', 1500), image });
            ExternalTool.Run(debugfs, new[] { "-w", "-f", "-", image }, stdin: "ln /small /small-link\nsif /small links_count 2\n");
            ExtWriteOracle.AssertClean(image, "before");

            using (var s = new WriteSession(image))
            {
                s.Writer.WriteFile("/etc/waagent.conf", new MemoryStream(ExtWriteOracle.Random(9, 20000)));
                s.Writer.WriteFile("/small-link", new MemoryStream(Encoding.ASCII.GetBytes("through the other link\n")));
                s.Writer.Commit();
            }
            ExtWriteOracle.AssertClean(image, "after replacing");
            Assert.Contains(label, ExtWriteOracle.Debugfs(image, "ea_list /etc/waagent.conf"), StringComparison.Ordinal);
            Assert.Contains("user.big", ExtWriteOracle.Debugfs(image, "ea_list /small"), StringComparison.Ordinal);
            Assert.Equal("through the other link\n", Encoding.ASCII.GetString(ExtWriteOracle.Dump(image, "/small", tmp.Path)));
            Assert.Equal(2, ExtWriteOracle.Stat(image, "/small").Links);

            using (var s = new WriteSession(image))
            {
                s.Writer.Delete("/small");
                s.Writer.Commit();
            }
            ExtWriteOracle.AssertClean(image, "after removing one link");
            Assert.Equal(1, ExtWriteOracle.Stat(image, "/small-link").Links);
            Assert.Contains("user.big", ExtWriteOracle.Debugfs(image, "ea_list /small-link"), StringComparison.Ordinal);
            using (var s = new WriteSession(image))
            {
                s.Writer.Delete("/small-link");
                s.Writer.Delete("/etc", recursive: true);
                s.Writer.Commit();
            }
            ExtWriteOracle.AssertClean(image, "after removing the last link and the attribute block");
        }

        [Fact]
        public void An_inline_data_file_is_moved_to_blocks_when_replaced()
        {
            using var tmp = new TempDirectory();
            string image = Image(tmp, "inline", "-b", "4096", "-O", "inline_data", "-I", "256");
            Assert.Contains("Size of inline data", ExtWriteOracle.Debugfs(image, "stat /small"), StringComparison.Ordinal);
            byte[] content = ExtWriteOracle.Random(11, 10000);
            using (var s = new WriteSession(image))
            {
                s.Writer.WriteFile("/small", new MemoryStream(content));
                // The inline directory /etc takes a new name (ExtInlineDirectoryWriteTests covers the rest).
                s.Writer.WriteFile("/etc/new", new MemoryStream(new byte[3]));
                s.Writer.Commit();
            }
            ExtWriteOracle.AssertClean(image, "after");
            Assert.Equal(content, ExtWriteOracle.Dump(image, "/small", tmp.Path));
            Assert.Equal(new byte[3], ExtWriteOracle.Dump(image, "/etc/new", tmp.Path));
        }
    }
}
