using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>
    /// The image path through the opener seam that wires the Linux view to readiness: a root view plus the disk facts
    /// (partitions, ESP loaders) the partition layer reports. Here the view is a real root folder and the disk
    /// facts are those build-debian-image.sh's sgdisk/sfdisk layouts have.
    /// </summary>
    public sealed class ImageSeamTests
    {
        private const long MiB = 1024 * 1024;

        /// <summary>build-debian-image.sh's GPT: 1 MiB BIOS boot, 64 MiB ESP, the rest ext4 "rootfs".</summary>
        private static DiskLayoutFacts DebianGpt(string rootUuid, params PartitionFact[] extra) => new DiskLayoutFacts
        {
            Format = "vhd",
            Variant = "fixed",
            PartitionTable = "gpt",
            VirtualSize = 2048 * MiB,
            HasMbrBootCode = false,
            Partitions = new[]
            {
                new PartitionFact { Number = 1, StartLba = 2048, SizeBytes = MiB, GptType = DiskLayoutFacts.BiosBootType, Name = "bios-boot" },
                new PartitionFact { Number = 2, StartLba = 4096, SizeBytes = 64 * MiB, GptType = DiskLayoutFacts.EfiSystemType, Name = "esp", FileSystemType = "vfat" },
                new PartitionFact { Number = 3, StartLba = 135168, SizeBytes = 1900 * MiB, GptType = new Guid("0FC63DAF-8483-4772-8E79-3D69D8477DE4"), Name = "rootfs", FileSystemType = "ext4", FileSystemUuid = rootUuid, FileSystemLabel = "rootfs" },
            }.Concat(extra).ToList(),
        };

        private static IReadOnlyList<ReadinessFinding> CheckImage(LinuxRoot root, DiskLayoutFacts disk, int? generation = null) =>
            TestLinuxImageReadiness.Run(new LinuxImageReadinessOptions { ImagePath = "/images/debian.vhd", Generation = generation }, new SilentContext(),
                (path, context) => new InspectedImage(new HostDirectoryFileSystem(root.Path), disk));

        [Fact]
        public void DiskRulesApplyToImages()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            const string uuid = "0b0c3b1e-6f4e-4b8a-9d55-3c8f3f1f2a10"; // the synthetic root's fstab
            var f = new FindingsById(CheckImage(root, DebianGpt(uuid)));
            Assert.Equal(ReadinessStatus.Pass, f["FixedVhd"].Status);
            Assert.Equal(ReadinessStatus.Pass, f["SizeWholeMiB"].Status);
            Assert.Equal(ReadinessStatus.Pass, f["FirstPartitionAligned"].Status);
            Assert.Equal(ReadinessStatus.Pass, f["FstabStableNames"].Status);
            Assert.Equal(ReadinessStatus.Pass, f["NoSwapOnOsDisk"].Status);
            // BIOS boot partition: Gen1; ESP without EFI/BOOT/BOOTX64.EFI: not Gen2 (the script installs no loader).
            Assert.Contains("Generation 1: yes", f["VmGeneration"].Message);
            Assert.Contains("Generation 2: no", f["VmGeneration"].Message);
            Assert.Equal(ReadinessStatus.Fail, new FindingsById(CheckImage(root, DebianGpt(uuid), generation: 2))["VmGeneration"].Status);
            DiskLayoutFacts withLoader = DebianGpt(uuid) with { EfiBootLoaders = new[] { "/EFI/BOOT/BOOTX64.EFI" }, EfiBootLoadersSigned = false };
            var g2 = new FindingsById(CheckImage(root, withLoader, generation: 2));
            Assert.Equal(ReadinessStatus.Pass, g2["VmGeneration"].Status);
            Assert.Equal(ReadinessStatus.Warning, g2["SecureBootSigned"].Status);
        }

        [Fact]
        public void ASwapPartitionAnUnalignedSizeAndAForeignRootUuidFail()
        {
            using LinuxRoot root = LinuxRoot.Synthetic();
            var swap = new PartitionFact { Number = 4, StartLba = 3_900_000, SizeBytes = 64 * MiB, GptType = DiskLayoutFacts.LinuxSwapType, HasSwapSignature = true };
            DiskLayoutFacts disk = DebianGpt("11111111-2222-3333-4444-555555555555", swap) with { VirtualSize = 2048 * MiB + 512, Variant = "dynamic" };
            var f = new FindingsById(CheckImage(root, disk));
            Assert.Equal(ReadinessStatus.Fail, f["NoSwapOnOsDisk"].Status);
            Assert.Contains("partition 4 is swap (type, SWAPSPACE2)", f["NoSwapOnOsDisk"].Message);
            Assert.Equal(ReadinessStatus.Fail, f["SizeWholeMiB"].Status);
            Assert.Contains(((2048 * MiB) + MiB).ToString(), f["SizeWholeMiB"].Remediation);
            Assert.Equal(ReadinessStatus.Fail, f["FixedVhd"].Status);
            Assert.Equal(ReadinessStatus.Fail, f["FstabStableNames"].Status); // fstab's UUID is on no partition
            // An MBR swap partition (type 0x82) and a swap LV are seen too.
            DiskLayoutFacts mbr = new DiskLayoutFacts
            {
                Format = "vhd", Variant = "fixed", PartitionTable = "mbr", HasMbrBootCode = true, VirtualSize = 2048 * MiB, RootOnLvm = true,
                Partitions = new[]
                {
                    new PartitionFact { Number = 1, StartLba = 2048, SizeBytes = 1024 * MiB, MbrType = 0x83, FileSystemUuid = "0b0c3b1e-6f4e-4b8a-9d55-3c8f3f1f2a10" },
                    new PartitionFact { Number = 2, StartLba = 2099200, SizeBytes = 512 * MiB, MbrType = 0x82 },
                    new PartitionFact { Name = "vg0/swap", IsLogicalVolume = true, HasSwapSignature = true },
                },
            };
            var m = new FindingsById(CheckImage(root, mbr));
            Assert.Contains("partition 2 is swap", m["NoSwapOnOsDisk"].Message);
            Assert.Contains("logical volume vg0/swap", m["NoSwapOnOsDisk"].Message);
            Assert.Contains("lvremove vg0/swap", m["NoSwapOnOsDisk"].Remediation);
            Assert.Equal(ReadinessStatus.Warning, m["NoLvmOsDisk"].Status);
            Assert.Contains("Generation 1: yes (MBR boot code)", m["VmGeneration"].Message);
        }
    }
}
