using System;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Rehearsal;
using Xunit;

namespace AzureLinuxImage.Tests.Publishing
{
    /// <summary>The bootable Debian 12 images of build-debian-image.sh (GPT hybrid and MBR), built once for the class.</summary>
    public sealed class PublishingImagesFixture : IDisposable
    {
        private readonly TempDirectory temp = new TempDirectory();
        private readonly BootableImagesFixture built = new BootableImagesFixture();

        /// <summary>The image of build-debian-image.sh with <paramref name="options"/>, built once (BootableImagesFixture).</summary>
        public string Image(string name, params string[] options)
        {
            if (Environment.UserName != "root" || ExternalTool.Find("debootstrap") == null)
            {
                ExternalTool.Unavailable("build-debian-image.sh needs root and debootstrap.");
            }
            ExternalTool.RequireDebianRootfs();
            ExternalTool.Require("sgdisk", "gdisk");
            ExternalTool.Require("mkfs.vfat", "dosfstools");
            ExternalTool.Require("mcopy", "mtools");
            return built.Image(name, options);
        }

        /// <summary>A sparse copy of an image, to change without touching the shared one.</summary>
        public string Copy(string image, string name)
        {
            string path = temp.File(name + ".raw");
            ExternalTool.Run("cp", new[] { "--sparse=always", "-f", image, path });
            return path;
        }

        public void Dispose()
        {
            built.Dispose();
            temp.Dispose();
        }
    }

    /// <summary>
    /// Issue 26: the image definition's features derived from real Debian 12 images (hybrid GPT, MBR), real
    /// EFI binaries (Debian's signed shim and grub, grub-efi-amd64-bin's unsigned grub) planted on the ESP with
    /// mtools, and Clear-LinuxImageState's own run for OsState.
    /// </summary>
    public sealed class ImageFeatureTests : IClassFixture<PublishingImagesFixture>
    {
        private readonly PublishingImagesFixture images;
        private readonly ITestOutputHelper output;

        public ImageFeatureTests(PublishingImagesFixture images, ITestOutputHelper output)
        {
            this.images = images;
            this.output = output;
        }

        private ImageFeatures Derive(string path, int? generation = null)
        {
            using InspectedImage image = LinuxImageInspection.Open(path);
            ImageFeatures f = ImageFeatureRules.Derive(image, generation);
            foreach (ImageFeature x in f.All)
            {
                output.WriteLine($"{x.Name} = {x.Value}\n    evidence: {x.Evidence}\n    rule: {x.Rule}");
            }
            return f;
        }

        private string Gpt() => images.Image("gpt", "--bootable");

        private static string Cache => ExternalTool.DebianRootfsCache;

        private static string KernelVersion => Path.GetFileName(Directory.GetDirectories(Path.Combine(Cache, "lib/modules")).OrderBy(d => d, StringComparer.Ordinal).First());

        /// <summary>What the real files say about NVMe, read with real tools: modules.builtin, else the initramfs listed by cpio.</summary>
        private static bool NvmeOracle()
        {
            string v = KernelVersion;
            if (File.ReadAllLines(Path.Combine(Cache, "lib/modules", v, "modules.builtin")).Any(l => l.EndsWith("/nvme.ko", StringComparison.Ordinal)))
            {
                return true;
            }
            ToolResult r = ExternalTool.Run("bash", new[] { "-c", $"zstd -dc '{Cache}/boot/initrd.img-{v}' | cpio -it 2>/dev/null | grep -c '/nvme\\.ko' || true" });
            return int.Parse(r.StdOut.Trim(), System.Globalization.CultureInfo.InvariantCulture) > 0;
        }

        private static bool AcceleratedNetworkOracle()
        {
            string dir = Path.Combine(Cache, "lib/modules", KernelVersion);
            return File.ReadAllLines(Path.Combine(dir, "modules.dep")).Concat(File.ReadAllLines(Path.Combine(dir, "modules.builtin")))
                .Any(l => l.Contains("/mana.ko", StringComparison.Ordinal) || l.Contains("/mlx5_core.ko", StringComparison.Ordinal));
        }

