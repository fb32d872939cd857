using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Readiness;
using Xunit;

namespace AzureLinuxImage.Tests.Publishing
{
    /// <summary>
    /// Issue 26's features on root folders (no disk: the ESP is read at /boot/efi, BIOS from grub-install's core.img):
    /// drivers planted in the modules tree or packed into an initramfs with cpio, and kernel and EFI headers written
    /// to their specifications where no real binary of that kind is at hand (arm64; see the README).
    /// </summary>
    public sealed class RootFeatureTests
    {
        private const string X64Kernel = "6.1.0-1-cloud-amd64";
        private const string ArmKernel = "6.1.0-1-cloud-arm64";

        private static ImageFeatures Derive(LinuxRoot r, int? generation = null)
        {
            using var image = new InspectedImage(new HostDirectoryFileSystem(r.Path), null);
            return ImageFeatureRules.Derive(image, generation);
        }

        /// <summary>The head of an x86 bzImage (Documentation/arch/x86/boot.rst): "HdrS", protocol 2.15, XLF_KERNEL_64.</summary>
        internal static byte[] BzImageHead()
        {
            var b = new byte[0x400];
            b[0x1FE] = 0x55;
            b[0x1FF] = 0xAA;
            Encoding.ASCII.GetBytes("HdrS").CopyTo(b, 0x202);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(0x206), 0x020F);
            b[0x236] = 1;
            return b;
        }

