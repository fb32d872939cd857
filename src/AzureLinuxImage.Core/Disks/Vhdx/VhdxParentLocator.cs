using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Disks.Vhdx
{
    /// <summary>
    /// The parent locator metadata item of a differencing VHDX (MS-VHDX 2.6.2.6): a locator type and
    /// UTF-16 key/value pairs. Only the VHDX locator type (2.6.2.6.1) is defined: parent_linkage names the
    /// parent's DataWriteGuid; relative_path, volume_path and absolute_win32_path say where it is.
    /// </summary>
    internal sealed class VhdxParentLocator
    {
        public static readonly Guid VhdxLocatorType = new Guid("B04AEFB7-D19E-4A81-B789-25B8E9445913");
        private const int HeaderSize = 20;
        private const int EntrySize = 12;

        private VhdxParentLocator(Dictionary<string, string> entries, Guid linkage, Guid? linkage2)
        {
            Entries = entries;
            ParentLinkage = linkage;
            ParentLinkage2 = linkage2;
        }

        /// <summary>Every key/value pair, keys compared ordinally.</summary>
        public IReadOnlyDictionary<string, string> Entries { get; }

        /// <summary>The DataWriteGuid the parent must have.</summary>
        public Guid ParentLinkage { get; }

        /// <summary>An alternative DataWriteGuid the parent may have instead.</summary>
        public Guid? ParentLinkage2 { get; }

        public string? RelativePath => Get("relative_path");

        public string? VolumePath => Get("volume_path");

        public string? AbsoluteWin32Path => Get("absolute_win32_path");

        private string? Get(string key) => Entries.TryGetValue(key, out string? v) && v.Length > 0 ? v : null;

        public static VhdxParentLocator Parse(string path, byte[] item)
        {
            const string structure = "VHDX parent locator";
            if (item.Length < HeaderSize)
            {
                throw new InvalidImageException(path, structure, $"the item is {item.Length} bytes, shorter than its {HeaderSize}-byte header.");
            }
            var type = new Guid(item.AsSpan(0, 16).ToArray());
            if (type != VhdxLocatorType)
            {
                throw new UnsupportedImageException(path, $"VHDX parent locator: the locator type {type} is not the VHDX type MS-VHDX v1.0 defines.");
            }
            int count = BinaryPrimitives.ReadUInt16LittleEndian(item.AsSpan(18));
            if ((long)HeaderSize + ((long)count * EntrySize) > item.Length)
            {
                throw new InvalidImageException(path, structure, $"{count} key/value entries do not fit in the {item.Length}-byte item.");
            }
            var entries = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> e = item.AsSpan(HeaderSize + (i * EntrySize), EntrySize);
                uint keyOffset = BinaryPrimitives.ReadUInt32LittleEndian(e);
                uint valueOffset = BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(4));
                ushort keyLength = BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(8));
                ushort valueLength = BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(10));
                string key = ReadString(path, item, keyOffset, keyLength, $"key {i}");
                string value = ReadString(path, item, valueOffset, valueLength, $"value {i}");
                if (key.Length == 0)
                {
                    throw new InvalidImageException(path, structure, $"entry {i} has an empty key.");
                }
                if (entries.ContainsKey(key))
                {
                    throw new InvalidImageException(path, structure, $"the key '{key}' appears twice.");
                }
                entries[key] = value;
            }
            if (!entries.TryGetValue("parent_linkage", out string? linkageText) || !TryParseGuid(linkageText, out Guid linkage))
            {
                throw new InvalidImageException(path, structure, "the parent_linkage entry, the parent's identity, is missing or not a GUID.");
            }
            Guid? linkage2 = null;
            if (entries.TryGetValue("parent_linkage2", out string? second))
            {
                if (!TryParseGuid(second, out Guid g))
                {
                    throw new InvalidImageException(path, structure, "the parent_linkage2 entry is not a GUID.");
                }
                linkage2 = g;
            }
            if (!entries.ContainsKey("relative_path") && !entries.ContainsKey("volume_path") && !entries.ContainsKey("absolute_win32_path"))
            {
                throw new InvalidImageException(path, structure, "none of relative_path, volume_path or absolute_win32_path is present: the parent cannot be located.");
            }
            return new VhdxParentLocator(entries, linkage, linkage2);
        }

        private static string ReadString(string path, byte[] item, uint offset, ushort length, string what)
        {
            if (offset > item.Length || length > item.Length - offset || length % 2 != 0 || (length > 0 && offset < HeaderSize))
            {
                throw new InvalidImageException(path, "VHDX parent locator", $"{what} ({length} bytes at offset {offset}) does not lie inside the {item.Length}-byte item as UTF-16.");
            }
            string s = Encoding.Unicode.GetString(item, (int)offset, length);
            foreach (char c in s)
            {
                if (c == '\0' || char.IsControl(c))
                {
                    throw new InvalidImageException(path, "VHDX parent locator", $"{what} holds a control character.");
                }
            }
            return s;
        }

        /// <summary>The spec writes GUIDs as "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}".</summary>
        private static bool TryParseGuid(string text, out Guid guid) => Guid.TryParseExact(text, "B", out guid) || Guid.TryParseExact(text, "D", out guid);
    }
}
