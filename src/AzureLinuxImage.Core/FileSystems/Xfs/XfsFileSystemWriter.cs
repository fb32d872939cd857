using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Xfs
{
    /// <summary>
    /// In-place edits of XFS (issue 17): a file's content is rewritten inside the blocks it already owns
    /// (a config edit of a few bytes fits in the last block's slack), and its size, times, change count
    /// and v5 inode CRC are updated; mode, owner and times can be set. Nothing is allocated or freed, so
    /// the free-space and inode btrees, the AG headers and the log never change. Growing a file past its
    /// written blocks, creating, linking and removing are refused with an error naming the file. Files
    /// that may share blocks (the reflink flag) are refused too: an in-place write would change the
    /// other file.
    /// </summary>
    internal sealed class XfsFileSystemWriter : IFileSystemWriter
    {
        private const int InodeSizeOffset = 56;
        private const int InodeMtimeOffset = 40;
        private const int InodeCtimeOffset = 48;
        private const int InodeChangeCountOffset = 104;
        private const int InodeFlags2Offset = 120;
        private const int InodeCrcOffset = 100;
        private const ulong Flags2Reflink = 1UL << 1;
        private const ulong Flags2BigTime = 1UL << 3;
        private const long BigTimeEpochOffset = 1L << 31;

        private readonly StagedBlockDevice device;
        private readonly XfsFileSystem fs;

        private XfsFileSystemWriter(StagedBlockDevice device, XfsFileSystem fs)
        {
            this.device = device;
            this.fs = fs;
        }

        public string Description => fs.Description;

        /// <summary>Inode numbers changed so far (for -Verbose).</summary>
        public ISet<ulong> TouchedInodes { get; } = new SortedSet<ulong>();

        /// <summary>
        /// Files whose new content changes bytes that both the old and the new size show: committed data first,
        /// inode last, but a crash between the two leaves the file mixed (in place, with no space to stage in).
        /// </summary>
        public ISet<string> NotCrashAtomic { get; } = new SortedSet<string>(StringComparer.Ordinal);

        public static XfsFileSystemWriter Open(StagedBlockDevice device) => new XfsFileSystemWriter(device, XfsFileSystem.Open(device));

        public FileEntry? GetEntry(string path, bool followLastLink = true) => fs.GetEntry(path, followLastLink);

        public IEnumerable<FileEntry> List(string path) => fs.List(path);

        public Stream OpenRead(string path) => fs.OpenRead(path);

        public void WriteFile(string path, Stream content, NewItemAttributes? attributes = null)
        {
            XfsInode node = fs.FindInode(path, followLastLink: true) ?? throw new AzureLinuxImageException("XfsCreateNotSupported", ErrorKind.NotSupported,
                $"{Description}: {path} does not exist, and creating files on XFS is not supported (only existing files are rewritten in place).");
            if (node.Type != FileEntryType.File)
            {
                throw new AzureLinuxImageException("NotAFile", ErrorKind.InvalidArgument, $"{Description}: {path} is a {node.Type.ToString().ToLowerInvariant()}, not a regular file.");
            }
            XfsVolume volume = fs.Volume;
            XfsSuperblock sb = volume.Superblock;
            var (raw, inodeOffset) = ReadInodeRecord(node.Number);
            if (sb.HasCrc && (BinaryPrimitives.ReadUInt64BigEndian(raw.AsSpan(InodeFlags2Offset)) & Flags2Reflink) != 0)
            {
                throw new AzureLinuxImageException("XfsSharedExtents", ErrorKind.NotSupported,
                    $"{Description}: {path} may share blocks with other files (reflink), so it cannot be rewritten in place.");
            }

            // Written blocks from logical 0 on, contiguous: what the new content may fill.
            XfsExtentMap map = XfsExtentMap.Read(volume, node);
            var runs = new List<(long Logical, long Physical, long Count)>();
            long owned = 0;
            foreach (XfsExtent e in map.Extents.OrderBy(e => e.Logical))
            {
                if (e.Logical != owned || e.Unwritten)
                {
                    break;
                }
                runs.Add((e.Logical, e.Physical, e.Count));
                owned += e.Count;
            }
            long ownedBytes = owned * sb.BlockSize;
            byte[] data = ReadAtMost(content, ownedBytes, out bool tooLarge);
            if (tooLarge)
            {
                throw new AzureLinuxImageException("XfsFileGrowth", ErrorKind.NotSupported,
                    $"{Description}: the new content of {path} is larger than the {ownedBytes} bytes of blocks the file owns; growing XFS files is not supported (only in-place edits that fit).");
            }

            // Whole blocks, zeros after the end of file (what XFS keeps past EOF), in the order that keeps the old
            // or the new content readable whatever write a crash stops at (the inode, one sector, is the switch):
            // an unchanged block is not written; a block whose bytes the old size shows stay as they are is
            // written before the inode (Data); one whose bytes the new size shows stay as they are (the change is
            // past the new end: a truncation) after it (Release). Any other block is changed where both sizes
            // read it: no order helps without space to stage it in (no allocation here), so it goes first and
            // the file is reported as not crash-atomic (a crash between it and the inode leaves it mixed;
            // xfs_repair still finds the file system clean).
            long oldSize = BinaryPrimitives.ReadInt64BigEndian(raw.AsSpan(InodeSizeOffset));
            long blocksNeeded = (data.Length + sb.BlockSize - 1) / sb.BlockSize;
            var block = new byte[sb.BlockSize];
            var old = new byte[sb.BlockSize];
            int torn = 0;
            foreach (var run in runs)
            {
                for (long i = 0; i < run.Count && run.Logical + i < blocksNeeded; i++)
                {
                    long logical = run.Logical + i;
                    long from = logical * sb.BlockSize;
                    int n = (int)Math.Min(sb.BlockSize, data.Length - from);
                    Array.Clear(block, 0, block.Length);
                    Buffer.BlockCopy(data, (int)from, block, 0, n);
                    long at = (run.Physical + i) * sb.BlockSize;
                    device.Read(at, old, 0, old.Length);
                    if (old.AsSpan().SequenceEqual(block))
                    {
                        continue;
                    }
                    int oldShown = (int)Math.Max(0, Math.Min(sb.BlockSize, oldSize - from));
                    int newShown = n;
                    WriteStage stage;
                    if (old.AsSpan(0, oldShown).SequenceEqual(block.AsSpan(0, oldShown)))
                    {
                        stage = WriteStage.Data;
                    }
                    else if (old.AsSpan(0, newShown).SequenceEqual(block.AsSpan(0, newShown)))
                    {
                        stage = WriteStage.Release;
                    }
                    else
                    {
                        stage = WriteStage.Data;
                        torn++;
                    }
                    device.Write(at, block, stage);
                }
            }
            // One such block and an unchanged size: that block's write is itself the switch (the inode only stamps times).
            if (torn > 1 || (torn == 1 && oldSize != data.Length))
            {
                NotCrashAtomic.Add(path);
            }

            // Then the inode: size, mtime and ctime, change count, CRC.
            BinaryPrimitives.WriteInt64BigEndian(raw.AsSpan(InodeSizeOffset), data.Length);
            DateTimeOffset now = DateTimeOffset.UtcNow;
            StampTimes(raw, now, now);
            WriteInode(node.Number, raw, inodeOffset);
        }

        public void SetAttributes(string path, uint? mode = null, uint? uid = null, uint? gid = null, DateTimeOffset? modified = null)
        {
            XfsInode node = fs.FindInode(path, followLastLink: true) ?? throw new AzureLinuxImageException("ItemNotFound", ErrorKind.NotFound, $"{Description}: {path} does not exist.");
            var (raw, inodeOffset) = ReadInodeRecord(node.Number);
            if (mode != null)
            {
                ushort old = BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(2));
                BinaryPrimitives.WriteUInt16BigEndian(raw.AsSpan(2), (ushort)((uint)(old & 0xF000) | (mode.Value & 0xFFFu)));
            }
            if (uid != null)
            {
                BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(8), uid.Value);
            }
            if (gid != null)
            {
                BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(12), gid.Value);
            }
            StampTimes(raw, modified, DateTimeOffset.UtcNow);
            WriteInode(node.Number, raw, inodeOffset);
        }

        public void CreateDirectory(string path, NewItemAttributes? attributes = null) => throw Unsupported(path, "creating directories");

        public void CreateSymlink(string path, string target, NewItemAttributes? attributes = null) => throw Unsupported(path, "creating symbolic links");

        public void Delete(string path, bool recursive = false) => throw Unsupported(path, "removing entries");

        public void Commit() => device.Commit();

        public void Dispose()
        {
            device.Discard();
            fs.Dispose();
        }

        private AzureLinuxImageException Unsupported(string path, string what) =>
            new AzureLinuxImageException("XfsWriteNotSupported", ErrorKind.NotSupported,
                $"{Description}: {path}: {what} on XFS is not supported; only existing files are rewritten in place (and their mode, owner and times set).");

        private (byte[] Raw, long Offset) ReadInodeRecord(ulong number)
        {
            XfsSuperblock sb = fs.Volume.Superblock;
            long offset = sb.InodeByteOffset(number, Description, $"XFS inode {number}");
            var raw = new byte[sb.InodeSize];
            device.Read(offset, raw, 0, raw.Length);
            // The reader verified this record when it resolved the path; check again that nothing moved under us.
            if (BinaryPrimitives.ReadUInt16BigEndian(raw) != XfsInode.Magic)
            {
                throw new InvalidImageException(Description, $"XFS inode {number}", "the record changed while it was being edited.");
            }
            return (raw, offset);
        }

        private void StampTimes(byte[] raw, DateTimeOffset? modified, DateTimeOffset changed)
        {
            bool bigTime = fs.Volume.Superblock.HasCrc && (BinaryPrimitives.ReadUInt64BigEndian(raw.AsSpan(InodeFlags2Offset)) & Flags2BigTime) != 0;
            if (modified != null)
            {
                WriteTimestamp(raw.AsSpan(InodeMtimeOffset, 8), modified.Value, bigTime);
            }
            WriteTimestamp(raw.AsSpan(InodeCtimeOffset, 8), changed, bigTime);
        }

        private void WriteInode(ulong number, byte[] raw, long offset)
        {
            XfsSuperblock sb = fs.Volume.Superblock;
            if (sb.HasCrc)
            {
                ulong count = BinaryPrimitives.ReadUInt64BigEndian(raw.AsSpan(InodeChangeCountOffset));
                BinaryPrimitives.WriteUInt64BigEndian(raw.AsSpan(InodeChangeCountOffset), count + 1);
                uint crc = XfsChecksum.Compute(raw, 0, raw.Length, InodeCrcOffset);
                BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(InodeCrcOffset), crc);
            }
            device.Write(offset, raw, WriteStage.Links);
            fs.Volume.Forget(offset / sb.BlockSize);
            TouchedInodes.Add(number);
        }

        private static void WriteTimestamp(Span<byte> target, DateTimeOffset time, bool bigTime)
        {
            long ticks = time.UtcTicks - new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
            long seconds = (long)Math.Floor(ticks / (double)TimeSpan.TicksPerSecond);
            long nanoseconds = (ticks - (seconds * TimeSpan.TicksPerSecond)) * 100;
            if (bigTime)
            {
                BinaryPrimitives.WriteUInt64BigEndian(target, (ulong)((seconds + BigTimeEpochOffset) * 1_000_000_000L + nanoseconds));
            }
            else
            {
                BinaryPrimitives.WriteInt32BigEndian(target, (int)Math.Max(int.MinValue, Math.Min(int.MaxValue, seconds)));
                BinaryPrimitives.WriteUInt32BigEndian(target.Slice(4), (uint)nanoseconds);
            }
        }

        /// <summary>The stream's bytes, or <paramref name="tooLarge"/> once more than <paramref name="limit"/> arrive (never buffering more).</summary>
        private static byte[] ReadAtMost(Stream content, long limit, out bool tooLarge)
        {
            var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = content.Read(chunk, 0, chunk.Length)) > 0)
            {
                buffer.Write(chunk, 0, n);
                if (buffer.Length > limit)
                {
                    tooLarge = true;
                    return Array.Empty<byte>();
                }
            }
            tooLarge = false;
            return buffer.ToArray();
        }
    }
}
