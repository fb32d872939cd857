using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>What an initramfs holds, for one kernel.</summary>
    internal sealed record InitramfsInfo(string KernelVersion, string Path, string Compression, bool HasEarlyArchive, int EntryCount,
        IReadOnlyCollection<string> Modules, string? Error)
    {
        public bool Readable => Error == null;

        public bool HasModule(string name) => Modules.Contains(KernelInfo.ModuleName(name));
    }

    /// <summary>Reads the initramfs of every kernel with Compression's reader (every compression the kernel builds with).</summary>
    internal static class InitramfsFacts
    {
        public static IReadOnlyList<InitramfsInfo> Read(IFileSystem fs, IEnumerable<KernelInfo> kernels)
        {
            var result = new List<InitramfsInfo>();
            foreach (KernelInfo k in kernels)
            {
                if (k.InitrdPath == null)
                {
                    continue;
                }
                string compression = "unknown";
                bool early = false;
                try
                {
                    using (Stream s = fs.OpenRead(k.InitrdPath))
                    {
                        var head = new byte[6];
                        int n = s.Read(head, 0, head.Length);
                        compression = DetectCompression(head, n);
                        early = compression == "cpio";
                    }
                    var modules = new HashSet<string>(StringComparer.Ordinal);
                    int count = 0;
                    using (Stream s = fs.OpenRead(k.InitrdPath))
                    {
                        foreach (CpioEntry entry in Initramfs.ReadEntries(s, InitramfsLimits.Default, k.InitrdPath))
                        {
                            count++;
                            if (KernelInfo.IsModuleFile(entry.Name))
                            {
                                modules.Add(KernelInfo.ModuleName(entry.Name));
                            }
                        }
                    }
                    result.Add(new InitramfsInfo(k.Version.Text, k.InitrdPath, compression, early, count, modules, null));
                }
                catch (AzureLinuxImageException ex)
                {
                    result.Add(new InitramfsInfo(k.Version.Text, k.InitrdPath, compression, early, 0, Array.Empty<string>(), ex.Message));
                }
                catch (IOException ex)
                {
                    result.Add(new InitramfsInfo(k.Version.Text, k.InitrdPath, compression, early, 0, Array.Empty<string>(), ex.Message));
                }
            }
            return result;
        }

        /// <summary>The first part's format, for messages: "cpio" for an uncompressed (early) archive, else Compression's detection.</summary>
        internal static string DetectCompression(byte[] head, int length)
        {
            if (length >= 5 && head[0] == (byte)'0' && head[1] == (byte)'7' && head[2] == (byte)'0' && head[3] == (byte)'7' && head[4] == (byte)'0')
            {
                return "cpio";
            }
            CompressionFormat format = Decompressors.Detect(new ReadOnlySpan<byte>(head, 0, length));
            return format switch
            {
                CompressionFormat.None => "unknown",
                CompressionFormat.Lz4Legacy or CompressionFormat.Lz4Frame => "lz4",
                _ => format.ToString().ToLowerInvariant(),
            };
        }
    }
}