        [Fact]
        public void Debian12_gpt_hybrid_is_V2_x64_and_specialized_until_generalized()
        {
            string image = Gpt();
            ImageFeatures f = Derive(image);

            Assert.Equal("V2", f.HyperVGeneration.Value);
            Assert.Contains("/EFI/BOOT/BOOTX64.EFI on the ESP (partition 2)", f.HyperVGeneration.Evidence);
            Assert.Contains("BIOS boot partition 1", f.HyperVGeneration.Evidence);
            Assert.Equal("x64", f.Architecture.Value);
            Assert.Contains($"/boot/vmlinuz-{KernelVersion}", f.Architecture.Evidence);
            Assert.Contains("bzImage", f.Architecture.Evidence);
            // grub-mkimage's core.efi copied as BOOTX64.EFI: grub, not shim, and unsigned.
            Assert.Equal("Standard", f.SecurityType.Value);
            Assert.Contains("/EFI/BOOT/BOOTX64.EFI (grub, x64, unsigned", f.SecurityType.Evidence);
            Assert.Equal(NvmeOracle() ? "SCSI, NVMe" : "SCSI", f.DiskControllerTypes.Value);
            Assert.Contains(KernelVersion, f.DiskControllerTypes.Evidence);
            Assert.Equal(AcceleratedNetworkOracle() ? "True" : "False", f.IsAcceleratedNetworkSupported.Value);
            Assert.Equal("Specialized", f.OsState.Value);
            Assert.Contains("/etc/machine-id", f.OsState.Evidence);
            Assert.Contains("/etc/ssh/ssh_host_ed25519_key", f.OsState.Evidence);
            Assert.All(f.All, x => Assert.False(string.IsNullOrEmpty(x.Rule)));

            string copy = images.Copy(image, "generalized");
            ClearLinuxImageState.Run(new ClearLinuxImageStateOptions { ImagePath = copy }, new SilentContext());
            ImageFeatures g = Derive(copy);
            Assert.Equal("Generalized", g.OsState.Value);
            Assert.Equal(f.HyperVGeneration.Value, g.HyperVGeneration.Value);
        }

        [Fact]
        public void Generation_1_on_the_hybrid_image_is_V1_and_Standard()
        {
            ImageFeatures f = Derive(Gpt(), 1);
            Assert.Equal("V1", f.HyperVGeneration.Value);
            Assert.Contains("GRUB's boot code", f.HyperVGeneration.Evidence);
            Assert.Equal("Standard", f.SecurityType.Value);
            Assert.Contains("Generation 1", f.SecurityType.Evidence);
        }

