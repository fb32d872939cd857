using System;
using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Formats
{
    /// <summary>
    /// At least 10,000 seeded mutation cases per format over small images qemu-img made; only typed errors
    /// are acceptable (issue 4: "no crash, hang or unbounded allocation").
    /// </summary>
    public sealed class FormatFuzzTests
    {
        private const int Cases = 10_000;
        private readonly ITestOutputHelper output;

        public FormatFuzzTests(ITestOutputHelper output)
        {
            this.output = output;
        }

        /// <summary>Each format a row: its seed and the images qemu-img (and qemu-io) make of the same source.</summary>
        private static readonly Dictionary<string, (int Seed, Func<TempDirectory, string, List<string>> Targets)> Rows = new()
        {
            ["qcow2"] = (20261122, (dir, raw) =>
            {
                var targets = new List<string>
                {
                    Convert(dir, raw, "v3.qcow2", "qcow2", "-o", "compat=1.1,cluster_size=4096"),
                    Convert(dir, raw, "v2.qcow2", "qcow2", "-o", "compat=0.10,cluster_size=4096"),
                    Convert(dir, raw, "compressed.qcow2", "qcow2", "-c", "-o", "cluster_size=4096"),
                    Convert(dir, raw, "extl2.qcow2", "qcow2", "-o", "extended_l2=on,cluster_size=16384"),
                    Convert(dir, raw, "zstd.qcow2", "qcow2", "-c", "-o", "compression_type=zstd,cluster_size=4096"),
                };
                string overlay = dir.File("overlay.qcow2");
                ExternalTool.QemuImg("create", "-f", "qcow2", "-b", "v3.qcow2", "-F", "qcow2", "-o", "cluster_size=4096", overlay);
                ExternalTool.Run(ExternalTool.Require("qemu-io", "qemu-utils"), new[] { "-f", "qcow2", "-c", "write -P 0x11 8192 8192", "-c", "write -z 65536 4096", overlay });
                targets.Add(overlay);
                return targets;
            }),
            ["vdi"] = (4242, (dir, raw) => new List<string>
            {
                Convert(dir, raw, "dynamic.vdi", "vdi"),
                Convert(dir, raw, "static.vdi", "vdi", "-o", "static=on"),
            }),
            ["vmdk"] = (777, (dir, raw) =>
            {
                var targets = new List<string>
                {
                    Convert(dir, raw, "sparse.vmdk", "vmdk"),
                    Convert(dir, raw, "stream.vmdk", "vmdk", "-o", "subformat=streamOptimized"),
                    Convert(dir, raw, "flat.vmdk", "vmdk", "-o", "subformat=monolithicFlat"),
                    Convert(dir, raw, "split.vmdk", "vmdk", "-o", "subformat=twoGbMaxExtentSparse"),
                };
                string delta = dir.File("delta.vmdk");
                ExternalTool.QemuImg("create", "-f", "vmdk", "-o", "zeroed_grain=on", "-b", "sparse.vmdk", "-F", "vmdk", delta);
                ExternalTool.Run(ExternalTool.Require("qemu-io", "qemu-utils"), new[] { "-f", "vmdk", "-c", "write -P 0x11 8192 8192", "-c", "write -z 131072 65536", delta });
                targets.Add(delta);
                return targets;
            }),
        };

        public static TheoryData<string> Formats() => new TheoryData<string>(Rows.Keys);

        [Theory]
        [MemberData(nameof(Formats))]
        public void Mutations_give_only_typed_errors(string format)
        {
            using var dir = new TempDirectory();
            string raw = MakeSource(dir);
            var (seed, targets) = Rows[format];
            output.WriteLine(MutationFuzzer.Run(format, seed, Cases, targets(dir, raw)).ToString());
        }

        /// <summary>1 MiB with data in three places, so every image has a few allocated clusters and some holes.</summary>
        private static string MakeSource(TempDirectory dir)
        {
            string raw = dir.File("src.raw");
            var random = new System.Random(1);
            var bytes = new byte[1 << 20];
            random.NextBytes(bytes.AsSpan(0, 5000));
            random.NextBytes(bytes.AsSpan(300000, 70000));
            random.NextBytes(bytes.AsSpan(bytes.Length - 100, 100));
            File.WriteAllBytes(raw, bytes);
            return raw;
        }

        private static string Convert(TempDirectory dir, string raw, string name, string format, params string[] options)
        {
            string path = dir.File(name);
            var args = new List<string> { "convert", "-f", "raw", "-O", format };
            args.AddRange(options);
            args.Add(raw);
            args.Add(path);
            ExternalTool.QemuImg(args.ToArray());
            return path;
        }
    }
}
