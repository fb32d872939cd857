using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Linux.Writes.WritableTestImages;

namespace AzureLinuxImage.Tests.Linux.Writes
{
    /// <summary>
    /// Issue 17's benchmark fix: an edit opens and stages the image once; what -Confirm lists is what is
    /// committed (the read-only handle is reopened for writing, or the copy made, only after the answer),
    /// and an image another program changed between the plan and the commit is refused, nothing written.
    /// </summary>
    public class OneOpenEditTests
    {
        private sealed class Context : IOperationContext
        {
            private readonly Action? onAsk;

            public Context(Action? onAsk = null)
            {
                this.onAsk = onAsk;
            }

            public int Asked { get; private set; }

            public CancellationToken Cancellation => TestContext.Current.CancellationToken;

            public bool ShouldProcess(string target, string action)
            {
                Asked++;
                onAsk?.Invoke();
                return true;
            }

            public void Progress(string activity, string status, long done, long total)
            {
            }

            public void Verbose(string message)
            {
            }

            public void Warning(string message)
            {
            }
        }

        private static MemoryStream Text(string s) => new MemoryStream(Encoding.UTF8.GetBytes(s));

        [Fact]
        public void A_confirmed_edit_is_staged_once_on_one_open_and_committed_in_place()
        {
            using var tmp = new TempDirectory();
            var (disk, root, _, _) = Ext4Gpt(tmp);
            int staged = 0;
            var context = new Context();
            LinuxImageWriteResult result = LinuxImageEdit.Run(disk, null, false, "Write /etc/motd", fs =>
            {
                staged++;
                fs.WriteFile("/etc/motd", Text("one open\n"));
            }, context);
            Assert.True(result.Written);
            Assert.Equal(1, context.Asked);
            Assert.Equal(1, staged); // before: planned on a dry view, then opened again and staged a second time
            Assert.True(result.BytesWritten > 0);
            AssertExtClean(disk, root);
            Assert.Equal("one open\n", DebugfsCat(disk, root, "/etc/motd"));
        }

        [Fact]
        public void With_a_destination_the_copy_is_made_after_the_answer_and_the_source_is_never_written()
        {
            using var tmp = new TempDirectory();
            var (disk, root, _, _) = Ext4Gpt(tmp);
            string before = Hash(disk);
            string copy = tmp.File("copy.raw");
            int staged = 0;
            bool copyExistedWhenAsked = true;
            var context = new Context(() => copyExistedWhenAsked = Directory.GetFiles(tmp.Path).Any(f => Path.GetFileName(f).StartsWith(".copy.raw", StringComparison.Ordinal) || f == copy));
            LinuxImageWriteResult result = LinuxImageEdit.Run(disk, copy, false, "Write /etc/motd", fs =>
            {
                staged++;
                fs.WriteFile("/etc/motd", Text("in the copy\n"));
            }, context);
            Assert.True(result.Written);
            Assert.Equal(1, staged);
            Assert.False(copyExistedWhenAsked); // nothing copied before the user said yes
            Assert.Equal(before, Hash(disk));
            AssertExtClean(copy, root);
            Assert.Equal("in the copy\n", DebugfsCat(copy, root, "/etc/motd"));
            Assert.DoesNotContain(Directory.GetFiles(tmp.Path), f => f.EndsWith(".partial", StringComparison.Ordinal));
        }

        [Fact]
        public void An_image_changed_by_another_program_after_planning_is_refused_and_not_written()
        {
            using var tmp = new TempDirectory();
            var (disk, root, _, _) = Ext4Gpt(tmp);
            string changedBy = string.Empty;
            var context = new Context(() =>
            {
                // Another program writes the image while the user reads the confirmation (the last byte: outside every partition's data).
                using (var other = new FileStream(disk, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
                {
                    other.Position = other.Length - 1;
                    other.WriteByte(0x5A);
                }
                File.SetLastWriteTimeUtc(disk, DateTime.UtcNow.AddSeconds(5));
                changedBy = Hash(disk);
            });
            var e = Assert.Throws<AzureLinuxImageException>(() => LinuxImageEdit.Run(disk, null, false, "Write /etc/motd",
                fs => fs.WriteFile("/etc/motd", Text("stale plan\n")), context));
            Assert.Equal("ImageChangedDuringEdit", e.ErrorId);
            Assert.Contains(Path.GetFullPath(disk), e.Message, StringComparison.Ordinal);
            Assert.Equal(changedBy, Hash(disk)); // nothing of ours landed
            AssertExtClean(disk, root);
            Assert.NotEqual("stale plan\n", DebugfsCat(disk, root, "/etc/motd"));
        }
    }
}
