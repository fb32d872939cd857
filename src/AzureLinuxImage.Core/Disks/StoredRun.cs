using System.Collections.Generic;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks
{
    /// <summary>
    /// Virtual bytes [VirtualOffset, VirtualOffset + Length) of a container, stored contiguously in its
    /// file at <see cref="FileOffset"/>; a negative FileOffset marks bytes that may hold data but are not
    /// a plain copy of the file (a differencing block read sector by sector, a replayed log over them).
    /// </summary>
    internal readonly struct StoredRun
    {
        public StoredRun(long virtualOffset, long fileOffset, long length)
        {
            VirtualOffset = virtualOffset;
            FileOffset = fileOffset;
            Length = length;
        }

        public long VirtualOffset { get; }

        /// <summary>Where the bytes are in the file; negative when they are not a plain copy of it.</summary>
        public long FileOffset { get; }

        public long Length { get; }

        /// <summary>Allocated bytes whose content is not a plain copy of the file.</summary>
        public static StoredRun Opaque(long virtualOffset, long length) => new StoredRun(virtualOffset, -1, length);

        /// <summary>
        /// The virtual ranges of <paramref name="runs"/> (ascending) without the holes of
        /// <paramref name="file"/> under them: a hole reads as zeros, so it need not be read, checked or
        /// copied. Runs that follow each other both in the disk and in the file are asked about once
        /// (containers allocate blocks in order), so a fully allocated disk costs a few lseek(2) calls.
        /// Streamed; where the OS cannot tell, everything counts as data.
        /// </summary>
        public static IEnumerable<ByteRange> WithoutFileHoles(ImageFile file, IEnumerable<StoredRun> runs)
        {
            bool have = false;
            StoredRun current = default;
            foreach (StoredRun r in runs)
            {
                if (r.Length <= 0)
                {
                    continue;
                }
                if (have && current.FileOffset >= 0 && r.FileOffset >= 0
                    && r.VirtualOffset == current.VirtualOffset + current.Length && r.FileOffset == current.FileOffset + current.Length)
                {
                    current = new StoredRun(current.VirtualOffset, current.FileOffset, current.Length + r.Length);
                    continue;
                }
                if (have)
                {
                    foreach (ByteRange x in Split(file, current))
                    {
                        yield return x;
                    }
                }
                current = r;
                have = true;
            }
            if (have)
            {
                foreach (ByteRange x in Split(file, current))
                {
                    yield return x;
                }
            }
        }

        private static IEnumerable<ByteRange> Split(ImageFile file, StoredRun run)
        {
            if (run.FileOffset < 0)
            {
                yield return new ByteRange(run.VirtualOffset, run.Length);
                yield break;
            }
            long shift = run.VirtualOffset - run.FileOffset;
            foreach (ByteRange data in file.DataRanges(run.FileOffset, run.Length))
            {
                yield return new ByteRange(data.Offset + shift, data.Length);
            }
        }
    }
}
