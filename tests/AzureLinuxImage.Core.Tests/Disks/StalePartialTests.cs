using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>
    /// Partial outputs of killed converts (issue 16): the writer holds an advisory lock on its partial; a
    /// later convert to the same destination removes the partials nobody holds, with a warning, and leaves
    /// a held one alone. Proven with a real kill -9 of the CLI and a real flock(1) holder.
    /// </summary>
    public class StalePartialTests
    {
        private const long MiB = 1 << 20;

        private static string[] Partials(TempDirectory dir, string name) => Directory.GetFiles(dir.Path, "." + name + ".*.partial");

        private static long LengthOrZero(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? info.Length : 0;
        }

        private static string MakeSource(TempDirectory dir, long size)
        {
            string raw = dir.File("src.raw");
            var chunk = Files.Random((int)MiB, 7);
            using (var f = new FileStream(raw, FileMode.CreateNew))
            {
                for (long i = 0; i < size / MiB; i++)
                {
                    f.Write(chunk, 0, chunk.Length);
                }
            }
            return raw;
        }

        [Fact]
        public void A_convert_killed_with_SIGKILL_leaves_a_partial_that_the_next_convert_removes_with_a_warning()
        {
            if (!OperatingSystem.IsLinux())
            {
                Assert.Skip("kill -9 is a Unix signal.");
            }
            using var dir = new TempDirectory();
            string source = MakeSource(dir, 512 * MiB);
            string output = dir.File("out.vhd");

            string[] left = Array.Empty<string>();
            for (int attempt = 0; attempt < 5 && left.Length == 0; attempt++)
            {
                var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
                psi.ArgumentList.Add(Repository.CliDll);
                psi.ArgumentList.Add("convert");
                psi.ArgumentList.Add(source);
                psi.ArgumentList.Add(output);
                psi.ArgumentList.Add("--force");
                using Process cli = Process.Start(psi)!;
                var clock = Stopwatch.StartNew();
                // Killed once the partial has its full apparent size, as the probe found them.
                while (!cli.HasExited && !Partials(dir, "out.vhd").Any(p => LengthOrZero(p) > 0) && clock.Elapsed < TimeSpan.FromMinutes(2))
                {
                    Thread.Sleep(2);
                }
                if (!cli.HasExited)
                {
                    // Process.Kill is SIGKILL on Unix: no handler, no cleanup runs.
                    cli.Kill();
                }
                cli.WaitForExit();
                left = Partials(dir, "out.vhd");
                File.Delete(output);
            }
            Assert.True(left.Length == 1, "no convert could be killed while writing (each finished first)");
            Assert.Equal((512 * MiB) + 512, new FileInfo(left[0]).Length);

            ToolResult again = AzLinux.Run("convert", source, output);

            Assert.Equal(0, again.ExitCode);
            Assert.Empty(Partials(dir, "out.vhd"));
            Assert.Contains(Path.GetFileName(left[0]), again.StdErr);
            Assert.Contains("512 MiB", ExternalTool.QemuImg("info", "-f", "vpc", output).StdOut);
        }

        [Fact]
        public void A_partial_held_by_a_live_process_is_left_alone_and_unheld_ones_of_other_files_too()
        {
            using var dir = new TempDirectory();
            string source = dir.File("src.raw");
            Files.CreateSparse(source, 20 * MiB);
            Files.WriteAt(source, 0, Files.Random(4096, 1));
            string held = dir.File(".out.vhd.0123abcd.partial");
            string stale = dir.File(".out.vhd.89abcdef.partial");
            string otherFile = dir.File(".other.vhd.0badf00d.partial");
            foreach (string p in new[] { held, stale, otherFile })
            {
                File.WriteAllBytes(p, new byte[4096]);
            }
            string flock = ExternalTool.Require("flock", "util-linux");
            using Process holder = Process.Start(new ProcessStartInfo(flock, new[] { "-x", held, "sleep", "120" }) { UseShellExecute = false })!;
            try
            {
                var clock = Stopwatch.StartNew();
                while (ExternalTool.Run(flock, new[] { "-n", "-x", held, "true" }, check: false).ExitCode == 0 && clock.Elapsed < TimeSpan.FromSeconds(30))
                {
                    Thread.Sleep(20);
                }
                var context = new SilentContext();

                ConvertToFixedVhd.Run(source, dir.File("out.vhd"), false, false, context);

                Assert.True(File.Exists(held), "a partial a live process holds was removed");
                Assert.False(File.Exists(stale), "a stale partial was left");
                Assert.True(File.Exists(otherFile), "another destination's partial was touched");
                Assert.Contains(context.Warnings, w => w.Contains(Path.GetFileName(stale)));
                Assert.DoesNotContain(context.Warnings, w => w.Contains(Path.GetFileName(held)));
            }
            finally
            {
                holder.Kill();
                holder.WaitForExit();
            }
        }
    }
}
