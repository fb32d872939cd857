using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace AzureLinuxImage.Compression
{
    /// <summary>
    /// Reads newc cpio archives ("070701", and "070702" whose header carries the byte sum of the data)
    /// as the kernel's initramfs unpacker does (Documentation/driver-api/early-userspace/buffer-format.rst):
    /// a 110-byte ASCII header of 13 hex fields, the NUL-terminated name, both padded to 4 bytes, then
    /// the data padded to 4 bytes; the entry named "TRAILER!!!" ends an archive.
    /// </summary>
    internal sealed class CpioReader
    {
        private const int HeaderSize = 110;
        private const string Trailer = "TRAILER!!!";

        private readonly InputBuffer input;
        private readonly InitramfsLimits limits;
        private readonly string source;
        private readonly byte[] header = new byte[HeaderSize];
        private readonly byte[] skipBuffer = new byte[8192];
        private int generation;
        private long remaining;
        private bool checksummed;
        private uint sum;

        public CpioReader(InputBuffer input, InitramfsLimits limits)
        {
            this.input = input;
            this.limits = limits;
            source = input.SourceName;
        }

        /// <summary>Entries listed so far over every archive this reader read.</summary>
        public int EntryCount { get; set; }

        /// <summary>Reads one archive up to and including its trailer.</summary>
        public IEnumerable<CpioEntry> ReadArchive(int archiveIndex, CompressionFormat compression)
        {
            while (true)
            {
                SkipPadding("cpio header padding");
                input.ReadExactly(header, 0, HeaderSize, "cpio newc header");
                bool crc;
                if (Matches("070701"))
                {
                    crc = false;
                }
                else if (Matches("070702"))
                {
                    crc = true;
                }
                else
                {
                    throw CompressionErrors.Invalid(source, "cpio newc header", $"at offset {input.Position - HeaderSize}: magic '{Printable(header, 0, 6)}' is not 070701 or 070702 (only the newc format is read).");
                }
                uint ino = Hex(6, "c_ino"), mode = Hex(14, "c_mode"), uid = Hex(22, "c_uid"), gid = Hex(30, "c_gid");
                uint nlink = Hex(38, "c_nlink"), mtime = Hex(46, "c_mtime"), filesize = Hex(54, "c_filesize");
                uint devmajor = Hex(62, "c_devmajor"), devminor = Hex(70, "c_devminor");
                uint rdevmajor = Hex(78, "c_rdevmajor"), rdevminor = Hex(86, "c_rdevminor");
                uint namesize = Hex(94, "c_namesize"), check = Hex(102, "c_check");
                if (namesize < 2 || namesize > limits.MaxNameLength)
                {
                    throw CompressionErrors.Invalid(source, "cpio name size", $"{namesize} bytes is outside 2..{limits.MaxNameLength}.");
                }
                var nameBytes = new byte[namesize];
                input.ReadExactly(nameBytes, 0, (int)namesize, "cpio entry name");
                if (nameBytes[namesize - 1] != 0 || Array.IndexOf(nameBytes, (byte)0) != namesize - 1)
                {
                    throw CompressionErrors.Invalid(source, "cpio entry name", "the name is not a single NUL-terminated string.");
                }
                string name = Encoding.UTF8.GetString(nameBytes, 0, (int)namesize - 1);
                SkipPadding("cpio name padding");
                if (!crc && check != 0)
                {
                    throw CompressionErrors.Invalid(source, "cpio newc header", $"'{name}': c_check must be 0 in the 070701 format.");
                }
                if (filesize > limits.MaxFileSize)
                {
                    throw CompressionErrors.LimitExceeded(source, $"cpio entry '{name}' declares {filesize} bytes of data, more than the limit of {limits.MaxFileSize}");
                }
                remaining = filesize;
                // Like the kernel (init/initramfs.c do_copy) and GNU cpio, the sum covers regular files only.
                checksummed = crc && (mode & 0xF000) == 0x8000;
                sum = 0;
                if (name == Trailer)
                {
                    FinishData(check, name);
                    generation++;
                    yield break;
                }
                if (++EntryCount > limits.MaxEntries)
                {
                    throw CompressionErrors.LimitExceeded(source, $"the initramfs holds more than {limits.MaxEntries} entries");
                }
                var entry = new CpioEntry(this, ++generation)
                {
                    Name = name,
                    Mode = mode,
                    Size = filesize,
                    Inode = ino,
                    LinkCount = nlink,
                    Uid = uid,
                    Gid = gid,
                    ModificationTime = mtime,
                    DeviceMajor = devmajor,
                    DeviceMinor = devminor,
                    RDeviceMajor = rdevmajor,
                    RDeviceMinor = rdevminor,
                    ArchiveIndex = archiveIndex,
                    Compression = compression,
                };
                if (entry.Type == CpioEntryType.SymbolicLink)
                {
                    if (filesize == 0 || filesize > limits.MaxLinkTargetLength)
                    {
                        throw CompressionErrors.Invalid(source, "cpio symbolic link", $"'{name}': a target of {filesize} bytes is outside 1..{limits.MaxLinkTargetLength}.");
                    }
                    var target = new byte[filesize];
                    ReadData(target, 0, (int)filesize);
                    entry.LinkTarget = Encoding.UTF8.GetString(target).TrimEnd('\0');
                }
                yield return entry;
                FinishData(check, name);
                generation++;
            }
        }

        internal Stream OpenContent(CpioEntry entry, int entryGeneration)
        {
            if (entryGeneration != generation)
            {
                throw new InvalidOperationException($"The content of '{entry.Name}' can only be read while the enumeration stands on it.");
            }
            if (remaining != entry.Size)
            {
                throw new InvalidOperationException($"The content of '{entry.Name}' was already read.");
            }
            return new ContentStream(this, entryGeneration);
        }

        private int ReadData(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, remaining);
            if (n == 0)
            {
                return 0;
            }
            input.ReadExactly(buffer, offset, n, "cpio entry data");
            remaining -= n;
            if (checksummed)
            {
                uint s = sum;
                for (int i = 0; i < n; i++)
                {
                    s += buffer[offset + i];
                }
                sum = s;
            }
            return n;
        }

        private void FinishData(uint check, string name)
        {
            while (remaining > 0)
            {
                ReadData(skipBuffer, 0, (int)Math.Min(skipBuffer.Length, remaining));
            }
            if (checksummed && sum != check)
            {
                throw CompressionErrors.Invalid(source, "cpio 070702 checksum", $"'{name}': the data sums to 0x{sum:X8}, the header says 0x{check:X8}.");
            }
            SkipPadding("cpio data padding");
        }

        private void SkipPadding(string structure)
        {
            int pad = (int)((4 - (input.Position & 3)) & 3);
            if (pad > 0)
            {
                input.SkipExactly(pad, structure);
            }
        }

        private bool Matches(string magic)
        {
            for (int i = 0; i < 6; i++)
            {
                if (header[i] != magic[i])
                {
                    return false;
                }
            }
            return true;
        }

        private uint Hex(int at, string field)
        {
            uint v = 0;
            for (int i = 0; i < 8; i++)
            {
                int c = header[at + i];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (d < 0)
                {
                    throw CompressionErrors.Invalid(source, "cpio newc header", $"field {field} '{Printable(header, at, 8)}' is not 8 hexadecimal digits.");
                }
                v = (v << 4) | (uint)d;
            }
            return v;
        }

        private static string Printable(byte[] b, int at, int count)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < count; i++)
            {
                byte c = b[at + i];
                sb.Append(c >= 0x20 && c < 0x7F ? (char)c : '?');
            }
            return sb.ToString();
        }

        private sealed class ContentStream : Stream
        {
            private readonly CpioReader reader;
            private readonly int generation;

            public ContentStream(CpioReader reader, int generation)
            {
                this.reader = reader;
                this.generation = generation;
            }

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position
            {
                get => throw new NotSupportedException();
                set => throw new NotSupportedException();
            }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (reader.generation != generation)
                {
                    throw new InvalidOperationException("The cpio enumeration has moved past this entry; its content can no longer be read.");
                }
                return reader.ReadData(buffer, offset, count);
            }

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
