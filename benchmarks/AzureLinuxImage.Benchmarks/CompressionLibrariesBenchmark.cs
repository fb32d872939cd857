using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using AzureLinuxImage.Compression;
using ICSharpCode.SharpZipLib.BZip2;
using ICSharpCode.SharpZipLib.GZip;
using SharpCompress.Compressors;
using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.Xz;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>
    /// Issue 19: may the served libraries (SharpCompress 0.50.9, SharpZipLib 1.4.2, the BCL's GZipStream)
    /// replace our xz, bzip2 and inflate? An initramfs part ends where its compressed member ends and the
    /// next archive starts at the following byte, so a decoder must not consume input past the member, or
    /// must say how much it used. For each library and format, on the real tool's output followed by a
    /// cpio archive: the bytes the library pulled from the input when its stream ended, against the
    /// member's length — once with ordinary reads and once with a source that yields one byte per Read
    /// (does read-ahead go away if the source is stingy?). Then a hostile xz header (a 1.5 GiB LZMA2
    /// dictionary on a few bytes of data): what opening and decoding it allocates. Then the decode time
    /// of the Debian initrd's cpio recompressed by each tool: library, ours, the tool (CPU, best of 3).
    /// </summary>
    internal static class CompressionLibrariesBenchmark
    {
        private sealed class CountingStream : Stream
        {
            private readonly Stream inner;
            private readonly int maxPerRead;

            public CountingStream(byte[] data, int maxPerRead)
            {
                inner = new MemoryStream(data, false);
                this.maxPerRead = maxPerRead;
            }

            public long Pulled { get; private set; }

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => Pulled; set => throw new NotSupportedException(); }

            public override int Read(byte[] buffer, int offset, int count)
            {
                int n = inner.Read(buffer, offset, Math.Min(count, maxPerRead));
                Pulled += n;
                return n;
            }

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }

        private static readonly (string Name, string Format, Func<Stream, Stream> Open)[] Libraries =
        {
            ("SharpCompress XZStream", "xz", s => new XZStream(s)),
            ("SharpCompress BZip2Stream", "bzip2", s => BZip2Stream.Create(s, CompressionMode.Decompress, false, false)),
            ("SharpZipLib BZip2InputStream", "bzip2", s => new BZip2InputStream(s) { IsStreamOwner = false }),
            ("SharpCompress GZipStream", "gzip", s => new SharpCompress.Compressors.Deflate.GZipStream(s, CompressionMode.Decompress)),
            ("SharpZipLib GZipInputStream", "gzip", s => new GZipInputStream(s) { IsStreamOwner = false }),
            ("BCL GZipStream", "gzip", s => new System.IO.Compression.GZipStream(s, System.IO.Compression.CompressionMode.Decompress, true)),
        };

        private static readonly Dictionary<string, (string Compress, string Decompress, CompressionFormat Ours)> Tools = new()
        {
            ["xz"] = ("xz --check=crc32 -T1 -c", "xz -d -c -T1", CompressionFormat.Xz),
            ["bzip2"] = ("bzip2 -9 -c", "bzip2 -d -c", CompressionFormat.Bzip2),
            ["gzip"] = ("gzip -9 -n -c", "gzip -d -c", CompressionFormat.Gzip),
        };

        public static void Run(Bench bench)
        {
            string? initrd = ZstdBenchmark.DebianInitrd();
            string cpio = bench.File("initrd.cpio");
            if (initrd != null)
            {
                ZstdBenchmark.Shell($"zstd -d -q -c \"{initrd}\" > \"{cpio}\"");
            }
            else
            {
                // Without the Debian root: 16 MiB of mixed text and random bytes stand in for it.
                var random = new Random(19);
                using var f = File.Create(cpio);
                var chunk = new byte[65536];
                for (int i = 0; i < 256; i++)
                {
                    if (i % 3 == 0)
                    {
                        random.NextBytes(chunk);
                    }
                    else
                    {
                        System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"line {i} of a kernel module list\n", 2000)).Substring(0, chunk.Length)).CopyTo(chunk, 0);
                    }
                    f.Write(chunk, 0, chunk.Length);
                }
            }
            byte[] data = File.ReadAllBytes(cpio);
            // The member: the first 1 MiB compressed by the tool; after it, an uncompressed cpio archive as in an initramfs.
            byte[] member1 = data.AsSpan(0, Math.Min(data.Length, 1 << 20)).ToArray();
            byte[] trailer = System.Text.Encoding.ASCII.GetBytes("070701" + new string('0', 104) + "TRAILER!!!\0").Concat(new byte[65536 - 121]).ToArray();
            Console.WriteLine("Read-ahead: bytes each library pulled from the input when its stream ended, against the member's length (64 KiB of cpio follow the member)");
            foreach (var lib in Libraries)
            {
                var tool = Tools[lib.Format];
                byte[] member = Compress(bench, tool.Compress, member1);
                byte[] input = member.Concat(trailer).ToArray();
                foreach (int perRead in new[] { int.MaxValue, 1 })
                {
                    var source = new CountingStream(input, perRead);
                    string result;
                    try
                    {
                        using Stream s = lib.Open(source);
                        byte[] output = ReadAll(s);
                        result = output.AsSpan().SequenceEqual(member1)
                            ? $"pulled {source.Pulled,7} of a {member.Length}-byte member ({source.Pulled - member.Length:+#;-#;0} bytes past its end)"
                            : $"decoded {output.Length} bytes, not the {member1.Length} compressed";
                    }
                    catch (Exception e)
                    {
                        result = $"{e.GetType().Name}: {e.Message.Split('\n')[0]} (after pulling {source.Pulled} of a {member.Length}-byte member)";
                    }
                    Console.WriteLine($"  {lib.Name,-30} {(perRead == 1 ? "1-byte reads" : "plain reads "),-13} {result}");
                }
            }

            // Ours: the initramfs reader lists the member's archive and the archive after it.
            byte[] small = SmallCpio(bench);
            byte[] initramfs = Compress(bench, "xz --check=crc32 -T1 -c", small).Concat(small).ToArray();
            int listed = Initramfs.ReadEntries(new MemoryStream(initramfs, false), InitramfsLimits.Default, "probe").Count();
            Console.WriteLine($"  ours (Initramfs.ReadEntries)   xz member + cpio: {listed} entries listed from both archives");

            Console.WriteLine("Bomb: an xz member declaring a 1.5 GiB LZMA2 dictionary around 10 bytes of data");
            byte[] bomb = Compress(bench, "xz --lzma2=dict=1536MiB --check=crc32 -c", System.Text.Encoding.ASCII.GetBytes("0123456789"));
            long before = GC.GetAllocatedBytesForCurrentThread();
            string bombResult;
            try
            {
                using Stream s = new XZStream(new MemoryStream(bomb, false));
                bombResult = $"decoded {ReadAll(s).Length} bytes";
            }
            catch (Exception e)
            {
                bombResult = $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
            }
            Console.WriteLine($"  SharpCompress XZStream         {bombResult}, allocating {(GC.GetAllocatedBytesForCurrentThread() - before) / 1048576.0:0} MiB");
            before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using Stream s = Decompressors.Open(new MemoryStream(bomb, false), CompressionFormat.Xz, DecompressionLimits.Default, "bomb.xz");
                bombResult = $"decoded {ReadAll(s).Length} bytes";
            }
            catch (Exception e)
            {
                bombResult = $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
            }
            Console.WriteLine($"  ours                           {bombResult}, allocating {(GC.GetAllocatedBytesForCurrentThread() - before) / 1048576.0:0} MiB");

            // Concatenated bzip2 streams are legal (pbzip2 writes one per block); an empty one is 14 bytes.
            byte[] empty = Compress(bench, "bzip2 -9 -c", Array.Empty<byte>());
            const int Streams = 2000;
            byte[] many = Enumerable.Repeat(empty, Streams).SelectMany(b => b).ToArray();
            Console.WriteLine($"Many streams: {Streams} empty bzip2 -9 streams concatenated ({many.Length} bytes), each decoded to its end");
            var sw = Stopwatch.StartNew();
            before = GC.GetAllocatedBytesForCurrentThread();
            var manySource = new MemoryStream(many, false);
            for (int i = 0; i < Streams; i++)
            {
                using var s = new BZip2InputStream(manySource) { IsStreamOwner = false };
                ReadAll(s);
            }
            Console.WriteLine($"  SharpZipLib BZip2InputStream   {sw.Elapsed.TotalMilliseconds,6:0} ms, allocating {(GC.GetAllocatedBytesForCurrentThread() - before) / 1048576.0:0} MiB");
            sw.Restart();
            before = GC.GetAllocatedBytesForCurrentThread();
            using (Stream s = BZip2Stream.Create(new MemoryStream(many, false), CompressionMode.Decompress, false, true))
            {
                ReadAll(s);
            }
            Console.WriteLine($"  SharpCompress BZip2Stream      {sw.Elapsed.TotalMilliseconds,6:0} ms, allocating {(GC.GetAllocatedBytesForCurrentThread() - before) / 1048576.0:0} MiB (decompressConcatenated)");
            sw.Restart();
            before = GC.GetAllocatedBytesForCurrentThread();
            using (Stream s = Decompressors.Open(new MemoryStream(many, false), CompressionFormat.Bzip2, DecompressionLimits.Default, "many.bz2"))
            {
                ReadAll(s);
            }
            Console.WriteLine($"  ours                           {sw.Elapsed.TotalMilliseconds,6:0} ms, allocating {(GC.GetAllocatedBytesForCurrentThread() - before) / 1048576.0:0} MiB");

            Console.WriteLine($"Speed: {data.Length / 1048576.0:0.0} MiB of {(initrd != null ? "the Debian initrd's cpio" : "generated data")}, CPU ms best of 3 (ratio to the tool)");
            foreach (string format in new[] { "xz", "bzip2", "gzip" })
            {
                var tool = Tools[format];
                string file = bench.File("data." + format);
                ZstdBenchmark.Shell($"{tool.Compress} < \"{cpio}\" > \"{file}\"");
                byte[] compressed = File.ReadAllBytes(file);
                double toolCpu = Enumerable.Range(0, 3).Min(_ => ZstdBenchmark.ShellCpu($"{tool.Decompress} < \"{file}\" > /dev/null"));
                double ours = BestCpu(() => Decompressors.Open(new MemoryStream(compressed, false), tool.Ours, DecompressionLimits.Default, file));
                Console.WriteLine($"  {format,-6} tool {toolCpu * 1000,6:0} ms   ours {ours * 1000,6:0} ms ({ours / toolCpu:0.0}x)");
                foreach (var lib in Libraries.Where(l => l.Format == format))
                {
                    double t = BestCpu(() => lib.Open(new MemoryStream(compressed, false)));
                    Console.WriteLine($"         {lib.Name,-30} {t * 1000,6:0} ms ({t / toolCpu:0.0}x)");
                }
                File.Delete(file);
            }
        }

        private static byte[] SmallCpio(Bench bench)
        {
            string root = bench.File("root");
            Directory.CreateDirectory(Path.Combine(root, "conf"));
            File.WriteAllText(Path.Combine(root, "conf", "modules"), "hv_vmbus\nhv_storvsc\n");
            string archive = bench.File("small.cpio");
            ZstdBenchmark.Shell($"cd \"{root}\" && find . | LC_ALL=C sort | cpio --quiet -o -H newc > \"{archive}\"");
            return File.ReadAllBytes(archive);
        }

        private static double BestCpu(Func<Stream> open)
        {
            var self = Process.GetCurrentProcess();
            var buffer = new byte[1 << 16];
            double best = double.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                self.Refresh();
                TimeSpan cpu0 = self.TotalProcessorTime;
                using (Stream s = open())
                {
                    while (s.Read(buffer, 0, buffer.Length) > 0)
                    {
                    }
                }
                self.Refresh();
                best = Math.Min(best, (self.TotalProcessorTime - cpu0).TotalSeconds);
            }
            return best;
        }

        private static byte[] ReadAll(Stream s)
        {
            var ms = new MemoryStream();
            s.CopyTo(ms);
            return ms.ToArray();
        }

        private static byte[] Compress(Bench bench, string command, byte[] data)
        {
            string input = bench.File("probe.in"), output = bench.File("probe.out");
            File.WriteAllBytes(input, data);
            ZstdBenchmark.Shell($"{command} < \"{input}\" > \"{output}\"");
            return File.ReadAllBytes(output);
        }
    }
}
