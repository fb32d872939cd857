using System;
using System.Collections.Generic;
using System.Globalization;
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
    /// Directories whose entries are inline (inline_data): names added in i_block and in the system.data
    /// continuation, the overflow into a block, names removed from either region, a subdirectory and
    /// symlinks created inside one. After every committed step: e2fsck -fn clean, debugfs lists exactly the
    /// expected names, and the whole tree read back through our reader equals a folder on this machine.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public class ExtInlineDirectoryWriteTests
    {
        private const uint InlineFlag = 0x10000000;
        private const int Cases = 400;

        [Theory]
        [InlineData("4k-csum", new[] { "-b", "4096", "-O", "inline_data" })]
        [InlineData("4k-nocsum", new[] { "-b", "4096", "-O", "inline_data,^metadata_csum" })]
        [InlineData("1k-blockmap", new[] { "-b", "1024", "-O", "inline_data,^extent,^metadata_csum,^64bit" })]
        public void Inline_directories_take_and_lose_names_and_overflow_into_a_block(string name, string[] options)
        {
            using var tmp = new TempDirectory();
            string model = tmp.File("model");
            Populate(tmp.File("src"));
            Populate(model);
            string image = ExtWriteOracle.Mkfs(tmp.Path, name, tmp.File("src"), 32, options.Concat(new[] { "-I", "256", "-N", "512" }).ToArray());
            foreach (string d in new[] { "/grow", "/shrink", "/empty", "/cont" })
            {
                Assert.True(IsInline(image, d), $"mkfs.ext4 -d did not make {d} inline:\n" + ExtWriteOracle.Debugfs(image, $"stat {d}"));
            }
            // /cont gets a system.data continuation of one empty entry as the kernel makes when i_block is full
            // (68 bytes: all the room a 256-byte inode has left; e2fsprogs never makes one), with a non-zero
            // e_hash (the kernel and e2fsprogs write 0) so that the rehash is checked too.
            AddContinuation(image, tmp, "/cont", 68);
            ExtWriteOracle.AssertClean(image, "with the crafted continuation");
            int bs = options[1] == "4096" ? 4096 : 1024;
            bool extents = !options[3].Contains("^extent", StringComparison.Ordinal);

            // i_block has 56 bytes of entries; "a" and "bb" use 24; 12-byte names fit twice, the third overflows.
            var states = new List<bool>();
            for (int i = 1; i <= 6; i++)
            {
                string file = $"/grow/n{i}";
                Step(image, model, "/grow", w => w.WriteFile(file, new MemoryStream(Content(i))), m => WriteModel(m, file, Content(i)));
                states.Add(IsInline(image, "/grow"));
            }
            Assert.Equal(new[] { true, true, false, false, false, false }, states);
            AssertBlockDirectory(image, "/grow", bs, extents);

            // Removing: the middle name (merged into the one before), the first (its inode becomes 0), then a
            // new name into the freed first slot, then the last.
            foreach (string gone in new[] { "two", "one" })
            {
                Step(image, model, "/shrink", w => w.Delete("/shrink/" + gone), m => File.Delete(Path.Combine(m, "shrink", gone)));
            }
            Step(image, model, "/shrink", w => w.CreateSymlink("/shrink/four", "three"), m => File.CreateSymbolicLink(Path.Combine(m, "shrink", "four"), "three"));
            Step(image, model, "/shrink", w => w.Delete("/shrink/three"), m => File.Delete(Path.Combine(m, "shrink", "three")));
            Assert.True(IsInline(image, "/shrink"));

            // A subdirectory inside an inline directory: its '..' and the parent's link count; symlinks beside it.
            Step(image, model, "/empty", w => w.CreateDirectory("/empty/sub"), m => Directory.CreateDirectory(Path.Combine(m, "empty", "sub")));
            Assert.Equal(3, ExtWriteOracle.Stat(image, "/empty").Links);
            Step(image, model, "/empty/sub", w => w.WriteFile("/empty/sub/f", new MemoryStream(Content(9))), m => WriteModel(m, "/empty/sub/f", Content(9)));
            string slow = "/" + string.Join("/", Enumerable.Repeat("a-long-component", 6));
            Step(image, model, "/empty", w => w.CreateSymlink("/empty/l", slow), m => File.CreateSymbolicLink(Path.Combine(m, "empty", "l"), slow));
            Assert.True(IsInline(image, "/empty"));
            Step(image, model, "/empty", w => w.CreateSymlink("/empty/fast", "sub/f"), m => File.CreateSymbolicLink(Path.Combine(m, "empty", "fast"), "sub/f"));
            Assert.Equal("sub/f", ExtWriteOracle.Debugfs(image, "stat /empty/fast").Split("Fast link dest: \"")[1].Split('"')[0]);
            Step(image, model, "/empty", w => w.Delete("/empty/sub", recursive: true), m => Directory.Delete(Path.Combine(m, "empty", "sub"), true));
            Assert.Equal(2, ExtWriteOracle.Stat(image, "/empty").Links);

            // The continuation: 4 names fill i_block, the next 3 go to system.data (whose e_hash is redone).
            for (int i = 1; i <= 7; i++)
            {
                string file = $"/cont/x{i}";
                Step(image, model, "/cont", w => w.WriteFile(file, new MemoryStream(Content(i))), m => WriteModel(m, file, Content(i)));
                Assert.True(IsInline(image, "/cont"), $"/cont left inline data at x{i}");
            }
            Assert.Contains("system.data (68)", ExtWriteOracle.Debugfs(image, "ea_list /cont"), StringComparison.Ordinal);
            foreach (string gone in new[] { "x6", "x5", "x1" })
            {
                Step(image, model, "/cont", w => w.Delete("/cont/" + gone), m => File.Delete(Path.Combine(m, "cont", gone)));
            }
            int added = 0;
            for (int i = 8; IsInline(image, "/cont"); i++)
            {
                Assert.True(i < 30, "/cont never overflowed");
                string file = $"/cont/x{i}";
                Step(image, model, "/cont", w => w.CreateDirectory(file), m => Directory.CreateDirectory(Path.Combine(m, file.TrimStart('/'))));
                added++;
            }
            // i_block's freed slot takes x8; system.data's freed 24 bytes take x9 and x10, its last entry's 32
            // spare bytes x11 and x12; x13 overflows.
            Assert.Equal(6, added);
            AssertBlockDirectory(image, "/cont", bs, extents);
            Assert.Equal(2 + 6, ExtWriteOracle.Stat(image, "/cont").Links);
        }

        [Fact]
        public void The_attribute_hash_matches_what_e2fsck_computes()
        {
            // e2fsck checks a non-zero in-inode e_hash against its own computation (pass 1).
            byte[] value = new byte[40];
            value[4] = 40;
            uint hash = ExtInlineData.Hash(Encoding.ASCII.GetBytes("data"), value);
            Assert.NotEqual(0u, hash);
            using var tmp = new TempDirectory();
            Populate(tmp.File("src"));
            string image = ExtWriteOracle.Mkfs(tmp.Path, "hash", tmp.File("src"), 32, "-b", "4096", "-O", "inline_data,^metadata_csum", "-I", "256", "-N", "512");
            AddContinuation(image, tmp, "/cont", 40);
            ExtWriteOracle.AssertClean(image, "with the computed hash");
            (long offset, int at) = AttributeEntry(image, "/cont");
            using (var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
            {
                f.Position = offset + at + 12;
                f.WriteByte((byte)(hash ^ 1));
            }
            Assert.NotEqual(0, ExtWriteOracle.Fsck(image).ExitCode);
        }

        /// <summary>
        /// The inline directory's inode damaged (i_block entries, i_size, the attribute header and the
        /// system.data value), then a name added, removed or overflowing: a typed error or a normal end, and
        /// no write outside the volume.
        /// </summary>
        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void Damaged_inline_directories_give_typed_errors_when_written(bool csum)
        {
            using var tmp = new TempDirectory();
            Populate(tmp.File("src"));
            string image = ExtWriteOracle.Mkfs(tmp.Path, "fuzz", tmp.File("src"), 8, "-b", "4096", "-O", csum ? "inline_data" : "inline_data,^metadata_csum", "-I", "256", "-N", "128");
            AddContinuation(image, tmp, "/cont", 68);
            using (var s = new WriteSession(image))
            {
                for (int i = 1; i <= 6; i++)
                {
                    s.Writer.WriteFile($"/cont/x{i}", new MemoryStream(Content(i)));
                }
                s.Writer.Commit();
            }
            ExtWriteOracle.AssertClean(image, "the fuzz image");
            Assert.True(IsInline(image, "/cont"));
            (long inode, _) = AttributeEntry(image, "/cont");
            var pristine = new MutatedImage(File.ReadAllBytes(image), csum ? "inline-fuzz-csum" : "inline-fuzz");
            int n = 0;
            int typed = Fuzz.Run("ext inline directory write", pristine, Cases, csum ? 712 : 711, (r, m) => m.Mutate(r, inode, 256), m =>
            {
                BlockDevice inner = m.AsDevice();
                var device = new StagedBlockDevice(inner, new FuzzHarness.BoundedSink(inner.Length));
                using IFileSystemWriter w = ExtFileSystem.OpenForWriting(device);
                switch (n++ % 4)
                {
                    case 0: w.Delete("/cont/x5"); break;
                    case 1: w.Delete("/cont/x1"); break;
                    case 2: w.CreateSymlink("/cont/y", "x2"); break;
                    default:
                        for (int i = 0; i < 3; i++)
                        {
                            w.CreateDirectory($"/cont/a-longer-name-{i}");
                        }
                        break;
                }
                w.Commit();
            });
            // metadata_csum: the inode checksum refuses every damaged inode; without it the damage reaches the
            // entry parsing, and some cases (damage to bytes the edit does not depend on) go through.
            Assert.True(csum ? typed == Cases : typed > Cases / 10 && typed < Cases, $"{typed} of {Cases} cases ended in a typed error");
        }

        private delegate void WriterStep(IFileSystemWriter w);

        /// <summary>One change through the writer and the same on the model; then e2fsck, debugfs's listing of <paramref name="dir"/>, the whole tree.</summary>
        private static void Step(string image, string model, string dir, WriterStep write, Action<string> onModel)
        {
            using (var s = new WriteSession(image))
            {
                write(s.Writer);
                s.Writer.Commit();
            }
            onModel(model);
            ExtWriteOracle.AssertClean(image, "after a change in " + dir);
            string listing = ExtWriteOracle.Debugfs(image, $"ls -l {dir}");
            // debugfs shows an inline region's unused first entry too (inode 0, as the kernel leaves it): not a name.
            var names = listing.Split('\n').Select(l => l.Trim()).Where(l => Regex.IsMatch(l, @"^[1-9]\d*\s+\d+\s+\(")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last()).Where(n => n != "." && n != "..").OrderBy(n => n, StringComparer.Ordinal).ToList();
            var expected = Directory.EnumerateFileSystemEntries(Path.Combine(model, dir.TrimStart('/'))).Select(p => Path.GetFileName(p)!).OrderBy(n => n, StringComparer.Ordinal).ToList();
            Assert.True(expected.SequenceEqual(names), $"debugfs ls -l {dir}:\n{listing}\nexpected: {string.Join(" ", expected)}");
            using DiskImage disk = DiskImage.Open(image);
            using var fs = new ExtFileSystem(new DiskSlice(disk, 0, disk.VirtualSize, image));
            Assert.True(ExtWriterPropertyTests.Compare(fs, model, "/") > 5);
        }

        private static void Populate(string root)
        {
            Directory.CreateDirectory(root);
            File.SetUnixFileMode(root, (UnixFileMode)0x1ED);
            foreach (string d in new[] { "grow", "shrink", "empty", "cont" })
            {
                Directory.CreateDirectory(Path.Combine(root, d));
                File.SetUnixFileMode(Path.Combine(root, d), (UnixFileMode)0x1ED);
            }
            WriteModel(root, "/grow/a", Content(100));
            WriteModel(root, "/grow/bb", Content(101));
            WriteModel(root, "/shrink/one", Content(102));
            WriteModel(root, "/shrink/two", Content(103));
            WriteModel(root, "/shrink/three", Content(104));
            WriteModel(root, "/top", Content(105));
        }

        private static void WriteModel(string root, string path, byte[] content)
        {
            string host = Path.Combine(root, path.TrimStart('/'));
            File.WriteAllBytes(host, content);
            File.SetUnixFileMode(host, (UnixFileMode)0x1A4);
        }

        private static byte[] Content(int i) => Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"content {i}\n"));

        private static bool IsInline(string image, string path)
        {
            string stat = ExtWriteOracle.Debugfs(image, $"stat {path}");
            Match m = Regex.Match(stat, @"Flags: 0x([0-9a-fA-F]+)");
            Assert.True(m.Success, stat);
            return (Convert.ToUInt32(m.Groups[1].Value, 16) & InlineFlag) != 0;
        }

        /// <summary>After the overflow: one block, the map kind of the file system, no system.data, '.' and '..' first.</summary>
        private static void AssertBlockDirectory(string image, string path, int blockSize, bool extents)
        {
            string stat = ExtWriteOracle.Debugfs(image, $"stat {path}");
            Assert.Equal((long)blockSize, ExtWriteOracle.Stat(image, path).Size);
            Assert.Equal(extents, stat.Contains("EXTENTS:", StringComparison.Ordinal));
            Assert.DoesNotContain("system.data", stat, StringComparison.Ordinal);
            Assert.DoesNotContain("Size of inline data", stat, StringComparison.Ordinal);
            string[] first = ExtWriteOracle.Debugfs(image, $"ls {path}").Split(new[] { ' ', '\n', '(', ')' }, StringSplitOptions.RemoveEmptyEntries).Where(t => !t.StartsWith("debugfs", StringComparison.Ordinal) && !Regex.IsMatch(t, @"^\d+$|^1\.\d")).Take(2).ToArray();
            Assert.Equal(new[] { ".", ".." }, first);
        }

        /// <summary>Gives <paramref name="dir"/> a system.data value of one empty entry and i_size 60 + size, with e_hash set.</summary>
        private static void AddContinuation(string image, TempDirectory tmp, string dir, int size)
        {
            byte[] value = new byte[size];
            value[4] = (byte)size;
            string file = tmp.File("value.bin");
            File.WriteAllBytes(file, value);
            string debugfs = ExternalTool.Require("debugfs", "e2fsprogs");
            ExternalTool.Run(debugfs, new[] { "-w", "-R", $"ea_set -f {file} {dir} system.data", image });
            ExternalTool.Run(debugfs, new[] { "-w", "-R", $"sif {dir} size {60 + size}", image });
            (long offset, int at) = AttributeEntry(image, dir);
            uint hash = ExtInlineData.Hash(Encoding.ASCII.GetBytes("data"), value);
            using (var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
            {
                f.Position = offset + at + 12;
                f.Write(BitConverter.GetBytes(hash));
            }
            // debugfs -n reads the inode without checking its checksum and writes it back with a new one.
            ExternalTool.Run(debugfs, new[] { "-w", "-n", "-R", $"sif {dir} links_count 2", image });
        }

        /// <summary>The inode's byte offset in the image and the offset in it of its first in-inode attribute entry (system.data here).</summary>
        private static (long Offset, int Entry) AttributeEntry(string image, string dir)
        {
            string imap = ExtWriteOracle.Debugfs(image, $"imap {dir}");
            Match m = Regex.Match(imap, @"located at block (\d+), offset 0x([0-9a-fA-F]+)");
            Assert.True(m.Success, imap);
            int blockSize = int.Parse(Regex.Match(ExtWriteOracle.Debugfs(image, "stats"), @"Block size:\s+(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
            long offset = (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * blockSize) + Convert.ToInt64(m.Groups[2].Value, 16);
            var raw = new byte[256];
            using (var f = File.OpenRead(image))
            {
                f.Position = offset;
                f.ReadExactly(raw);
            }
            int extra = BitConverter.ToUInt16(raw, 0x80);
            int entry = 128 + extra + 4;
            Assert.Equal(0xEA020000u, BitConverter.ToUInt32(raw, 128 + extra));
            Assert.Equal("data", Encoding.ASCII.GetString(raw, entry + 16, 4));
            return (offset, entry);
        }
    }
}
