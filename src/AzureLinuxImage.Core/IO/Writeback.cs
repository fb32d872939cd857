using System.IO;
using System.Runtime.InteropServices;

namespace AzureLinuxImage.IO
{
    /// <summary>
    /// Starts the kernel's writeback of a range just written (Linux sync_file_range(2) with
    /// SYNC_FILE_RANGE_WRITE: asynchronous, no wait), so that the fsync before an atomic rename finds the
    /// data already on its way to disk instead of flushing all of it at the end. A no-op elsewhere.
    /// </summary>
    internal static class Writeback
    {
        private const uint SyncFileRangeWrite = 2;

        public static void Start(FileStream file, long offset, long count)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                return;
            }
            // Failure (a file system without support) only loses the overlap, never data.
            SyncFileRange((int)file.SafeFileHandle.DangerousGetHandle(), offset, count, SyncFileRangeWrite);
        }

        [DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
        private static extern int SyncFileRange(int fd, long offset, long count, uint flags);
    }
}
