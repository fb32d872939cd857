using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Ext;
using AzureLinuxImage.FileSystems.Xfs;
using AzureLinuxImage.IO;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.Linux
{
    /// <summary>The bytes a staged change touches on one volume (for -Verbose).</summary>
    public sealed class VolumeChange
    {
        internal VolumeChange(string volume, IReadOnlyList<(long Offset, long Length, string Stage)> ranges, IReadOnlyList<string> details)
        {
            Volume = volume;
            Ranges = ranges;
            Details = details;
        }

        /// <summary>The volume ("partition 1 of disk.vhd").</summary>
        public string Volume { get; }

        /// <summary>Byte ranges on the volume (4 KiB pages, merged) and the stage each is written in.</summary>
        public IReadOnlyList<(long Offset, long Length, string Stage)> Ranges { get; }

        /// <summary>Inodes (and similar) the file system's writer reports.</summary>
        public IReadOnlyList<string> Details { get; }

        /// <summary>Bytes that would be written.</summary>
        public long Bytes => Ranges.Sum(r => r.Length);

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => Volume + ": " + Bytes + " bytes in " + Ranges.Count + " range(s)";
    }

    /// <summary>
    /// A Linux image opened for changes (issue 17): the assembled view (root plus fstab mounts) as one
    /// <see cref="IFileSystemWriter"/>. Every change is staged in memory; nothing reaches a file before
    /// <see cref="Commit"/>, so an error, a cancel or a change not confirmed (-WhatIf) leaves the image byte-identical. In place
    /// the image's own file is written (fixed VHD or raw only); with a destination the image is first
    /// copied (sparse) to a temporary file next to it, changed there, and renamed over the destination
    /// on commit, so the source is never opened for writing and no partial destination ever exists.
    /// </summary>
    internal sealed class WritableLinuxImage : IDisposable
    {
        private readonly LinuxImage image;
        private readonly MountedFileSystemWriter writer;
        private readonly List<(StagedBlockDevice Device, IFileSystemWriter Writer)> staged;
        private readonly string? destination;
        private readonly bool overwrite;
        private readonly DateTime? planOnly;
        private CancellationToken cancel;
        private string? temporary;
        private bool committed;

        private WritableLinuxImage(string source, LinuxImage image, MountedFileSystemWriter writer, List<(StagedBlockDevice, IFileSystemWriter)> staged, string? temporary, string? destination, bool overwrite, DateTime? planOnly)
        {
            this.planOnly = planOnly;
            SourcePath = source;
            this.image = image;
            this.writer = writer;
            this.staged = staged;
            this.temporary = temporary;
            this.destination = destination;
            this.overwrite = overwrite;
        }

        /// <summary>The image read from.</summary>
        public string SourcePath { get; }

        /// <summary>The image the changes go to: the destination, or the source in place.</summary>
        public string TargetPath => destination ?? SourcePath;

        /// <summary>The assembled view: reads see staged changes; writes are routed to each mount's file system.</summary>
        public IFileSystemWriter FileSystem => writer;

        /// <summary>The image as read (partitions, volumes, mounts).</summary>
        public LinuxImage Image => image;

        /// <summary>Warnings from opening the image (damage worked around, mounts left out).</summary>
        public IReadOnlyList<string> Warnings => image.Warnings;

        /// <summary>The entries changed so far, in order.</summary>
        public IReadOnlyList<ItemChange> Changes => writer.Changes;

        /// <summary>Where the staged changes would be written, per volume (blocks and inodes, for -Verbose).</summary>
        public IReadOnlyList<VolumeChange> VolumeChanges
        {
            get
            {
                var result = new List<VolumeChange>();
                foreach (var (device, fsWriter) in staged)
                {
                    if (!device.HasChanges)
                    {
                        continue;
                    }
                    var details = new List<string>();
                    if (fsWriter is XfsFileSystemWriter xfs && xfs.TouchedInodes.Count > 0)
                    {
                        details.Add("inodes " + string.Join(", ", xfs.TouchedInodes));
                    }
                    if (fsWriter is XfsFileSystemWriter x && x.NotCrashAtomic.Count > 0)
                    {
                        details.Add("rewritten in place, not crash-atomic (a crash during the commit can leave them mixed; the file system stays consistent): " + string.Join(", ", x.NotCrashAtomic));
                    }
                    result.Add(new VolumeChange(device.Description, device.Changes.Select(c => (c.Offset, c.Length, c.Stage.ToString())).ToList(), details));
                }
                return result;
            }
        }

        /// <summary>
        /// Opens <paramref name="imagePath"/> for changes, writable from the start. <paramref name="destination"/>:
        /// write a changed copy there instead (the source stays untouched; <paramref name="overwrite"/> allows
        /// replacing an existing file). A change to list before it is confirmed (-WhatIf) uses <see cref="OpenToPlan"/>.
        /// </summary>
        public static WritableLinuxImage Open(string imagePath, string? destination, bool overwrite = false, CancellationToken cancel = default) =>
            Open(imagePath, destination, plan: false, overwrite, cancel);

        /// <summary>
        /// Opens <paramref name="imagePath"/> read-only to stage a change, list it (-WhatIf, -Confirm) and, when
        /// confirmed, <see cref="Commit"/> exactly what was staged: the commit reopens the file for writing (in
        /// place), or copies it to a temporary file next to <paramref name="destination"/> and writes that, so
        /// the image is opened and parsed once per edit. Disposing without committing writes nothing and needs
        /// no write access; an image changed by someone else after it was opened is refused at the commit.
        /// </summary>
        public static WritableLinuxImage OpenToPlan(string imagePath, string? destination, bool overwrite = false, CancellationToken cancel = default) =>
            Open(imagePath, destination, plan: true, overwrite, cancel);

        private static WritableLinuxImage Open(string imagePath, string? destination, bool plan, bool overwrite, CancellationToken cancel)
        {
            string source = Path.GetFullPath(imagePath);
            string? target = destination == null ? null : Path.GetFullPath(destination);
            if (target != null && string.Equals(target, source, StringComparison.Ordinal))
            {
                throw new AzureLinuxImageException("DestinationIsSource", ErrorKind.InvalidArgument, $"{source}: the destination is the image itself; leave -Destination out to change it in place.", source);
            }
            if (target != null)
            {
                CheckDestination(target, overwrite);
            }

            DiskImage disk;
            string? temporary = null;
            DateTime? openedAt = null;
            if (plan)
            {
                openedAt = File.GetLastWriteTimeUtc(source);
                // Same refusals as a real run (format, destination), without write access.
                disk = DiskImage.Open(source);
                if (!((disk.Format == DiskFormat.Raw || disk.Format == DiskFormat.Vhd) && disk.Variant == DiskVariant.Fixed))
                {
                    disk.Dispose();
                    disk = WritableDiskImage.Open(source); // throws the typed format error
                }
            }
            else if (target != null)
            {
                using (DiskImage probe = DiskImage.Open(source))
                {
                    // Refuse unwritable formats before copying gigabytes.
                    if (!((probe.Format == DiskFormat.Raw || probe.Format == DiskFormat.Vhd) && probe.Variant == DiskVariant.Fixed))
                    {
                        WritableDiskImage.Open(source).Dispose();
                    }
                }
                temporary = TemporaryNextTo(target);
                try
                {
                    CopySparse(source, temporary, cancel);
                    disk = WritableDiskImage.Open(temporary);
                }
                catch
                {
                    TryDelete(temporary);
                    throw;
                }
            }
            else
            {
                disk = WritableDiskImage.Open(source);
            }

            var stagedDevices = new List<(StagedBlockDevice, IFileSystemWriter)>();
            var byDevice = new Dictionary<BlockDevice, IFileSystemWriter>();
            IFileSystem OpenWriter(BlockDevice device, FileSystemKind kind)
            {
                if (byDevice.TryGetValue(device, out IFileSystemWriter? known))
                {
                    return known;
                }
                IFileSystemWriter opened = OpenVolume(device, kind, plan, stagedDevices);
                byDevice[device] = opened;
                return opened;
            }

            LinuxImage image;
            try
            {
                image = LinuxImage.Open(disk, ownsDisk: true, OpenWriter);
            }
            catch
            {
                if (temporary != null)
                {
                    TryDelete(temporary);
                }
                throw;
            }
            try
            {
                image.RequireFileSystem();
                var view = (MountedFileSystem)image.FileSystem!;
                return new WritableLinuxImage(source, image, new MountedFileSystemWriter(view), stagedDevices, temporary, target, overwrite, plan ? openedAt : null) { cancel = cancel };
            }
            catch
            {
                image.Dispose();
                if (temporary != null)
                {
                    TryDelete(temporary);
                }
                throw;
            }
        }

        /// <summary>
        /// Writes every staged change (each file system in its crash-safe order, flushed between stages);
        /// with a destination, then renames the copy over it and syncs the folder.
        /// </summary>
        public void Commit()
        {
            if (committed)
            {
                throw new InvalidOperationException($"{SourcePath}: the changes were committed already.");
            }
            if (planOnly.HasValue && (staged.Any(d => d.Device.HasChanges) || writer.Changes.Count > 0))
            {
                OpenForCommit(planOnly.Value);
            }
            writer.Commit();
            committed = true;
            if (temporary != null && destination != null)
            {
                image.Dispose();
                if (File.Exists(destination))
                {
                    if (!overwrite)
                    {
                        throw new AzureLinuxImageException("DestinationExists", ErrorKind.AlreadyExists, $"{destination} appeared while the copy was changed; nothing was overwritten.", destination);
                    }
                    File.Replace(temporary, destination, null);
                }
                else
                {
                    File.Move(temporary, destination);
                }
                UnixFileApi.SyncDirectory(Path.GetDirectoryName(destination) ?? ".");
            }
        }

        public void Dispose()
        {
            image.Dispose();
            if (temporary != null && File.Exists(temporary))
            {
                TryDelete(temporary);
            }
        }

        /// <summary>
        /// A planned edit, confirmed: the read-only file becomes writable (in place: the same file, checked
        /// unchanged since it was opened; with a destination: a sparse copy made now next to it), under the
        /// staged devices, whose sinks write through the disk.
        /// </summary>
        private void OpenForCommit(DateTime openedAt)
        {
            string writeTo = SourcePath;
            if (destination != null)
            {
                if (File.Exists(destination) && !overwrite)
                {
                    throw new AzureLinuxImageException("DestinationExists", ErrorKind.AlreadyExists, $"{destination} appeared while the change was planned; nothing was written.", destination);
                }
                temporary = TemporaryNextTo(destination);
                CopySparse(SourcePath, temporary, cancel);
                if (File.GetLastWriteTimeUtc(SourcePath) != openedAt)
                {
                    throw new AzureLinuxImageException("ImageChangedDuringEdit", ErrorKind.ResourceUnavailable,
                        $"{SourcePath} changed while the edit was planned (by another program?); nothing was written. Run the command again.", SourcePath);
                }
                writeTo = temporary;
            }
            image.Disk.ReopenForWriting(writeTo, destination == null ? openedAt : (DateTime?)null);
        }

        private static IFileSystemWriter OpenVolume(BlockDevice device, FileSystemKind kind, bool plan, List<(StagedBlockDevice, IFileSystemWriter)> stagedDevices)
        {
            IBlockDeviceSink? sink = null;
            string? notWritable = null;
            try
            {
                // A volume that cannot be written (a striped LV) is refused when a change is staged, not at the
                // commit, so a planned change (-WhatIf) lists only what the confirmed run can write.
                sink = BlockDeviceSinks.For(device, diskOpenForWriting: !plan);
            }
            catch (AzureLinuxImageException e)
            {
                notWritable = e.Message;
            }
            if (sink != null && (kind == FileSystemKind.Ext2 || kind == FileSystemKind.Ext3 || kind == FileSystemKind.Ext4 || kind == FileSystemKind.Xfs))
            {
                var stagedDevice = new StagedBlockDevice(device, sink);
                IFileSystemWriter w;
                try
                {
                    w = kind == FileSystemKind.Xfs ? XfsFileSystemWriter.Open(stagedDevice) : OpenExt(stagedDevice);
                }
                catch (AzureLinuxImageException e) when (!(e is InvalidImageException))
                {
                    // Readable but not writable (a journal needing recovery, an unknown feature): the view still
                    // assembles, and a change to this file system is refused with the writer's reason.
                    return new ReadOnlyFileSystemWriter(FileSystemOpeners.Open(device, kind), e.Message);
                }
                stagedDevices.Add((stagedDevice, w));
                return w;
            }
            IFileSystem reader = FileSystemOpeners.Open(device, kind);
            return new ReadOnlyFileSystemWriter(reader, notWritable ?? $"{kind} file systems are read but not written in this version.");
        }

        private static IFileSystemWriter OpenExt(StagedBlockDevice device) => ExtFileSystem.OpenForWriting(device);

        private static void CheckDestination(string target, bool overwrite)
        {
            string folder = Path.GetDirectoryName(target) ?? ".";
            if (!Directory.Exists(folder))
            {
                throw new AzureLinuxImageException("DestinationFolderNotFound", ErrorKind.NotFound, $"{target}: the folder {folder} does not exist.", target);
            }
            if (Directory.Exists(target))
            {
                throw new AzureLinuxImageException("DestinationIsFolder", ErrorKind.InvalidArgument, $"{target} is a folder; give the new image's file name.", target);
            }
            if (File.Exists(target) && !overwrite)
            {
                throw new AzureLinuxImageException("DestinationExists", ErrorKind.AlreadyExists, $"{target} already exists. Use -Force (--force) to overwrite it.", target);
            }
        }

        /// <summary>A hidden, unique temporary file name in the destination's folder (renamed over it on commit).</summary>
        private static string TemporaryNextTo(string target) =>
            Path.Combine(Path.GetDirectoryName(target) ?? ".", "." + Path.GetFileName(target) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".partial");

        private static void CopySparse(string source, string temporary, CancellationToken cancel)
        {
            using (var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None))
            using (var to = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None))
            {
                SparseCopy.Copy(from, to, cancel);
            }
        }

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
