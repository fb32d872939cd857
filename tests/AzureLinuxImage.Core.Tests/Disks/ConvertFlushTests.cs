using System;
using System.IO;
using System.Linq;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>
    /// What reaches the kernel, seen with strace(1) on the real CLI: by default the temporary output is
    /// flushed (writeback started per chunk, fsync) before its rename and the folder after it; with
    /// --no-flush neither happens, and the rename is still the only way the output appears.
    /// </summary>
    public class ConvertFlushTests
    {
        private const long MiB = 1024 * 1024;

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void The_output_is_flushed_before_the_rename_unless_no_flush_is_asked(bool noFlush)
        {
            if (!OperatingSystem.IsLinux())
            {
                Assert.Skip("strace is Linux only.");
            }
            string strace = ExternalTool.Require("strace", "strace");
            using var dir = new TempDirectory();
            string raw = dir.File("src.raw"), vhd = dir.File("out.vhd"), log = dir.File("strace.log");
            Files.CreateSparse(raw, (20 * MiB) + 512);
            Files.WriteAt(raw, MiB, Files.Random((int)(9 * MiB), 3));
            var args = new[]
            {
                "-f", "-y", "-e", "trace=fsync,fdatasync,sync_file_range,syncfs,sync,msync,rename,renameat,renameat2", "-o", log,
                "dotnet", Repository.CliDll, "convert", raw, vhd,
            }.Concat(noFlush ? new[] { "--no-flush" } : Array.Empty<string>()).ToArray();
            ToolResult r = ExternalTool.Run(strace, args, check: false);
            Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
            Assert.Contains("Images are identical", ExternalTool.QemuImg("compare", "-f", "raw", "-F", "vpc", raw, vhd).StdOut);
            Assert.Empty(Directory.GetFiles(dir.Path, "*.partial", new EnumerationOptions { AttributesToSkip = 0 }));

            // Only this conversion's files and folder matter (the runtime may sync its own files).
            string[] calls = File.ReadAllLines(log).Where(l => l.Contains(dir.Path, StringComparison.Ordinal)).ToArray();
            int rename = Array.FindIndex(calls, l => l.Contains("rename", StringComparison.Ordinal) && l.Contains(".partial", StringComparison.Ordinal));
            Assert.True(rename >= 0, "the output must appear through a rename:\n" + string.Join("\n", calls));
            bool IsSync(string l) => !l.Contains("rename", StringComparison.Ordinal);
            if (noFlush)
            {
                Assert.True(!calls.Any(IsSync), "--no-flush must not flush:\n" + string.Join("\n", calls));
                return;
            }
            int fsync = Array.FindIndex(calls, l => l.Contains("fsync(", StringComparison.Ordinal) && l.Contains(".partial>", StringComparison.Ordinal));
            int writeback = Array.FindIndex(calls, l => l.Contains("sync_file_range(", StringComparison.Ordinal) && l.Contains(".partial>", StringComparison.Ordinal));
            int folder = Array.FindIndex(calls, l => l.Contains("fsync(", StringComparison.Ordinal) && l.Contains("<" + dir.Path + ">", StringComparison.Ordinal));
            Assert.True(writeback >= 0 && writeback < fsync && fsync < rename && rename < folder,
                $"expected writeback, fsync, rename, folder fsync in that order (got {writeback}, {fsync}, {rename}, {folder}):\n" + string.Join("\n", calls));
        }
    }
}
