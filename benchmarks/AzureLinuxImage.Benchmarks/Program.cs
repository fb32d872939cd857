using System;
using System.Collections.Generic;
using System.Linq;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// dotnet run -c Release --project benchmarks/AzureLinuxImage.Benchmarks -- [name ...]
    /// Each benchmark compares with the real tool its issue names and prints ratios. Work files go to
    /// $AZLI_BENCH_DIR (default /var/tmp/azli-bench) and are deleted afterwards.
    /// </summary>
    internal static class Program
    {
        private static readonly Dictionary<string, Action<Bench>> All = new()
        {
            ["convert-vhd"] = ConvertBenchmark.DynamicVhd,
            ["convert-vhdx"] = ConvertBenchmark.DynamicVhdx,
            ["resize"] = ResizeBenchmark.Run,
            ["linux-view"] = LinuxViewBenchmark.Run,
            ["waagent-image"] = WaagentImageBenchmark.Run,
            ["btrfs-view"] = BtrfsViewBenchmark.Run,
            ["readiness"] = ReadinessBenchmark.Run,
            ["zstd-initrd"] = ZstdBenchmark.Run,
            ["decoders-initrd"] = ZstdBenchmark.AllDecoders,
            ["compression-libraries"] = CompressionLibrariesBenchmark.Run,
            ["upload"] = UploadBenchmark.Run,
            ["convert-qcow2"] = FormatBenchmarks.Qcow2,
            ["convert-qcow2-compressed"] = FormatBenchmarks.Qcow2Compressed,
            ["convert-vdi"] = FormatBenchmarks.Vdi,
            ["convert-vmdk"] = FormatBenchmarks.VmdkSparse,
            ["convert-vmdk-stream"] = FormatBenchmarks.VmdkStream,
            ["upload-debian"] = DebianBenchmarks.Upload,
            ["convert-debian-vhd"] = DebianBenchmarks.ConvertVhd,
            ["convert-debian-vhdx"] = DebianBenchmarks.ConvertVhdx,
            ["convert-debian-qcow2"] = DebianBenchmarks.ConvertQcow2,
            ["convert-debian-vmdk"] = DebianBenchmarks.ConvertVmdk,
        };

        private static int Main(string[] args)
        {
            string[] names = args.Length == 0 ? All.Keys.ToArray() : args;
            var shown = new HashSet<string>(StringComparer.Ordinal);
            foreach (string name in names)
            {
                if (!All.TryGetValue(name, out Action<Bench>? run))
                {
                    Console.Error.WriteLine($"unknown benchmark '{name}'; known: {string.Join(", ", All.Keys)}");
                    return 2;
                }
                using var bench = new Bench(name, shown);
                Console.WriteLine($"== {name}");
                run(bench);
            }
            return 0;
        }
    }
}
