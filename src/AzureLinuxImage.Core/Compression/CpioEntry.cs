using System;
using System.IO;
using System.Text;

namespace AzureLinuxImage.Compression
{
    /// <summary>What an entry of a cpio archive is, from the file type bits of its mode.</summary>
    internal enum CpioEntryType
    {
        Unknown,
        File,
        Directory,
        SymbolicLink,
        CharacterDevice,
        BlockDevice,
        Fifo,
        Socket,
    }

    /// <summary>
    /// One entry of a newc cpio archive (070701, or 070702 with its checksum). Its data is not
    /// buffered: <see cref="OpenContent"/> and <see cref="ReadContent"/> read it from the archive
    /// while the enumeration stands on this entry, and fail once it has moved on.
    /// Hard links (newc): every link of a multiply-linked file is an entry with the same
    /// <see cref="Inode"/>; only the last one carries the data, the others have size 0.
    /// </summary>
    internal sealed class CpioEntry
    {
        private readonly CpioReader? owner;
        private readonly int generation;

        internal CpioEntry(CpioReader? owner, int generation)
        {
            this.owner = owner;
            this.generation = generation;
        }

        /// <summary>The name as stored (initramfs names are relative, e.g. "usr/lib/modules/…" or ".").</summary>
        public string Name { get; internal set; } = string.Empty;

        /// <summary>The name as an absolute path: "/" + the name without a leading "./" or "/".</summary>
        public string Path
        {
            get
            {
                string n = Name;
                while (n.StartsWith("./", StringComparison.Ordinal))
                {
                    n = n.Substring(2);
                }
                n = n.TrimStart('/');
                return n == "." || n.Length == 0 ? "/" : "/" + n;
            }
        }

        public uint Mode { get; internal set; }

        public CpioEntryType Type => (Mode & 0xF000) switch
        {
            0x8000 => CpioEntryType.File,
            0x4000 => CpioEntryType.Directory,
            0xA000 => CpioEntryType.SymbolicLink,
            0x2000 => CpioEntryType.CharacterDevice,
            0x6000 => CpioEntryType.BlockDevice,
            0x1000 => CpioEntryType.Fifo,
            0xC000 => CpioEntryType.Socket,
            _ => CpioEntryType.Unknown,
        };

        /// <summary>Bytes of data stored for this entry.</summary>
        public long Size { get; internal set; }

        /// <summary>The target of a symbolic link (its data), otherwise null.</summary>
        public string? LinkTarget { get; internal set; }

        public uint Inode { get; internal set; }

        public uint LinkCount { get; internal set; }

        public uint Uid { get; internal set; }

        public uint Gid { get; internal set; }

        public uint ModificationTime { get; internal set; }

        public uint DeviceMajor { get; internal set; }

        public uint DeviceMinor { get; internal set; }

        public uint RDeviceMajor { get; internal set; }

        public uint RDeviceMinor { get; internal set; }

        /// <summary>0 for the first cpio archive of the file, 1 for the next, …</summary>
        public int ArchiveIndex { get; internal set; }

        /// <summary>How the part holding this entry was compressed (None for an early uncompressed part such as microcode).</summary>
        public CompressionFormat Compression { get; internal set; }

        /// <summary>
        /// A stream over this entry's data, readable only until the enumeration moves to the next entry.
        /// </summary>
        public Stream OpenContent()
        {
            if (owner == null)
            {
                throw new InvalidOperationException("This entry has no archive to read from.");
            }
            return owner.OpenContent(this, generation);
        }

        /// <summary>Reads the whole data if it is at most <paramref name="maxBytes"/> bytes, else null.</summary>
        public byte[]? ReadContent(int maxBytes)
        {
            if (Size > maxBytes)
            {
                return null;
            }
            using Stream s = OpenContent();
            var data = new byte[Size];
            int done = 0;
            while (done < data.Length)
            {
                int n = s.Read(data, done, data.Length - done);
                if (n <= 0)
                {
                    break;
                }
                done += n;
            }
            return data;
        }

        /// <summary>The data as UTF-8 text if it is at most <paramref name="maxBytes"/> bytes, else null.</summary>
        public string? ReadAllText(int maxBytes = 1 << 20)
        {
            byte[]? data = ReadContent(maxBytes);
            return data == null ? null : Encoding.UTF8.GetString(data);
        }

        public override string ToString() => Name;
    }
}
