using System;
using System.IO;
using System.Text;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Tests.Infrastructure;

namespace AzureLinuxImage.Tests.Compression
{
    /// <summary>Test data and the real command-line compressors used as oracles.</summary>
    internal static class CompressionOracle
    {
        public static readonly string[] DataKinds = { "empty", "one", "random", "text", "runs", "binary" };

        /// <summary>Deterministic data of a kind: incompressible, text-like, long runs, or real executables from the host.</summary>
        public static byte[] Make(string kind, int size = 600_000)
        {
            var rng = new Random(kind.GetHashCode(StringComparison.Ordinal) & 0x7FFF ^ 12345);
            switch (kind)
            {
                case "empty":
                    return Array.Empty<byte>();
                case "one":
                    return new byte[] { 0x42 };
                case "random":
                {
                    var b = new byte[size];
                    rng.NextBytes(b);
                    return b;
                }
                case "bigtext":
                    return Make("text", 6_000_000);
                case "text":
                {
                    string[] words = { "linux", "azure", "kernel", "initramfs", "module", "hv_vmbus", "hv_storvsc", "the", "a", "of", "/lib/modules/6.1.0-13-amd64/kernel/drivers/", "\n", "    ", "=", "0x" };
                    var sb = new StringBuilder();
                    while (sb.Length < size)
                    {
                        sb.Append(words[rng.Next(words.Length)]);
                        sb.Append(rng.Next(4) == 0 ? rng.Next(100000).ToString(System.Globalization.CultureInfo.InvariantCulture) : " ");
                    }
                    return Encoding.ASCII.GetBytes(sb.ToString(0, size));
                }
                case "runs":
                {
                    var b = new byte[size];
                    int i = 0;
                    while (i < size)
                    {
                        int len = Math.Min(size - i, rng.Next(1, 70000));
                        byte v = (byte)rng.Next(4);
                        for (int k = 0; k < len; k++)
                        {
                            b[i + k] = v;
                        }
                        i += len;
                    }
                    return b;
                }
                case "binary":
                {
                    // Real machine code and data: the host's own executables.
                    var ms = new MemoryStream();
                    foreach (string f in new[] { "/bin/bash", "/usr/bin/cpio", "/usr/bin/zstd", "/bin/ls" })
                    {
                        if (File.Exists(f) && ms.Length < size)
                        {
                            byte[] d = File.ReadAllBytes(f);
                            ms.Write(d, 0, (int)Math.Min(d.Length, size - ms.Length));
                        }
                    }
                    return ms.ToArray();
                }
                default:
                    throw new ArgumentException(kind);
            }
        }

        /// <summary>Runs a shell pipeline (paths quoted by the caller) and fails with its stderr.</summary>
        public static void Shell(string script)
        {
            ExternalTool.Run("/bin/bash", new[] { "-c", "set -e -o pipefail; " + script });
        }

        public static string Q(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

        /// <summary>Compresses <paramref name="data"/> with "tool args &lt; in &gt; out" and returns the compressed bytes.</summary>
        public static byte[] Compress(TempDirectory dir, byte[] data, string tool, string package, string args)
        {
            ExternalTool.Require(tool, package);
            string input = dir.File("in-" + Guid.NewGuid().ToString("N"));
            string output = input + ".out";
            File.WriteAllBytes(input, data);
            Shell($"{tool} {args} < {Q(input)} > {Q(output)}");
            byte[] result = File.ReadAllBytes(output);
            File.Delete(input);
            File.Delete(output);
            return result;
        }

        /// <summary>Compresses a file argument (not stdin), so the tool knows the content size.</summary>
        public static byte[] CompressFile(TempDirectory dir, byte[] data, string tool, string package, string args, string suffix)
        {
            ExternalTool.Require(tool, package);
            string input = dir.File("f-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(input, data);
            Shell($"{tool} {args} {Q(input)}");
            byte[] result = File.ReadAllBytes(input + suffix);
            File.Delete(input);
            File.Delete(input + suffix);
            return result;
        }

        public static byte[] Decode(byte[] compressed, CompressionFormat format, DecompressionLimits? limits = null)
        {
            using var s = Decompressors.Open(new MemoryStream(compressed, false), format, limits ?? DecompressionLimits.Default, "test-input");
            var ms = new MemoryStream();
            var buf = new byte[7919];
            int n;
            while ((n = s.Read(buf, 0, buf.Length)) > 0)
            {
                ms.Write(buf, 0, n);
            }
            return ms.ToArray();
        }

        public static byte[] Concat(params byte[][] parts)
        {
            var ms = new MemoryStream();
            foreach (byte[] p in parts)
            {
                ms.Write(p, 0, p.Length);
            }
            return ms.ToArray();
        }
    }
}
