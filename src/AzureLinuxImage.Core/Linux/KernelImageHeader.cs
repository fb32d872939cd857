using System;
using System.Buffers.Binary;
using System.IO;
using AzureLinuxImage.Compression;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>
    /// The machine a kernel image is built for, from its own header: an ELF vmlinux (e_machine), an x86 bzImage
    /// (Documentation/arch/x86/boot.rst: "HdrS" at 0x202, xloadflags XLF_KERNEL_64 at 0x236), an arm64 Image
    /// (Documentation/arch/arm64/booting.rst: magic "ARM\x64" at 0x38), an EFI zboot image ("zimg" at 4, the PE
    /// machine), a PE/EFI-stub kernel (the PE machine), or any of these compressed whole (Debian's arm64 vmlinuz is
    /// a gzip of Image).
    /// </summary>
    internal sealed record KernelImageHeader(string Architecture, string Format, string File)
    {
        /// <summary>Enough of the image to see every header above.</summary>
        internal const int HeadBytes = 4096;

        private const uint Arm64Magic = 0x644D5241; // "ARM\x64"

        /// <summary>Reads the head of <paramref name="path"/> (decompressed when the whole image is compressed); null when unrecognized.</summary>
        public static KernelImageHeader? Read(IFileSystem fs, string path)
        {
            FileEntry? e = fs.GetEntry(path);
            if (e == null || e.Type != FileEntryType.File)
            {
                return null;
            }
            byte[] head;
            using (Stream s = fs.OpenRead(path))
            {
                head = RootFiles.ReadAtMost(s, HeadBytes);
            }
            KernelImageHeader? plain = Parse(head, path);
            if (plain != null)
            {
                return plain;
            }
            CompressionFormat format = Decompressors.Detect(head);
            if (format == CompressionFormat.None)
            {
                return null;
            }
            try
            {
                using Stream s = fs.OpenRead(path);
                using Stream inner = Decompressors.Open(s, format, DecompressionLimits.Default, path);
                KernelImageHeader? h = Parse(RootFiles.ReadAtMost(inner, HeadBytes), path);
                return h == null ? null : h with { Format = h.Format + " (" + format.ToString().ToLowerInvariant() + "-compressed)" };
            }
            catch (Errors.AzureLinuxImageException)
            {
                return null;
            }
            catch (InvalidDataException)
            {
                return null;
            }
        }

        /// <summary>The architecture of an uncompressed kernel image's head; null when none of the formats matches.</summary>
        public static KernelImageHeader? Parse(ReadOnlySpan<byte> head, string file)
        {
            ElfArchitecture? elf = ElfArchitecture.Parse(head, file);
            if (elf != null)
            {
                return new KernelImageHeader(elf.Name, "ELF vmlinux", file);
            }
            if (head.Length >= 0x240 && head[0x202] == (byte)'H' && head[0x203] == (byte)'d' && head[0x204] == (byte)'r' && head[0x205] == (byte)'S')
            {
                // x86 boot protocol: xloadflags exist from protocol 2.12; before that the EFI stub's PE header (if any) decides.
                ushort version = BinaryPrimitives.ReadUInt16LittleEndian(head.Slice(0x206));
                bool? is64 = version >= 0x020C ? (head[0x236] & 1) != 0 : (bool?)null;
                PeImage? stub = PeImage.Parse(head, long.MaxValue);
                if (is64 == null && stub != null)
                {
                    is64 = stub.Machine == PeImage.MachineAmd64;
                }
                return is64 == null ? null : new KernelImageHeader(is64.Value ? "x86_64" : "x86", "bzImage", file);
            }
            if (head.Length >= 0x40 && BinaryPrimitives.ReadUInt32LittleEndian(head.Slice(0x38)) == Arm64Magic)
            {
                return new KernelImageHeader("aarch64", "arm64 Image", file);
            }
            PeImage? pe = PeImage.Parse(head, long.MaxValue);
            if (pe != null)
            {
                bool zboot = head.Length >= 8 && head[4] == (byte)'z' && head[5] == (byte)'i' && head[6] == (byte)'m' && head[7] == (byte)'g';
                string arch = pe.Machine switch
                {
                    PeImage.MachineAmd64 => "x86_64",
                    PeImage.MachineArm64 => "aarch64",
                    PeImage.MachineI386 => "x86",
                    PeImage.MachineArm => "arm",
                    PeImage.MachineRiscv64 => "riscv64",
                    _ => pe.MachineName,
                };
                return new KernelImageHeader(arch, zboot ? "EFI zboot image" : "PE/EFI-stub kernel", file);
            }
            return null;
        }
    }
}
