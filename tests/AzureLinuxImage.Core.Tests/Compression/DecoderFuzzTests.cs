using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Compression.CompressionOracle;

namespace AzureLinuxImage.Tests.Compression
{
    /// <summary>
    /// Seeded mutation fuzzing: small valid inputs made by the real tools, mutated 10,000 times per
    /// decoder (bit flips, interesting values, insertions, deletions, duplications, truncations), and
    /// every truncation of each seed. Only AzureLinuxImageException may come out; each case has a time
    /// and allocation bound, and the whole loop a watchdog so a hang fails instead of blocking CI.
    /// </summary>
    public class DecoderFuzzTests
    {
        private const int Cases = 10_000;
        private static readonly DecompressionLimits Limits = new DecompressionLimits(4 << 20, 8 << 20);
        private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(2);
        private const long PerCaseAllocation = 96L << 20;
        private static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(120);

        private static readonly Dictionary<string, (CompressionFormat Format, string Tool, string Package, string[] Args)> Targets = new()
        {
            ["zstd"] = (CompressionFormat.Zstd, "zstd", "zstd", new[] { "-q -c -1", "-q -c -19", "-q -c -3 --no-check" }),
            ["xz"] = (CompressionFormat.Xz, "xz", "xz-utils", new[] { "-q -c -0 --check=crc32", "-q -c -6 --check=crc64", "-q -c --x86 --lzma2=preset=1 --check=sha256" }),
            ["lzma"] = (CompressionFormat.Lzma, "xz", "xz-utils", new[] { "-q -c --format=lzma -1", "-q -c --format=lzma -6" }),
            ["lz4-legacy"] = (CompressionFormat.Lz4Legacy, "lz4", "lz4", new[] { "-q -c -l -1", "-q -c -l -12" }),
            ["lz4-frame"] = (CompressionFormat.Lz4Frame, "lz4", "lz4", new[] { "-q -c -1 -BD -BX", "-q -c -9 --content-size" }),
            ["bzip2"] = (CompressionFormat.Bzip2, "bzip2", "bzip2", new[] { "-q -c -1", "-q -c -9" }),
            ["gzip"] = (CompressionFormat.Gzip, "gzip", "gzip", new[] { "-c -1", "-c -9" }),
        };

        public static TheoryData<string> Names() => new TheoryData<string>(Targets.Keys);

        private static List<(byte[] Compressed, byte[] Original)> Seeds(TempDirectory dir, string name)
        {
            var t = Targets[name];
            var originals = new[] { Make("text", 2500), Make("random", 300), Make("runs", 3000).Select((b, i) => (byte)(b + (i % 97 == 0 ? 1 : 0))).ToArray(), Array.Empty<byte>() };
            var seeds = new List<(byte[], byte[])>();
            foreach (string args in t.Args)
            {
                foreach (byte[] o in originals)
                {
                    seeds.Add((Compress(dir, o, t.Tool, t.Package, args), o));
                }
            }
            return seeds;
        }

        private static byte[] DecodeAll(byte[] input, CompressionFormat format)
        {
            using Stream s = Decompressors.Open(new MemoryStream(input, false), format, Limits, "fuzz");
            var ms = new MemoryStream();
            var buf = new byte[4096];
            int n;
            while ((n = s.Read(buf, 0, buf.Length)) > 0)
            {
                ms.Write(buf, 0, n);
            }
            return ms.ToArray();
        }

        [Theory]
        [MemberData(nameof(Names))]
        public void Mutated_inputs_give_only_typed_errors(string name)
        {
            using var dir = new TempDirectory();
            var seeds = Seeds(dir, name);
            CompressionFormat format = Targets[name].Format;
            // The seeds themselves decode exactly.
            foreach (var (c, o) in seeds)
            {
                Assert.Equal(o, DecodeAll(c, format));
            }
            byte[] input = Array.Empty<byte>();
            FuzzHarness.Run(new FuzzRun(name, 20261122 ^ name.Length, Cases)
            {
                Mutate = (rng, _) => input = Mutate(seeds[rng.Next(seeds.Count)].Compressed, rng, seeds),
                Exercise = (_, _) => DecodeAll(input, format),
                Describe = () => "input " + Convert.ToHexString(input),
                PerCaseTime = PerCase,
                PerCaseAllocation = PerCaseAllocation,
                Watchdog = Watchdog,
            });
        }

        [Theory]
        [MemberData(nameof(Names))]
        public void Every_truncation_gives_a_typed_error_or_a_prefix(string name)
        {
            using var dir = new TempDirectory();
            CompressionFormat format = Targets[name].Format;
            foreach (var (compressed, original) in Seeds(dir, name))
            {
                byte[] cut = Array.Empty<byte>();
                var outcome = FuzzHarness.Run(new FuzzRun($"{name} truncations", 0, compressed.Length)
                {
                    Mutate = (_, length) => cut = compressed.AsSpan(0, length).ToArray(),
                    Exercise = (_, length) =>
                    {
                        byte[] output = DecodeAll(cut, format);
                        // Only formats without an end mark (lz4 legacy) may stop early, and then only at a block boundary.
                        Assert.True(format == CompressionFormat.Lz4Legacy, $"{name}: a truncation to {length} of {compressed.Length} bytes decoded without error");
                        Assert.True(original.AsSpan().StartsWith(output), $"{name}: a truncation decoded to data that is not a prefix");
                    },
                    Describe = () => "input " + Convert.ToHexString(cut),
                    PerCaseTime = PerCase,
                    PerCaseAllocation = PerCaseAllocation,
                });
                Assert.Equal(compressed.Length, outcome.Completed + outcome.TypedErrors);
            }
        }

