using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Waagent
{
    /// <summary>The committed waagent.conf samples (Fixtures/README.md says where each comes from).</summary>
    public static class WaagentFixtures
    {
        public const string Debian12 = "debian12-waagent.conf";
        public const string Upstream = "walinuxagent-upstream-waagent.conf";
        public const string HandWritten = "handwritten-crlf.conf";

        public static readonly string[] All = { Debian12, Upstream, HandWritten };

        public static string Folder { get; } = FindFolder();

        public static byte[] Bytes(string name) => File.ReadAllBytes(System.IO.Path.Combine(Folder, name));

        public static string Path(string name) => System.IO.Path.Combine(Folder, name);

        /// <summary>Copies a fixture into <paramref name="dir"/> as waagent.conf (tests never write the committed files).</summary>
        public static string CopyTo(TempDirectory dir, string name, string relative = "waagent.conf")
        {
            string target = dir.File(relative);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, Bytes(name));
            return target;
        }

        /// <summary>The Debian 12 root (DEBIAN_ROOTFS_CACHE) when its build finished (.complete); under CI=true a missing root fails.</summary>
        public static string RequireDebianRoot() => ExternalTool.RequireDebianRootfs();

        /// <summary>Splits bytes into lines, each with its own terminator, exactly as stored.</summary>
        public static List<byte[]> RawLines(byte[] bytes)
        {
            var lines = new List<byte[]>();
            int start = 0;
            for (int i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == (byte)'\n')
                {
                    lines.Add(bytes.Skip(start).Take(i + 1 - start).ToArray());
                    start = i + 1;
                }
            }
            if (start < bytes.Length)
            {
                lines.Add(bytes.Skip(start).ToArray());
            }
            return lines;
        }

        /// <summary>1-based number of the first line whose text starts with <paramref name="prefix"/> (an oracle independent of the parser).</summary>
        public static int LineOf(byte[] bytes, string prefix)
        {
            List<byte[]> lines = RawLines(bytes);
            for (int i = 0; i < lines.Count; i++)
            {
                if (System.Text.Encoding.UTF8.GetString(lines[i]).TrimStart('\uFEFF').StartsWith(prefix, StringComparison.Ordinal))
                {
                    return i + 1;
                }
            }
            throw new InvalidOperationException(prefix + " not found");
        }

        private static string FindFolder()
        {
            string? dir = AppContext.BaseDirectory;
            while (dir != null)
            {
                string candidate = System.IO.Path.Combine(dir, "tests", "AzureLinuxImage.Core.Tests", "Waagent", "Fixtures");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
                dir = System.IO.Path.GetDirectoryName(dir);
            }
            throw new DirectoryNotFoundException("tests/AzureLinuxImage.Core.Tests/Waagent/Fixtures not found above " + AppContext.BaseDirectory);
        }
    }
}
