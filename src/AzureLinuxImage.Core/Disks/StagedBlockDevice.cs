using System;
using System.Collections.Generic;
using System.Linq;

namespace AzureLinuxImage.Disks
{
    /// <summary>
    /// When a staged write reaches the image. Each stage is written and flushed before the next, so a
    /// crash at any point leaves what e2fsck calls at worst leaked blocks (issue 17: data and new
    /// metadata first, links and counts last).
    /// </summary>
    internal enum WriteStage
    {
        /// <summary>File contents in newly allocated blocks.</summary>
        Data = 0,

        /// <summary>New inodes, extent blocks, directory blocks nothing links to yet, bitmaps.</summary>
        Metadata = 1,

        /// <summary>Directory entries, inode fields of existing files, counts, group descriptors, superblock.</summary>
        Links = 2,
    }

    /// <summary>Where committed bytes go: the bytes behind a <see cref="BlockDevice"/> in the image file.</summary>
    internal interface IBlockDeviceSink
    {
        /// <summary>Writes at <paramref name="offset"/>, relative to the start of the device.</summary>
        void Write(long offset, ReadOnlySpan<byte> data);

        /// <summary>Makes the writes so far durable (fsync) before the next stage starts.</summary>
        void Flush();
    }

    /// <summary>
    /// A block device whose writes are held in memory, page by page, until <see cref="Commit"/>: reads see
    /// them at once, the image sees nothing before. A page written in several stages is committed in the
    /// latest of them (delaying data is safe, exposing a link early is not).
    /// </summary>
    internal sealed class StagedBlockDevice : BlockDevice
    {
        private const int PageSize = 4096;

        private readonly BlockDevice inner;
        private readonly IBlockDeviceSink? sink;
        private readonly Dictionary<long, StagedPage> pages = new Dictionary<long, StagedPage>();

        /// <param name="inner">The device as it is in the image.</param>
        /// <param name="sink">Where <see cref="Commit"/> writes; null for a dry run, which cannot commit.</param>
        public StagedBlockDevice(BlockDevice inner, IBlockDeviceSink? sink)
        {
            this.inner = inner;
            this.sink = sink;
        }

        public override long Length => inner.Length;

        public override string Description => inner.Description;

        /// <summary>Bytes held for commit (whole pages).</summary>
        public long StagedBytes => (long)pages.Count * PageSize;

        /// <summary>True once anything was written and not yet committed.</summary>
        public bool HasChanges => pages.Count > 0;

        /// <summary>The staged byte ranges (page-aligned, merged), for -WhatIf/-Verbose.</summary>
        public IReadOnlyList<(long Offset, long Length, WriteStage Stage)> Changes
        {
            get
            {
                var result = new List<(long Offset, long Length, WriteStage Stage)>();
                foreach (KeyValuePair<long, StagedPage> p in pages.OrderBy(p => p.Key))
                {
                    long offset = p.Key * PageSize;
                    long length = Math.Min(PageSize, Length - offset);
                    if (result.Count > 0)
                    {
                        var last = result[result.Count - 1];
                        if (last.Offset + last.Length == offset && last.Stage == p.Value.Stage)
                        {
                            result[result.Count - 1] = (last.Offset, last.Length + length, last.Stage);
                            continue;
                        }
                    }
                    result.Add((offset, length, p.Value.Stage));
                }
                return result;
            }
        }

        public override void Read(long offset, byte[] buffer, int index, int count)
        {
            CheckRange(offset, count);
            int done = 0;
            while (done < count)
            {
                long position = offset + done;
                long page = position / PageSize;
                int inPage = (int)(position % PageSize);
                if (pages.TryGetValue(page, out StagedPage? staged))
                {
                    int n = Math.Min(PageSize - inPage, count - done);
                    Buffer.BlockCopy(staged.Bytes, inPage, buffer, index + done, n);
                    done += n;
                    continue;
                }
                // One read for the run of pages that are not staged.
                long end = page + 1;
                while (end * PageSize < offset + count && !pages.ContainsKey(end))
                {
                    end++;
                }
                int run = (int)Math.Min(end * PageSize - position, count - done);
                inner.Read(position, buffer, index + done, run);
                done += run;
            }
        }

        /// <summary>Stages <paramref name="data"/> at <paramref name="offset"/>.</summary>
        public void Write(long offset, ReadOnlySpan<byte> data, WriteStage stage)
        {
            CheckRange(offset, data.Length);
            int done = 0;
            while (done < data.Length)
            {
                long position = offset + done;
                long page = position / PageSize;
                int inPage = (int)(position % PageSize);
                int n = Math.Min(PageSize - inPage, data.Length - done);
                if (!pages.TryGetValue(page, out StagedPage? staged))
                {
                    var bytes = new byte[PageSize];
                    int valid = (int)Math.Min(PageSize, Length - page * PageSize);
                    if (n < valid)
                    {
                        inner.Read(page * PageSize, bytes, 0, valid);
                    }
                    staged = new StagedPage(bytes, stage);
                    pages.Add(page, staged);
                }
                else if (stage > staged.Stage)
                {
                    staged.Stage = stage;
                }
                data.Slice(done, n).CopyTo(staged.Bytes.AsSpan(inPage, n));
                done += n;
            }
        }

        /// <summary>Writes every staged page to the sink, stage by stage, flushing after each; then forgets them.</summary>
        public void Commit()
        {
            if (sink == null)
            {
                throw new InvalidOperationException($"{Description}: opened for a dry run; nothing can be committed.");
            }
            foreach (WriteStage stage in new[] { WriteStage.Data, WriteStage.Metadata, WriteStage.Links })
            {
                bool wrote = false;
                foreach (KeyValuePair<long, StagedPage> p in pages.Where(p => p.Value.Stage == stage).OrderBy(p => p.Key))
                {
                    long offset = p.Key * PageSize;
                    int valid = (int)Math.Min(PageSize, Length - offset);
                    sink.Write(offset, p.Value.Bytes.AsSpan(0, valid));
                    wrote = true;
                }
                if (wrote)
                {
                    sink.Flush();
                }
            }
            pages.Clear();
        }

        /// <summary>Drops every staged write: the device reads as the image again.</summary>
        public void Discard() => pages.Clear();

        private void CheckRange(long offset, int count)
        {
            if (offset < 0 || count < 0 || offset > Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + count}) is outside {Description} ({Length} bytes).");
            }
        }

        private sealed class StagedPage
        {
            public StagedPage(byte[] bytes, WriteStage stage)
            {
                Bytes = bytes;
                Stage = stage;
            }

            public byte[] Bytes { get; }

            public WriteStage Stage { get; set; }
        }
    }
}
