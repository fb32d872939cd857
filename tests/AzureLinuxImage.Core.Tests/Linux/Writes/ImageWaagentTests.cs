using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Linux.Writes.WritableTestImages;

namespace AzureLinuxImage.Tests.Linux.Writes
{
    /// <summary>Set-WaagentConfig inside an image (issue 17): the host edit's rules, owner/mode/xattrs/hard links kept, -WhatIf and -Destination exact.</summary>
    public class ImageWaagentTests
    {
        internal sealed class RecordingContext : IOperationContext
        {
            private readonly bool confirm;

            public RecordingContext(bool confirm)
            {
                this.confirm = confirm;
            }

            public List<string> Asked { get; } = new List<string>();

            public List<string> Verbose { get; } = new List<string>();

            public List<string> Warnings { get; } = new List<string>();

            public CancellationToken Cancellation => TestContext.Current.CancellationToken;

            public bool ShouldProcess(string target, string action)
            {
                Asked.Add(target + ": " + action);
                return confirm;
            }

            public void Progress(string activity, string status, long done, long total)
            {
            }

            void IOperationContext.Verbose(string message) => Verbose.Add(message);

            public void Warning(string message) => Warnings.Add(message);
        }

        private static (string Disk, long Root) ImageWithLabelledConf(TempDirectory tmp)
        {
            // The root tree's waagent.conf gets an owner, a mode, an SELinux label and a second hard link before mkfs copies it in.
            string sgdisk = ExternalTool.Require("sgdisk", "gdisk");
            string disk = tmp.File("agent.raw");
            Partitions.PartitionTableTests.Truncate(disk, 40L << 20);
            ExternalTool.Run(sgdisk, new[] { "-Z", "-o", "-a", "2048", "-n", "1:2048:0", "-t", "1:8300", disk });
            long offset = Partitions.PartitionTableTests.SfdiskJson(disk)[0].Start * 512;
            string root = RootTree(tmp, "root", "LABEL=root / ext4 defaults 0 1\n");
            string conf = Path.Combine(root, "etc/waagent.conf");
            ExternalTool.Run("chown", new[] { "12:34", conf });
            ExternalTool.Run("chmod", new[] { "0640", conf });
            ExternalTool.Run("ln", new[] { conf, Path.Combine(root, "etc/waagent.conf.hardlink") });
            ExternalTool.Run(ExternalTool.Require("python3", "python3"), new[] { "-c", $"import os; os.setxattr('{conf}', 'security.selinux', b'system_u:object_r:etc_t:s0\\0')" });
            MkfsExt4(tmp.File("root.img"), root, 36, "root", "70070000-1111-2222-3333-666666666666");
            Partitions.PartitionTableTests.Dd(tmp.File("root.img"), disk, offset);
            return (disk, offset);
        }

        [Fact]
        public void AzureRecommended_in_an_image_edits_only_the_lines_and_keeps_owner_mode_label_and_hard_link()
        {
            using var tmp = new TempDirectory();
            var (disk, root) = ImageWithLabelledConf(tmp);
            var context = new RecordingContext(confirm: true);
            WaagentConfigChangeResult result = SetWaagentConfig.Run(new SetWaagentConfigOptions { ImagePath = disk, AzureRecommended = true }, context);
            Assert.True(result.Written);
            Assert.Equal(Path.GetFullPath(disk), result.ImagePath);
            Assert.True(result.Config.MeetsAzureRecommendation);
            Assert.Contains("+ResourceDisk.EnableSwap=y   # keep this comment", result.Diff);
            Assert.Contains(context.Asked, a => a.Contains("-ResourceDisk.Format=n", StringComparison.Ordinal));

            AssertExtClean(disk, root);
            string expected = WaagentConf.Replace("ResourceDisk.Format=n", "ResourceDisk.Format=y")
                .Replace("ResourceDisk.EnableSwap=n", "ResourceDisk.EnableSwap=y").Replace("SwapSizeMB=0", "SwapSizeMB=2048");
            Assert.Equal(expected, DebugfsCat(disk, root, "/etc/waagent.conf"));
            Assert.Equal(expected, DebugfsCat(disk, root, "/etc/waagent.conf.hardlink"));
            string stat = DebugfsStat(disk, root, "/etc/waagent.conf");
            Assert.Contains("Mode:  0640", stat);
            Assert.Matches(@"User:\s+12\s+Group:\s+34", stat);
            Assert.Contains("Links: 2", stat);
            string xattrs = ExternalTool.Run("debugfs", new[] { "-R", "ea_list /etc/waagent.conf", $"{disk}?offset={root}" }).StdOut;
            Assert.Contains("security.selinux", xattrs);
            Assert.Contains("system_u:object_r:etc_t:s0", xattrs);

            // Again: already as requested, nothing asked, nothing written.
            string hash = Hash(disk);
            var again = new RecordingContext(confirm: true);
            WaagentConfigChangeResult second = SetWaagentConfig.Run(new SetWaagentConfigOptions { ImagePath = disk, AzureRecommended = true }, again);
            Assert.False(second.Changed);
            Assert.False(second.Written);
            Assert.Empty(again.Asked);
            Assert.Equal(hash, Hash(disk));
        }

        [Fact]
        public void WhatIf_shows_the_diff_and_blocks_and_leaves_the_image_byte_identical()
        {
            using var tmp = new TempDirectory();
            var (disk, _) = ImageWithLabelledConf(tmp);
            string before = Hash(disk);
            var context = new RecordingContext(confirm: false);
            WaagentConfigChangeResult result = SetWaagentConfig.Run(new SetWaagentConfigOptions { ImagePath = disk, Settings = { new KeyValuePair<string, string?>("ResourceDisk.SwapSizeMB", "4096") } }, context);
            Assert.True(result.Changed);
            Assert.False(result.Written);
            Assert.Equal(2, result.ChangedLineCount);
            string asked = Assert.Single(context.Asked);
            Assert.Contains("+ResourceDisk.SwapSizeMB=4096", asked);
            Assert.Contains("ReplaceFile /etc/waagent.conf", asked);
            Assert.Contains(context.Verbose, v => v.Contains("partition 1", StringComparison.Ordinal) && v.Contains("bytes", StringComparison.Ordinal));
            Assert.Equal(before, Hash(disk));
        }

        [Fact]
        public void Destination_leaves_the_source_untouched_and_invalid_values_write_nothing()
        {
            using var tmp = new TempDirectory();
            var (disk, root) = ImageWithLabelledConf(tmp);
            string before = Hash(disk);
            var bad = Assert.Throws<AzureLinuxImageException>(() => SetWaagentConfig.Run(new SetWaagentConfigOptions
            {
                ImagePath = disk,
                Settings = { new KeyValuePair<string, string?>("ResourceDisk.SwapSizeMB", "lots") },
            }, new RecordingContext(true)));
            Assert.Equal("InvalidWaagentSetting", bad.ErrorId);
            Assert.Equal(before, Hash(disk));

            string copy = tmp.File("copy.raw");
            WaagentConfigChangeResult result = SetWaagentConfig.Run(new SetWaagentConfigOptions { ImagePath = disk, Destination = copy, AzureRecommended = true }, new RecordingContext(true));
            Assert.True(result.Written);
            Assert.Equal(copy, result.ImagePath);
            Assert.Equal(before, Hash(disk));
            Assert.Contains("ResourceDisk.Format=y", DebugfsCat(copy, root, "/etc/waagent.conf"));
            AssertExtClean(copy, root);
        }
    }
}
