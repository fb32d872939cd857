using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>
    /// Seam to the initramfs reader: the names of every entry of an initramfs (all its concatenated cpio
    /// archives, compressed or not). The full reader (zstd, xz, lz4, bzip2) is Compression's
    /// Initramfs.ReadEntries; until it is wired, <see cref="GzipInitramfsReader"/> reads uncompressed and gzip parts.
    /// </summary>
    internal delegate IEnumerable<string> InitramfsLister(Stream input, string path);

    /// <summary>What an initramfs holds, for one kernel.</summary>
    internal sealed record InitramfsInfo(string KernelVersion, string Path, string Compression, bool HasEarlyArchive, int EntryCount,
        IReadOnlyCollection<string> Modules, string? Error)
    {
        public bool Readable => Error == null;

        public bool HasModule(string name) => Modules.Contains(KernelInfo.ModuleName(name));
    }

    /// <summary>Reads the initramfs of every kernel through an <see cref="InitramfsLister"/>.</summary>
    internal static class InitramfsFacts
    {
        public static IReadOnlyList<InitramfsInfo> Read(IFileSystem fs, IEnumerable<KernelInfo> kernels, InitramfsLister lister)
        {
            var result = new List<InitramfsInfo>();
            foreach (KernelInfo k in kernels)
            {
                if (k.InitrdPath == null)
                {
                    continue;
                }
                string compression = "unknown";
                bool early = false;
                try
                {
                    using (Stream s = fs.OpenRead(k.InitrdPath))
                    {
                        var head = new byte[6];
                        int n = s.Read(head, 0, head.Length);
                        compression = DetectCompression(head, n);
                        early = compression == "cpio";
                    }
                    var modules = new HashSet<string>(StringComparer.Ordinal);
                    int count = 0;
                    using (Stream s = fs.OpenRead(k.InitrdPath))
                    {
                        foreach (string name in lister(s, k.InitrdPath))
                        {
                            count++;
                            if (KernelInfo.IsModuleFile(name))
                            {
                                modules.Add(KernelInfo.ModuleName(name));
                            }
                        }
                    }
                    result.Add(new InitramfsInfo(k.Version.Text, k.InitrdPath, compression, early, count, modules, null));
                }
                catch (AzureLinuxImageException ex)
                {
                    result.Add(new InitramfsInfo(k.Version.Text, k.InitrdPath, compression, early, 0, Array.Empty<string>(), ex.Message));
                }
                catch (IOException ex)
                {
                    result.Add(new InitramfsInfo(k.Version.Text, k.InitrdPath, compression, early, 0, Array.Empty<string>(), ex.Message));
                }
            }
            return result;
        }

        /// <summary>The format of the first part by its magic number.</summary>
        internal static string DetectCompression(byte[] head, int length)
        {
            bool Is(params byte[] magic) => length >= magic.Length && magic.Select((b, i) => head[i] == b).All(x => x);
            if (Is((byte)'0', (byte)'7', (byte)'0', (byte)'7', (byte)'0'))
            {
                return "cpio";
            }
            if (Is(0x1F, 0x8B))
            {
                return "gzip";
            }
            if (Is(0x28, 0xB5, 0x2F, 0xFD))
            {
                return "zstd";
            }
            if (Is(0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00))
            {
                return "xz";
            }
            if (Is(0x02, 0x21, 0x4C, 0x18))
            {
                return "lz4";
            }
            if (Is(0x42, 0x5A, 0x68))
            {
                return "bzip2";
            }
            if (Is(0x5D, 0x00, 0x00))
            {
                return "lzma";
            }
            return "unknown";
        }
    }

    /// <summary>
    /// Interim initramfs reader (until Compression's Initramfs.ReadEntries is wired): newc cpio archives
    /// (070701/070702) uncompressed, as the early microcode part, followed by a gzip part. Other compressions
    /// are reported as unsupported, which the initrd rules turn into Unknown.
    /// </summary>
    internal static class GzipInitramfsReader
    {
        private const int HeaderSize = 110;
        private const int MaxNameSize = 4096;
        private const int MaxEntries = 1_000_000;

        /// <summary>Against decompression bombs: an initramfs is tens of MiB; stop reading past this.</summary>
        private const long MaxExpandedBytes = 4L << 30;

        public static IEnumerable<string> List(Stream input, string path)
        {
            var s = new PushbackStream(input, path);
            int entries = 0;
            while (true)
            {
                int first = SkipZeros(s);
                if (first < 0)
                {
                    yield break;
                }
                var head = new byte[6];
                head[0] = (byte)first;
                int n = 1 + ReadFully(s, head, 1, 5);
                s.Unread(head, 0, n);
                string kind = InitramfsFacts.DetectCompression(head, n);
                if (kind == "cpio")
                {
                    foreach (string name in ReadArchives(s, path))
                    {
                        if (++entries > MaxEntries)
                        {
                            throw new InvalidImageException(path, "cpio archive", $"more than {MaxEntries} entries.");
                        }
                        yield return name;
                    }
                    continue;
                }
                if (kind == "gzip")
                {
                    // The compressed part runs to the end of the file; it may itself hold several archives.
                    using var gz = new GZipStream(s, CompressionMode.Decompress, leaveOpen: true);
                    var inner = new PushbackStream(gz, path);
                    foreach (string name in ReadArchives(inner, path, untilEnd: true))
                    {
                        if (++entries > MaxEntries)
                        {
                            throw new InvalidImageException(path, "cpio archive", $"more than {MaxEntries} entries.");
                        }
                        yield return name;
                    }
                    yield break;
                }
                throw new UnsupportedImageException(path, $"the initramfs is compressed with {kind}; this build reads uncompressed and gzip parts only.");
            }
        }

        /// <summary>One archive up to TRAILER!!! (or, with <paramref name="untilEnd"/>, every archive until end of stream).</summary>
        private static IEnumerable<string> ReadArchives(PushbackStream s, string path, bool untilEnd = false)
        {
            var header = new byte[HeaderSize];
            var skip = new byte[65536];
            while (true)
            {
                int first = untilEnd ? SkipZeros(s) : s.ReadByte();
                if (first < 0)
                {
                    if (untilEnd)
                    {
                        yield break;
                    }
                    throw new InvalidImageException(path, "cpio header", "the archive ends before its TRAILER!!! entry.");
                }
                header[0] = (byte)first;
                if (ReadFully(s, header, 1, HeaderSize - 1) != HeaderSize - 1)
                {
                    throw new InvalidImageException(path, "cpio header", "truncated header.");
                }
                string magic = System.Text.Encoding.ASCII.GetString(header, 0, 6);
                if (magic != "070701" && magic != "070702")
                {
                    throw new InvalidImageException(path, "cpio header", $"magic '{Printable(magic)}' is not newc (070701/070702).");
                }
                long fileSize = Hex(header, 54, path);
                long nameSize = Hex(header, 94, path);
                if (nameSize < 1 || nameSize > MaxNameSize)
                {
                    throw new InvalidImageException(path, "cpio header", $"name size {nameSize} is outside 1..{MaxNameSize}.");
                }
                // newc: header + name padded to a multiple of 4, data padded to a multiple of 4.
                int namePadded = (int)(((HeaderSize + nameSize + 3) & ~3L) - HeaderSize);
                var name = new byte[namePadded];
                if (ReadFully(s, name, 0, namePadded) != namePadded)
                {
                    throw new InvalidImageException(path, "cpio name", "truncated entry name.");
                }
                string entryName = System.Text.Encoding.UTF8.GetString(name, 0, (int)nameSize - 1);
                if (entryName == "TRAILER!!!")
                {
                    if (untilEnd)
                    {
                        continue;
                    }
                    yield break;
                }
                if (s.Consumed > MaxExpandedBytes)
                {
                    throw new InvalidImageException(path, "initramfs", $"more than {MaxExpandedBytes >> 30} GiB once expanded (a decompression bomb?).");
                }
                long remaining = (fileSize + 3) & ~3L;
                while (remaining > 0)
                {
                    int r = s.Read(skip, 0, (int)Math.Min(skip.Length, remaining));
                    if (r <= 0)
                    {
                        throw new InvalidImageException(path, "cpio data", $"'{entryName}' is truncated.");
                    }
                    remaining -= r;
                }
                yield return entryName.StartsWith("./", StringComparison.Ordinal) ? entryName.Substring(2) : entryName;
            }
        }

        private static string Printable(string s) => new string(s.Select(c => c >= 32 && c < 127 ? c : '?').ToArray());

        private static long Hex(byte[] b, int offset, string path)
        {
            long v = 0;
            for (int i = 0; i < 8; i++)
            {
                int c = b[offset + i];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (d < 0)
                {
                    throw new InvalidImageException(path, "cpio header", $"field at offset {offset} is not hexadecimal.");
                }
                v = (v << 4) | (uint)d;
            }
            return v;
        }

        /// <summary>Skips zero padding (between concatenated archives); returns the first non-zero byte or -1 at the end.</summary>
        private static int SkipZeros(Stream s)
        {
            int b;
            long zeros = 0;
            while ((b = s.ReadByte()) == 0)
            {
                if (++zeros > 64L << 20)
                {
                    throw new InvalidImageException("initramfs", "padding", "more than 64 MiB of zero padding between archives.");
                }
            }
            return b;
        }

        private static int ReadFully(Stream s, byte[] buffer, int offset, int count)
        {
            int total = 0;
            while (total < count)
            {
                int n = s.Read(buffer, offset + total, count - total);
                if (n <= 0)
                {
                    break;
                }
                total += n;
            }
            return total;
        }

        /// <summary>A read-only stream that can give back bytes it has read (to sniff the next part's magic).</summary>
        private sealed class PushbackStream : Stream
        {
            private readonly Stream inner;
            private readonly string path;
            private byte[] pending = Array.Empty<byte>();
            private int pendingOffset;

            public PushbackStream(Stream inner, string path)
            {
                this.inner = inner;
                this.path = path;
            }

            /// <summary>Bytes handed out so far (pushed-back bytes count twice; a bound, not an offset).</summary>
            public long Consumed { get; private set; }

            public void Unread(byte[] bytes, int offset, int count)
            {
                var merged = new byte[count + pending.Length - pendingOffset];
                Buffer.BlockCopy(bytes, offset, merged, 0, count);
                Buffer.BlockCopy(pending, pendingOffset, merged, count, pending.Length - pendingOffset);
                pending = merged;
                pendingOffset = 0;
            }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (pendingOffset < pending.Length)
                {
                    int n = Math.Min(count, pending.Length - pendingOffset);
                    Buffer.BlockCopy(pending, pendingOffset, buffer, offset, n);
                    pendingOffset += n;
                    Consumed += n;
                    return n;
                }
                int r;
                try
                {
                    r = inner.Read(buffer, offset, count);
                }
                catch (InvalidDataException ex)
                {
                    // GZipStream's own error for corrupt deflate data, as the module's typed error.
                    throw new InvalidImageException(path, "gzip stream", ex.Message, ex);
                }
                Consumed += Math.Max(0, r);
                return r;
            }

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
