using System;
using System.Collections.Generic;
using System.IO;

namespace AzureLinuxImage.Compression
{
    /// <summary>
    /// Lists an initramfs as the kernel unpacks it (init/initramfs.c, unpack_to_rootfs): uncompressed
    /// cpio archives (an early part with CPU microcode), zero padding, and compressed parts whose
    /// decompressed data is again one or more cpio archives separated by zeros; the compression of each
    /// part is recognised by its magic number.
    /// </summary>
    internal static class Initramfs
    {
        /// <summary>Streams the entries of every archive in <paramref name="input"/>, never buffering a whole file.</summary>
        public static IEnumerable<CpioEntry> ReadEntries(Stream input, InitramfsLimits limits) => ReadEntries(input, limits, "initramfs");

        /// <summary>As <see cref="ReadEntries(Stream, InitramfsLimits)"/>; <paramref name="sourceName"/> names the file in errors.</summary>
        public static IEnumerable<CpioEntry> ReadEntries(Stream input, InitramfsLimits limits, string sourceName)
        {
            if (input == null)
            {
                throw new ArgumentNullException(nameof(input));
            }
            limits ??= InitramfsLimits.Default;
            var outer = new InputBuffer(input, sourceName);
            var reader = new CpioReader(outer, limits);
            int archives = 0;
            int entries = 0;
            long decompressed = 0;
            while (true)
            {
                if (!SkipZeros(outer))
                {
                    yield break;
                }
                if (outer.PeekByte(0) == '0')
                {
                    CountArchive(ref archives, limits, sourceName);
                    reader.EntryCount = entries;
                    foreach (CpioEntry e in reader.ReadArchive(archives - 1, CompressionFormat.None))
                    {
                        yield return e;
                    }
                    entries = reader.EntryCount;
                    continue;
                }
                int have = outer.Fill(16);
                CompressionFormat format = Decompressors.Detect(new ReadOnlySpan<byte>(outer.Buffer, outer.Offset, have));
                if (format == CompressionFormat.None)
                {
                    throw CompressionErrors.Invalid(sourceName, "initramfs",
                        $"at offset {outer.Position}: the bytes {BitConverter.ToString(outer.Buffer, outer.Offset, Math.Min(have, 6))} start neither a cpio archive (070701) nor a known compression (gzip, zstd, xz, lzma, lz4, bzip2).");
                }
                var partLimits = new DecompressionLimits(Math.Max(0, limits.MaxDecompressedBytes - decompressed), Math.Max(limits.MaxWindowBytes, 4096));
                IDecoder decoder = Decompressors.CreateDecoder(format, outer, partLimits, strict: false);
                var stream = new DecompressionStream(decoder, partLimits, sourceName);
                var inner = new InputBuffer(stream, sourceName);
                var innerReader = new CpioReader(inner, limits) { EntryCount = entries };
                while (SkipZeros(inner))
                {
                    if (inner.PeekByte(0) != '0')
                    {
                        throw CompressionErrors.Invalid(sourceName, "initramfs " + format + " part",
                            $"at offset {inner.Position} of the decompressed data: 0x{inner.PeekByte(0):X2} starts no cpio archive.");
                    }
                    CountArchive(ref archives, limits, sourceName);
                    foreach (CpioEntry e in innerReader.ReadArchive(archives - 1, format))
                    {
                        yield return e;
                    }
                }
                entries = innerReader.EntryCount;
                decompressed += stream.Position;
            }
        }

        private static void CountArchive(ref int archives, InitramfsLimits limits, string source)
        {
            if (++archives > limits.MaxArchives)
            {
                throw CompressionErrors.LimitExceeded(source, $"the initramfs holds more than {limits.MaxArchives} archives");
            }
        }

        /// <summary>Skips NUL padding; false at the end of the input.</summary>
        private static bool SkipZeros(InputBuffer input)
        {
            while (true)
            {
                if (input.Fill(1) == 0)
                {
                    return false;
                }
                byte[] b = input.Buffer;
                int start = input.Offset;
                int end = start + input.Available;
                int i = start;
                while (i < end && b[i] == 0)
                {
                    i++;
                }
                input.Skip(i - start);
                if (i < end)
                {
                    return true;
                }
            }
        }
    }
}
