using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Partitions;
using Xunit;

namespace AzureLinuxImage.Tests.Partitions
{
    /// <summary>The staging overlay under every offline write (issue 17): reads see writes, the image sees nothing before Commit, stages in order with a flush after each.</summary>
    public class StagedBlockDeviceTests
    {
        private sealed class ArrayDevice : BlockDevice
        {
            public ArrayDevice(int length)
            {
                Bytes = new byte[length];
                for (int i = 0; i < length; i++)
                {
                    Bytes[i] = (byte)(i * 7);
                }
            }

            public byte[] Bytes { get; }

            public override long Length => Bytes.Length;

            public override string Description => "test device";

            public override void Read(long offset, byte[] buffer, int index, int count) => Buffer.BlockCopy(Bytes, (int)offset, buffer, index, count);
        }

        /// <summary>Applies writes to the device's array and records the order of writes and flushes.</summary>
        private sealed class RecordingSink : IBlockDeviceSink
        {
            private readonly ArrayDevice target;

            public RecordingSink(ArrayDevice target)
            {
                this.target = target;
            }

            public List<string> Events { get; } = new List<string>();

            public void Write(long offset, ReadOnlySpan<byte> data)
            {
                Events.Add($"write {offset} {data.Length}");
                data.CopyTo(target.Bytes.AsSpan((int)offset));
            }

            public void Flush() => Events.Add("flush");
        }

        [Fact]
        public void Reads_see_staged_bytes_and_the_device_sees_nothing_until_commit()
        {
            var inner = new ArrayDevice(5 * 4096 + 100);
            byte[] original = inner.Bytes.ToArray();
            var sink = new RecordingSink(inner);
            var staged = new StagedBlockDevice(inner, sink);
            staged.Write(4090, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, WriteStage.Data); // across a page boundary

            var read = new byte[20];
            staged.Read(4085, read, 0, 20);
            Assert.Equal(original.Skip(4085).Take(5), read.Take(5)); // untouched bytes of the staged page
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (byte)i), read.Skip(5).Take(10));
            Assert.Equal(original.Skip(4100).Take(5), read.Skip(15));
            Assert.Equal(original, inner.Bytes);
            Assert.Empty(sink.Events);
            Assert.True(staged.HasChanges);
            Assert.Equal(new[] { (0L, 8192L, WriteStage.Data) }, staged.Changes);

            staged.Commit();
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (byte)i), inner.Bytes.Skip(4090).Take(10));
            Assert.Equal(original.Take(4090), inner.Bytes.Take(4090));
            Assert.Equal(original.Skip(4100), inner.Bytes.Skip(4100));
            Assert.False(staged.HasChanges);
        }

        [Fact]
        public void Commit_writes_stage_by_stage_with_a_flush_after_each()
        {
            var inner = new ArrayDevice(8 * 4096);
            var sink = new RecordingSink(inner);
            var staged = new StagedBlockDevice(inner, sink);
            staged.Write(6 * 4096, new byte[] { 9 }, WriteStage.Links);
            staged.Write(1 * 4096, new byte[] { 8 }, WriteStage.Metadata);
            staged.Write(7 * 4096, new byte[] { 7 }, WriteStage.Data);
            staged.Write(0, new byte[] { 6 }, WriteStage.Data);
            staged.Commit();
            Assert.Equal(new[]
            {
                "write 0 4096", "write 28672 4096", "flush",
                "write 4096 4096", "flush",
                "write 24576 4096", "flush",
            }, sink.Events);
        }

        [Fact]
        public void The_last_partial_page_is_written_only_up_to_the_device_end()
        {
            var inner = new ArrayDevice(4096 + 100);
            var sink = new RecordingSink(inner);
            var staged = new StagedBlockDevice(inner, sink);
            staged.Write(4096 + 99, new byte[] { 42 }, WriteStage.Data);
            staged.Commit();
            Assert.Equal(new[] { "write 4096 100", "flush" }, sink.Events);
            Assert.Equal(42, inner.Bytes[4195]);
            Assert.Throws<ArgumentOutOfRangeException>(() => staged.Write(4096 + 100, new byte[] { 1 }, WriteStage.Data));
        }

        [Fact]
        public void Staged_changes_are_listed_reach_the_sink_only_at_commit_and_discard_forgets_them()
        {
            var inner = new ArrayDevice(3 * 4096);
            byte[] original = inner.Bytes.ToArray();
            var sink = new RecordingSink(inner);
            var staged = new StagedBlockDevice(inner, sink);
            staged.Write(100, new byte[] { 1, 2 }, WriteStage.Links);
            staged.Write(4096, new byte[4096], WriteStage.Data);
            Assert.Equal(new[] { (0L, 4096L, WriteStage.Links), (4096L, 4096L, WriteStage.Data) }, staged.Changes);
            Assert.Empty(sink.Events);
            staged.Discard();
            var read = new byte[inner.Bytes.Length];
            staged.Read(0, read, 0, read.Length);
            Assert.Equal(original, read);
            Assert.False(staged.HasChanges);
            staged.Commit();
            Assert.DoesNotContain(sink.Events, e => e.StartsWith("write", StringComparison.Ordinal));
            Assert.Equal(original, inner.Bytes);
        }
    }
}
