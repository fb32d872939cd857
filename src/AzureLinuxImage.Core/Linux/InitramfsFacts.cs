using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Compression;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>One entry of an initramfs: its name, and its text when it is a boot script (<see cref="InitramfsBootCode.IsScriptPath"/>).</summary>
    internal sealed record InitramfsItem(string Name, string? Text = null);

    /// <summary>
    /// Every entry of an initramfs (all its concatenated cpio archives, compressed or not), with the text of its
    /// boot scripts; a delegate so that tests can list crafted archives.
    /// </summary>
    internal delegate IEnumerable<InitramfsItem> InitramfsLister(Stream input, string path);

    /// <summary>What an initramfs holds, for one kernel.</summary>
    internal sealed record InitramfsInfo(string KernelVersion, string Path, string Compression, bool HasEarlyArchive, int EntryCount,
        IReadOnlyCollection<string> Modules, string? Error)
    {
        /// <summary>What its boot code does with rootdelay= (issue 24); null when it could not be read.</summary>
        public RootDelayFact? RootDelay { get; init; }

        public bool Readable => Error == null;

        public bool HasModule(string name) => Modules.Contains(KernelInfo.ModuleName(name));
    }

    /// <summary>Reads the initramfs of every kernel through an <see cref="InitramfsLister"/>.</summary>
    internal static class InitramfsFacts
    {
        public static IReadOnlyList<InitramfsInfo> Read(IFileSystem fs, IEnumerable<KernelInfo> kernels, InitramfsLister lister)
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
                    var names = new List<string>();
                    var scripts = new Dictionary<string, string>(StringComparer.Ordinal);
                    int count = 0;
                    using (Stream s = fs.OpenRead(k.InitrdPath))
                    {
                        foreach (InitramfsItem item in lister(s, k.InitrdPath))
                        {
                            count++;
                            string name = item.Name;
                            names.Add(InitramfsBootCode.PathOf(name));
                            if (KernelInfo.IsModuleFile(name))
                            {
                                modules.Add(KernelInfo.ModuleName(name));
                            }
                            if (item.Text != null)
                            {
                                scripts[InitramfsBootCode.PathOf(name)] = item.Text;
                            }
                        }
                    }
                    result.Add(new InitramfsInfo(k.Version.Text, k.InitrdPath, compression, early, count, modules, null)
                    {
                        RootDelay = InitramfsBootCode.AnalyzeRootDelay(names, scripts),
                    });
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

    /// <summary>The initramfs reader of Compression (every compression the kernel builds with): names, and the text of boot scripts.</summary>
    internal static class InitramfsNames
    {
        public static IEnumerable<InitramfsItem> List(Stream input, string path)
        {
            long textBudget = InitramfsBootCode.MaxScriptBytesTotal;
            foreach (Compression.CpioEntry e in Compression.Initramfs.ReadEntries(input, Compression.InitramfsLimits.Default, path))
            {
                string? text = null;
                if (e.Type == Compression.CpioEntryType.File && e.Size > 0 && e.Size <= InitramfsBootCode.MaxScriptBytes && e.Size <= textBudget
                    && InitramfsBootCode.IsScriptPath(e.Path))
                {
                    byte[]? data = e.ReadContent(InitramfsBootCode.MaxScriptBytes);
                    if (data != null && !InitramfsBootCode.IsBinary(data))
                    {
                        textBudget -= data.Length;
                        text = System.Text.Encoding.UTF8.GetString(data);
                    }
                }
                yield return new InitramfsItem(e.Name, text);
            }
        }
    }
}
