using System;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Partitions.Lvm;
using AzureLinuxImage.Tests.FileSystems;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Partitions;
using Xunit;

namespace AzureLinuxImage.Tests.Linux
{
    /// <summary>
    /// A GPT disk with an ESP, /boot, two LVM PVs (root in two linear segments, /var, swap, a striped
    /// /srv/data over both PVs, a thin pool) and /home, assembled from the root's fstab.
    /// </summary>
    public class LinuxViewTests
    {
        private const string Pv0 = "Pv0aaaBBBBccccDDDDeeeeFFFFgggggg";
        private const string Pv1 = "Pv1aaaBBBBccccDDDDeeeeFFFFgggggg";

        [Fact]
        public void Fstab_mounts_by_uuid_label_partuuid_partlabel_mapper_and_vg_lv_form_one_view()
        {
            using var tmp = new TempDirectory();
            string sgdisk = ExternalTool.Require("sgdisk", "gdisk");
            string disk = tmp.File("disk.raw");
            PartitionTableTests.Truncate(disk, 200L << 20);
            ExternalTool.Run(sgdisk, new[] { "-Z", "-o", "-a", "2048",
                "-n", "1:2048:+32M", "-t", "1:EF00", "-c", "1:esp",
                "-n", "2:0:+32M", "-t", "2:8300", "-c", "2:boot",
                "-n", "3:0:+64M", "-t", "3:8E00", "-c", "3:pv0",
                "-n", "4:0:+16M", "-t", "4:8E00", "-c", "4:pv1",
                "-n", "5:0:+16M", "-t", "5:8300", "-c", "5:home", disk });
            var parts = PartitionTableTests.SfdiskJson(disk);
            long Off(int n) => parts[n - 1].Start * 512;

            // /boot (UUID=), ESP (PARTUUID=), /home (PARTLABEL=)
            string bootSrc = tmp.File("boot");
            Directory.CreateDirectory(Path.Combine(bootSrc, "grub"));
            File.WriteAllText(Path.Combine(bootSrc, "vmlinuz-6.1.0-test"), "kernel image\n");
            File.CreateSymbolicLink(Path.Combine(bootSrc, "vmlinuz"), "vmlinuz-6.1.0-test");
            File.CreateSymbolicLink(Path.Combine(bootSrc, "etc-hostname"), "/etc/hostname");
            File.CreateSymbolicLink(Path.Combine(bootSrc, "up"), "../etc/hostname");
            File.CreateSymbolicLink(Path.Combine(bootSrc, "loop"), "/etc/loop");
            File.WriteAllText(Path.Combine(bootSrc, "grub/grub.cfg"), "linux /vmlinuz root=/dev/mapper/vg0-root\n");
            Directory.CreateDirectory(Path.Combine(bootSrc, "efi"));
            string bootUuid = "b0b0b0b0-1111-2222-3333-444444444444";
            Mkfs(tmp.File("boot.img"), bootSrc, 32, "boot", bootUuid);
            PartitionTableTests.Dd(tmp.File("boot.img"), disk, Off(2));
            string esp = tmp.File("esp.img");
            PartitionTableTests.Truncate(esp, 32L << 20);
            ExternalTool.Run(ExternalTool.Require("mkfs.vfat", "dosfstools"), new[] { "-F", "16", "-n", "ESP", esp });
            string efiFile = tmp.File("grubx64.efi");
            File.WriteAllText(efiFile, "EFI loader\n");
            ExternalTool.Run(ExternalTool.Require("mmd", "mtools"), new[] { "-i", esp, "::/EFI", "::/EFI/debian" });
            ExternalTool.Run(ExternalTool.Require("mcopy", "mtools"), new[] { "-i", esp, efiFile, "::/EFI/debian/grubx64.efi" });
            PartitionTableTests.Dd(esp, disk, Off(1));
            string homeSrc = tmp.File("home");
            Directory.CreateDirectory(Path.Combine(homeSrc, "user"));
            File.WriteAllText(Path.Combine(homeSrc, "user/.bashrc"), "alias ll='ls -l'\n");
            Mkfs(tmp.File("home.img"), homeSrc, 16, "home", "40404040-1111-2222-3333-444444444444");
            PartitionTableTests.Dd(tmp.File("home.img"), disk, Off(5));

            // LVM: root (two segments, out of order on the PV), var, swap, a thin pool, data striped over both PVs.
            string rootSrc = tmp.File("root");
            foreach (string d in new[] { "etc", "usr/bin", "usr/lib", "boot", "var", "home", "srv", "opt" })
            {
                Directory.CreateDirectory(Path.Combine(rootSrc, d));
            }
            File.WriteAllText(Path.Combine(rootSrc, "usr/lib/os-release"), "ID=testlinux\nVERSION_ID=\"1\"\n");
            File.CreateSymbolicLink(Path.Combine(rootSrc, "etc/os-release"), "../usr/lib/os-release");
            File.CreateSymbolicLink(Path.Combine(rootSrc, "bin"), "usr/bin");
            File.WriteAllText(Path.Combine(rootSrc, "usr/bin/sh"), "#!shell\n");
            File.WriteAllText(Path.Combine(rootSrc, "etc/hostname"), "viewhost\n");
            File.CreateSymbolicLink(Path.Combine(rootSrc, "etc/loop"), "../boot/loop"); // a loop across two file systems
            string espUuid = parts[0].Uuid!;
            File.WriteAllText(Path.Combine(rootSrc, "etc/fstab"),
                "# <file system> <mount point> <type> <options> <dump> <pass>\n" +
                "/dev/mapper/vg0-root / ext4 errors=remount-ro 0 1\n" +
                $"UUID={bootUuid.ToUpperInvariant()}  /boot ext4 defaults 0 2\n" +
                $"PARTUUID={espUuid.ToLowerInvariant()} /boot/efi vfat umask=0077 0 1\n" +
                "/dev/vg0/var\t/var ext4 defaults 0 2\n" +
                "LABEL=datafs /srv/data ext4 defaults 0 2\n" +
                "PARTLABEL=home /home ext4 defaults 0 2\n" +
                "/dev/mapper/vg0-swap none swap sw 0 0\n" +
                "UUID=99999999-9999-9999-9999-999999999999 /opt ext4 defaults,nofail 0 2\n" +
                "proc /proc proc defaults 0 0\n");
            Mkfs(tmp.File("root.img"), rootSrc, 24, "root", "70707070-1111-2222-3333-444444444444");
            string varSrc = tmp.File("var");
            Directory.CreateDirectory(Path.Combine(varSrc, "log"));
            File.WriteAllText(Path.Combine(varSrc, "log/messages"), "booted\n");
            Mkfs(tmp.File("var.img"), varSrc, 8, "var", "7a7a7a7a-1111-2222-3333-444444444444");
            var dataTree = new ExtSourceTree(tmp.File("data"), bigSparse: false, manyEntries: false);
            Mkfs(tmp.File("data.img"), dataTree.Root, 16, "datafs", "da7a0000-1111-2222-3333-444444444444");

            string lvs = LvmTestWriter.Linear("root", (0, 12, "pv0", 30), (12, 12, "pv0", 0)) +
                         LvmTestWriter.Linear("var", (0, 8, "pv0", 12)) +
                         LvmTestWriter.Linear("swap", (0, 4, "pv0", 20)) +
                         LvmTestWriter.ThinPool("pool", 4) +
                         LvmTestWriter.Striped("data", 16, 128, ("pv0", 42), ("pv1", 0));
            var pvList = new[] { ("pv0", Pv0, 63L), ("pv1", Pv1, 15L) };
            string current = LvmTestWriter.VolumeGroup("vg0", 7, pvList, lvs);
            // An older copy (lower seqno) with root laid out differently: only the newest may be used.
            string stale = LvmTestWriter.VolumeGroup("vg0", 6, pvList, LvmTestWriter.Linear("root", (0, 24, "pv0", 0)));
            string pv0 = tmp.File("pv0.img");
            string pv1 = tmp.File("pv1.img");
            using (var f = new FileStream(pv0, FileMode.Create))
            {
                f.SetLength(64L << 20);
                LvmTestWriter.WritePv(f, 0, 64L << 20, Pv0, current);
                LvmTestWriter.PlaceLinear(f, File.ReadAllBytes(tmp.File("root.img")), 0, (0, 12, 30), (12, 12, 0));
                LvmTestWriter.PlaceLinear(f, File.ReadAllBytes(tmp.File("var.img")), 0, (0, 8, 12));
            }
            using (var f = new FileStream(pv1, FileMode.Create))
            {
                f.SetLength(16L << 20);
                LvmTestWriter.WritePv(f, 0, 16L << 20, Pv1, stale);
            }
            string mkswap = ExternalTool.Require("mkswap", "util-linux");
            string swapImg = tmp.File("swap.img");
            PartitionTableTests.Truncate(swapImg, 4L << 20);
            ExternalTool.Run(mkswap, new[] { "-U", "5a5a5a5a-1111-2222-3333-444444444444", swapImg });
            using (var f = new FileStream(pv0, FileMode.Open))
            {
                LvmTestWriter.PlaceLinear(f, File.ReadAllBytes(swapImg), 0, (0, 4, 20));
            }
            PartitionTableTests.Dd(pv0, disk, Off(3));
            PartitionTableTests.Dd(pv1, disk, Off(4));
            using (var f = new FileStream(disk, FileMode.Open))
            {
                LvmTestWriter.PlaceStriped(f, File.ReadAllBytes(tmp.File("data.img")), 128 * 512, (Off(3), 42), (Off(4), 0));
            }

            // lvm2's own checker agrees with the on-disk format written above.
            string? pvck = ExternalTool.Find("pvck");
            if (pvck != null || ExternalTool.InCi)
            {
                pvck = ExternalTool.Require("pvck", "lvm2");
                ToolResult headers = ExternalTool.Run(pvck, new[] { "--dump", "headers", pv0 }, check: false);
                Assert.DoesNotContain("CHECK", headers.StdOut + headers.StdErr);
                Assert.Contains("LABELONE", headers.StdOut + headers.StdErr);
                ToolResult meta = ExternalTool.Run(pvck, new[] { "--dump", "metadata", pv0 }, check: false);
                Assert.Contains("seqno = 7", meta.StdOut + meta.StdErr);
            }

            using LinuxImage image = LinuxImage.Open(disk);
            IFileSystem fs = image.RequireFileSystem();
            MountInfo M(string point) => Assert.Single(image.Mounts, m => m.MountPoint == point);
            Assert.Equal("LVM volume vg0/root", M("/").Location);
            Assert.Equal("/dev/mapper/vg0-root", M("/").Source);
            Assert.Null(M("/").Problem);
            Assert.True(M("/boot").Mounted);
            Assert.Contains("partition 2", M("/boot").Location);
            Assert.Contains("partition 1", M("/boot/efi").Location);
            Assert.True(M("/boot/efi").Mounted, M("/boot/efi").Problem);
            Assert.Equal("LVM volume vg0/var", M("/var").Location);
            Assert.True(M("/var").Mounted);
            Assert.Equal("LVM volume vg0/data", M("/srv/data").Location);
            Assert.Contains("partition 5", M("/home").Location);
            Assert.False(M("/opt").Mounted);
            Assert.Contains("99999999", M("/opt").Problem);
            Assert.DoesNotContain(image.Mounts, m => m.MountPoint == "none" || m.MountPoint == "/proc");

            // The other spellings fstab and the kernel command line use for the same volumes.
            Assert.Contains("partition 5", image.Resolve("/dev/disk/by-partlabel/home")!.Value.Info.Location);
            Assert.Contains("partition 2", image.Resolve("/dev/disk/by-uuid/" + bootUuid)!.Value.Info.Location);
            Assert.Contains("partition 2", image.Resolve("/dev/disk/by-label/boot")!.Value.Info.Location);
            Assert.Contains("partition 2", image.Resolve("/dev/sda2")!.Value.Info.Location);
            Assert.Contains("partition 3", image.Resolve("/dev/nvme0n1p3")!.Value.Info.Location);
            Assert.Contains("partition 1", image.Resolve("/dev/disk/by-partuuid/" + espUuid)!.Value.Info.Location);
            Assert.Equal("LVM volume vg0/var", image.Resolve("/dev/mapper/vg0-var")!.Value.Info.Location);
            Assert.Null(image.Resolve("/dev/vg0/nothing"));
            Assert.Null(image.Resolve("LABEL=nothing"));

            LogicalVolumeInfo pool = Assert.Single(image.LogicalVolumes, l => l.Name == "pool");
            Assert.False(pool.Readable);
            Assert.Contains("thin", pool.Reason);
            Assert.Equal(24L << 20, Assert.Single(image.LogicalVolumes, l => l.Name == "root").Size);
            Assert.Equal("striped", Assert.Single(image.LogicalVolumes, l => l.Name == "data").SegmentType);
            VolumeInfo swap = Assert.Single(image.Volumes, v => v.LogicalVolume?.Name == "swap");
            Assert.Equal(FileSystemKind.Swap, swap.FileSystem.Kind);
            Assert.Equal("5a5a5a5a-1111-2222-3333-444444444444", swap.FileSystem.Uuid);

            Assert.Equal("ID=testlinux\nVERSION_ID=\"1\"\n", ExtFileSystemTests.ReadText(fs, "/etc/os-release"));
            Assert.Equal("kernel image\n", ExtFileSystemTests.ReadText(fs, "/boot/vmlinuz"));
            Assert.Equal("/boot/vmlinuz-6.1.0-test", fs.GetEntry("/boot/vmlinuz")!.Path);
            // Links on /boot land on the root file system: absolute, relative with '..', and '..' itself.
            Assert.Equal("viewhost\n", ExtFileSystemTests.ReadText(fs, "/boot/etc-hostname"));
            Assert.Equal("viewhost\n", ExtFileSystemTests.ReadText(fs, "/boot/up"));
            Assert.Equal("viewhost\n", ExtFileSystemTests.ReadText(fs, "/boot/grub/../../etc/hostname"));
            Assert.Equal("booted\n", ExtFileSystemTests.ReadText(fs, "/var/log/messages"));
            // The ESP (FAT16: mtools refuses FAT32 this small) is mounted at /boot/efi, over /boot (ext4) over the root (ext4 on LVM).
            Assert.Equal("EFI loader\n", ExtFileSystemTests.ReadText(fs, "/boot/efi/EFI/debian/grubx64.efi"));
            Assert.Equal("alias ll='ls -l'\n", ExtFileSystemTests.ReadText(fs, "/home/user/.bashrc"));
            Assert.Contains(fs.List("/srv"), e => e.Name == "data" && e.Type == FileEntryType.Directory);
            Assert.Equal("#!shell\n", ExtFileSystemTests.ReadText(fs, "/bin/sh"));
            // The striped volume, file by file against its source folder.
            Assert.True(ExtOracle.CompareWithSource(fs, dataTree, "/srv/data") > 20);
            // loop2 -> /links/loop1 is absolute: relative to the image root, not to /srv/data, so in the view it is dangling, not a loop.
            Assert.Null(fs.GetEntry("/srv/data/links/loop1"));
            Assert.Throws<InvalidImageException>(() => fs.GetEntry("/boot/loop/x"));
        }

        private static void Mkfs(string image, string source, int sizeMiB, string label, string uuid)
        {
            ExternalTool.Run(ExternalTool.Require("mkfs.ext4", "e2fsprogs"), new[] { "-q", "-F", "-b", "1024", "-d", source, "-L", label, "-U", uuid, "-E", "root_owner=0:0", image, sizeMiB + "M" });
        }
    }
}
