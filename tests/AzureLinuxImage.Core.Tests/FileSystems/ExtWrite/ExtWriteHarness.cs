using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.Disks;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems.ExtWrite
{
    /// <summary>Writes committed to a raw image file; optionally fails after a number of writes (a crash at that point).</summary>
    internal sealed class FileSink : IBlockDeviceSink, IDisposable
    {
        private readonly FileStream stream;
        private readonly int failAfter;

        public FileSink(string path, int failAfter = int.MaxValue)
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            this.failAfter = failAfter;
        }

        public int Writes { get; private set; }

        public int Flushes { get; private set; }

        public List<(long Offset, int Length)> Log { get; } = new List<(long Offset, int Length)>();

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            if (Writes >= failAfter)
            {
                throw new IOException($"simulated crash before write {Writes}");
            }
            Writes++;
            Log.Add((offset, data.Length));
            stream.Position = offset;
            stream.Write(data);
        }

        public void Flush()
        {
            Flushes++;
            stream.Flush(true);
        }

        public void Dispose() => stream.Dispose();
    }

    /// <summary>An image opened for writing through a staged device over the file.</summary>
    internal sealed class WriteSession : IDisposable
    {
        private readonly DiskImage disk;
        private readonly FileSink sink;

        public WriteSession(string image, int failAfter = int.MaxValue, long memoryLimit = 64L << 20)
        {
            disk = DiskImage.Open(image);
            sink = new FileSink(image, failAfter);
            Device = new StagedBlockDevice(new DiskSlice(disk, 0, disk.VirtualSize, image), sink, memoryLimit);
            Writer = ExtFileSystem.OpenForWriting(Device);
        }

        public StagedBlockDevice Device { get; }

        public IFileSystemWriter Writer { get; }

        public FileSink Sink => sink;

        public void Dispose()
        {
            Writer.Dispose();
            sink.Dispose();
            disk.Dispose();
        }
    }

    internal static class ExtWriteOracle
    {
        public static string Mkfs(string dir, string name, string source, int sizeMiB, params string[] options)
        {
            Directory.CreateDirectory(source);
            string image = Path.Combine(dir, name + ".img");
            ExtSourceTree.MakeFileSystem(image, source, sizeMiB, options);
            return image;
        }

        /// <summary>e2fsck -fn: the exit code must be 0 and nothing reported.</summary>
        public static void AssertClean(string image, string context = "")
        {
            ToolResult r = Fsck(image);
            Assert.True(r.ExitCode == 0, $"e2fsck -fn {context} exit {r.ExitCode}:\n{r.StdOut}{r.StdErr}");
        }

        public static ToolResult Fsck(string image) =>
            ExternalTool.Run(ExternalTool.Require("e2fsck", "e2fsprogs"), new[] { "-fn", image }, check: false);

        /// <summary>debugfs's output, standard error included (where it reports a missing file).</summary>
        public static string Debugfs(string image, string command)
        {
            ToolResult r = ExternalTool.Run(ExternalTool.Require("debugfs", "e2fsprogs"), new[] { "-R", command, image });
            return r.StdOut + r.StdErr;
        }

        /// <summary>The file's bytes as debugfs dumps them.</summary>
        public static byte[] Dump(string image, string path, string workDir)
        {
            string to = Path.Combine(workDir, "dump-" + Guid.NewGuid().ToString("N"));
            Debugfs(image, $"dump \"{path}\" {to}");
            Assert.True(File.Exists(to), $"debugfs could not dump {path}");
            byte[] b = File.ReadAllBytes(to);
            File.Delete(to);
            return b;
        }

        public static (uint Mode, uint Uid, uint Gid, long Size, string Type, int Links) Stat(string image, string path)
        {
            string o = Debugfs(image, $"stat \"{path}\"");
            Match head = Regex.Match(o, @"Type:\s+(\S+)\s+Mode:\s+(\d+)");
            Match owner = Regex.Match(o, @"User:\s+(\d+)\s+Group:\s+(\d+).*?Size:\s+(\d+)");
            Match links = Regex.Match(o, @"Links:\s+(\d+)");
            Assert.True(head.Success && owner.Success && links.Success, "debugfs stat output not understood for " + path + ":\n" + o);
            return (Convert.ToUInt32(head.Groups[2].Value, 8), uint.Parse(owner.Groups[1].Value), uint.Parse(owner.Groups[2].Value), long.Parse(owner.Groups[3].Value), head.Groups[1].Value, int.Parse(links.Groups[1].Value));
        }

        public static byte[] Random(int seed, int n)
        {
            var b = new byte[n];
            new Random(seed).NextBytes(b);
            return b;
        }
    }
}
