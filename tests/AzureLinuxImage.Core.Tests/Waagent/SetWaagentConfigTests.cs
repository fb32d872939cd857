using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using AzureLinuxImage.Linux.Waagent;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Waagent
{
    /// <summary>Set: validation before anything is written, exact edits, atomic writes that keep mode and owner.</summary>
    public class SetWaagentConfigTests
    {
        private static WaagentConfigChangeResult Set(string path, Action<SetWaagentConfigOptions> configure, Func<string, bool>? seam = null)
        {
            var options = new SetWaagentConfigOptions { Path = path };
            configure(options);
            var op = new SetWaagentConfig(options);
            op.Writer.AfterTemporaryWritten = seam;
            return op.Apply(op.Plan());
        }

        private static KeyValuePair<string, string?> KV(string k, string? v) => new KeyValuePair<string, string?>(k, v);

        [Fact]
        public void AzureRecommended_on_Debian12_changes_exactly_the_swap_lines()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            byte[] before = File.ReadAllBytes(path);

            WaagentConfigChangeResult r = Set(path, o => o.AzureRecommended = true);

            byte[] after = File.ReadAllBytes(path);
            WaagentConfigDocumentTests.AssertOnlyLinesChanged(before, after, new Dictionary<int, string>
            {
                [WaagentFixtures.LineOf(before, "ResourceDisk.EnableSwap=")] = "ResourceDisk.EnableSwap=y\n",
                [WaagentFixtures.LineOf(before, "ResourceDisk.SwapSizeMB=")] = "ResourceDisk.SwapSizeMB=2048\n",
            });
            Assert.True(r.Written);
            Assert.Equal(4, r.ChangedLineCount);
            Assert.True(r.Config.MeetsAzureRecommendation);
            Assert.True(GetWaagentConfig.FromFile(path).MeetsAzureRecommendation);
        }

        [Fact]
        public void AzureRecommended_with_a_swap_size_on_the_upstream_file()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Upstream);
            byte[] before = File.ReadAllBytes(path);
            Set(path, o => { o.AzureRecommended = true; o.SwapSizeMB = 4096; });
            WaagentConfigDocumentTests.AssertOnlyLinesChanged(before, File.ReadAllBytes(path), new Dictionary<int, string>
            {
                [WaagentFixtures.LineOf(before, "ResourceDisk.EnableSwap=")] = "ResourceDisk.EnableSwap=y\n",
                [WaagentFixtures.LineOf(before, "ResourceDisk.SwapSizeMB=")] = "ResourceDisk.SwapSizeMB=4096\n",
            });
        }

        [Fact]
        public void Hand_written_file_edits_touch_only_their_lines()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.HandWritten);
            byte[] before = File.ReadAllBytes(path);
            Set(path, o =>
            {
                o.Settings.Add(KV("Provisioning.Agent", "auto"));
                o.Settings.Add(KV("Logs.Verbose", "n"));
                o.Settings.Add(KV("ResourceDisk.MountPoint", "/mnt/resource"));
            });
            byte[] after = File.ReadAllBytes(path);
            List<byte[]> a = WaagentFixtures.RawLines(before);
            List<byte[]> b = WaagentFixtures.RawLines(after);
            Assert.Equal(a.Count, b.Count);
            Assert.Equal("\uFEFF", Encoding.UTF8.GetString(b[0]).Substring(0, 1));
            Assert.Equal("  Provisioning.Agent =  auto   # chosen by hand\r\n", Encoding.UTF8.GetString(b[2]));
            Assert.Equal("Logs.Verbose=n\r\n", Encoding.UTF8.GetString(b[10]));
            Assert.Equal("ResourceDisk.MountPoint=/mnt/resource", Encoding.UTF8.GetString(b[14]));
            for (int i = 0; i < a.Count; i++)
            {
                if (i != 2 && i != 10 && i != 14)
                {
                    Assert.Equal(a[i], b[i]);
                }
            }
        }

        [Fact]
        public void A_symlink_given_as_Path_stays_a_link_and_its_target_is_edited()
        {
            using var dir = new TempDirectory();
            string real = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12, "real/waagent.conf");
            string link = dir.File("waagent.conf");
            File.CreateSymbolicLink(link, real);
            WaagentConfigChangeResult r = Set(link, o => o.AzureRecommended = true);
            Assert.Equal(real, new FileInfo(link).LinkTarget);
            Assert.Equal(real, r.Path);
            Assert.Contains("ResourceDisk.SwapSizeMB=2048", File.ReadAllText(real));
        }

        private sealed class DecliningContext : IOperationContext
        {
            public List<string> Actions { get; } = new List<string>();
            public List<string> Warnings { get; } = new List<string>();
            public System.Threading.CancellationToken Cancellation => default;
            public bool ShouldProcess(string target, string action)
            {
                Actions.Add(target + "|" + action);
                return false;
            }
            public void Progress(string activity, string status, long done, long total) { }
            public void Verbose(string message) { }
            public void Warning(string message) => Warnings.Add(message);
        }

        [Fact]
        public void WhatIf_is_asked_with_the_line_diff_and_declining_writes_nothing()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.HandWritten);
            byte[] before = File.ReadAllBytes(path);
            var context = new DecliningContext();
            WaagentConfigChangeResult r = SetWaagentConfig.Run(new SetWaagentConfigOptions { Path = path, AzureRecommended = true }, context);
            Assert.False(r.Written);
            Assert.True(r.Changed);
            string action = Assert.Single(context.Actions);
            Assert.StartsWith(path + "|Change ", action);
            Assert.Contains("-ResourceDisk.EnableSwap = n # swap off for now\n+ResourceDisk.EnableSwap = y # swap off for now\n", action);
            Assert.Equal(before, File.ReadAllBytes(path));
            // The file's own problems reach the user as warnings (duplicate key, removed option, invalid values).
            Assert.Contains(context.Warnings, w => w.Contains("DuplicateKey"));
            Assert.Contains(context.Warnings, w => w.Contains("RemovedOption"));
            Assert.DoesNotContain(context.Warnings, w => w.Contains("UnknownKey"));
        }

        [Fact]
        public void Nothing_to_change_writes_nothing()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            DateTime stamp = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(path, stamp);
            WaagentConfigChangeResult r = Set(path, o => o.Settings.Add(KV("ResourceDisk.Format", "y")));
            Assert.False(r.Changed);
            Assert.False(r.Written);
            Assert.Equal(string.Empty, r.Diff);
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
        }

        [Theory]
        [InlineData("ResourceDisk.Format", "yes", "y or n")]
        [InlineData("ResourceDisk.EnableSwap", "true", "y or n")]
        [InlineData("ResourceDisk.SwapSizeMB", "-1", "between 0")]
        [InlineData("ResourceDisk.SwapSizeMB", "2G", "whole number")]
        [InlineData("ResourceDisk.SwapSizeMB", "99999999999", "between 0")]
        [InlineData("ResourceDisk.Filesystem", "btrfs", "ext3, ext4, xfs")]
        [InlineData("ResourceDisk.MountPoint", "mnt/resource", "absolute path")]
        [InlineData("ResourceDisk.MountPoint", "/mnt/my disk", "absolute path")]
        [InlineData("Provisioning.Agent", "cloudinit", "auto, waagent, cloud-init, disabled")]
        [InlineData("Provisioning.Enabled", "n", "removed")]
        [InlineData("Provisioning.UseCloudInit", "y", "removed")]
        [InlineData("OS.RootDeviceScsiTimeout", "0", "between 1")]
        [InlineData("HttpProxy.Port", "70000", "65535")]
        [InlineData("Logs.Verbose", "y # loud", "'#'")]
        [InlineData("Logs.Verbose", "y\nExtensions.Enabled=n", "line breaks")]
        [InlineData("Logs.Verbose", " y", "white space")]
        [InlineData("ResourceDisk.enableswap", "y", "did you mean ResourceDisk.EnableSwap")]
        [InlineData("Made.Up", "1", "not a documented option")]
        [InlineData("Bad Key", "1", "not a valid key")]
        public void Invalid_values_are_refused_and_nothing_is_written(string key, string value, string expected)
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.HandWritten);
            byte[] before = File.ReadAllBytes(path);
            var e = Assert.Throws<AzureLinuxImageException>(() => Set(path, o =>
            {
                o.Settings.Add(KV("Logs.Verbose", "n"));
                o.Settings.Add(KV(key, value));
            }));
            Assert.Equal("InvalidWaagentSetting", e.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
            Assert.Contains(expected, e.Message);
            Assert.Contains("Nothing was written", e.Message);
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Single(Directory.GetFiles(dir.Path));
        }

        [Fact]
        public void AzureRecommended_refuses_a_zero_swap_size()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            byte[] before = File.ReadAllBytes(path);
            var e = Assert.Throws<AzureLinuxImageException>(() => Set(path, o => { o.AzureRecommended = true; o.SwapSizeMB = 0; }));
            Assert.Contains("above 0", e.Message);
            Assert.Equal(before, File.ReadAllBytes(path));
        }

        [Fact]
        public void Unknown_keys_are_written_only_when_allowed_and_null_removes()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.HandWritten);
            Set(path, o =>
            {
                o.AllowUnknownKeys = true;
                o.Settings.Add(KV("My.Custom.Key", "changed"));
                o.Settings.Add(KV("Provisioning.Enabled", null));
            });
            string text = File.ReadAllText(path);
            Assert.Contains("My.Custom.Key=changed\r\n", text);
            Assert.DoesNotContain("Provisioning.Enabled", text);
        }

        [Fact]
        public void Dry_run_diff_matches_diff_u_and_writes_nothing()
        {
            string diffTool = ExternalTool.Require("diff", "diffutils");
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            byte[] before = File.ReadAllBytes(path);
            var op = new SetWaagentConfig(new SetWaagentConfigOptions { Path = path, AzureRecommended = true });
            WaagentConfigPlan plan = op.Plan();
            Assert.Equal(before, File.ReadAllBytes(path));

            // Oracle: GNU diff -u between the file and the planned bytes; compare hunks (headers carry names and dates).
            string planned = dir.File("planned");
            File.WriteAllBytes(planned, plan.After.ToBytes());
            ToolResult real = ExternalTool.Run(diffTool, new[] { "-u", path, planned }, check: false);
            Assert.Equal(1, real.ExitCode);
            Assert.Equal(Hunks(real.StdOut), Hunks(plan.Diff));
            Assert.StartsWith("--- a/waagent.conf\n+++ b/waagent.conf\n", plan.Diff);
        }

        [Fact]
        public void Dry_run_diff_of_an_insertion_after_a_last_line_without_newline_matches_diff_u()
        {
            string diffTool = ExternalTool.Require("diff", "diffutils");
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.HandWritten);
            var op = new SetWaagentConfig(new SetWaagentConfigOptions { Path = path, SwapSizeMB = 1024 });
            WaagentConfigPlan plan = op.Plan();
            string planned = dir.File("planned");
            File.WriteAllBytes(planned, plan.After.ToBytes());
            ToolResult real = ExternalTool.Run(diffTool, new[] { "-u", "--strip-trailing-cr", path, planned }, check: false);
            Assert.Equal(Hunks(real.StdOut), Hunks(plan.Diff));
        }

        [Theory]
        [InlineData(WaagentFixtures.Debian12, "Provisioning.Agent=auto|OS.EnableFirewall=y|HttpProxy.Host=proxy")]
        [InlineData(WaagentFixtures.Upstream, "Extensions.Enabled=n|CGroups.Excluded=-|Zz.New=1")]
        [InlineData(WaagentFixtures.Upstream, "Logs.Console=n|Provisioning.PasswordCryptId=5|Provisioning.Agent=-")]
        [InlineData(WaagentFixtures.HandWritten, "Provisioning.Agent=auto|Provisioning.Enabled=-|ResourceDisk.Filesystem=-|Logs.Verbose=n")]
        public void Diffs_of_scattered_edits_insertions_and_removals_match_diff_u(string fixture, string edits)
        {
            string diffTool = ExternalTool.Require("diff", "diffutils");
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, fixture);
            var options = new SetWaagentConfigOptions { Path = path, AllowUnknownKeys = true };
            foreach (string e in edits.Split('|'))
            {
                string[] kv = e.Split('=');
                options.Settings.Add(KV(kv[0], kv[1] == "-" ? null : kv[1]));
            }
            WaagentConfigPlan plan = new SetWaagentConfig(options).Plan();
            string planned = dir.File("planned");
            File.WriteAllBytes(planned, plan.After.ToBytes());
            ToolResult real = ExternalTool.Run(diffTool, new[] { "-u", "--strip-trailing-cr", path, planned }, check: false);
            Assert.Equal(1, real.ExitCode);
            Assert.Equal(Hunks(real.StdOut), Hunks(plan.Diff));
        }

        private static string Hunks(string unified) =>
            string.Join("\n", unified.Replace("\r", "").Split('\n').Where(l => !l.StartsWith("---") && !l.StartsWith("+++")));

        [Fact]
        public void Mode_is_kept_across_the_atomic_write()
        {
            if (!OperatingSystem.IsLinux())
            {
                Assert.Skip("Linux file modes");
                return;
            }
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
            Set(path, o => o.AzureRecommended = true);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(path));
        }

        [Fact]
        public void Owner_is_kept_across_the_atomic_write()
        {
            Assert.SkipUnless(OperatingSystem.IsLinux() && Environment.UserName == "root", "changing a file's owner needs root");
            string chown = ExternalTool.Require("chown", "coreutils");
            string stat = ExternalTool.Require("stat", "coreutils");
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            ExternalTool.Run(chown, new[] { "1234:5678", path });
            Set(path, o => o.AzureRecommended = true);
            Assert.Equal("1234:5678", ExternalTool.Run(stat, new[] { "-c", "%u:%g", path }).StdOut.Trim());
            Assert.Contains("ResourceDisk.SwapSizeMB=2048", File.ReadAllText(path));
        }

        [Fact]
        public void Extended_attributes_such_as_an_SELinux_label_or_ACL_are_kept_across_the_atomic_write()
        {
            Assert.SkipUnless(OperatingSystem.IsLinux() && Environment.UserName == "root", "trusted.* attributes need root");
            string python = ExternalTool.Require("python3", "python3");
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            // user.* and trusted.* stand for security.selinux and system.posix_acl_access, which this kernel
            // and file system may not take: all are copied the same way, by name.
            ExternalTool.Run(python, new[] { "-c", "import os,sys; os.setxattr(sys.argv[1], 'user.azli', b'user-value'); os.setxattr(sys.argv[1], 'trusted.azli', b'system_u:object_r:etc_t:s0')", path });

            Set(path, o => o.AzureRecommended = true);

            string read = ExternalTool.Run(python, new[] { "-c", "import os,sys; print(sorted((n, os.getxattr(sys.argv[1], n).hex()) for n in os.listxattr(sys.argv[1])))", path }).StdOut.Trim();
            Assert.Equal($"[('trusted.azli', '{Hex("system_u:object_r:etc_t:s0")}'), ('user.azli', '{Hex("user-value")}')]", read);
            Assert.Contains("ResourceDisk.SwapSizeMB=2048", File.ReadAllText(path));
        }

        [Fact]
        public void A_file_with_hard_links_is_rewritten_in_place_so_every_link_sees_the_change_and_the_user_is_told()
        {
            Assert.SkipUnless(OperatingSystem.IsLinux(), "hard links");
            string ln = ExternalTool.Require("ln", "coreutils");
            string stat = ExternalTool.Require("stat", "coreutils");
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            string other = dir.File("waagent.conf.link");
            ExternalTool.Run(ln, new[] { path, other });
            string inode = ExternalTool.Run(stat, new[] { "-c", "%i", path }).StdOut.Trim();
            var context = new SilentContext();

            WaagentConfigChangeResult r = SetWaagentConfig.Run(new SetWaagentConfigOptions { Path = path, AzureRecommended = true }, context);

            Assert.True(r.Written);
            Assert.Equal(inode, ExternalTool.Run(stat, new[] { "-c", "%i", path }).StdOut.Trim());
            Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(other));
            Assert.Contains("ResourceDisk.SwapSizeMB=2048", File.ReadAllText(other));
            Assert.Contains(context.Warnings, w => w.Contains("2 hard links", StringComparison.Ordinal));
            Assert.Empty(AtomicFileWriter.FindTemporaries(dir.Path, "waagent.conf"));
        }

        private static string Hex(string text) => Convert.ToHexString(Encoding.UTF8.GetBytes(text)).ToLowerInvariant();

        [Fact]
        public void A_crash_between_temporary_write_and_rename_leaves_the_original_and_the_next_run_cleans_up()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            byte[] before = File.ReadAllBytes(path);
            string? seenTemporary = null;

            WaagentConfigChangeResult crashed = Set(path, o => o.AzureRecommended = true, seam: t => { seenTemporary = t; return false; });

            Assert.False(crashed.Written);
            Assert.Equal(before, File.ReadAllBytes(path));
            // The "dead" process left its complete temporary file next to the original.
            Assert.NotNull(seenTemporary);
            Assert.Equal(Path.GetDirectoryName(path), Path.GetDirectoryName(seenTemporary));
            Assert.True(File.Exists(seenTemporary));
            Assert.Contains("ResourceDisk.SwapSizeMB=2048", File.ReadAllText(seenTemporary!));

            WaagentConfigChangeResult next = Set(path, o => o.AzureRecommended = true);
            Assert.True(next.Written);
            Assert.False(File.Exists(seenTemporary));
            Assert.Empty(AtomicFileWriter.FindTemporaries(dir.Path, "waagent.conf"));
            Assert.Equal(new[] { path }, Directory.GetFiles(dir.Path));
            Assert.Contains("ResourceDisk.SwapSizeMB=2048", File.ReadAllText(path));
        }

        [Fact]
        public void A_failure_before_the_rename_removes_the_temporary_and_keeps_the_original()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            byte[] before = File.ReadAllBytes(path);
            Assert.Throws<IOException>(() => Set(path, o => o.AzureRecommended = true, seam: _ => throw new IOException("disk full")));
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Equal(new[] { path }, Directory.GetFiles(dir.Path));
        }

        [Fact]
        public void A_file_changed_between_plan_and_apply_is_not_overwritten()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            var op = new SetWaagentConfig(new SetWaagentConfigOptions { Path = path, AzureRecommended = true });
            WaagentConfigPlan plan = op.Plan();
            File.AppendAllText(path, "# someone else\n");
            byte[] theirs = File.ReadAllBytes(path);
            var e = Assert.Throws<AzureLinuxImageException>(() => op.Apply(plan));
            Assert.Equal("WaagentConfigChanged", e.ErrorId);
            Assert.Equal(theirs, File.ReadAllBytes(path));
        }
    }
}
