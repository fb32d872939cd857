using System;
using System.IO;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.IO
{
    /// <summary>
    /// A new file written under a temporary name in the destination folder and renamed over the
    /// destination only on <see cref="Commit"/>: a failure, a cancel or a crash never leaves a partial
    /// file at the destination, and an existing destination survives until the new one is complete.
    /// When <see cref="Durable"/> (the default), the data is flushed to disk before the rename and the
    /// folder after it, so a power failure cannot leave a complete-looking file whose blocks were never
    /// written; without it the rename is still atomic for the process, but not across a power failure.
    /// The temporary file holds an exclusive advisory lock while it is written (flock on Unix, a share-none
    /// handle on Windows), so a process killed with SIGKILL leaves a partial nobody holds, which the next
    /// output to the same destination removes with a warning (issue 16); a live writer's partial is kept.
    /// </summary>
    internal sealed class AtomicOutputFile : IDisposable
    {
        private readonly string destination;
        private readonly bool overwrite;
        private bool committed;

        private AtomicOutputFile(string destination, string temporary, FileStream stream, bool overwrite, bool durable)
        {
            this.destination = destination;
            TemporaryPath = temporary;
            Stream = stream;
            this.overwrite = overwrite;
            Durable = durable;
        }

        public FileStream Stream { get; }

        public string TemporaryPath { get; }

        /// <summary>Whether <see cref="Commit"/> flushes to disk; writers also start early writeback only then.</summary>
        public bool Durable { get; }

        /// <param name="destination">The output path.</param>
        /// <param name="overwrite">Whether an existing destination may be replaced.</param>
        /// <param name="durable">Flush to disk before the rename.</param>
        /// <param name="warning">Told of each stale partial of this destination that was removed.</param>
        public static AtomicOutputFile Create(string destination, bool overwrite, bool durable = true, Action<string>? warning = null)
        {
            string full = CheckDestination(destination, overwrite);
            string folder = Path.GetDirectoryName(full) ?? ".";
            RemoveStalePartials(folder, Path.GetFileName(full), warning);
            string temporary = Path.Combine(folder, PartialPrefix(Path.GetFileName(full)) + Guid.NewGuid().ToString("N").Substring(0, HexLength) + PartialSuffix);
            try
            {
                // FileShare.None is flock(LOCK_EX) on Unix in .NET; the explicit lock keeps it so even when
                // .NET's own locking is turned off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING).
                var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                UnixFileApi.TryLockExclusive(stream.SafeFileHandle);
                return new AtomicOutputFile(full, temporary, stream, overwrite, durable);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new AzureLinuxImageException("DestinationAccessDenied", ErrorKind.ResourceUnavailable, $"{full}: cannot create a file in {folder}: {e.Message}", full, e);
            }
        }

        /// <summary>
        /// The full path of a new output file, checked before anything is written: its folder exists, it is not
        /// a folder, and an existing file is replaced only with <paramref name="overwrite"/> (-Force, --force).
        /// </summary>
        public static string CheckDestination(string destination, bool overwrite)
        {
            string full = Path.GetFullPath(destination);
            string folder = Path.GetDirectoryName(full) ?? ".";
            if (!Directory.Exists(folder))
            {
                throw new AzureLinuxImageException("DestinationFolderNotFound", ErrorKind.NotFound, $"{full}: the folder {folder} does not exist.", full);
            }
            if (Directory.Exists(full))
            {
                throw new AzureLinuxImageException("DestinationIsFolder", ErrorKind.InvalidArgument, $"{full} is a folder.", full);
            }
            if (File.Exists(full) && !overwrite)
            {
                throw new AzureLinuxImageException("DestinationExists", ErrorKind.AlreadyExists, $"{full} already exists. Use -Force (--force) to overwrite it.", full);
            }
            return full;
        }

        /// <summary>
        /// Sets the output's length; a length the destination's file system cannot hold (ext4 with 4 KiB
        /// blocks: 16 TiB) is a typed error rather than the runtime's exception.
        /// </summary>
        public void SetLength(long length)
        {
            try
            {
                Stream.SetLength(length);
            }
            catch (Exception e) when (e is IOException || e is ArgumentOutOfRangeException)
            {
                string folder = Path.GetDirectoryName(destination) ?? ".";
                throw new AzureLinuxImageException("DestinationFileTooLarge", ErrorKind.ResourceUnavailable,
                    $"{destination}: the file system of {folder} cannot hold a file of {length} bytes ({e.Message}). Choose a destination on a file system with larger files (XFS, btrfs, NTFS); nothing was written.", destination, e);
            }
        }

        /// <summary>Flushes to disk when <see cref="Durable"/>, closes and renames over the destination.</summary>
        public void Commit()
        {
            Stream.Flush(Durable);
            Stream.Dispose();
            if (File.Exists(destination))
            {
                if (!overwrite)
                {
                    throw new AzureLinuxImageException("DestinationExists", ErrorKind.AlreadyExists, $"{destination} appeared while the output was written; nothing was overwritten.", destination);
                }
                File.Replace(TemporaryPath, destination, null);
            }
            else
            {
                File.Move(TemporaryPath, destination);
            }
            committed = true;
            if (Durable)
            {
                // The rename itself is only on disk once the folder is.
                UnixFileApi.SyncDirectory(Path.GetDirectoryName(destination) ?? ".");
            }
        }

        private const string PartialSuffix = ".partial";
        private const int HexLength = 8;

        private static string PartialPrefix(string name) => "." + name + ".";

        /// <summary>
        /// Deletes the partials of <paramref name="name"/> (".NAME.&lt;8 hex&gt;.partial") that no process holds
        /// locked: each is opened and locked before it is deleted, so a live writer's file is never touched.
        /// </summary>
        private static void RemoveStalePartials(string folder, string name, Action<string>? warning)
        {
            string prefix = PartialPrefix(name);
            string[] candidates;
            try
            {
                candidates = Directory.GetFiles(folder, prefix + "*" + PartialSuffix);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return;
            }
            foreach (string path in candidates)
            {
                string file = Path.GetFileName(path);
                string middle = file.Length == prefix.Length + HexLength + PartialSuffix.Length ? file.Substring(prefix.Length, HexLength) : string.Empty;
                if (!file.StartsWith(prefix, StringComparison.Ordinal) || middle.Length != HexLength || !IsHex(middle))
                {
                    continue;
                }
                try
                {
                    // On Windows share-none fails while the writer has it open; on Unix the flock says it.
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                    if (!UnixFileApi.TryLockExclusive(stream.SafeFileHandle))
                    {
                        continue;
                    }
                    long length = stream.Length;
                    File.Delete(path);
                    warning?.Invoke($"{path}: removed a partial output of {length} bytes left by an earlier write to {Path.Combine(folder, name)} that did not finish (its process was killed).");
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    // Held by a live writer, or gone meanwhile: not ours to remove.
                }
            }
        }

        private static bool IsHex(string s)
        {
            foreach (char c in s)
            {
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                {
                    return false;
                }
            }
            return true;
        }

        public void Dispose()
        {
            if (committed)
            {
                return;
            }
            Stream.Dispose();
            try
            {
                File.Delete(TemporaryPath);
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