        [Fact]
        public void Mutated_initramfs_images_give_only_typed_errors()
        {
            using var dir = new TempDirectory();
            ExternalTool.Require("cpio", "cpio");
            string root = Path.Combine(dir.Path, "r");
            Directory.CreateDirectory(Path.Combine(root, "conf"));
            File.WriteAllText(Path.Combine(root, "conf/modules"), "hv_vmbus\nhv_storvsc\n");
            File.WriteAllBytes(Path.Combine(root, "conf/blob"), Make("text", 900));
            File.CreateSymbolicLink(Path.Combine(root, "bin"), "usr/bin");
            Shell($"cd {Q(root)} && find . | LC_ALL=C sort | cpio --quiet -o -H newc > {Q(dir.File("a.cpio"))} && find . | LC_ALL=C sort | cpio --quiet -o -H crc > {Q(dir.File("b.cpio"))}");
            byte[] a = File.ReadAllBytes(dir.File("a.cpio")), b = File.ReadAllBytes(dir.File("b.cpio"));
            var seeds = new List<(byte[] Compressed, byte[] Original)>
            {
                (a, a),
                (Concat(b, Compress(dir, a, "zstd", "zstd", "-q -c -3")), a),
                (Concat(a, Compress(dir, b, "xz", "xz-utils", "-q -c -1 --check=crc32")), a),
                (Compress(dir, a, "lz4", "lz4", "-q -c -l"), a),
            };
            var limits = new InitramfsLimits { MaxDecompressedBytes = 4 << 20, MaxWindowBytes = 8 << 20, MaxEntries = 10_000, MaxFileSize = 1 << 20 };
            void ReadAll(byte[] input)
            {
                foreach (CpioEntry e in Initramfs.ReadEntries(new MemoryStream(input, false), limits, "fuzz"))
                {
                    if (e.Type == CpioEntryType.File)
                    {
                        e.ReadContent(1 << 20);
                    }
                }
            }
            foreach (var (c, _) in seeds)
            {
                ReadAll(c);
            }
            byte[] input = Array.Empty<byte>();
            FuzzHarness.Run(new FuzzRun("initramfs", 20261122 ^ "initramfs".Length, Cases)
            {
                Mutate = (rng, _) => input = Mutate(seeds[rng.Next(seeds.Count)].Compressed, rng, seeds),
                Exercise = (_, _) => ReadAll(input),
                Describe = () => "input " + Convert.ToHexString(input),
                PerCaseTime = PerCase,
                PerCaseAllocation = PerCaseAllocation,
                Watchdog = Watchdog,
            });
        }

        private static readonly int[] Interesting = { 0, 1, 2, 3, 4, 0x7F, 0x80, 0xFE, 0xFF, 0x10, 0x20, 0x40 };

        private static byte[] Mutate(byte[] seed, Random rng, List<(byte[] Compressed, byte[] Original)> seeds)
        {
            var data = new List<byte>(seed);
            int operations = 1 + rng.Next(3);
            for (int k = 0; k < operations; k++)
            {
                int at = data.Count == 0 ? 0 : rng.Next(data.Count);
                switch (rng.Next(9))
                {
                    case 0:
                    case 1:
                        if (data.Count > 0)
                        {
                            data[at] ^= (byte)(1 << rng.Next(8));
                        }
                        break;
                    case 2:
                        if (data.Count > 0)
                        {
                            data[at] = (byte)rng.Next(256);
                        }
                        break;
                    case 3:
                        if (data.Count > 0)
                        {
                            data[at] = (byte)Interesting[rng.Next(Interesting.Length)];
                        }
                        break;
                    case 4:
                        data.RemoveRange(at, Math.Min(data.Count - at, 1 + rng.Next(16)));
                        break;
                    case 5:
                        for (int j = rng.Next(1, 16); j > 0; j--)
                        {
                            data.Insert(at, (byte)rng.Next(256));
                        }
                        break;
                    case 6:
                        if (data.Count > 0)
                        {
                            int from = rng.Next(data.Count);
                            int len = Math.Min(data.Count - from, 1 + rng.Next(64));
                            data.InsertRange(at, data.GetRange(from, len));
                        }
                        break;
                    case 7:
                        if (data.Count > 0)
                        {
                            data.RemoveRange(at, data.Count - at);
                        }
                        break;
                    default:
                        // Splice in a piece of another seed.
                        byte[] other = seeds[rng.Next(seeds.Count)].Compressed;
                        if (other.Length > 0 && data.Count > 0)
                        {
                            int from = rng.Next(other.Length);
                            int len = Math.Min(Math.Min(other.Length - from, data.Count - at), 1 + rng.Next(32));
                            for (int j = 0; j < len; j++)
                            {
                                data[at + j] = other[from + j];
                            }
                        }
                        break;
                }
            }
            return data.ToArray();
        }
    }
}
