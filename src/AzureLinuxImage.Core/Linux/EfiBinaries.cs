using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>What an EFI binary on the ESP is: its PE machine, what it is (shim, grub …) and whether it is signed.</summary>
    internal sealed record EfiBinaryFact
    {
        /// <summary>Path on the ESP (/EFI/BOOT/BOOTX64.EFI).</summary>
        public string Path { get; init; } = string.Empty;

        public long Size { get; init; }

        /// <summary>PE machine (0x8664, 0xAA64); null when the file is not a PE image.</summary>
        public ushort? Machine { get; init; }

        /// <summary>shim, grub, systemd-boot, uki, or null when not recognized.</summary>
        public string? Kind { get; init; }

        /// <summary>The certificate table (PE data directory 4) holds an Authenticode PKCS#7 SignedData.</summary>
        public bool Signed { get; init; }

        /// <summary>Why the binary is not signed (no certificate table, a malformed one); null when signed.</summary>
        public string? Unsigned { get; init; }

        /// <summary>The Microsoft UEFI CA named by the signature's certificates, when one is.</summary>
        public string? SigningCa { get; init; }

        /// <summary>Components of its .sbat section (shim, shim.debian, grub, grub.debian …).</summary>
        public IReadOnlyList<string> Sbat { get; init; } = Array.Empty<string>();

        /// <summary>One phrase for evidence: "/EFI/BOOT/BOOTX64.EFI (shim, x64, signed by Microsoft Corporation UEFI CA 2011)".</summary>
        public string Describe()
        {
            var parts = new List<string>();
            if (Kind != null)
            {
                parts.Add(Kind);
            }
            parts.Add(Machine == null ? "not a PE image" : PeImage.NameOf(Machine.Value));
            parts.Add(Signed ? (SigningCa != null ? "signed by " + SigningCa : "Authenticode-signed") : "unsigned: " + Unsigned);
            return $"{Path} ({string.Join(", ", parts)})";
        }
    }

    /// <summary>The EFI binaries of an ESP: /EFI/*/*.efi, each read once, bounded in count and size.</summary>
    internal static class EfiBinaries
    {
        private const int MaxFiles = 64;
        private const int MaxFileBytes = 64 << 20;

        /// <summary>
        /// Reads every .efi file one level under <paramref name="espRoot"/>/EFI (the ESP's root; /boot/efi in a root
        /// folder). Paths are reported as on the ESP.
        /// </summary>
        public static IReadOnlyList<EfiBinaryFact> Read(IFileSystem fs, string espRoot = "")
        {
            var result = new List<EfiBinaryFact>();
            FileEntry? top = FindIgnoringCase(fs, espRoot.Length == 0 ? "/" : espRoot, "EFI");
            if (top == null || top.Type != FileEntryType.Directory)
            {
                return result;
            }
            foreach (FileEntry dir in fs.ListOrEmpty(top.Path).Where(e => e.Type == FileEntryType.Directory))
            {
                foreach (FileEntry f in fs.ListOrEmpty(dir.Path))
                {
                    if (f.Type != FileEntryType.File || !f.Name.EndsWith(".efi", StringComparison.OrdinalIgnoreCase) || result.Count >= MaxFiles)
                    {
                        continue;
                    }
                    string onEsp = "/EFI/" + dir.Name + "/" + f.Name;
                    if (f.Size > MaxFileBytes)
                    {
                        result.Add(new EfiBinaryFact { Path = onEsp, Size = f.Size, Unsigned = $"not read: over {MaxFileBytes >> 20} MiB" });
                        continue;
                    }
                    byte[]? bytes = fs.TryReadBytes(f.Path, MaxFileBytes);
                    if (bytes != null)
                    {
                        result.Add(Parse(onEsp, bytes));
                    }
                }
            }
            return result;
        }

        /// <summary>The facts of one EFI binary from its bytes.</summary>
        public static EfiBinaryFact Parse(string path, byte[] bytes)
        {
            PeImage? pe = PeImage.Parse(bytes, bytes.Length);
            if (pe == null)
            {
                return new EfiBinaryFact { Path = path, Size = bytes.Length, Unsigned = "not a PE image" };
            }
            string? problem;
            string? ca = null;
            if (!pe.HasCertificateTable)
            {
                problem = "no certificate table (PE data directory 4 is empty)";
            }
            else
            {
                var table = new ReadOnlySpan<byte>(bytes, (int)pe.CertificateTableOffset, (int)pe.CertificateTableSize);
                problem = PeImage.ParseCertificate(table);
                ca = problem == null ? PeImage.MicrosoftUefiCa(table) : null;
            }
            PeSection? sbatSection = pe.Section(".sbat");
            IReadOnlyList<string> sbat = sbatSection == null
                ? Array.Empty<string>()
                : PeImage.SbatComponents(new ReadOnlySpan<byte>(bytes, (int)sbatSection.FileOffset, (int)Math.Min(sbatSection.FileSize, 4096)));
            return new EfiBinaryFact
            {
                Path = path,
                Size = bytes.Length,
                Machine = pe.Machine,
                Kind = KindOf(pe, sbat, path),
                Signed = problem == null,
                Unsigned = problem,
                SigningCa = ca,
                Sbat = sbat,
            };
        }

        /// <summary>
        /// What the binary is, from its sections: shim carries its vendor certificate in .vendor_cert (MokManager
        /// and fallback are shim's helpers, named mm*/fb*); grub-mkimage writes a "mods" section; systemd-boot has
        /// .sdmagic; a unified kernel image has .linux. The .sbat component names the rest.
        /// </summary>
        internal static string? KindOf(PeImage pe, IReadOnlyList<string> sbat, string path)
        {
            string name = path.Substring(path.LastIndexOf('/') + 1).ToLowerInvariant();
            if (name.StartsWith("mm", StringComparison.Ordinal) || name.StartsWith("fb", StringComparison.Ordinal))
            {
                if (sbat.Contains("shim") || pe.Section(".vendor_cert") != null)
                {
                    return name.StartsWith("mm", StringComparison.Ordinal) ? "shim MokManager" : "shim fallback";
                }
            }
            if (pe.Section(".vendor_cert") != null || (sbat.Count > 0 && sbat[0] == "shim"))
            {
                return "shim";
            }
            if (pe.Section("mods") != null || (sbat.Count > 0 && sbat[0] == "grub"))
            {
                return "grub";
            }
            if (pe.Section(".sdmagic") != null || (sbat.Count > 0 && sbat[0] == "systemd-boot"))
            {
                return "systemd-boot";
            }
            return pe.Section(".linux") != null ? "uki" : null;
        }

        private static FileEntry? FindIgnoringCase(IFileSystem fs, string dir, string name) =>
            fs.ListOrEmpty(dir).FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
    }
}
