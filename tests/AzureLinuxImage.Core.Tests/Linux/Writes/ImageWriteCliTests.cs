using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Linux.Writes.WritableTestImages;

namespace AzureLinuxImage.Tests.Linux.Writes
{
    /// <summary>azlinux write/rm/mkdir/ln and waagent set on images, through the built CLI, with e2fsck/debugfs as oracles; kill -9 mid-write.</summary>
    public class ImageWriteCliTests
    {
        private static ToolResult Cli(string? stdin, params string[] args) =>
            ExternalTool.Run("dotnet", new[] { Repository.CliDll }.Concat(args).ToArray(), check: false, stdin: stdin);

        [Fact]
        public void Write_rm_mkdir_and_ln_change_the_image_and_e2fsck_stays_clean()
        {
            using var tmp = new TempDirectory();
            var (disk, root, boot, _) = Ext4Gpt(tmp);
            string input = tmp.File("motd.txt");
            File.WriteAllText(input, "from a file\n");

            ToolResult r = Cli("from stdin\n", "write", disk, "/etc/issue");
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Contains("CreateFile /etc/issue", r.StdOut);
            Assert.Equal(0, Cli(null, "write", disk, "/etc/motd", input, "--mode", "0600", "--uid", "3").ExitCode);
            Assert.Equal(0, Cli("x\n", "write", disk, "/boot/grub/extra.cfg", "-").ExitCode);
            Assert.Equal(0, Cli(null, "mkdir", disk, "/srv/www/site", "-p", "--mode", "0750").ExitCode);
            Assert.Equal(0, Cli(null, "ln", disk, "/etc/motd", "/srv/www/site/motd").ExitCode);
            r = Cli(null, "rm", disk, "/opt", "-r");
            Assert.True(r.ExitCode == 0, r.StdErr);

            AssertExtClean(disk, root);
            AssertExtClean(disk, boot);
            Assert.Equal("from stdin\n", DebugfsCat(disk, root, "/etc/issue"));
            Assert.Equal("from a file\n", DebugfsCat(disk, root, "/etc/motd"));
            Assert.Contains("Mode:  0600", DebugfsStat(disk, root, "/etc/motd"));
            Assert.Equal("x\n", DebugfsCat(disk, boot, "/grub/extra.cfg"));
            Assert.Contains("Mode:  0750", DebugfsStat(disk, root, "/srv/www/site"));
            Assert.Contains("Fast link dest: \"/etc/motd\"", DebugfsStat(disk, root, "/srv/www/site/motd"));
            Assert.Contains("File not found", ExternalTool.Run("debugfs", new[] { "-R", "stat /opt", $"{disk}?offset={root}" }, check: false).StdErr);

            // Read back through azlinux cat (links followed inside the image).
            Assert.Equal("from a file\n", Cli(null, "cat", disk, "/srv/www/site/motd").StdOut);
        }

