using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace AzureLinuxImage.FileSystems.Fat
{
    /// <summary>A FAT directory entry with its long name when a valid VFAT sequence precedes it.</summary>
    internal sealed class FatNode
    {
        public FatNode(string name, byte attributes, uint firstCluster, uint size, DateTimeOffset? modified, bool isRoot = false)
        {
            Name = name;
            Attributes = attributes;
            FirstCluster = firstCluster;
            Size = size;
            Modified = modified;
            IsRoot = isRoot;
        }

        public string Name { get; }

        /// <summary>The 8.3 name, when it differs from <see cref="Name"/>.</summary>
        public string? ShortName { get; set; }

        public byte Attributes { get; }

        public uint FirstCluster { get; }

        public uint Size { get; }

        public DateTimeOffset? Modified { get; }

        public bool IsRoot { get; }

        public bool IsDirectory => IsRoot || (Attributes & FatDirectory.AttrDirectory) != 0;

        public bool ReadOnly => (Attributes & FatDirectory.AttrReadOnly) != 0;
    }

    /// <summary>
    /// Parses the 32-byte entries of a directory (FAT specification sections 6-7): 8.3 names with the NT
    /// lower-case flags, VFAT long names (ordinal sequence and checksum of the short name checked, as
    /// Windows and Linux do: a broken sequence falls back to the short name), deleted entries and the end marker.
    /// </summary>
    internal static class FatDirectory
    {
        public const byte AttrReadOnly = 0x01;
        public const byte AttrVolumeId = 0x08;
        public const byte AttrDirectory = 0x10;
        private const byte AttrLongName = 0x0F;
        private const int MaxLongNameEntries = 20;

        public static List<FatNode> Parse(ReadOnlySpan<byte> data)
        {
            var result = new List<FatNode>();
            var longName = new char[MaxLongNameEntries * 13];
            int expected = 0;      // the next ordinal the long-name sequence needs (0: no sequence)
            int total = 0;
            byte checksum = 0;
            for (int pos = 0; pos + 32 <= data.Length; pos += 32)
            {
                ReadOnlySpan<byte> e = data.Slice(pos, 32);
                byte first = e[0];
                if (first == 0x00)
                {
                    break;
                }
                if (first == 0xE5)
                {
                    expected = 0;
                    continue;
                }
                byte attributes = e[11];
                if ((attributes & 0x3F) == AttrLongName)
                {
                    int ordinal = first & 0x1F;
                    if ((first & 0x40) != 0)
                    {
                        if (ordinal == 0 || ordinal > MaxLongNameEntries)
                        {
                            expected = 0;
                            continue;
                        }
                        total = ordinal;
                        checksum = e[13];
                        Array.Clear(longName, 0, longName.Length);
                        expected = ordinal;
                    }
                    if (expected == 0 || ordinal != expected || e[13] != checksum)
                    {
                        expected = 0;
                        continue;
                    }
                    int at = (ordinal - 1) * 13;
                    for (int i = 0; i < 5; i++)
                    {
                        longName[at + i] = (char)BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(1 + (i * 2)));
                    }
                    for (int i = 0; i < 6; i++)
                    {
                        longName[at + 5 + i] = (char)BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(14 + (i * 2)));
                    }
                    for (int i = 0; i < 2; i++)
                    {
                        longName[at + 11 + i] = (char)BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(28 + (i * 2)));
                    }
                    expected = ordinal - 1;
                    if (expected == 0)
                    {
                        expected = -1; // complete: the short entry must follow
                    }
                    continue;
                }

                bool haveLong = expected == -1 && ShortNameChecksum(e.Slice(0, 11)) == checksum;
                expected = 0;
                if ((attributes & AttrVolumeId) != 0)
                {
                    continue;
                }
                string shortName = ShortName(e);
                string name = shortName;
                if (haveLong)
                {
                    int length = 0;
                    while (length < total * 13 && longName[length] != '\0')
                    {
                        length++;
                    }
                    string candidate = new string(longName, 0, length);
                    if (candidate.Length > 0 && candidate.IndexOf('/') < 0)
                    {
                        name = candidate;
                    }
                }
                uint cluster = ((uint)BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(20)) << 16) | BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(26));
                uint size = BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(28));
                DateTimeOffset? modified = Timestamp(BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(24)), BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(22)));
                result.Add(new FatNode(name, attributes, cluster, size, modified)
                {
                    ShortName = name == shortName ? null : shortName,
                });
            }
            return result;
        }

        /// <summary>The volume label entry of a root directory (attribute 0x08 alone), which blkid prefers to the boot sector's copy.</summary>
        public static string? FindVolumeLabel(ReadOnlySpan<byte> data)
        {
            for (int pos = 0; pos + 32 <= data.Length; pos += 32)
            {
                ReadOnlySpan<byte> e = data.Slice(pos, 32);
                if (e[0] == 0x00)
                {
                    break;
                }
                if (e[0] != 0xE5 && (e[11] & 0x3F) != AttrLongName && (e[11] & (AttrVolumeId | AttrDirectory)) == AttrVolumeId)
                {
                    var sb = new StringBuilder(11);
                    for (int i = 0; i < 11; i++)
                    {
                        sb.Append(Char(e[i], false));
                    }
                    return sb.ToString().TrimEnd(' ');
                }
            }
            return null;
        }

        /// <summary>The VFAT checksum of an 11-byte short name (rotate right, add).</summary>
        public static byte ShortNameChecksum(ReadOnlySpan<byte> name)
        {
            byte sum = 0;
            for (int i = 0; i < 11; i++)
            {
                sum = (byte)((((sum & 1) << 7) | (sum >> 1)) + name[i]);
            }
            return sum;
        }

        private static string ShortName(ReadOnlySpan<byte> e)
        {
            // Byte 12 (NT reserved): 0x08 lower-case base, 0x10 lower-case extension.
            bool lowerBase = (e[12] & 0x08) != 0;
            bool lowerExt = (e[12] & 0x10) != 0;
            var sb = new StringBuilder(12);
            for (int i = 0; i < 8; i++)
            {
                byte c = i == 0 && e[0] == 0x05 ? (byte)0xE5 : e[i];
                sb.Append(Char(c, lowerBase));
            }
            string baseName = sb.ToString().TrimEnd(' ');
            sb.Clear();
            for (int i = 8; i < 11; i++)
            {
                sb.Append(Char(e[i], lowerExt));
            }
            string ext = sb.ToString().TrimEnd(' ');
            return ext.Length == 0 ? baseName : baseName + "." + ext;
        }

        /// <summary>Code page 437, bytes 0x80-0xFF: Linux vfat's default codepage (netstandard2.0 has no OEM encodings).</summary>
        private const string CodePage437High = "\u00c7\u00fc\u00e9\u00e2\u00e4\u00e0\u00e5\u00e7\u00ea\u00eb\u00e8\u00ef\u00ee\u00ec\u00c4\u00c5\u00c9\u00e6\u00c6\u00f4\u00f6\u00f2\u00fb\u00f9\u00ff\u00d6\u00dc\u00a2\u00a3\u00a5\u20a7\u0192\u00e1\u00ed\u00f3\u00fa\u00f1\u00d1\u00aa\u00ba\u00bf\u2310\u00ac\u00bd\u00bc\u00a1\u00ab\u00bb\u2591\u2592\u2593\u2502\u2524\u2561\u2562\u2556\u2555\u2563\u2551\u2557\u255d\u255c\u255b\u2510\u2514\u2534\u252c\u251c\u2500\u253c\u255e\u255f\u255a\u2554\u2569\u2566\u2560\u2550\u256c\u2567\u2568\u2564\u2565\u2559\u2558\u2552\u2553\u256b\u256a\u2518\u250c\u2588\u2584\u258c\u2590\u2580\u03b1\u00df\u0393\u03c0\u03a3\u03c3\u00b5\u03c4\u03a6\u0398\u03a9\u03b4\u221e\u03c6\u03b5\u2229\u2261\u00b1\u2265\u2264\u2320\u2321\u00f7\u2248\u00b0\u2219\u00b7\u221a\u207f\u00b2\u25a0\u00a0";

        /// <summary>A short-name byte in code page 437 (mtools writes 850, identical for accented letters).</summary>
        private static char Char(byte c, bool lower)
        {
            char ch = c < 0x80 ? (char)c : CodePage437High[c - 0x80];
            return lower ? char.ToLowerInvariant(ch) : ch;
        }

        /// <summary>FAT date/time (section 6.1: year since 1980, month, day; hours, minutes, 2-second units), local time stored as if UTC.</summary>
        private static DateTimeOffset? Timestamp(ushort date, ushort time)
        {
            int year = 1980 + (date >> 9);
            int month = (date >> 5) & 0xF;
            int day = date & 0x1F;
            int hour = time >> 11;
            int minute = (time >> 5) & 0x3F;
            int second = (time & 0x1F) * 2;
            if (month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
            {
                return null;
            }
            return new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero);
        }
    }
}
