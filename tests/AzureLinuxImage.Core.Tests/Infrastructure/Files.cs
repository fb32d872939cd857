using System;
using System.IO;
using System.Security.Cryptography;
using AzureLinuxImage.Disks;

namespace AzureLinuxImage.Tests.Infrastructure
{
    public static class Files
    {
        public static string Sha256(string path)
        {
            using var s = File.OpenRead(path);
            return Convert.ToHexString(SHA256.HashData(s));
        }

        /// <summary>Writes <paramref name="data"/> into a (sparse) file at an offset.</summary>
        public static void WriteAt(string path, long offset, byte[] data)
        {
            using var f = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write);
            f.Position = offset;
            f.Write(data);
        }

        public static void CreateSparse(string path, long length)
        {
            using var f = new FileStream(path, FileMode.Create, FileAccess.Write);
            f.SetLength(length);
        }

        public static byte[] Random(int length, int seed)
        {
            var b = new byte[length];
            new Random(seed).NextBytes(b);
            return b;
        }

        public static byte[] ReadAll(DiskImage image)
        {
            var b = new byte[image.VirtualSize];
            image.Read(0, b, 0, b.Length);
            return b;
        }

        /// <summary>Blocks (512 bytes) the file really occupies, from stat(1).</summary>
        public static long AllocatedBytes(string path)
        {
            ToolResult r = ExternalTool.Run("stat", new[] { "-c", "%b %B", path });
            string[] parts = r.StdOut.Trim().Split(' ');
            return long.Parse(parts[0]) * long.Parse(parts[1]);
        }
    }
}
