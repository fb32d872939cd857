using System;
using System.Buffers.Binary;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>The machine a root's binaries are built for, from an ELF header (System V gABI, "ELF Header").</summary>
    internal sealed record ElfArchitecture(string Name, bool Is64Bit, ushort Machine, string File)
    {
        private const ushort EmX86 = 3, EmArm = 40, EmX86_64 = 62, EmAarch64 = 183, EmRiscv = 243, EmPpc64 = 21, EmS390 = 22;

        /// <summary>Reads the first ELF binary among the usual shells (libguestfs's method).</summary>
        public static ElfArchitecture? Read(IFileSystem fs)
        {
            foreach (string path in new[] { "/bin/sh", "/usr/bin/bash", "/bin/bash", "/bin/ls", "/usr/bin/ls" })
            {
                byte[]? header = fs.TryReadBytes(path, 64);
                if (header == null)
                {
                    continue;
                }
                ElfArchitecture? a = Parse(header, path);
                if (a != null)
                {
                    return a;
                }
            }
            return null;
        }

        /// <summary>Parses e_ident and e_machine; null when the bytes are not an ELF header.</summary>
        public static ElfArchitecture? Parse(ReadOnlySpan<byte> header, string file)
        {
            // e_ident: 0x7F 'E' 'L' 'F', EI_CLASS (1 = 32-bit, 2 = 64-bit), EI_DATA (1 = LSB, 2 = MSB); e_machine at 18.
            if (header.Length < 20 || header[0] != 0x7F || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F')
            {
                return null;
            }
            byte cls = header[4], data = header[5];
            if ((cls != 1 && cls != 2) || (data != 1 && data != 2))
            {
                return null;
            }
            ushort machine = data == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(18)) : BinaryPrimitives.ReadUInt16BigEndian(header.Slice(18));
            string name = machine switch
            {
                EmX86 => "x86",
                EmX86_64 => "x86_64",
                EmArm => "arm",
                EmAarch64 => "aarch64",
                EmRiscv => cls == 2 ? "riscv64" : "riscv32",
                EmPpc64 => "ppc64",
                EmS390 => cls == 2 ? "s390x" : "s390",
                _ => $"machine {machine}",
            };
            return new ElfArchitecture(name, cls == 2, machine, file);
        }
    }
}