        /// <summary>The 64-byte header of an arm64 Image (Documentation/arch/arm64/booting.rst): magic "ARM\x64" at 0x38.</summary>
        internal static byte[] Arm64ImageHead()
        {
            var b = new byte[4096];
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 0);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), 0x2000000);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x38), 0x644D5241);
            return b;
        }

        internal static byte[] Gzip(byte[] data)
        {
            var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            {
                gz.Write(data, 0, data.Length);
            }
            return ms.ToArray();
        }

        /// <summary>
        /// A PE32+ image (PE/COFF specification): MS-DOS stub with e_lfanew, "PE\0\0", the COFF header, an optional
        /// header with 16 data directories, EFI application subsystem; <paramref name="certificate"/> appended and
        /// named by data directory 4 when given.
        /// </summary>
        internal static byte[] Pe(ushort machine, byte[]? certificate = null)
        {
            const int lfanew = 0x40, optionalSize = 240;
            int headers = lfanew + 24 + optionalSize;
            int size = 0x200 + (certificate?.Length ?? 0);
            var b = new byte[size];
            b[0] = (byte)'M';
            b[1] = (byte)'Z';
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x3C), lfanew);
            Encoding.ASCII.GetBytes("PE\0\0").CopyTo(b, lfanew);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(lfanew + 4), machine);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(lfanew + 4 + 16), optionalSize);
            int opt = lfanew + 24;
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(opt), 0x20B);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(opt + 68), 10);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(opt + 108), 16);
            if (certificate != null)
            {
                certificate.CopyTo(b, 0x200);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(opt + 112 + 32), 0x200);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(opt + 112 + 36), (uint)certificate.Length);
            }
            Assert.True(headers < 0x200);
            return b;
        }

        /// <summary>A WIN_CERTIFICATE (dwLength, wRevision, wCertificateType) around a DER SEQUENCE.</summary>
        internal static byte[] WinCertificate(ushort revision, ushort type)
        {
            var b = new byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(b, 16);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), revision);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), type);
            b[8] = 0x30;
            b[9] = 0x06;
            return b;
        }

        private static LinuxRoot X64Root(bool biosCore = true)
        {
            LinuxRoot r = LinuxRoot.Synthetic();
            r.WriteBytes($"boot/vmlinuz-{X64Kernel}", BzImageHead());
            Directory.CreateDirectory(r.Full($"lib/modules/{X64Kernel}/kernel"));
            if (biosCore)
            {
                r.WriteBytes("boot/grub/i386-pc/core.img", new byte[] { 0x52, 0xBF, 0xF4, 0x81 });
            }
            return r;
        }

        [Fact]
        public void No_loader_at_all_is_GenerationNotSupported_and_a_wrong_generation_is_refused()
        {
            using LinuxRoot r = X64Root(biosCore: false);
            var e = Assert.Throws<AzureLinuxImageException>(() => Derive(r));
            Assert.Equal("GenerationNotSupported", e.ErrorId);
            Assert.Contains("BIOS: no", e.Message);
            Assert.Contains("UEFI: no, /boot/efi (the root folder's ESP) has no EFI/BOOT/BOOTX64.EFI", e.Message);
            Assert.Equal("InvalidGeneration", Assert.Throws<AzureLinuxImageException>(() => Derive(r, 3)).ErrorId);

            r.WriteBytes("boot/grub/i386-pc/core.img", new byte[] { 1 });
            Assert.Equal("V1", Derive(r).HyperVGeneration.Value);
            e = Assert.Throws<AzureLinuxImageException>(() => Derive(r, 2));
            Assert.Equal("GenerationNotSupported", e.ErrorId);
            Assert.Contains("Generation 2 was asked for", e.Message);

            r.WriteBytes("boot/efi/EFI/BOOT/BOOTX64.EFI", Pe(0x8664));
            ImageFeatures f = Derive(r);
            Assert.Equal("V2", f.HyperVGeneration.Value);
            Assert.Contains("hybrid", f.HyperVGeneration.Evidence);
            Assert.Equal("V1", Derive(r, 1).HyperVGeneration.Value);
        }

        [Fact]
        public void Arm64_kernel_header_gives_Arm64_and_only_Generation_2()
        {
            using LinuxRoot r = LinuxRoot.Synthetic();
            r.WriteBytes($"boot/vmlinuz-{ArmKernel}", Gzip(Arm64ImageHead()));
            Directory.CreateDirectory(r.Full($"lib/modules/{ArmKernel}/kernel"));
            r.WriteBytes("boot/grub/i386-pc/core.img", new byte[] { 1 });
            // An x64 loader where the Arm64 firmware looks is no loader.
            r.WriteBytes("boot/efi/EFI/BOOT/BOOTAA64.EFI", Pe(0x8664));
            var e = Assert.Throws<AzureLinuxImageException>(() => Derive(r));
            Assert.Equal("GenerationNotSupported", e.ErrorId);
            Assert.Contains("Arm64 has no BIOS boot", e.Message);
            Assert.Contains("built for x64, not Arm64", e.Message);

            r.WriteBytes("boot/efi/EFI/BOOT/BOOTAA64.EFI", Pe(0xAA64));
            ImageFeatures f = Derive(r);
            Assert.Equal("Arm64", f.Architecture.Value);
            Assert.Contains($"/boot/vmlinuz-{ArmKernel} (the default kernel) is an aarch64 arm64 Image (gzip-compressed)", f.Architecture.Evidence);
            Assert.Equal("V2", f.HyperVGeneration.Value);
            Assert.Equal("GenerationNotSupported", Assert.Throws<AzureLinuxImageException>(() => Derive(r, 1)).ErrorId);

            // The same root with an x86 kernel is x64 (the kernel decides, not /bin/sh).
            r.Delete($"boot/vmlinuz-{ArmKernel}");
            r.WriteBytes($"boot/vmlinuz-{ArmKernel}", BzImageHead());
            Assert.Equal("x64", ImageFeatureRules.Architecture(new LinuxFacts(new HostDirectoryFileSystem(r.Path))).Value);
        }

        [Fact]
        public void Nvme_counts_only_built_in_or_in_the_initramfs()
        {
            ExternalTool.Require("cpio", "cpio");
            using LinuxRoot r = X64Root();
            string nvme = $"lib/modules/{X64Kernel}/kernel/drivers/nvme/host/nvme.ko";
            r.WriteBytes(nvme, new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' });
            ImageFeatures f = Derive(r);
            Assert.Equal("SCSI", f.DiskControllerTypes.Value);
            Assert.Contains($"nvme is a module of kernel {X64Kernel} but it has no initramfs", f.DiskControllerTypes.Evidence);

            using var work = new TempDirectory();
            string Pack(string name, params string[] files)
            {
                string dir = work.File(name);
                foreach (string file in files)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, file))!);
                    File.WriteAllBytes(Path.Combine(dir, file), new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' });
                }
                string archive = work.File(name + ".img");
                ExternalTool.Run("bash", new[] { "-c", $"cd '{dir}' && find . | cpio -o -H newc --quiet | gzip -1 > '{archive}'" });
                return archive;
            }

            r.WriteBytes($"boot/initrd.img-{X64Kernel}", File.ReadAllBytes(Pack("without", $"usr/lib/modules/{X64Kernel}/kernel/drivers/scsi/hv_storvsc.ko")));
            f = Derive(r);
            Assert.Equal("SCSI", f.DiskControllerTypes.Value);
            Assert.Contains($"/boot/initrd.img-{X64Kernel} does not hold nvme", f.DiskControllerTypes.Evidence);

            r.WriteBytes($"boot/initrd.img-{X64Kernel}", File.ReadAllBytes(Pack("with", $"usr/lib/modules/{X64Kernel}/kernel/drivers/nvme/host/nvme.ko")));
            f = Derive(r);
            Assert.Equal("SCSI, NVMe", f.DiskControllerTypes.Value);
            Assert.Contains($"nvme is in /boot/initrd.img-{X64Kernel}", f.DiskControllerTypes.Evidence);

            // nvme_core as a module must be there too.
            r.WriteBytes($"lib/modules/{X64Kernel}/kernel/drivers/nvme/host/nvme-core.ko", new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' });
            f = Derive(r);
            Assert.Equal("SCSI", f.DiskControllerTypes.Value);
            Assert.Contains("does not hold nvme_core", f.DiskControllerTypes.Evidence);

            r.Delete($"lib/modules/{X64Kernel}/kernel/drivers/nvme/host/nvme-core.ko");
            r.Delete(nvme);
            r.Delete($"boot/initrd.img-{X64Kernel}");
            r.Write($"lib/modules/{X64Kernel}/modules.builtin", "kernel/drivers/nvme/host/nvme-core.ko\nkernel/drivers/nvme/host/nvme.ko\n");
            f = Derive(r);
            Assert.Equal("SCSI, NVMe", f.DiskControllerTypes.Value);
            Assert.Contains($"nvme is built into kernel {X64Kernel} (/lib/modules/{X64Kernel}/modules.builtin)", f.DiskControllerTypes.Evidence);
        }

        [Fact]
        public void Accelerated_networking_needs_mana_or_mlx5_core()
        {
            using LinuxRoot r = X64Root();
            ImageFeatures f = Derive(r);
            Assert.Equal("False", f.IsAcceleratedNetworkSupported.Value);
            Assert.Contains("neither mana nor mlx5_core", f.IsAcceleratedNetworkSupported.Evidence);

            // Another NIC driver is not enough.
            r.WriteBytes($"lib/modules/{X64Kernel}/kernel/drivers/net/ethernet/mellanox/mlx4/mlx4_en.ko", new byte[] { 1 });
            Assert.Equal("False", Derive(r).IsAcceleratedNetworkSupported.Value);

            string mana = $"lib/modules/{X64Kernel}/kernel/drivers/net/ethernet/microsoft/mana/mana.ko";
            r.WriteBytes(mana, new byte[] { 1 });
            f = Derive(r);
            Assert.Equal("True", f.IsAcceleratedNetworkSupported.Value);
            Assert.Contains("mana (module", f.IsAcceleratedNetworkSupported.Evidence);

            r.Delete(mana);
            r.WriteBytes($"lib/modules/{X64Kernel}/kernel/drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko.xz", new byte[] { 1 });
            f = Derive(r);
            Assert.Equal("True", f.IsAcceleratedNetworkSupported.Value);
            Assert.Contains("mlx5_core (module", f.IsAcceleratedNetworkSupported.Evidence);
            Assert.DoesNotContain("mana", f.IsAcceleratedNetworkSupported.Evidence);
        }

        [Fact]
        public void Certificate_table_must_be_an_Authenticode_SignedData()
        {
            EfiBinaryFact none = EfiBinaries.Parse("/EFI/BOOT/BOOTX64.EFI", Pe(0x8664));
            Assert.False(none.Signed);
            Assert.Contains("no certificate table", none.Unsigned);

            EfiBinaryFact x509 = EfiBinaries.Parse("/EFI/BOOT/BOOTX64.EFI", Pe(0x8664, WinCertificate(0x0200, 0x0001)));
            Assert.False(x509.Signed);
            Assert.Contains("not an Authenticode PKCS#7 SignedData", x509.Unsigned);

            EfiBinaryFact pkcs = EfiBinaries.Parse("/EFI/BOOT/BOOTX64.EFI", Pe(0x8664, WinCertificate(0x0200, 0x0002)));
            Assert.True(pkcs.Signed);
            Assert.Null(pkcs.SigningCa);

            EfiBinaryFact notPe = EfiBinaries.Parse("/EFI/BOOT/BOOTX64.EFI", Encoding.ASCII.GetBytes("#!/bin/sh\n"));
            Assert.Null(notPe.Machine);
            Assert.False(notPe.Signed);
        }
    }
}
