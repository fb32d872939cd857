using System.IO;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 4: qcow2, VDI and VMDK sources (made by qemu-img from the same 4 GiB / ~1 GiB-data raw source as
    /// convert-vhd) to an aligned fixed VHD, against qemu-img convert and the seed's raw round trip.
    /// </summary>
    internal static class FormatBenchmarks
    {
        public static void Qcow2(Bench bench) => Run(bench, "qcow2", "source.qcow2", false);

        public static void Qcow2Compressed(Bench bench) => Run(bench, "qcow2", "source-c.qcow2", true, "-c");

        public static void Vdi(Bench bench) => Run(bench, "vdi", "source.vdi", false);

        public static void VmdkSparse(Bench bench) => Run(bench, "vmdk", "source.vmdk", false);

        public static void VmdkStream(Bench bench) => Run(bench, "vmdk", "source-s.vmdk", true, "-o", "subformat=streamOptimized");

        /// <param name="compressible">
        /// Compressed formats get data that deflate halves (random nibbles): incompressible data would be
        /// stored uncompressed by qemu-img and measure nothing about inflating.
        /// </param>
        private static void Run(Bench bench, string format, string name, bool compressible, params string[] options)
        {
            string raw = ConvertBenchmark.MakeSource(bench);
            if (compressible)
            {
                MakeCompressible(raw);
            }
            string image = bench.File(name);
            var args = new System.Collections.Generic.List<string> { "convert", "-f", "raw", "-O", format };
            args.AddRange(options);
            args.Add(raw);
            args.Add(image);
            bench.Run("qemu-img", args.ToArray());
            File.Delete(raw);
            ConvertBenchmark.Compare(bench, image, format);
        }

        /// <summary>Rewrites every data MiB of the source with random nibbles (same layout, ~2:1 for deflate).</summary>
        private static void MakeCompressible(string raw)
        {
            var rng = new System.Random(7);
            var chunk = new byte[1 << 20];
            using var f = new FileStream(raw, FileMode.Open, FileAccess.ReadWrite);
            for (int run = 0; run < 16; run++)
            {
                f.Position = (long)run * (ConvertBenchmark.VirtualSize / 16) / (1 << 20) * (1 << 20);
                for (int mib = 0; mib < 64; mib++)
                {
                    rng.NextBytes(chunk);
                    for (int i = 0; i < chunk.Length; i++)
                    {
                        chunk[i] = (byte)((chunk[i] & 0x0F) | 0x40);
                    }
                    f.Write(chunk, 0, chunk.Length);
                }
            }
        }
    }
}
