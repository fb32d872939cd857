using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using AzureLinuxImage.IO;
using AzureLinuxImage.Tests.Readiness;

namespace AzureLinuxImage.Tests.Repair
{
    /// <summary>Roots the write operations may change: the Debian copy with its hard links into the cache broken where writes go.</summary>
    internal static class RepairRoots
    {
        /// <summary>
        /// The hard-linked Debian copy of the readiness tests, with every multiply-linked file under the folders
        /// the operations write (etc, var, root, home, boot, usr/local) replaced by its own copy: a writer rewrites
        /// such files in place (to keep their links), which would otherwise write through into the shared cache.
        /// </summary>
        public static LinuxRoot Debian(bool azureReady = false)
        {
            LinuxRoot r = LinuxRoot.Debian(azureReady);
            foreach (string dir in new[] { "etc", "var", "root", "home", "boot", "usr/local" })
            {
                string full = r.Full(dir);
                if (!Directory.Exists(full))
                {
                    continue;
                }
                foreach (string file in Directory.EnumerateFiles(full, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
                {
                    if (UnixFileApi.ReadLink(file) == null && (UnixFileApi.GetLinkCount(file) ?? 1) > 1)
                    {
                        UnixOwnership? own = UnixFileApi.GetOwnership(file);
                        string copy = file + ".unlink";
                        File.Copy(file, copy);
                        if (own != null)
                        {
                            UnixFileApi.TryApply(copy, own.Value, out _);
                        }
                        File.Move(copy, file, true);
                    }
                }
            }
            return r;
        }

        /// <summary>Every entry under <paramref name="root"/>: type, mode, owner, size, link target, and a content hash for small files.</summary>
        public static SortedDictionary<string, string> Snapshot(string root)
        {
            var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
            var pending = new Stack<string>();
            pending.Push(root);
            while (pending.Count > 0)
            {
                string dir = pending.Pop();
                foreach (string p in Directory.EnumerateFileSystemEntries(dir))
                {
                    string rel = p.Substring(root.Length);
                    if (rel == "/dev" || rel == "/proc" || rel == "/sys" || rel == "/run")
                    {
                        // Device nodes (debootstrap's /dev) are not files to hash; the operations never touch them.
                        continue;
                    }
                    string? link = UnixFileApi.ReadLink(p);
                    UnixOwnership? own = UnixFileApi.GetOwnershipNoFollow(p);
                    string meta = $"{Convert.ToString(own?.Mode ?? 0, 8)} {own?.Uid}:{own?.Gid}";
                    if (link != null)
                    {
                        result[rel] = "link " + link + " " + meta;
                    }
                    else if (Directory.Exists(p))
                    {
                        result[rel] = "dir " + meta;
                        pending.Push(p);
                    }
                    else
                    {
                        var info = new FileInfo(p);
                        string hash = info.Length <= 1 << 20 ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))) : info.LastWriteTimeUtc.Ticks.ToString();
                        result[rel] = $"file {info.Length} {hash} {meta}";
                    }
                }
            }
            return result;
        }

        /// <summary>Paths whose snapshot line differs (added, removed or changed).</summary>
        public static List<string> Diff(SortedDictionary<string, string> before, SortedDictionary<string, string> after) =>
            before.Keys.Union(after.Keys).Where(k => !before.TryGetValue(k, out string? b) || !after.TryGetValue(k, out string? a) || a != b)
                .OrderBy(k => k, StringComparer.Ordinal).ToList();
    }
}
