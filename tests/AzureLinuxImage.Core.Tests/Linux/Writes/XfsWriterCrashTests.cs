using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Xfs;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Tests.FileSystems.ExtWrite;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Partitions;
using Xunit;

namespace AzureLinuxImage.Tests.Linux.Writes
{
    /// <summary>
    /// XFS in-place edits cut by a crash (issue 17): the commit goes through a sink that fails before its Nth
    /// write, for every N. xfs_repair -n must find the file system clean every time, and every edit the
    /// writer calls crash-atomic (appending in the last block's slack, truncating, one block changed at the
    /// same size) must read as its old or its new content; an edit that shifts bytes inside blocks both
    /// sizes show is reported as not crash-atomic.
    /// </summary>
    public class XfsWriterCrashTests
    {
        private static byte[] Text(int length, char fill, int seed)
        {
            var b = new byte[length];
            for (int i = 0; i < length; i++)
            {
                b[i] = (byte)(i % 61 == 60 ? '\n' : fill + ((i + seed) % 7));
            }
            return b;
        }

        [Fact]
        public void A_commit_cut_at_every_write_leaves_xfs_clean_and_each_atomic_file_old_or_new()
        {
            ExternalTool.Require("mkfs.xfs", "xfsprogs");
            ExternalTool.Require("xfs_repair", "xfsprogs");
            using var tmp = new TempDirectory();
            string src = tmp.File("src");
            Directory.CreateDirectory(Path.Combine(src, "etc"));
            var old = new Dictionary<string, byte[]>
            {
                ["/append"] = Text(1000, 'a', 1),
                ["/truncate"] = Text(3000, 'b', 2),
                ["/truncate-two-blocks"] = Text(6000, 'c', 3),
                ["/same-size"] = Text(2500, 'd', 4),
                ["/etc/waagent.conf"] = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 150).Select(i => $"Option.Number{i}=value{i}\n"))),
            };
            var fresh = new Dictionary<string, byte[]>
            {
                ["/append"] = old["/append"].Concat(Text(500, 'A', 5)).ToArray(),
                ["/truncate"] = old["/truncate"].Take(1000).ToArray(),
                ["/truncate-two-blocks"] = old["/truncate-two-blocks"].Take(2000).ToArray(),
                ["/same-size"] = old["/same-size"].Select((b, i) => i >= 1200 && i < 1210 ? (byte)'Z' : b).ToArray(),
                ["/etc/waagent.conf"] = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(old["/etc/waagent.conf"]).Replace("Option.Number3=value3", "Option.Number3=a longer value")),
            };
            foreach (var (path, bytes) in old)
            {
                File.WriteAllBytes(src + path, bytes);
            }
            string pristine = tmp.File("xfs.img");
            PartitionTableTests.Truncate(pristine, 320L << 20);
            string proto = tmp.File("proto");
            File.WriteAllLines(proto, new[] { "/dev/null", "0 0", "d--755 0 0", " etc d--755 0 0", $"  waagent.conf ---644 0 0 {src}/etc/waagent.conf", " $" }
                .Concat(old.Keys.Where(k => k.LastIndexOf('/') == 0).Select(k => $" {k.Substring(1)} ---644 0 0 {src}{k}")).Concat(new[] { "$" }));
            ExternalTool.Run("mkfs.xfs", new[] { "-q", "-f", "-p", proto, pristine });
            WritableTestImages.AssertXfsClean(pristine);

            ISet<string> notAtomic = new SortedSet<string>();
            void Edit(StagedBlockDevice device)
            {
                using var w = XfsFileSystemWriter.Open(device);
                foreach (var (path, bytes) in fresh)
                {
                    w.WriteFile(path, new MemoryStream(bytes));
                }
                notAtomic = w.NotCrashAtomic;
                w.Commit();
            }

            string full = tmp.File("full.img");
            File.Copy(pristine, full);
            int writes;
            using (DiskImage disk = DiskImage.Open(full))
            using (var sink = new FileSink(full))
            {
                Edit(new StagedBlockDevice(new DiskSlice(disk, 0, disk.VirtualSize, full), sink));
                writes = sink.Writes;
            }
            WritableTestImages.AssertXfsClean(full);
            Assert.Equal(fresh.Keys.OrderBy(k => k), Read(full).Keys.OrderBy(k => k));
            Assert.All(fresh, f => Assert.Equal(f.Value, Read(full)[f.Key]));
            Assert.Equal(new[] { "/etc/waagent.conf" }, notAtomic.ToArray());
            Assert.True(writes >= 4, $"only {writes} writes");

            string cut = tmp.File("cut.img");
            for (int n = 0; n <= writes; n++)
            {
                File.Copy(pristine, cut, true);
                using (DiskImage disk = DiskImage.Open(cut))
                using (var sink = new FileSink(cut, failAfter: n))
                {
                    try
                    {
                        Edit(new StagedBlockDevice(new DiskSlice(disk, 0, disk.VirtualSize, cut), sink));
                    }
                    catch (IOException)
                    {
                        // the simulated crash
                    }
                }
                WritableTestImages.AssertXfsClean(cut);
                Dictionary<string, byte[]> now = Read(cut);
                foreach (string path in fresh.Keys.Where(p => !notAtomic.Contains(p)))
                {
                    byte[] content = now[path];
                    Assert.True(content.AsSpan().SequenceEqual(old[path]) || content.AsSpan().SequenceEqual(fresh[path]),
                        $"cut before write {n} of {writes}: {path} is neither its old nor its new content ({content.Length} bytes)");
                }
            }
        }

        private static Dictionary<string, byte[]> Read(string image)
        {
            using DiskImage disk = DiskImage.Open(image);
            using XfsFileSystem fs = XfsFileSystem.Open(new DiskSlice(disk, 0, disk.VirtualSize, image));
            var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (string path in new[] { "/append", "/truncate", "/truncate-two-blocks", "/same-size", "/etc/waagent.conf" })
            {
                using Stream s = fs.OpenRead(path);
                using var m = new MemoryStream();
                s.CopyTo(m);
                result[path] = m.ToArray();
            }
            return result;
        }
    }
}
