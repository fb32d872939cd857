using System;
using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.IO
{
    /// <summary>
    /// A disk image file opened for positional reads. Every structure read goes through
    /// <see cref="ReadExactly"/>, so a truncated file always becomes an <see cref="InvalidImageException"/>
    /// that names the file and the structure that was cut off.
    /// </summary>
    internal sealed class ImageFile : IDisposable
    {
        private FileStream stream;
        private readonly object gate = new object();

        private ImageFile(string path, FileStream stream)
        {
            Path = path;
            this.stream = stream;
            Length = stream.Length;
        }

        public string Path { get; }

        public long Length { get; }

        /// <summary>True when opened by <see cref="OpenReadWrite"/>.</summary>
        public bool IsWritable { get; private set; }

        /// <summary>Opens read-only, sharing reads only: nobody may change an image while we read it.</summary>
        public static ImageFile OpenRead(string path) => Open(path, writable: false);

        /// <summary>
        /// Opens for reading and writing, sharing nothing: an image being changed must not be read by
        /// another process at the same time (it would see a half-committed file system).
        /// </summary>
        public static ImageFile OpenReadWrite(string path) => Open(path, writable: true);

        private static ImageFile Open(string path, bool writable)
        {
            string full = System.IO.Path.GetFullPath(path);
            try
            {
                if (Directory.Exists(full))
                {
                    throw new AzureLinuxImageException("PathIsDirectory", ErrorKind.InvalidArgument, $"{full} is a folder, not a disk image file.", full);
                }
                var fs = writable
                    ? new FileStream(full, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None)
                    : new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
                return new ImageFile(full, fs) { IsWritable = writable };
            }
            catch (FileNotFoundException e)
            {
                throw new AzureLinuxImageException("ImageNotFound", ErrorKind.NotFound, $"{full}: the file does not exist.", full, e);
            }
            catch (DirectoryNotFoundException e)
            {
                throw new AzureLinuxImageException("ImageNotFound", ErrorKind.NotFound, $"{full}: the folder does not exist.", full, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new AzureLinuxImageException("ImageAccessDenied", ErrorKind.ResourceUnavailable, $"{full}: access denied ({e.Message}).", full, e);
            }
            catch (IOException e) when (!(e is FileNotFoundException))
            {
                throw new AzureLinuxImageException("ImageOpenFailed", ErrorKind.ResourceUnavailable, $"{full}: cannot open the file: {e.Message}", full, e);
            }
        }

        /// <summary>
        /// Issue 17, one open per edit: the image was read and the change planned on a read-only handle;
        /// once confirmed, the handle is swapped for a read-write one on <paramref name="path"/> (the file
        /// itself, or a byte-identical copy of it made for a destination), so the commit writes what was
        /// planned without opening and parsing the image again. <paramref name="unchangedSince"/> (the file's
        /// last write time when it was first opened) is checked once the write handle holds the exclusive
        /// lock: an image changed meanwhile is refused, nothing written.
        /// </summary>
        public void ReopenForWriting(string path, DateTime? unchangedSince)
        {
            string full = System.IO.Path.GetFullPath(path);
            lock (gate)
            {
                if (IsWritable)
                {
                    throw new InvalidOperationException($"{Path} is open for writing already.");
                }
                bool same = string.Equals(full, Path, StringComparison.Ordinal);
                if (same)
                {
                    // Our own shared lock (FileShare.Read is flock(LOCK_SH) in .NET on Unix) would refuse the exclusive one.
                    stream.Dispose();
                }
                FileStream rw;
                try
                {
                    rw = new FileStream(full, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    if (same)
                    {
                        stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
                    }
                    string id = e is UnauthorizedAccessException ? "ImageAccessDenied" : "ImageOpenFailed";
                    throw new AzureLinuxImageException(id, ErrorKind.ResourceUnavailable, $"{full}: cannot open the file for writing: {e.Message}", full, e);
                }
                if (rw.Length != Length || (unchangedSince.HasValue && File.GetLastWriteTimeUtc(full) != unchangedSince.Value))
                {
                    rw.Dispose();
                    if (same)
                    {
                        stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
                    }
                    throw new AzureLinuxImageException("ImageChangedDuringEdit", ErrorKind.ResourceUnavailable,
                        $"{full} changed while the edit was planned (by another program?); nothing was written. Run the command again.", full);
                }
                if (!same)
                {
                    stream.Dispose();
                }
                stream = rw;
                IsWritable = true;
            }
        }

        /// <summary>Reads exactly <paramref name="count"/> bytes at <paramref name="offset"/> or throws, naming <paramref name="structure"/>.</summary>
        public void ReadExactly(long offset, byte[] buffer, int index, int count, string structure)
        {
            if (offset < 0 || offset > Length || count > Length - offset)
            {
                throw new InvalidImageException(Path, structure,
                    $"needs {count} bytes at offset {offset}, but the file ends at {Length} (truncated file?).");
            }
            lock (gate)
            {
                stream.Position = offset;
                int done = 0;
                while (done < count)
                {
                    int n = stream.Read(buffer, index + done, count - done);
                    if (n <= 0)
                    {
                        throw new InvalidImageException(Path, structure, $"the file ended while reading {count} bytes at offset {offset}.");
                    }
                    done += n;
                }
            }
        }

        /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>, which must lie inside the file (an image never grows here).</summary>
        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            if (!IsWritable)
            {
                throw new InvalidOperationException($"{Path} was opened read-only.");
            }
            if (offset < 0 || offset > Length - data.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"{Path}: a write of {data.Length} bytes at {offset} would pass the end of the file ({Length}).");
            }
            byte[] copy = System.Buffers.ArrayPool<byte>.Shared.Rent(data.Length);
            try
            {
                data.CopyTo(copy);
                lock (gate)
                {
                    stream.Position = offset;
                    stream.Write(copy, 0, data.Length);
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(copy);
            }
        }

        /// <summary>Makes the writes so far durable (fsync).</summary>
        public void Flush()
        {
            lock (gate)
            {
                stream.Flush(flushToDisk: true);
            }
        }

        /// <summary>Reads a structure into a new array of <paramref name="count"/> bytes.</summary>
        public byte[] ReadStructure(long offset, int count, string structure)
        {
            var buffer = new byte[count];
            ReadExactly(offset, buffer, 0, count, structure);
            return buffer;
        }

        /// <summary>
        /// The parts of [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="count"/>) that are
        /// not holes of the file (holes read as zeros), ascending, streamed. Bytes past the end of the file
        /// count as data, so reading them still fails as a truncated file instead of passing for zeros.
        /// </summary>
        public IEnumerable<ByteRange> DataRanges(long offset, long count)
        {
            if (offset < 0)
            {
                yield return new ByteRange(offset, count); // not a file position: let the read report it
                yield break;
            }
            long end = offset + count;
            long inFile = Math.Min(end, Length);
            if (offset < inFile)
            {
                foreach (ByteRange r in SparseFiles.GetDataRanges(stream, offset, inFile))
                {
                    yield return r;
                }
            }
            if (end > Math.Max(offset, Length))
            {
                long from = Math.Max(offset, Length);
                yield return new ByteRange(from, end - from);
            }
        }

        /// <summary>The OS handle, for the sparse-map queries of <see cref="SparseFiles"/>.</summary>
        internal FileStream Stream => stream;

        public void Dispose() => stream.Dispose();
    }
}
