using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// Writes to an ext2/3/4 file system through a <see cref="StagedBlockDevice"/> (issue 17). Each
    /// operation either stages all its changes or, on any error, none (the device's undo and the
    /// allocator's held frees roll back). Stages follow the crash-safety order: file data (Data); new
    /// inodes, map and directory blocks nothing links to yet, bitmaps marking them (Metadata); directory
    /// entries and existing inodes switching to the new blocks (Links); blocks and inodes given back,
    /// counts (Release, at commit). Copy on write wherever more than one block must change together.
    /// </summary>
    internal sealed class ExtFileSystemWriter : IFileSystemWriter
    {
        private const int ChunkBlocks = 256;

        private readonly StagedBlockDevice device;
        private readonly ExtWriteVolume v;
        private readonly ExtGroupDescriptorTable groups;
        private readonly ExtBitmapAllocator allocator;
        private readonly ExtInodeTable inodes;
        private readonly ExtFileMapper mapper;
        private readonly ExtDirectoryWriter dirs;
        private readonly ExtXattrBlocks xattrs;
        private readonly List<uint> releasedInodes = new List<uint>();

        public ExtFileSystemWriter(StagedBlockDevice device)
        {
            this.device = device;
            var reader = new ExtFileSystem(device);
            var raw = new byte[ExtSuperblock.Size];
            device.Read(ExtSuperblock.Offset, raw, 0, raw.Length);
            ExtWriteFeatures.Check(reader.Superblock, raw, reader.Description);
            v = new ExtWriteVolume(device, reader);
            groups = new ExtGroupDescriptorTable(v);
            allocator = new ExtBitmapAllocator(v, groups);
            inodes = new ExtInodeTable(v, groups);
            mapper = new ExtFileMapper(v, allocator);
            dirs = new ExtDirectoryWriter(v, inodes, allocator, mapper);
            xattrs = new ExtXattrBlocks(v);
        }

        public string Description => v.Reader.Description;

        /// <summary>The reader over the staged state (tests and tools).</summary>
        internal ExtFileSystem Reader => v.Reader;

        public FileEntry? GetEntry(string path, bool followLastLink = true) => v.Reader.GetEntry(path, followLastLink);

        public IEnumerable<FileEntry> List(string path) => v.Reader.List(path).ToList();

        public Stream OpenRead(string path) => v.Reader.OpenRead(path);

        // ---- operations ----

        public void WriteFile(string path, Stream content, NewItemAttributes? attributes = null)
        {
            if (content == null)
            {
                throw new ArgumentNullException(nameof(content));
            }
            Run(() =>
            {
                ExtInode? existing = v.Reader.InodeOf(path, followLastLink: true);
                if (existing != null)
                {
                    if (existing.Type != FileEntryType.File)
                    {
                        throw new AzureLinuxImageException("NotAFile", ErrorKind.InvalidArgument, $"{Description}: {path} is a {existing.Type.ToString().ToLowerInvariant()}, not a regular file.");
                    }
                    Replace(inodes.Read(existing.Number), content, path);
                    return;
                }
                if (v.Reader.InodeOf(path, followLastLink: false) != null)
                {
                    throw new AzureLinuxImageException("DanglingSymlink", ErrorKind.InvalidArgument, $"{Description}: {path} is a symbolic link whose target does not exist; write to the target's path instead.");
                }
                (ExtInodeRecord parent, string name) = Parent(path);
                DateTimeOffset now = attributes?.Modified ?? DateTimeOffset.UtcNow;
                ExtInodeRecord r = NewInode(ExtInodeRecord.TypeFile, attributes, 0x1A4, parent, now);
                WriteContent(r, content, new ExtFileBlocks(), path);
                r.SetCreated(now);
                inodes.Write(r, WriteStage.Inodes);
                Link(parent, name, r, ExtDirectoryWriter.TypeFile, false);
            });
        }

        public void CreateDirectory(string path, NewItemAttributes? attributes = null)
        {
            Run(() =>
            {
                (ExtInodeRecord parent, string name) = Parent(path);
                DateTimeOffset now = attributes?.Modified ?? DateTimeOffset.UtcNow;
                ExtInodeRecord r = NewInode(ExtInodeRecord.TypeDirectory, attributes, 0x1ED, parent, now);
                r.Links = 2;
                long block = allocator.AllocateBlocks(1, GroupStart(allocator.GroupOfInode(r.Number)))[0].Start;
                dirs.WriteLeaf(r, block, dirs.NewDirectoryBlock(r.Number, parent.Number), WriteStage.Data);
                mapper.SetMap(r, new List<ExtMapping> { new ExtMapping(0, block, 1) }, new ExtFileBlocks());
                r.Size = v.BlockSize;
                r.SetCreated(now);
                inodes.Write(r, WriteStage.Inodes);
                Link(parent, name, r, ExtDirectoryWriter.TypeDirectory, true);
            });
        }

        public void CreateSymlink(string path, string target, NewItemAttributes? attributes = null)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(target ?? string.Empty);
            if (bytes.Length == 0 || bytes.Length >= Math.Min(v.BlockSize, 4096) || Array.IndexOf(bytes, (byte)0) >= 0)
            {
                throw new AzureLinuxImageException("InvalidLinkTarget", ErrorKind.InvalidArgument, $"{Description}: a link target must be 1 to {Math.Min(v.BlockSize, 4096) - 1} bytes without NUL.");
            }
            Run(() =>
            {
                (ExtInodeRecord parent, string name) = Parent(path);
                DateTimeOffset now = attributes?.Modified ?? DateTimeOffset.UtcNow;
                ExtInodeRecord r = NewInode(ExtInodeRecord.TypeSymlink, attributes, 0x1FF, parent, now);
                if (bytes.Length < 60)
                {
                    // A fast symlink: the target in i_block, no blocks, no extent flag.
                    r.Flags &= ~ExtInodeRecord.FlagExtents;
                    r.BlockArea.Clear();
                    bytes.CopyTo(r.BlockArea);
                    r.SetBlocks(0, v.BlockSize, v.HugeFile);
                }
                else
                {
                    WriteContent(r, new MemoryStream(bytes, false), new ExtFileBlocks(), path);
                }
                r.Size = bytes.Length;
                r.SetCreated(now);
                inodes.Write(r, WriteStage.Inodes);
                Link(parent, name, r, ExtDirectoryWriter.TypeSymlink, false);
            });
        }

        public void Delete(string path, bool recursive = false)
        {
            Run(() => DeleteCore(path, recursive));
        }

        public void SetAttributes(string path, uint? mode = null, uint? uid = null, uint? gid = null, DateTimeOffset? modified = null)
        {
            Run(() =>
            {
                ExtInode node = v.Reader.InodeOf(path, followLastLink: false) ?? throw NotFound(path);
                ExtInodeRecord r = inodes.Read(node.Number);
                if (mode.HasValue)
                {
                    if (mode.Value > 0xFFF)
                    {
                        throw new AzureLinuxImageException("InvalidMode", ErrorKind.InvalidArgument, $"{Description}: mode {Convert.ToString(mode.Value, 8)} has bits beyond 07777.");
                    }
                    r.Mode = (ushort)(r.Type | mode.Value);
                }
                if (uid.HasValue)
                {
                    r.Uid = uid.Value;
                }
                if (gid.HasValue)
                {
                    r.Gid = gid.Value;
                }
                if (modified.HasValue)
                {
                    r.SetTime(0x10, 0x88, modified.Value);
                }
                r.SetChanged(DateTimeOffset.UtcNow);
                inodes.Write(r, WriteStage.Links);
            });
        }

        public void Commit()
        {
            if (!device.HasChanges && releasedInodes.Count == 0)
            {
                return;
            }
            device.BeginUndo();
            try
            {
                uint now = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                foreach (uint number in releasedInodes)
                {
                    ExtInodeRecord r = inodes.Read(number);
                    r.Links = 0;
                    r.DeletionTime = now == 0 ? 1 : now;
                    inodes.Write(r, WriteStage.Unlinked);
                }
                xattrs.ApplyReleases();
                allocator.ApplyReleases();
                v.WriteSuperblock(WriteStage.Release);
                device.EndUndo();
            }
            catch
            {
                device.RollBack();
                v.Reader = new ExtFileSystem(device);
                throw;
            }
            releasedInodes.Clear();
            device.Commit();
        }

        public void Dispose()
        {
            device.Discard();
        }

        // ---- pieces ----

        /// <summary>Runs an operation so that it stages everything or nothing.</summary>
        private void Run(Action operation)
        {
            var mark = allocator.Mark;
            int inodeMark = releasedInodes.Count;
            long freeBlocks = v.FreeBlocks;
            uint freeInodes = v.FreeInodes;
            int xattrMark = xattrs.Mark;
            device.BeginUndo();
            try
            {
                operation();
                device.EndUndo();
            }
            catch
            {
                device.RollBack();
                allocator.RollBackTo(mark);
                releasedInodes.RemoveRange(inodeMark, releasedInodes.Count - inodeMark);
                xattrs.RollBackTo(xattrMark);
                v.FreeBlocks = freeBlocks;
                v.FreeInodes = freeInodes;
                v.Reader = new ExtFileSystem(device);
                throw;
            }
        }

        private (ExtInodeRecord Parent, string Name) Parent(string path)
        {
            if (path == null || !path.StartsWith("/", StringComparison.Ordinal))
            {
                throw new AzureLinuxImageException("InvalidItemPath", ErrorKind.InvalidArgument, $"{Description}: '{path}' is not an absolute path.");
            }
            string trimmed = path.TrimEnd('/');
            int slash = trimmed.LastIndexOf('/');
            string name = trimmed.Substring(slash + 1);
            string parentPath = slash <= 0 ? "/" : trimmed.Substring(0, slash);
            if (name.Length == 0 || name == "." || name == "..")
            {
                throw new AzureLinuxImageException("InvalidItemPath", ErrorKind.InvalidArgument, $"{Description}: '{path}' does not end in a name.");
            }
            ExtInode parent = v.Reader.InodeOf(parentPath, followLastLink: true) ?? throw NotFound(parentPath);
            if (parent.Type != FileEntryType.Directory)
            {
                throw new AzureLinuxImageException("NotADirectory", ErrorKind.InvalidArgument, $"{Description}: {parentPath} is not a directory.");
            }
            if (v.Reader.GetEntry(parentPath.TrimEnd('/') + "/" + name, followLastLink: false) != null)
            {
                throw new AzureLinuxImageException("ItemExists", ErrorKind.AlreadyExists, $"{Description}: {path} already exists.");
            }
            return (inodes.Read(parent.Number), name);
        }

        private ExtInodeRecord NewInode(ushort type, NewItemAttributes? attributes, uint defaultMode, ExtInodeRecord parent, DateTimeOffset now)
        {
            uint number = allocator.AllocateInode(type == ExtInodeRecord.TypeDirectory, allocator.GroupOfInode(parent.Number));
            ExtInodeRecord r = inodes.Fresh(number);
            uint mode = attributes?.Mode ?? defaultMode;
            if (mode > 0xFFF)
            {
                throw new AzureLinuxImageException("InvalidMode", ErrorKind.InvalidArgument, $"{Description}: mode {Convert.ToString(mode, 8)} has bits beyond 07777.");
            }
            r.Mode = (ushort)(type | mode);
            r.Uid = attributes?.Uid ?? 0;
            r.Gid = attributes?.Gid ?? 0;
            r.Links = 1;
            var g = new byte[4];
            using (RandomNumberGenerator rng = RandomNumberGenerator.Create())
            {
                rng.GetBytes(g);
            }
            r.Generation = BinaryPrimitives.ReadUInt32LittleEndian(g);
            if (v.Extents && type != ExtInodeRecord.TypeSymlink)
            {
                r.Flags |= ExtInodeRecord.FlagExtents;
            }
            r.SetCreated(now);
            return r;
        }

        /// <summary>Adds the entry, then stages the parent (times, link count for a new subdirectory).</summary>
        private void Link(ExtInodeRecord parent, string name, ExtInodeRecord child, byte fileType, bool directory)
        {
            dirs.Add(parent, name, child.Number, fileType);
            if (directory)
            {
                if (parent.Links >= 65000 - 1 || (parent.Links == 1 && v.DirNlink))
                {
                    if (!v.DirNlink)
                    {
                        throw new AzureLinuxImageException("TooManyLinks", ErrorKind.InvalidArgument, $"{Description}: the parent directory has the most subdirectories ext allows without dir_nlink.");
                    }
                    parent.Links = 1;
                }
                else
                {
                    parent.Links++;
                }
            }
            parent.SetModified(DateTimeOffset.UtcNow);
            inodes.Write(parent, WriteStage.Links);
            v.Reader.NoteEntry(parent.Number, name, child.Number);
        }

        private void Replace(ExtInodeRecord r, Stream content, string path)
        {
            if (r.Has(ExtInodeRecord.FlagInlineData))
            {
                ExtInlineData.Detach(v, r);
            }
            if ((r.Flags & 0x10) != 0 || (r.Flags & 0x20) != 0)
            {
                throw new AzureLinuxImageException("ImmutableFile", ErrorKind.InvalidArgument, $"{Description}: {path} is immutable or append-only (chattr +i/+a); it is not changed.");
            }
            ExtFileBlocks old = mapper.Collect(r);
            WriteContent(r, content, old, path);
            foreach (ExtMapping m in old.Data)
            {
                allocator.ReleaseBlocks(m.Physical, m.Count);
            }
            r.SetModified(DateTimeOffset.UtcNow);
            inodes.Write(r, WriteStage.Links);
        }

        /// <summary>Copies <paramref name="content"/> into newly allocated blocks (Data stage) and points <paramref name="r"/>'s map at them.</summary>
        private void WriteContent(ExtInodeRecord r, Stream content, ExtFileBlocks old, string path)
        {
            int bs = v.BlockSize;
            var runs = new List<ExtMapping>();
            var buffer = new byte[ChunkBlocks * bs];
            long size = 0;
            long logical = 0;
            long goal = old.Data.Count > 0 ? old.Data[0].Physical : GroupStart(allocator.GroupOfInode(r.Number));
            while (true)
            {
                int filled = 0;
                int n;
                while (filled < buffer.Length && (n = content.Read(buffer, filled, buffer.Length - filled)) > 0)
                {
                    filled += n;
                }
                if (filled == 0)
                {
                    break;
                }
                size += filled;
                int blocks = (filled + bs - 1) / bs;
                if (filled % bs != 0)
                {
                    Array.Clear(buffer, filled, (blocks * bs) - filled);
                }
                int done = 0;
                foreach (ExtBlockRun run in allocator.AllocateBlocks(blocks, goal))
                {
                    v.WriteBytes(run.Start * bs, buffer.AsSpan(done * bs, (int)run.Count * bs), WriteStage.Data);
                    runs.Add(new ExtMapping(logical + done, run.Start, run.Count));
                    done += (int)run.Count;
                    goal = run.Start + run.Count;
                }
                logical += blocks;
                if (filled < buffer.Length)
                {
                    break;
                }
            }
            if (!v.Sb.HasRoCompat(0x2) && size > int.MaxValue && r.Type == ExtInodeRecord.TypeFile)
            {
                throw new AzureLinuxImageException("FileTooLarge", ErrorKind.InvalidArgument, $"{Description}: {path} would be {size} bytes; without large_file the file system keeps files under 2 GiB.");
            }
            mapper.SetMap(r, runs, old);
            r.Size = size;
        }

        private void DeleteCore(string path, bool recursive)
        {
            ExtInode node = v.Reader.InodeOf(path, followLastLink: false) ?? throw NotFound(path);
            if (node.Number == ExtFileSystem.RootInode)
            {
                throw new AzureLinuxImageException("InvalidItemPath", ErrorKind.InvalidArgument, $"{Description}: the root directory cannot be removed.");
            }
            string trimmed = path.TrimEnd('/');
            int slash = trimmed.LastIndexOf('/');
            string name = trimmed.Substring(slash + 1);
            string parentPath = slash <= 0 ? "/" : trimmed.Substring(0, slash);
            if (name == "." || name == "..")
            {
                throw new AzureLinuxImageException("InvalidItemPath", ErrorKind.InvalidArgument, $"{Description}: '{path}' does not end in a name.");
            }
            ExtInode parentNode = v.Reader.InodeOf(parentPath, followLastLink: true) ?? throw NotFound(parentPath);
            bool directory = node.Type == FileEntryType.Directory;
            if (directory)
            {
                List<FileEntry> children = v.Reader.List(path).ToList();
                if (children.Count > 0 && !recursive)
                {
                    throw new AzureLinuxImageException("DirectoryNotEmpty", ErrorKind.InvalidArgument, $"{Description}: {path} is not empty; remove it recursively to remove its content too.");
                }
                string prefix = trimmed + "/";
                foreach (FileEntry child in children)
                {
                    DeleteCore(prefix + child.Name, true);
                }
            }
            ExtInodeRecord parent = inodes.Read(parentNode.Number);
            if (!dirs.Remove(parent, name))
            {
                throw NotFound(path);
            }
            if (directory && parent.Links > 2)
            {
                parent.Links--;
            }
            parent.SetModified(DateTimeOffset.UtcNow);
            inodes.Write(parent, WriteStage.Links);
            v.Reader.NoteEntry(parent.Number, name, null);

            ExtInodeRecord r = inodes.Read(node.Number);
            if (!directory && r.Links > 1)
            {
                r.Links--;
                r.SetChanged(DateTimeOffset.UtcNow);
                inodes.Write(r, WriteStage.Links);
                return;
            }
            ExtFileBlocks owned = mapper.Collect(r);
            foreach (ExtMapping m in owned.Data)
            {
                allocator.ReleaseBlocks(m.Physical, m.Count);
            }
            foreach (long b in owned.MapBlocks)
            {
                allocator.ReleaseBlocks(b, 1);
            }
            if (r.FileAcl != 0)
            {
                xattrs.Release(r, allocator);
            }
            allocator.ReleaseInode(r.Number, directory);
            releasedInodes.Add(r.Number);
            v.Reader.ForgetDirectory(r.Number);
        }

        private long GroupStart(long group) => v.Sb.FirstDataBlock + (group * v.Sb.BlocksPerGroup);

        private AzureLinuxImageException NotFound(string path) =>
            new AzureLinuxImageException("ItemNotFound", ErrorKind.NotFound, $"{Description}: {path} does not exist.");
    }
}
