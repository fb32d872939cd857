using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>A place in a file of the image: what a fact was read from, cited by findings.</summary>
    internal readonly struct SourceLine
    {
        public SourceLine(string file, int line)
        {
            File = file;
            Line = line;
        }

        public string File { get; }

        /// <summary>1-based line number; 0 when the whole file is meant.</summary>
        public int Line { get; }

        public override string ToString() => Line > 0 ? $"{File}:{Line}" : File;
    }

    /// <summary>
    /// Bounded reads of configuration files through <see cref="IFileSystem"/>. Every read is capped so
    /// that a hostile image (a 4 GiB /etc/fstab) costs at most <see cref="MaxTextBytes"/> of memory.
    /// </summary>
    internal static class RootFiles
    {
        /// <summary>Configuration files are small; anything past this is ignored.</summary>
        public const int MaxTextBytes = 4 << 20;

        /// <summary>At most this many entries are looked at in one directory (.d folders, homes).</summary>
        public const int MaxDirectoryEntries = 10000;

        public static bool Exists(this IFileSystem fs, string path) => fs.GetEntry(path) != null;

        public static bool IsFile(this IFileSystem fs, string path) => fs.GetEntry(path)?.Type == FileEntryType.File;

        public static bool IsDirectory(this IFileSystem fs, string path) => fs.GetEntry(path)?.Type == FileEntryType.Directory;

        /// <summary>The text of a regular file (UTF-8, at most <paramref name="maxBytes"/>), or null when absent or not a file.</summary>
        public static string? TryReadText(this IFileSystem fs, string path, int maxBytes = MaxTextBytes)
        {
            byte[]? bytes = fs.TryReadBytes(path, maxBytes);
            return bytes == null ? null : Encoding.UTF8.GetString(bytes);
        }

        /// <summary>At most <paramref name="maxBytes"/> of a regular file, or null when absent or not a file.</summary>
        public static byte[]? TryReadBytes(this IFileSystem fs, string path, int maxBytes)
        {
            FileEntry? e = fs.GetEntry(path);
            if (e == null || e.Type != FileEntryType.File)
            {
                return null;
            }
            using Stream s = fs.OpenRead(path);
            return ReadAtMost(s, maxBytes);
        }

        public static byte[] ReadAtMost(Stream s, int maxBytes)
        {
            var ms = new MemoryStream();
            var buffer = new byte[Math.Min(81920, Math.Max(1, maxBytes))];
            while (ms.Length < maxBytes)
            {
                int n = s.Read(buffer, 0, (int)Math.Min(buffer.Length, maxBytes - ms.Length));
                if (n <= 0)
                {
                    break;
                }
                ms.Write(buffer, 0, n);
            }
            return ms.ToArray();
        }

        /// <summary>Entries of a directory sorted by name (ordinal, as glob(3) in the C locale), or none when it is absent.</summary>
        public static IReadOnlyList<FileEntry> ListOrEmpty(this IFileSystem fs, string path)
        {
            if (!fs.IsDirectory(path))
            {
                return Array.Empty<FileEntry>();
            }
            return fs.List(path).Take(MaxDirectoryEntries).OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        }

        /// <summary>Lines with their 1-based numbers.</summary>
        public static IEnumerable<KeyValuePair<int, string>> Lines(string text)
        {
            int n = 0;
            using var reader = new StringReader(text);
            string? line;
            while ((line = reader.ReadLine()) != null)
            {
                yield return new KeyValuePair<int, string>(++n, line);
            }
        }

        /// <summary>The value of <paramref name="key"/>, or null (netstandard2.0 has no GetValueOrDefault).</summary>
        public static string? Get(this IReadOnlyDictionary<string, string> map, string key) =>
            map.TryGetValue(key, out string? v) ? v : null;

        /// <summary>Joins a directory and a name with exactly one '/'.</summary>
        public static string Combine(string directory, string name) =>
            directory.EndsWith("/", StringComparison.Ordinal) ? directory + name : directory + "/" + name;

        /// <summary>Splits on runs of blanks (spaces and tabs).</summary>
        public static string[] Words(string line) => line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);

        /// <summary>The line without a '#' comment (not inside quotes), trimmed.</summary>
        public static string StripComment(string line)
        {
            bool single = false, dbl = false;
            for (int i = 0; i < line.Length; i++)
            {
                char c = line[i];
                if (c == '\'' && !dbl)
                {
                    single = !single;
                }
                else if (c == '"' && !single)
                {
                    dbl = !dbl;
                }
                else if (c == '#' && !single && !dbl)
                {
                    return line.Substring(0, i).Trim();
                }
            }
            return line.Trim();
        }

        /// <summary>Removes one level of matching single or double quotes.</summary>
        public static string Unquote(string value)
        {
            value = value.Trim();
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[value.Length - 1] == value[0])
            {
                return value.Substring(1, value.Length - 2);
            }
            return value;
        }
    }
}
