using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Publishing
{
    /// <summary>
    /// Hostile input for the parsers behind the image features (issue 26): the PE/Authenticode reader of the
    /// ESP's EFI binaries and the kernel header reader, fed mutations of real binaries (Debian's signed shim,
    /// Debian 12's kernel). Every case must end in facts or a typed error, within the harness's time and
    /// allocation bounds — never an out-of-range read of a span sized from a damaged header.
    /// </summary>
    public sealed class BootBinaryFuzzTests
    {
        private const int Cases = 3000;

        /// <summary>Damages 1 to 8 bytes, each in one of the regions that steer the parser.</summary>
        private static List<(int Offset, byte Old)> Damage(byte[] bytes, Random rng, IReadOnlyList<(int Start, int Length)> regions)
        {
            var patches = new List<(int, byte)>();
            int n = rng.Next(1, 9);
            for (int i = 0; i < n; i++)
            {
                var (start, length) = regions[rng.Next(regions.Count)];
                int at = start + rng.Next(length);
                patches.Add((at, bytes[at]));
                bytes[at] = rng.Next(4) switch { 0 => 0, 1 => 0xFF, 2 => (byte)(bytes[at] ^ (1 << rng.Next(8))), _ => (byte)rng.Next(256) };
            }
            return patches;
        }

        private static void Undo(byte[] bytes, List<(int Offset, byte Old)> patches)
        {
            for (int i = patches.Count - 1; i >= 0; i--)
            {
                bytes[patches[i].Offset] = patches[i].Old;
            }
        }

        [Fact]
        public void Mutated_signed_shim_gives_facts_or_typed_errors()
        {
            ExternalTool.Require("dpkg-deb", "dpkg");
            using var temp = new TempDirectory();
            string x = ImageFeatureTests.Deb("shim-signed", temp.File("shim"));
            byte[] shim = File.ReadAllBytes(Path.Combine(x, "usr/lib/shim/shimx64.efi.signed"));
            EfiBinaryFact pristine = EfiBinaries.Parse("/EFI/BOOT/BOOTX64.EFI", shim);
            Assert.True(pristine.Signed, pristine.Unsigned);
            PeImage pe = PeImage.Parse(shim, shim.Length)!;

            // The DOS and PE headers with the section table, and the certificate table (Authenticode).
            var regions = new List<(int, int)> { (0, 1024), ((int)pe.CertificateTableOffset, (int)Math.Min(pe.CertificateTableSize, 4096)) };
            var patches = new List<(int Offset, byte Old)>();
            int changed = 0;
            FuzzHarness.Run(new FuzzRun("EFI binary", 20261207, Cases)
            {
                Mutate = (rng, _) => patches = Damage(shim, rng, regions),
                Exercise = (_, _) =>
                {
                    EfiBinaryFact f = EfiBinaries.Parse("/EFI/BOOT/BOOTX64.EFI", shim);
                    changed += f.Signed == pristine.Signed && f.Kind == pristine.Kind && f.Machine == pristine.Machine && f.SigningCa == pristine.SigningCa ? 0 : 1;
                },
                Restore = () => Undo(shim, patches),
                Describe = () => string.Join(", ", patches.Select(p => $"{p.Offset}=0x{shim[p.Offset]:X2}")),
            });
            // The mutations reach the parser: some cases no longer read as the same signed shim.
            Assert.True(changed > 0, $"none of {Cases} mutated shims read differently: the mutations miss what the parser reads");
        }

        [Fact]
        public void Mutated_kernel_heads_give_an_architecture_null_or_typed_errors()
        {
            string boot = Path.Combine(ExternalTool.DebianRootfsCache, "boot");
            string? vmlinuz = Directory.Exists(boot) ? Directory.GetFiles(boot, "vmlinuz-*").FirstOrDefault() : null;
            if (vmlinuz == null)
            {
                ExternalTool.Unavailable($"no kernel under {boot} (DEBIAN_ROOTFS_CACHE)");
                return;
            }
            byte[] head;
            using (Stream s = File.OpenRead(vmlinuz))
            {
                head = RootFiles.ReadAtMost(s, KernelImageHeader.HeadBytes);
            }
            Assert.Equal("x86_64", KernelImageHeader.Parse(head, vmlinuz)!.Architecture);
            var regions = new List<(int, int)> { (0, 0x40), (0x1F0, 0x80) };
            var patches = new List<(int Offset, byte Old)>();
            int unrecognised = 0;
            FuzzHarness.Run(new FuzzRun("kernel header", 20261208, Cases)
            {
                Mutate = (rng, _) => patches = Damage(head, rng, regions),
                Exercise = (_, _) => unrecognised += KernelImageHeader.Parse(head, vmlinuz) == null ? 1 : 0,
                Restore = () => Undo(head, patches),
                Describe = () => string.Join(", ", patches.Select(p => $"{p.Offset}=0x{head[p.Offset]:X2}")),
            });
            Assert.True(unrecognised > 0, "no mutated bzImage head was refused: the mutations miss the header");
        }
    }
}
