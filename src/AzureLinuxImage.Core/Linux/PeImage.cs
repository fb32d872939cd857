using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace AzureLinuxImage.Linux
{
    /// <summary>One section of a PE image: its name and where its bytes are in the file.</summary>
    internal sealed record PeSection(string Name, uint FileOffset, uint FileSize);

    /// <summary>
    /// The headers of a PE/COFF image as UEFI loads it (an EFI application: shim, grub, systemd-boot, the kernel's
    /// EFI stub), and its Authenticode certificate table (PE/COFF specification, "Optional Header Data Directories",
    /// entry 4, and "The Attribute Certificate Table"). Bytes only: the reading is done by the callers.
    /// </summary>
    internal sealed record PeImage(ushort Machine, bool IsPe32Plus, ushort Subsystem, uint CertificateTableOffset, uint CertificateTableSize,
        IReadOnlyList<PeSection> Sections)
    {
        public const ushort MachineI386 = 0x014C, MachineAmd64 = 0x8664, MachineArm64 = 0xAA64, MachineArm = 0x01C2, MachineRiscv64 = 0x5064;

        /// <summary>WIN_CERTIFICATE wRevision 2.0 and wCertificateType PKCS_SIGNED_DATA: what Authenticode signatures use.</summary>
        private const ushort WinCertRevision2 = 0x0200, WinCertTypePkcsSignedData = 0x0002;

        private const int MaxSections = 96;

        /// <summary>The machine as Azure spells architectures (x64, Arm64), or the PE name.</summary>
        public string MachineName => NameOf(Machine);

        /// <summary>Data directory 4 names a certificate table (a signature may be there; <see cref="ParseCertificate"/> checks it).</summary>
        public bool HasCertificateTable => CertificateTableOffset != 0 && CertificateTableSize != 0;

        public PeSection? Section(string name)
        {
            foreach (PeSection s in Sections)
            {
                if (s.Name == name)
                {
                    return s;
                }
            }
            return null;
        }

        public static string NameOf(ushort machine) => machine switch
        {
            MachineAmd64 => "x64",
            MachineArm64 => "Arm64",
            MachineI386 => "x86",
            MachineArm => "arm",
            MachineRiscv64 => "riscv64",
            _ => $"machine 0x{machine:X4}",
        };

        /// <summary>
        /// Parses the MS-DOS stub's e_lfanew, the PE signature, the COFF header, the optional header's subsystem and
        /// data directory 4, and the section table, from the first bytes of the file; null when they are not a PE
        /// image. <paramref name="fileLength"/> bounds the certificate table (it must lie inside the file).
        /// </summary>
        public static PeImage? Parse(ReadOnlySpan<byte> head, long fileLength)
        {
            if (head.Length < 0x40 || head[0] != (byte)'M' || head[1] != (byte)'Z')
            {
                return null;
            }
            uint lfanew = BinaryPrimitives.ReadUInt32LittleEndian(head.Slice(0x3C));
            if (lfanew < 0x40 || lfanew > head.Length - 24 || head[(int)lfanew] != (byte)'P' || head[(int)lfanew + 1] != (byte)'E' || head[(int)lfanew + 2] != 0 || head[(int)lfanew + 3] != 0)
            {
                return null;
            }
            ReadOnlySpan<byte> coff = head.Slice((int)lfanew + 4, 20);
            ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(coff);
            ushort sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(coff.Slice(2));
            ushort optionalSize = BinaryPrimitives.ReadUInt16LittleEndian(coff.Slice(16));
            int optional = (int)lfanew + 24;
            if (optionalSize < 2 || optional + optionalSize > head.Length)
            {
                return null;
            }
            ReadOnlySpan<byte> opt = head.Slice(optional, optionalSize);
            ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(opt);
            bool plus;
            int countAt;
            if (magic == 0x10B)
            {
                plus = false;
                countAt = 92;
            }
            else if (magic == 0x20B)
            {
                plus = true;
                countAt = 108;
            }
            else
            {
                return null;
            }
            ushort subsystem = opt.Length >= 70 ? BinaryPrimitives.ReadUInt16LittleEndian(opt.Slice(68)) : (ushort)0;
            uint certOffset = 0, certSize = 0;
            if (opt.Length >= countAt + 4)
            {
                uint directories = BinaryPrimitives.ReadUInt32LittleEndian(opt.Slice(countAt));
                int certAt = countAt + 4 + 4 * 8;
                if (directories > 4 && opt.Length >= certAt + 8)
                {
                    // For the certificate table (only) the "virtual address" is a file offset.
                    certOffset = BinaryPrimitives.ReadUInt32LittleEndian(opt.Slice(certAt));
                    certSize = BinaryPrimitives.ReadUInt32LittleEndian(opt.Slice(certAt + 4));
                    if ((ulong)certOffset + certSize > (ulong)fileLength || certSize < 8)
                    {
                        certOffset = certSize = 0;
                    }
                }
            }
            var sections = new List<PeSection>();
            int table = optional + optionalSize;
            for (int i = 0; i < Math.Min((int)sectionCount, MaxSections) && table + (i + 1) * 40 <= head.Length; i++)
            {
                ReadOnlySpan<byte> s = head.Slice(table + i * 40, 40);
                int nameLength = s.Slice(0, 8).IndexOf((byte)0);
                string name = Encoding.ASCII.GetString(s.Slice(0, nameLength < 0 ? 8 : nameLength).ToArray());
                name = LongName(head, coff, name) ?? name;
                uint rawSize = BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(16));
                uint rawOffset = BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(20));
                if ((ulong)rawOffset + rawSize <= (ulong)fileLength)
                {
                    sections.Add(new PeSection(name, rawOffset, rawSize));
                }
            }
            return new PeImage(machine, plus, subsystem, certOffset, certSize, sections);
        }

        /// <summary>
        /// A "/n" section name is offset n into the COFF string table, which follows the symbol table (PE/COFF
        /// "Section Table": long names of images linked by GNU ld, such as shim's .vendor_cert); null when it is
        /// not one or lies outside <paramref name="file"/>.
        /// </summary>
        private static string? LongName(ReadOnlySpan<byte> file, ReadOnlySpan<byte> coff, string name)
        {
            if (name.Length < 2 || name[0] != '/' || !uint.TryParse(name.Substring(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint offset))
            {
                return null;
            }
            ulong table = BinaryPrimitives.ReadUInt32LittleEndian(coff.Slice(8)) + 18UL * BinaryPrimitives.ReadUInt32LittleEndian(coff.Slice(12));
            ulong at = table + offset;
            if (table == 0 || at >= (ulong)file.Length)
            {
                return null;
            }
            ReadOnlySpan<byte> rest = file.Slice((int)at, (int)Math.Min(64UL, (ulong)file.Length - at));
            int end = rest.IndexOf((byte)0);
            return end <= 0 ? null : Encoding.ASCII.GetString(rest.Slice(0, end).ToArray());
        }

        /// <summary>
        /// Checks the first WIN_CERTIFICATE of the certificate table: dwLength within the table, wRevision 2.0,
        /// wCertificateType PKCS_SIGNED_DATA and a DER SEQUENCE after it (Authenticode's SignedData). Null when it
        /// is one; otherwise why not.
        /// </summary>
        public static string? ParseCertificate(ReadOnlySpan<byte> table)
        {
            if (table.Length < 9)
            {
                return "the certificate table is shorter than a WIN_CERTIFICATE";
            }
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(table);
            ushort revision = BinaryPrimitives.ReadUInt16LittleEndian(table.Slice(4));
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(table.Slice(6));
            if (length < 9 || length > table.Length)
            {
                return $"its WIN_CERTIFICATE length {length} does not fit the table of {table.Length} bytes";
            }
            if (revision != WinCertRevision2 || type != WinCertTypePkcsSignedData)
            {
                return $"its WIN_CERTIFICATE is revision 0x{revision:X4}, type 0x{type:X4}, not an Authenticode PKCS#7 SignedData";
            }
            return table[8] == 0x30 ? null : "its WIN_CERTIFICATE does not hold a DER SignedData";
        }

        /// <summary>The Secure Boot CA named in a signature's certificates (Azure's Trusted Launch db trusts Microsoft's UEFI CAs), or null.</summary>
        public static string? MicrosoftUefiCa(ReadOnlySpan<byte> table)
        {
            foreach (string ca in new[] { "Microsoft Corporation UEFI CA 2011", "Microsoft UEFI CA 2023", "Microsoft Windows Production PCA 2011", "Windows UEFI CA 2023" })
            {
                if (table.IndexOf(Encoding.ASCII.GetBytes(ca)) >= 0)
                {
                    return ca;
                }
            }
            return null;
        }

        /// <summary>
        /// The components of a .sbat section (shim's SBAT, "UEFI shim: SBAT.md"): CSV lines "component,generation,…";
        /// the first line is the sbat format itself and is skipped.
        /// </summary>
        public static IReadOnlyList<string> SbatComponents(ReadOnlySpan<byte> sbat)
        {
            var result = new List<string>();
            int end = sbat.IndexOf((byte)0);
            string text = Encoding.ASCII.GetString(sbat.Slice(0, end < 0 ? sbat.Length : end).ToArray());
            foreach (string line in text.Split('\n'))
            {
                string[] f = line.Trim().Split(',');
                if (f.Length >= 2 && f[0].Length > 0 && f[0] != "sbat" && result.Count < 16)
                {
                    result.Add(f[0]);
                }
            }
            return result;
        }
    }
}
