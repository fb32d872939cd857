using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace AzureLinuxImage.Disks
{
    /// <summary>
    /// When a staged write reaches the image. Each stage is written and flushed before the next, so a
    /// crash at any point leaves what e2fsck calls at worst leaked blocks (issue 17: data and new
    /// metadata first, links and counts last, space given back after nothing links to it).
    /// </summary>
    internal enum WriteStage
    {
        /// <summary>Anything written to newly allocated blocks: file contents, and new extent, indirect and directory blocks (nothing points at them yet).</summary>
        Data = 0,

        /// <summary>Bitmaps and group descriptors marking new allocations (before anything uses them).</summary>
        Metadata = 1,

        /// <summary>New inodes: nothing links to them yet, and the blocks they use are marked.</summary>
        Inodes = 2,

        /// <summary>Directory entries, inode fields of existing files (switching to new blocks), parents' link counts.</summary>
        Links = 3,

        /// <summary>Inodes nothing links to any more, cleared (no links, a deletion time) before their space is given back.</summary>
        Unlinked = 4,

        /// <summary>Blocks and inodes given back (bitmaps clearing bits), counts, superblock: only once nothing uses them.</summary>
        Release = 5,
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
    /// them at once, the image sees nothing before. A page keeps one version per stage it was written in,
    /// each holding only the writes of that stage and earlier ones: a bitmap page that marks a new block
    /// (Metadata) and later frees an old one (Release) reaches the image twice, the allocation before the
    /// links to it and the free after them.
    /// </summary>
    internal sealed class StagedBlockDevice : BlockDevice
    {
        private const int PageSize = 4096;
        private const int StageCount = 6;

        private readonly BlockDevice inner;
        private readonly IBlockDeviceSink sink;
        private readonly Dictionary<long, byte[]?[]> pages = new Dictionary<long, byte[]?[]>();
        private readonly long memoryLimit;

        // Pages holding only new data (the Data stage) moved to a temporary file when memory is over the limit.
        private readonly Dictionary<long, long> spilled = new Dictionary<long, long>();
        private readonly Stack<long> freeSlots = new Stack<long>();
        private FileStream? spillFile;
        private long spillSlots;
        private Dictionary<long, byte[]?[]?>? undo;

        /// <param name="inner">The device as it is in the image.</param>
        /// <param name="sink">Where <see cref="Commit"/> writes.</param>
        /// <param name="memoryLimit">Staged bytes kept in memory; beyond it new file data waits in a temporary file.</param>
        public StagedBlockDevice(BlockDevice inner, IBlockDeviceSink sink, long memoryLimit = 64L << 20)
        {
            this.inner = inner;
            this.sink = sink;
            this.memoryLimit = Math.Max(memoryLimit, 16 * PageSize);
        }

        public override long Length => inner.Length;

        public override string Description => inner.Description;

        /// <summary>Bytes held for commit (whole page versions).</summary>
        public long StagedBytes
        {
            get
            {
                long n = 0;
                foreach (byte[]?[] levels in pages.Values)
                {
                    n += levels.Count(l => l != null);
                }
                return (n + spilled.Count) * PageSize;
            }
        }

        /// <summary>Staged bytes held in memory (the rest waits in the temporary file).</summary>
        public long MemoryBytes
        {
            get
            {
                long n = 0;
                foreach (byte[]?[] levels in pages.Values)
                {
                    n += levels.Count(l => l != null);
                }
                return n * PageSize;
            }
        }

        /// <summary>True once anything was written and not yet committed.</summary>
        public bool HasChanges => pages.Count > 0 || spilled.Count > 0;

        /// <summary>The staged byte ranges (page-aligned, merged; the latest stage of each page), for -WhatIf/-Verbose.</summary>
        public IReadOnlyList<(long Offset, long Length, WriteStage Stage)> Changes
        {
            get
            {
                var result = new List<(long Offset, long Length, WriteStage Stage)>();
                var all = pages.Select(p => (Page: p.Key, Stage: (WriteStage)Latest(p.Value))).Concat(spilled.Keys.Select(k => (Page: k, Stage: WriteStage.Data)));
                foreach ((long page, WriteStage stage) in all.OrderBy(p => p.Page))
                {
                    long offset = page * PageSize;
                    long length = Math.Min(PageSize, Length - offset);
                    if (result.Count > 0)
                    {
                        var last = result[result.Count - 1];
                        if (last.Offset + last.Length == offset && last.Stage == stage)
                        {
                            result[result.Count - 1] = (last.Offset, last.Length + length, last.Stage);
                            continue;
                        }
                    }
                    result.Add((offset, length, stage));
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
                if (pages.TryGetValue(page, out byte[]?[]? levels))
                {
                    int n = Math.Min(PageSize - inPage, count - done);
                    Buffer.BlockCopy(levels[Latest(levels)]!, inPage, buffer, index + done, n);
                    done += n;
                    continue;
                }
                if (spilled.ContainsKey(page))
                {
                    byte[] bytes = Unspill(page, keep: false);
                    int n = Math.Min(PageSize - inPage, count - done);
                    Buffer.BlockCopy(bytes, inPage, buffer, index + done, n);
                    done += n;
                    continue;
                }
                // One read for the run of pages that are not staged.
                long end = page + 1;
                while (end * PageSize < offset + count && !pages.ContainsKey(end) && !spilled.ContainsKey(end))
                {
                    end++;
                }
                int run = (int)Math.Min(end * PageSize - position, count - done);
                inner.Read(position, buffer, index + done, run);
                done += run;
            }
        }

        /// <summary>Stages <paramref name="data"/> at <paramref name="offset"/>: committed in <paramref name="stage"/> and, with later writes, in every later stage the page is written in.</summary>
        public void Write(long offset, ReadOnlySpan<byte> data, WriteStage stage)
        {
            CheckRange(offset, data.Length);
            int s = (int)stage;
            if (s < 0 || s >= StageCount)
            {
                throw new ArgumentOutOfRangeException(nameof(stage));
            }
            int done = 0;
            while (done < data.Length)
            {
                long position = offset + done;
                long page = position / PageSize;
                int inPage = (int)(position % PageSize);
                int n = Math.Min(PageSize - inPage, data.Length - done);
                if (spilled.ContainsKey(page))
                {
                    Unspill(page, keep: true);
                }
                pages.TryGetValue(page, out byte[]?[]? levels);
                if (undo != null && !undo.ContainsKey(page))
                {
                    undo[page] = levels == null ? null : levels.Select(l => (byte[]?)l?.Clone()).ToArray();
                }
                if (levels == null)
                {
                    levels = new byte[]?[StageCount];
                    pages.Add(page, levels);
                }
                if (levels[s] == null)
                {
                    // This stage's version starts from the latest earlier one (or the image).
                    byte[]? below = null;
                    for (int k = s - 1; k >= 0 && below == null; k--)
                    {
                        below = levels[k];
                    }
                    var bytes = new byte[PageSize];
                    if (below != null)
                    {
                        Buffer.BlockCopy(below, 0, bytes, 0, PageSize);
                    }
                    else
                    {
                        int valid = (int)Math.Min(PageSize, Length - page * PageSize);
                        if (n < valid)
                        {
                            inner.Read(page * PageSize, bytes, 0, valid);
                        }
                    }
                    levels[s] = bytes;
                }
                for (int k = s; k < StageCount; k++)
                {
                    if (levels[k] != null)
                    {
                        data.Slice(done, n).CopyTo(levels[k].AsSpan(inPage, n));
                    }
                }
                done += n;
            }
            if (pages.Count > memoryLimit / PageSize)
            {
                Spill();
            }
        }

        /// <summary>Moves pages holding only Data-stage bytes to the temporary file until half the limit is left in memory.</summary>
        private void Spill()
        {
            long target = memoryLimit / PageSize / 2;
            List<long> candidates = pages.Where(p => p.Value[0] != null && p.Value.Skip(1).All(l => l == null))
                .Select(p => p.Key).OrderBy(k => k).ToList();
            if (candidates.Count == 0)
            {
                return;
            }
            spillFile ??= new FileStream(Path.Combine(Path.GetTempPath(), "azli-staged-" + Guid.NewGuid().ToString("N") + ".tmp"),
                FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            foreach (long page in candidates)
            {
                if (pages.Count <= target)
                {
                    break;
                }
                long slot = freeSlots.Count > 0 ? freeSlots.Pop() : spillSlots++;
                spillFile.Position = slot * PageSize;
                spillFile.Write(pages[page][0]!, 0, PageSize);
                spilled[page] = slot;
                pages.Remove(page);
            }
        }

        /// <summary>A spilled page's bytes; with <paramref name="keep"/> it moves back to memory (to be written again).</summary>
        private byte[] Unspill(long page, bool keep)
        {
            long slot = spilled[page];
            var bytes = new byte[PageSize];
            spillFile!.Position = slot * PageSize;
            int done = 0;
            int n;
            while (done < PageSize && (n = spillFile.Read(bytes, done, PageSize - done)) > 0)
            {
                done += n;
            }
            if (keep)
            {
                spilled.Remove(page);
                freeSlots.Push(slot);
                var levels = new byte[]?[StageCount];
                levels[0] = bytes;
                pages[page] = levels;
            }
            return bytes;
        }

        /// <summary>
        /// Starts recording what each write replaces, so that <see cref="RollBack"/> can return the staged
        /// state to this point (an operation that fails half-way stages nothing).
        /// </summary>
        public void BeginUndo() => undo = new Dictionary<long, byte[]?[]?>();

        /// <summary>Keeps the writes since <see cref="BeginUndo"/>.</summary>
        public void EndUndo() => undo = null;

        /// <summary>Forgets the writes since <see cref="BeginUndo"/>.</summary>
        public void RollBack()
        {
            if (undo == null)
            {
                return;
            }
            foreach (KeyValuePair<long, byte[]?[]?> p in undo)
            {
                if (spilled.TryGetValue(p.Key, out long slot))
                {
                    spilled.Remove(p.Key);
                    freeSlots.Push(slot);
                }
                if (p.Value == null)
                {
                    pages.Remove(p.Key);
                }
                else
                {
                    pages[p.Key] = p.Value;
                }
            }
            undo = null;
        }

        /// <summary>Writes every staged page to the sink, stage by stage, flushing after each; then forgets them.</summary>
        public void Commit()
        {
            List<long> order = pages.Keys.Concat(spilled.Keys).OrderBy(k => k).ToList();
            for (int stage = 0; stage < StageCount; stage++)
            {
                bool wrote = false;
                foreach (long page in order)
                {
                    byte[]? bytes = pages.TryGetValue(page, out byte[]?[]? levels) ? levels[stage] : stage == 0 ? Unspill(page, keep: false) : null;
                    if (bytes == null)
                    {
                        continue;
                    }
                    long offset = page * PageSize;
                    int valid = (int)Math.Min(PageSize, Length - offset);
                    sink.Write(offset, bytes.AsSpan(0, valid));
                    wrote = true;
                }
                if (wrote)
                {
                    sink.Flush();
                }
            }
            Discard();
        }

        /// <summary>Drops every staged write: the device reads as the image again.</summary>
        public void Discard()
        {
            pages.Clear();
            spilled.Clear();
            freeSlots.Clear();
            spillSlots = 0;
            spillFile?.Dispose();
            spillFile = null;
            undo = null;
        }

        private static int Latest(byte[]?[] levels)
        {
            for (int k = levels.Length - 1; k >= 0; k--)
            {
                if (levels[k] != null)
                {
                    return k;
                }
            }
            throw new InvalidOperationException("a staged page without a version");
        }

        private void CheckRange(long offset, int count)
        {
            if (offset < 0 || count < 0 || offset > Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + count}) is outside {Description} ({Length} bytes).");
            }
        }
    }
}
