using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

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
        public static IEnumerable<ByteRange> GetDataRanges(FileStream file, long limit) => GetDataRanges(file, 0, limit);

        /// <summary>
        /// Data ranges of <paramref name="file"/> inside [<paramref name="start"/>, <paramref name="end"/>),
        /// ascending, streamed: everything else in that span is a hole and reads as zeros. Any answer the
        /// OS gives that is not plausible (an error, an offset going backwards) makes the rest of the span
        /// count as data, which is always safe.
        /// </summary>
        public static IEnumerable<ByteRange> GetDataRanges(FileStream file, long start, long end)
        {
            if (end <= start)
            {
                yield break;
            }
            IEnumerable<ByteRange>? ranges = null;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                ranges = LinuxDataRanges(file.SafeFileHandle, start, end);
            }
            else if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                ranges = WindowsDataRanges(file.SafeFileHandle, start, end);
            }
            foreach (ByteRange r in ranges ?? new[] { new ByteRange(start, end - start) })
            {
                yield return r;
            }
        }

        private static IEnumerable<ByteRange> LinuxDataRanges(SafeFileHandle handle, long start, long end)
        {
            // lseek moves the descriptor's offset, which FileStream does not use (it reads with pread).
            int fd = (int)handle.DangerousGetHandle();
            long pos = start;
            while (pos < end)
            {
                long data = Lseek(fd, pos, SeekData);
                if (data < 0)
                {
                    if (Marshal.GetLastWin32Error() == ENXIO)
                    {
                        yield break; // no data from pos to the end of the file
                    }
                    // EINVAL: a file system without SEEK_DATA; anything else: unknown. Count it as data.
                    yield return new ByteRange(pos, end - pos);
                    yield break;
                }
                if (data < pos)
                {
                    yield return new ByteRange(pos, end - pos);
                    yield break;
                }
                if (data >= end)
                {
                    yield break;
                }
                long hole = Lseek(fd, data, SeekHole);
                if (hole <= data || hole > end)
                {
                    // Past the span, at end of file, or an implausible answer: data up to the end of the span.
                    hole = end;
                }
                yield return new ByteRange(data, hole - data);
                pos = hole;
            }
        }

        private static IEnumerable<ByteRange> WindowsDataRanges(SafeFileHandle handle, long start, long end)
        {
            var result = new List<ByteRange>();
            long offset = start;
            var output = new long[2 * 512];
            var input = new long[2];
            while (offset < end)
            {
                input[0] = offset;
                input[1] = end - offset;
                bool ok = DeviceIoControl(handle, FsctlQueryAllocatedRanges, input, 16, output, output.Length * 8, out int returned, IntPtr.Zero);
                int error = ok ? 0 : Marshal.GetLastWin32Error();
                if (!ok && error != 234 /* ERROR_MORE_DATA */)
                {
                    return new[] { new ByteRange(start, end - start) };
                }
                int count = returned / 16;
                if (count == 0)
                {
                    break;
                }
                for (int i = 0; i < count; i++)
                {
                    long from = Math.Max(output[2 * i], offset);
                    long to = Math.Min(output[2 * i] + output[(2 * i) + 1], end);
                    if (to > from)
                    {
                        result.Add(new ByteRange(from, to - from));
                    }
                }
                long next = output[2 * (count - 1)] + output[(2 * (count - 1)) + 1];
                if (ok)
                {
                    break;
                }
                if (next <= offset)
                {
                    result.Add(new ByteRange(offset, end - offset)); // no progress: the rest counts as data
                    break;
                }
                offset = next;
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