        [Fact]
        public void Dry_run_json_errors_and_destination_leave_the_image_byte_identical()
        {
            using var tmp = new TempDirectory();
            var (disk, root, _, _) = Ext4Gpt(tmp);
            string before = Hash(disk);

            ToolResult dry = Cli("new\n", "write", disk, "/etc/hostname", "--dry-run", "--verbose");
            Assert.Equal(0, dry.ExitCode);
            Assert.Contains("would: ReplaceFile /etc/hostname", dry.StdOut);
            Assert.Contains("partition 1", dry.StdErr); // the bytes per volume
            Assert.Equal(before, Hash(disk));

            ToolResult json = Cli(null, "mkdir", disk, "/srv", "--dry-run", "--json");
            Assert.Equal(0, json.ExitCode);
            Assert.Contains("\"written\": false", json.StdOut, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("CreateDirectory", json.StdOut);

            ToolResult missing = Cli(null, "rm", disk, "/no/such");
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("ItemNotFound", missing.StdErr);
            ToolResult exists = Cli(null, "mkdir", disk, "/etc");
            Assert.Equal(1, exists.ExitCode);
            Assert.Contains("ItemExists", exists.StdErr);
            ToolResult notEmpty = Cli(null, "rm", disk, "/etc");
            Assert.Equal(1, notEmpty.ExitCode);
            Assert.Equal(before, Hash(disk));

            string copy = tmp.File("copy.raw");
            Assert.Equal(0, Cli("copyhost\n", "write", disk, "/etc/hostname", "-o", copy).ExitCode);
            Assert.Equal(before, Hash(disk));
            Assert.Equal("copyhost\n", DebugfsCat(copy, root, "/etc/hostname"));
            ToolResult again = Cli("x\n", "write", disk, "/etc/hostname", "-o", copy);
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("DestinationExists", again.StdErr);

            string qcow = tmp.File("disk.qcow2");
            ExternalTool.QemuImg("convert", "-O", "qcow2", disk, qcow);
            ToolResult refused = Cli("x\n", "write", qcow, "/etc/hostname");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("ImageFormatNotWritable", refused.StdErr);
            Assert.Contains("QCOW2", refused.StdErr);
        }

        [Fact]
        public void Waagent_set_on_an_image_changes_the_lines_inside_it()
        {
            using var tmp = new TempDirectory();
            var (disk, root, _, _) = Ext4Gpt(tmp);
            ToolResult r = Cli(null, "waagent", "set", disk, "ResourceDisk.EnableSwap=y", "ResourceDisk.SwapSizeMB=2048");
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Contains("/etc/waagent.conf: 4 line(s) changed", r.StdOut);
            string conf = DebugfsCat(disk, root, "/etc/waagent.conf");
            Assert.Contains("ResourceDisk.EnableSwap=y   # keep this comment\n", conf);
            Assert.Contains("ResourceDisk.SwapSizeMB=2048\n", conf);
            AssertExtClean(disk, root);
            string hash = Hash(disk);
            ToolResult dry = Cli(null, "waagent", "set", disk, "ResourceDisk.Format=y", "--dry-run");
            Assert.Equal(0, dry.ExitCode);
            Assert.Contains("+ResourceDisk.Format=y", dry.StdOut);
            Assert.Equal(hash, Hash(disk));
        }

        /// <summary>
        /// kill -9 of azlinux write at seeded random points: e2fsck may report at worst leaked blocks or
        /// inodes (bitmap and count differences, unattached inodes), never a damaged directory or a
        /// cross-linked block, and the file reads as its old or its new content.
        /// </summary>
        [Fact]
        public void Kill_9_at_random_points_leaves_old_or_new_content_and_at_worst_leaked_space()
        {
            using var tmp = new TempDirectory();
            var (disk, root, _, _) = Ext4Gpt(tmp);
            var random = new Random(20261207);
            string previous = tmp.File("previous.bin");
            File.WriteAllText(previous, new string('b', 300_000)); // /opt/big.bin as built
            var allowed = new Regex(@"^(Pass \d|e2fsck \d|root: \d+/\d+ files|$|\s*[-+(]|Block bitmap differences|Free blocks count wrong|Inode bitmap differences|Free inodes count wrong|Fix\? no|Unattached (zero-length )?inode \d+|Connect to /lost\+found\? no|Inode \d+ ref count is \d+, should be \d+\.\s+Fix\? no|Padding at end of|\s*root: \*+ WARNING|Directories count wrong|Clear\? no|Pass 4)");
            ProcessStartInfo Write(string payload)
            {
                var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
                foreach (string a in new[] { Repository.CliDll, "write", disk, "/opt/big.bin", payload })
                {
                    psi.ArgumentList.Add(a);
                }
                return psi;
            }

            // Kill points are drawn over the time one whole write takes on this machine, so the runs land
            // inside the command whatever the machine's speed (fixed delays missed it on an idle machine).
            var firstBytes = new byte[3_000_000];
            random.NextBytes(firstBytes);
            string first = tmp.File("payload-timed.bin");
            File.WriteAllBytes(first, firstBytes);
            var clock = Stopwatch.StartNew();
            using (Process p = Process.Start(Write(first))!)
            {
                p.WaitForExit();
                Assert.True(p.ExitCode == 0, $"an uninterrupted azlinux write failed: {p.StandardError.ReadToEnd()}");
            }
            int whole = (int)Math.Max(200, clock.ElapsedMilliseconds);
            File.Copy(first, previous, overwrite: true);

            int killedMidway = 0, leaked = 0, newContent = 0;
            for (int run = 0; run < 20; run++)
            {
                string payload = tmp.File($"payload{run}.bin");
                var bytes = new byte[random.Next(1, 6) * 1_000_000 + random.Next(4096)];
                random.NextBytes(bytes);
                File.WriteAllBytes(payload, bytes);
                int delay = random.Next(whole / 5, whole * 19 / 20);
                using (Process p = Process.Start(Write(payload))!)
                {
                    bool exited = p.WaitForExit(delay);
                    if (!exited)
                    {
                        p.Kill(entireProcessTree: true);
                        p.WaitForExit();
                        killedMidway++;
                    }
                }
                ToolResult fsck = E2fsck(disk, root);
                Assert.True(fsck.ExitCode == 0 || fsck.ExitCode == 4, $"run {run} (kill at {delay} ms): e2fsck exit {fsck.ExitCode}\n{fsck.StdOut}{fsck.StdErr}");
                string[] bad = (fsck.StdOut + "\n" + fsck.StdErr).Split('\n').Select(l => l.TrimEnd()).Where(l => !allowed.IsMatch(l)).ToArray();
                Assert.True(bad.Length == 0, $"run {run} (kill at {delay} ms): e2fsck reports more than leaked space:\n" + string.Join("\n", bad) + "\n---\n" + fsck.StdOut);
                string dumped = tmp.File("dump.bin");
                File.Delete(dumped);
                ExternalTool.Run("debugfs", new[] { "-R", $"dump /opt/big.bin {dumped}", $"{disk}?offset={root}" });
                byte[] now = File.ReadAllBytes(dumped);
                bool isNew = now.AsSpan().SequenceEqual(bytes);
                bool isOld = now.AsSpan().SequenceEqual(File.ReadAllBytes(previous));
                Assert.True(isNew || isOld, $"run {run} (kill at {delay} ms): /opt/big.bin is neither the old nor the new content ({now.Length} bytes).");
                if (isNew)
                {
                    newContent++;
                    File.Copy(payload, previous, overwrite: true);
                }
                if (fsck.ExitCode != 0)
                {
                    leaked++;
                    // Start the next run from a clean file system, as an admin would after e2fsck -p.
                    ExternalTool.Run("e2fsck", new[] { "-fy", $"{disk}?offset={root}" }, check: false);
                    AssertExtClean(disk, root);
                }
            }
            TestContext.Current.TestOutputHelper?.WriteLine($"kill -9 (a whole write: {whole} ms): {killedMidway} of 20 runs killed before exit; {leaked} left leaked space for e2fsck; {newContent} read the new content.");
            Assert.True(killedMidway >= 5, $"only {killedMidway} of 20 runs were killed before they finished; the delays do not exercise the crash.");
        }
    }
}
