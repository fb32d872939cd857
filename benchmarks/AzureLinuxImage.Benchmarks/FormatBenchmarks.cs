using System.IO;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 4: qcow2, VDI and VMDK sources (made by qemu-img from the same 4 GiB / ~1 GiB-data raw source as
    /// convert-vhd) to an aligned fixed VHD, against qemu-img convert and the seed's raw round trip.
    /// </summary>
    internal static class FormatBenchmarks
    {
        public static void Qcow2(Bench bench) => Run(bench, "qcow2", "source.qcow2");

        public static void Qcow2Compressed(Bench bench) => Run(bench, "qcow2", "source-c.qcow2", "-c");

        public static void Vdi(Bench bench) => Run(bench, "vdi", "source.vdi");

        public static void VmdkSparse(Bench bench) => Run(bench, "vmdk", "source.vmdk");

        public static void VmdkStream(Bench bench) => Run(bench, "vmdk", "source-s.vmdk", "-o", "subformat=streamOptimized");

        private static void Run(Bench bench, string format, string name, params string[] options)
        {
            string raw = ConvertBenchmark.MakeSource(bench);
            string image = bench.File(name);
            var args = new System.Collections.Generic.List<string> { "convert", "-f", "raw", "-O", format };
            args.AddRange(options);
            args.Add(raw);
            args.Add(image);
            bench.Run("qemu-img", args.ToArray());
            File.Delete(raw);
            ConvertBenchmark.Compare(bench, image, format);
        }
    }
}
