using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>One extended attribute stored in the inode body (attributes.rst, "Inode Extended Attributes").</summary>
    internal readonly struct ExtInodeAttribute
    {
        public ExtInodeAttribute(int position, int length, byte nameIndex, int nameLength, int valueStart, int valueSize)
        {
            Position = position;
            Length = length;
            NameIndex = nameIndex;
            NameLength = nameLength;
            ValueStart = valueStart;
            ValueSize = valueSize;
        }

        /// <summary>Offset of the entry in the inode's bytes.</summary>
        public int Position { get; }

        /// <summary>The entry's length, name included, rounded to 4.</summary>
        public int Length { get; }

        public byte NameIndex { get; }

        public int NameLength { get; }

        /// <summary>Offset of the value in the inode's bytes.</summary>
        public int ValueStart { get; }

        public int ValueSize { get; }
    }

    /// <summary>
    /// Inline data (inline_data.rst): the first 60 bytes of a file or directory live in i_block, the rest in
    /// the value of the in-inode attribute system.data (name index 7, "data"). Before new content goes to
    /// blocks, the attribute is removed from the inode body and the flag cleared.
    /// </summary>
    internal static class ExtInlineData
    {
        private const uint Magic = 0xEA020000;
        private const byte SystemIndex = 7;

        /// <summary>The in-inode attributes of <paramref name="r"/>, each checked to lie inside the inode.</summary>
        public static List<ExtInodeAttribute> Attributes(ExtWriteVolume v, ExtInodeRecord r)
        {
            byte[] raw = r.Raw;
            int start = 128 + r.ExtraSize;
            var list = new List<ExtInodeAttribute>();
            if (raw.Length <= 128 || start + 4 > raw.Length || BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(start)) != Magic)
            {
                return list;
            }
            int first = start + 4;
            int pos = first;
            while (pos + 16 <= raw.Length && BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(pos)) != 0)
            {
                int nameLen = raw[pos];
                int valueOffset = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(pos + 2));
                uint valueInode = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(pos + 4));
                int valueSize = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(pos + 8)));
                int entryLength = (16 + nameLen + 3) & ~3;
                if (pos + entryLength > raw.Length || valueInode != 0 || first + valueOffset > raw.Length || valueSize > raw.Length - first - valueOffset)
                {
                    throw v.Bad("inode extended attribute", $"inode {r.Number}: an attribute entry does not fit the inode.");
                }
                list.Add(new ExtInodeAttribute(pos, entryLength, raw[pos + 1], nameLen, first + valueOffset, valueSize));
                pos += entryLength;
            }
            return list;
        }

        /// <summary>The system.data attribute of <paramref name="r"/>, or null when the inode has none.</summary>
        public static ExtInodeAttribute? FindData(ExtWriteVolume v, ExtInodeRecord r)
        {
            foreach (ExtInodeAttribute a in Attributes(v, r))
            {
                if (IsData(r.Raw, a))
                {
                    return a;
                }
            }
            return null;
        }

        /// <summary>
        /// After the value of <paramref name="a"/> changed in place: e_hash again matches name and value. A zero
        /// hash stays zero (e2fsprogs writes in-inode entries so, and e2fsck accepts it: "e_hash may be 0").
        /// </summary>
        public static void Rehash(ExtInodeRecord r, ExtInodeAttribute a)
        {
            byte[] raw = r.Raw;
            if (BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(a.Position + 12)) == 0)
            {
                return;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(a.Position + 12), Hash(raw.AsSpan(a.Position + 16, a.NameLength), raw.AsSpan(a.ValueStart, a.ValueSize)));
        }

        /// <summary>
        /// An attribute entry's e_hash (attributes.rst): each name byte folded in with a 5-bit rotation, then
        /// each little-endian 32-bit word of the value (zero padded to 4 bytes) with a 16-bit rotation.
        /// </summary>
        public static uint Hash(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            uint hash = 0;
            foreach (byte c in name)
            {
                // The kernel reads the name as signed char; names here are ASCII, where both agree.
                hash = (hash << 5) ^ (hash >> 27) ^ (uint)(sbyte)c;
            }
            Span<byte> word = stackalloc byte[4];
            for (int i = 0; i < value.Length; i += 4)
            {
                word.Clear();
                value.Slice(i, Math.Min(4, value.Length - i)).CopyTo(word);
                hash = (hash << 16) ^ (hash >> 16) ^ BinaryPrimitives.ReadUInt32LittleEndian(word);
            }
            return hash;
        }

        /// <summary>Clears the inline flag, i_block and i_size, and removes system.data (other attributes are kept, repacked).</summary>
        public static void Detach(ExtWriteVolume v, ExtInodeRecord r)
        {
            byte[] raw = r.Raw;
            int start = 128 + r.ExtraSize;
            List<ExtInodeAttribute> all = Attributes(v, r);
            r.Flags &= ~ExtInodeRecord.FlagInlineData;
            r.BlockArea.Clear();
            r.Size = 0;
            if (all.Count == 0)
            {
                if (raw.Length > 128 && start + 4 <= raw.Length && BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(start)) == Magic)
                {
                    raw.AsSpan(start).Clear();
                }
                return;
            }
            var kept = new List<(byte[] Entry, byte[] Value)>();
            foreach (ExtInodeAttribute a in all)
            {
                if (!IsData(raw, a))
                {
                    kept.Add((raw.AsSpan(a.Position, a.Length).ToArray(), raw.AsSpan(a.ValueStart, a.ValueSize).ToArray()));
                }
            }
            raw.AsSpan(start).Clear();
            if (kept.Count == 0)
            {
                return;
            }
            int first = start + 4;
            BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(start), Magic);
            int e = first;
            int valueEnd = raw.Length;
            foreach ((byte[] entry, byte[] value) in kept)
            {
                int padded = (value.Length + 3) & ~3;
                valueEnd -= padded;
                entry.CopyTo(raw.AsSpan(e));
                BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(e + 2), (ushort)(value.Length == 0 ? 0 : valueEnd - first));
                value.CopyTo(raw.AsSpan(valueEnd));
                e += entry.Length;
            }
            if (e + 4 > valueEnd)
            {
                throw v.Bad("inode extended attribute", $"inode {r.Number}: the attributes no longer fit after removing system.data.");
            }
        }

        private static bool IsData(byte[] raw, ExtInodeAttribute a) =>
            a.NameIndex == SystemIndex && a.NameLength == 4 && raw[a.Position + 16] == (byte)'d' && raw[a.Position + 17] == (byte)'a' &&
            raw[a.Position + 18] == (byte)'t' && raw[a.Position + 19] == (byte)'a';
    }
}