        [Fact]
        public void Mbr_image_is_V1_and_refuses_generation_2_naming_its_loaders()
        {
            string mbr = images.Image("mbr", "--bootable", "--table", "mbr");
            ImageFeatures f = Derive(mbr);
            Assert.Equal("V1", f.HyperVGeneration.Value);
            Assert.Contains("sector 0 (MBR) holds GRUB's boot code", f.HyperVGeneration.Evidence);

            var e = Assert.Throws<AzureLinuxImageException>(() => Derive(mbr, 2));
            Assert.Equal("GenerationNotSupported", e.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
            Assert.Contains("BIOS: yes, sector 0 (MBR) holds GRUB's boot code", e.Message);
            Assert.Contains("UEFI: no, the disk is MBR, not GPT", e.Message);
        }

        internal static string Deb(string package, string dir)
        {
            string deb = ExternalTool.Run("/bin/bash", new[] { Repository.File("tests/fixtures/debian-deb.sh"), package }).StdOut.Trim();
            ExternalTool.Run("dpkg-deb", new[] { "-x", deb, dir });
            return dir;
        }

        /// <summary>Copies files onto the ESP (partition 2) of a raw image with mtools, without mounting.</summary>
        private static void PutOnEsp(string image, params (string Source, string Target)[] files)
        {
            long offset = EspOffset(image);
            foreach ((string source, string target) in files)
            {
                ExternalTool.Run("mcopy", new[] { "-o", "-i", $"{image}@@{offset}", source, "::" + target });
            }
        }

        [Fact]
        public void Signed_shim_chain_is_TrustedLaunchSupported_and_an_unsigned_link_is_not()
        {
            using var temp = new TempDirectory();
            string x = Deb("shim-signed", temp.File("shim"));
            Deb("grub-efi-amd64-signed", temp.File("grub"));
            string shim = Path.Combine(x, "usr/lib/shim/shimx64.efi.signed");
            string signedGrub = temp.File("grub/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed");
            string unsignedGrub = Path.Combine(Cache, "usr/lib/grub/x86_64-efi/monolithic/grubx64.efi");
            Assert.True(File.Exists(unsignedGrub), "grub-efi-amd64-bin's grubx64.efi is in the Debian root");

            string image = images.Copy(Gpt(), "signed");
            PutOnEsp(image, (shim, "/EFI/BOOT/BOOTX64.EFI"), (signedGrub, "/EFI/BOOT/grubx64.efi"));
            ImageFeatures f = Derive(image);
            Assert.Equal("V2", f.HyperVGeneration.Value);
            Assert.Equal("TrustedLaunchSupported", f.SecurityType.Value);
            Assert.Contains("/EFI/BOOT/BOOTX64.EFI (shim, x64, signed by Microsoft Corporation UEFI CA 2011)", f.SecurityType.Evidence);
            Assert.Contains("/EFI/BOOT/grubx64.efi (grub, x64, Authenticode-signed)", f.SecurityType.Evidence);
            // The same ESP facts fill the readiness rule, which could only say Unknown before.
            Assert.Equal(ReadinessStatus.Pass, SecureBootSigned(image));

            // shim signed, grub unsigned: shim would refuse it under Secure Boot.
            PutOnEsp(image, (unsignedGrub, "/EFI/BOOT/grubx64.efi"));
            f = Derive(image);
            Assert.Equal("Standard", f.SecurityType.Value);
            Assert.Contains("/EFI/BOOT/grubx64.efi (grub, x64, unsigned: no certificate table", f.SecurityType.Evidence);

            // No grub next to the shim.
            ExternalTool.Run("mdel", new[] { "-i", $"{image}@@{EspOffset(image)}", "::/EFI/BOOT/grubx64.efi" });
            f = Derive(image);
            Assert.Equal("Standard", f.SecurityType.Value);
            Assert.Contains("no grubx64.efi is next to it", f.SecurityType.Evidence);

            // The unsigned grub as the loader itself.
            PutOnEsp(image, (unsignedGrub, "/EFI/BOOT/BOOTX64.EFI"), (signedGrub, "/EFI/BOOT/grubx64.efi"));
            f = Derive(image);
            Assert.Equal("Standard", f.SecurityType.Value);
            Assert.Contains("is not shim", f.SecurityType.Evidence);
            Assert.Equal(ReadinessStatus.Warning, SecureBootSigned(image));
        }

        private static ReadinessStatus SecureBootSigned(string image) =>
            TestLinuxImageReadiness.Run(new LinuxImageReadinessOptions { ImagePath = image, Rules = new[] { "SecureBootSigned" }.ToList() }, new SilentContext()).Single().Status;

        private static long EspOffset(string image)
        {
            string json = ExternalTool.Run(ExternalTool.Require("sfdisk", "fdisk"), new[] { "-J", image }).StdOut;
            return 512 * System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("partitiontable").GetProperty("partitions")[1].GetProperty("start").GetInt64();
        }
    }
}
