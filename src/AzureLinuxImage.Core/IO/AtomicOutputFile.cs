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

        public static AtomicOutputFile Create(string destination, bool overwrite, bool durable = true)
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
            string temporary = Path.Combine(folder, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".partial");
            try
            {
                var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                return new AtomicOutputFile(full, temporary, stream, overwrite, durable);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new AzureLinuxImageException("DestinationAccessDenied", ErrorKind.ResourceUnavailable, $"{full}: cannot create a file in {folder}: {e.Message}", full, e);
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
