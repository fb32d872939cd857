using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using AzureLinuxImage.Disks;

namespace AzureLinuxImage.IO
{
    /// <summary>
    /// The file system's own map of a sparse file: SEEK_DATA/SEEK_HOLE on Linux (lseek(2)),
    /// FSCTL_QUERY_ALLOCATED_RANGES on Windows. Where neither answers, the whole file counts as data.
    /// Also marks new files sparse on Windows, where NTFS would otherwise zero-fill every skipped range.
    /// </summary>
    internal static class SparseFiles
    {
        private const int SeekData = 3; // Linux <unistd.h>
        private const int SeekHole = 4;
        private const int ENXIO = 6;
        private const uint FsctlQueryAllocatedRanges = 0x000940CF;
        private const uint FsctlSetSparse = 0x000900C4;

        /// <summary>Data ranges of <paramref name="file"/> inside [0, <paramref name="limit"/>), ascending, streamed.</summary>
        public static IEnumerable<ByteRange> GetDataRanges(FileStream file, long limit)
        {
            if (limit <= 0)
            {
                yield break;
            }
            IEnumerable<ByteRange>? ranges = null;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                ranges = LinuxDataRanges(file.SafeFileHandle, limit);
            }
            else if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                ranges = WindowsDataRanges(file.SafeFileHandle, limit);
            }
            foreach (ByteRange r in ranges ?? new[] { new ByteRange(0, limit) })
            {
                yield return r;
            }
        }

        private static IEnumerable<ByteRange> LinuxDataRanges(SafeFileHandle handle, long limit)
        {
            int fd = (int)handle.DangerousGetHandle();
            // Probe once: a file system without SEEK_DATA support fails with EINVAL; fall back to "all data".
            long first = Lseek(fd, 0, SeekData);
            if (first < 0)
            {
                int errno = Marshal.GetLastWin32Error();
                if (errno == ENXIO)
                {
                    return Array.Empty<ByteRange>(); // no data at all
                }
                return new[] { new ByteRange(0, limit) };
            }
            return Walk(fd, first, limit);
        }

        private static IEnumerable<ByteRange> Walk(int fd, long dataStart, long limit)
        {
            long pos = dataStart;
            while (pos >= 0 && pos < limit)
            {
                long hole = Lseek(fd, pos, SeekHole);
                if (hole < 0 || hole > limit)
                {
                    hole = limit;
                }
                if (hole > pos)
                {
                    yield return new ByteRange(pos, hole - pos);
                }
                if (hole >= limit)
                {
                    yield break;
                }
                pos = Lseek(fd, hole, SeekData); // -1 with ENXIO: no more data
            }
        }

        private static IEnumerable<ByteRange> WindowsDataRanges(SafeFileHandle handle, long limit)
        {
            var result = new List<ByteRange>();
            long offset = 0;
            var output = new long[2 * 512];
            var input = new long[2];
            while (offset < limit)
            {
                input[0] = offset;
                input[1] = limit - offset;
                bool ok = DeviceIoControl(handle, FsctlQueryAllocatedRanges, input, 16, output, output.Length * 8, out int returned, IntPtr.Zero);
                int error = ok ? 0 : Marshal.GetLastWin32Error();
                if (!ok && error != 234 /* ERROR_MORE_DATA */)
                {
                    return new[] { new ByteRange(0, limit) };
                }
                int count = returned / 16;
                if (count == 0)
                {
                    break;
                }
                for (int i = 0; i < count; i++)
                {
                    long start = output[2 * i];
                    long length = Math.Min(output[(2 * i) + 1], limit - start);
                    if (length > 0)
                    {
                        result.Add(new ByteRange(start, length));
                    }
                }
                offset = output[2 * (count - 1)] + output[(2 * (count - 1)) + 1];
                if (ok)
                {
                    break;
                }
            }
            return result;
        }

        /// <summary>Marks a file sparse on Windows/NTFS; a no-op elsewhere (ext4, XFS, APFS files are sparse by default).</summary>
        public static void MarkSparse(FileStream file)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return;
            }
            // Failure (FAT32, ReFS without support) only costs disk space, never correctness.
            DeviceIoControl(file.SafeFileHandle, FsctlSetSparse, null, 0, null, 0, out _, IntPtr.Zero);
        }

        [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
        private static extern long Lseek(int fd, long offset, int whence);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool DeviceIoControl(SafeFileHandle device, uint code, long[]? input, int inputSize,
            long[]? output, int outputSize, out int returned, IntPtr overlapped);
    }
}
