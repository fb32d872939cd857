using System;
using System.IO;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.IO
{
    /// <summary>
    /// Replaces a small file so that a reader (or a crash) sees either the old bytes or the new ones, never a
    /// mix: the new content goes to a temporary file in the same folder, is flushed to disk (fsync), gets the
    /// original's mode, owner and extended attributes (SELinux label, ACLs), and is renamed over the original;
    /// the folder is then synced. A file with several hard links is rewritten in place instead (a rename
    /// would split them), with a warning. A temporary
    /// file left by an earlier run that died before its rename is deleted by the next write. For editing an
    /// existing small file in place (configuration files); <see cref="AtomicOutputFile"/> is for new, large outputs.
    /// </summary>
    internal sealed class AtomicFileWriter
    {
        /// <summary>Temporary files are named ".&lt;name&gt;.azli-tmp-&lt;random&gt;" next to the target.</summary>
        public const string TemporaryMarker = ".azli-tmp-";

        /// <summary>
        /// Test seam: called once the temporary file is complete and synced, before the rename; returning false
        /// stops right there without any cleanup, as if the process had died at that point.
        /// </summary>
        public Func<string, bool>? AfterTemporaryWritten { get; set; }

        /// <summary>Told when the write cannot be atomic (a file with hard links).</summary>
        public Action<string>? Warning { get; set; }

        /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> atomically; false only when the seam stopped it.</summary>
        public bool Write(string path, byte[] content)
        {
            string full = Path.GetFullPath(path);
            string directory = Path.GetDirectoryName(full) ?? throw new ArgumentException("A file path is needed.", nameof(path));
            string name = Path.GetFileName(full);
            DeleteStaleTemporaries(directory, name);
            uint links = File.Exists(full) ? UnixFileApi.GetLinkCount(full) ?? 1 : 1;
            if (links > 1)
            {
                RewriteInPlace(full, content);
                Warning?.Invoke($"{full} has {links} hard links, which replacing it would split: it was rewritten in place, not atomically.");
                return true;
            }

            UnixOwnership? ownership = File.Exists(full) ? UnixFileApi.GetOwnership(full) : null;
            string temporary = Path.Combine(directory, "." + name + TemporaryMarker + Guid.NewGuid().ToString("N").Substring(0, 12));
            bool abandoned = false;
            try
            {
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    stream.Write(content, 0, content.Length);
                    stream.Flush(true);
                }
                if (ownership != null && !UnixFileApi.TryApply(temporary, ownership.Value, out string? error))
                {
                    throw new AzureLinuxImageException("PreserveOwnershipFailed", ErrorKind.ResourceUnavailable,
                        $"{full}: cannot give the new file the original's owner and mode ({error}); nothing was changed. Run as the file's owner or as root.", full);
                }
                if (ownership != null && !UnixFileApi.TryCopyExtendedAttributes(full, temporary, out error))
                {
                    throw new AzureLinuxImageException("PreserveAttributesFailed", ErrorKind.ResourceUnavailable,
                        $"{full}: cannot give the new file the original's extended attributes, such as its SELinux label or ACL ({error}); nothing was changed. Run as root.", full);
                }
                if (AfterTemporaryWritten != null && !AfterTemporaryWritten(temporary))
                {
                    abandoned = true;
                    return false;
                }
                if (File.Exists(full))
                {
                    // rename(2) on Linux; ReplaceFile on Windows.
                    File.Replace(temporary, full, null);
                }
                else
                {
                    File.Move(temporary, full);
                }
                UnixFileApi.SyncDirectory(directory);
                return true;
            }
            catch when (!abandoned)
            {
                TryDelete(temporary);
                throw;
            }
        }

        /// <summary>One write of the whole content, then the length, then fsync: every link sees the new bytes.</summary>
        private static void RewriteInPlace(string path, byte[] content)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None);
            stream.Write(content, 0, content.Length);
            stream.SetLength(content.Length);
            stream.Flush(true);
        }

        /// <summary>Temporary files of <paramref name="name"/> in <paramref name="directory"/> (left by a crash).</summary>
        public static string[] FindTemporaries(string directory, string name) =>
            Directory.Exists(directory) ? Directory.GetFiles(directory, "." + name + TemporaryMarker + "*") : new string[0];

        private static void DeleteStaleTemporaries(string directory, string name)
        {
            foreach (string stale in FindTemporaries(directory, name))
            {
                TryDelete(stale);
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
