using System;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Linux.Writes.WritableTestImages;

namespace AzureLinuxImage.Tests.Linux.Writes
{
    /// <summary>
    /// The writable image view (issue 17): paths routed to the mounted file system's writer, staged until
    /// commit, committed into the image file at the right offsets, checked by e2fsck/debugfs and
    /// xfs_repair/xfs_db; dry runs, failures and -Destination leave the source byte-identical.
    /// </summary>
    public class WritableLinuxImageTests
    {
        private static WritableLinuxImage OpenImage(string disk, string? destination) =>
            WritableLinuxImage.Open(disk, destination, overwrite: false, TestContext.Current.CancellationToken);

        /// <summary>The product's way in (-WhatIf/-Confirm): read-only until the commit.</summary>
        private static WritableLinuxImage PlanImage(string disk, string? destination) =>
            WritableLinuxImage.OpenToPlan(disk, destination, overwrite: false, TestContext.Current.CancellationToken);

        private static MemoryStream Text(string s) => new MemoryStream(Encoding.UTF8.GetBytes(s));

        private static string Read(IFileSystem fs, string path)
        {
            using var r = new StreamReader(fs.OpenRead(path));
            return r.ReadToEnd();
        }

        [Fact]
        public void Changes_on_root_and_boot_land_in_their_partitions_and_e2fsck_is_clean()
        {
            using var tmp = new TempDirectory();
            var (disk, root, boot, esp) = Ext4Gpt(tmp);
            using (var image = OpenImage(disk, null))
            {
                IFileSystemWriter fs = image.FileSystem;
                fs.WriteFile("/etc/agent.conf", Text("ResourceDisk.Format=y\n")); // through the link to waagent.conf
                fs.WriteFile("/etc/motd", Text("offline\n"), new NewItemAttributes { Mode = 0x180, Uid = 1000, Gid = 1001 });
                fs.CreateDirectory("/opt/app");
                fs.CreateSymlink("/opt/app/current", "../big.bin");
                fs.Delete("/etc/hostname");
                fs.WriteFile("/boot/grub/grub.cfg", Text("linux /vmlinuz console=ttyS0\n"));
                fs.WriteFile("/opt/big.bin", new MemoryStream(new byte[2_000_000]));
                // Reads see the staged changes across mounts before anything is committed.
                Assert.Equal("linux /vmlinuz console=ttyS0\n", Read(fs, "/boot/grub/grub.cfg"));
                Assert.Null(fs.GetEntry("/etc/hostname"));
                Assert.Equal(7, image.Changes.Count);
                Assert.Equal(ItemChangeKind.ReplaceFile, image.Changes[0].Kind);
                Assert.Equal("/etc/waagent.conf", image.Changes[0].Path);
                Assert.Equal(2, image.VolumeChanges.Count);
                image.Commit();
            }
            AssertExtClean(disk, root);
            AssertExtClean(disk, boot);
            Assert.Equal("ResourceDisk.Format=y\n", DebugfsCat(disk, root, "/etc/waagent.conf"));
            Assert.Equal("offline\n", DebugfsCat(disk, root, "/etc/motd"));
            string stat = DebugfsStat(disk, root, "/etc/motd");
            Assert.Contains("Mode:  0600", stat);
            Assert.Matches(@"User:\s+1000\s+Group:\s+1001", stat);
            Assert.Contains("Fast link dest: \"../big.bin\"", DebugfsStat(disk, root, "/opt/app/current"));
            Assert.Contains("File not found", ExternalTool.Run("debugfs", new[] { "-R", "stat /etc/hostname", $"{disk}?offset={root}" }, check: false).StdErr);
            Assert.Equal("linux /vmlinuz console=ttyS0\n", DebugfsCat(disk, boot, "/grub/grub.cfg"));
            Assert.Matches(@"Size:\s+2000000\b", DebugfsStat(disk, root, "/opt/big.bin"));
            // Read back through a fresh read-only view, too.
            using LinuxImage again = LinuxImage.Open(disk);
            Assert.Equal("offline\n", Read(again.RequireFileSystem(), "/etc/motd"));
        }

        [Fact]
        public void Mount_points_the_esp_and_paths_outside_the_image_are_refused_with_typed_errors()
        {
            using var tmp = new TempDirectory();
            var (disk, _, _, _) = Ext4Gpt(tmp);
            string before = Hash(disk);
            using (var image = OpenImage(disk, null))
            {
                IFileSystemWriter fs = image.FileSystem;
                Assert.Equal("MountPointNotChangeable", Assert.Throws<AzureLinuxImageException>(() => fs.Delete("/boot", recursive: true)).ErrorId);
                var fat = Assert.Throws<AzureLinuxImageException>(() => fs.WriteFile("/boot/efi/x.txt", Text("x")));
                Assert.Equal("FileSystemNotWritable", fat.ErrorId);
                Assert.Contains("/x.txt", fat.Message);
                Assert.Equal("ParentNotFound", Assert.Throws<AzureLinuxImageException>(() => fs.WriteFile("/no/such/dir/file", Text("x"))).ErrorId);
                // '..' stops at the root: this is /etc/escape inside the image, never a host path.
                fs.WriteFile("/../../etc/escape", Text("inside\n"));
                Assert.Equal("inside\n", Read(fs, "/etc/escape"));
                // Disposed without commit: the image is byte-identical.
            }
            Assert.Equal(before, Hash(disk));
        }

        [Fact]
        public void A_planned_change_lists_the_changes_and_bytes_writes_nothing_unless_committed_and_commits_what_it_listed()
        {
            using var tmp = new TempDirectory();
            var (disk, root, _, _) = Ext4Gpt(tmp);
            string before = Hash(disk);
            void Stage(WritableLinuxImage image)
            {
                image.FileSystem.WriteFile("/etc/waagent.conf", Text("x=y\n"));
                image.FileSystem.CreateDirectory("/srv");
                Assert.Equal(new[] { ItemChangeKind.ReplaceFile, ItemChangeKind.CreateDirectory }, image.Changes.Select(c => c.Kind));
                VolumeChange v = Assert.Single(image.VolumeChanges);
                Assert.Contains("partition 1", v.Volume);
                Assert.True(v.Bytes >= 4096);
            }
            using (var image = PlanImage(disk, null))
            {
                Stage(image);
                // Not confirmed (-WhatIf): disposed without a commit.
            }
            Assert.Equal(before, Hash(disk));
            using (var image = PlanImage(disk, null))
            {
                Stage(image);
                image.Commit();
            }
            AssertExtClean(disk, root);
            Assert.Equal("x=y\n", DebugfsCat(disk, root, "/etc/waagent.conf"));
            Assert.Contains("Type: directory", DebugfsStat(disk, root, "/srv"));
        }

        [Fact]
        public void Destination_gets_the_change_the_source_stays_identical_and_no_temporary_is_left()
        {
            using var tmp = new TempDirectory();
            var (disk, root, _, _) = Ext4Gpt(tmp);
            string before = Hash(disk);
            string copy = tmp.File("out/changed.raw");
            Directory.CreateDirectory(tmp.File("out"));
            using (var image = OpenImage(disk, copy))
            {
                image.FileSystem.WriteFile("/etc/hostname", Text("copyhost\n"));
                Assert.False(File.Exists(copy)); // nothing at the destination before commit
                image.Commit();
            }
            Assert.Equal(before, Hash(disk));
            Assert.Equal("copyhost\n", DebugfsCat(copy, root, "/etc/hostname"));
            Assert.Equal("writehost\n", DebugfsCat(disk, root, "/etc/hostname"));
            AssertExtClean(copy, root);
            Assert.Equal(new[] { "changed.raw" }, Directory.GetFiles(tmp.File("out")).Select(Path.GetFileName));
            // Sparse: the copy holds about what the source holds, not its full size.
            Assert.Equal(new FileInfo(disk).Length, new FileInfo(copy).Length);

            var exists = Assert.Throws<AzureLinuxImageException>(() => OpenImage(disk, copy));
            Assert.Equal("DestinationExists", exists.ErrorId);
            Assert.Equal("DestinationIsSource", Assert.Throws<AzureLinuxImageException>(() => OpenImage(disk, disk)).ErrorId);

            // Abandoned (no commit): no destination and no temporary file.
            string other = tmp.File("out/abandoned.raw");
            using (var image = OpenImage(disk, other))
            {
                image.FileSystem.WriteFile("/etc/hostname", Text("never\n"));
            }
            Assert.False(File.Exists(other));
            Assert.Equal(new[] { "changed.raw" }, Directory.GetFiles(tmp.File("out")).Select(Path.GetFileName));
        }

        [Fact]
        public void Formats_other_than_fixed_vhd_and_raw_are_refused_naming_the_format()
        {
            using var tmp = new TempDirectory();
            var (disk, _, _, _) = Ext4Gpt(tmp);
            string qcow = tmp.File("disk.qcow2");
            ExternalTool.QemuImg("convert", "-O", "qcow2", disk, qcow);
            string before = Hash(qcow);
            var e = Assert.Throws<AzureLinuxImageException>(() => OpenImage(qcow, null));
            Assert.Equal("ImageFormatNotWritable", e.ErrorId);
            Assert.Contains("QCOW2", e.Message);
            Assert.Contains("ConvertTo-FixedVhd", e.Message);
            Assert.Equal("ImageFormatNotWritable", Assert.Throws<AzureLinuxImageException>(() => PlanImage(qcow, null)).ErrorId);
            Assert.Equal(before, Hash(qcow));
        }

        [Fact]
        public void A_fixed_vhd_is_changed_inside_its_data_and_its_footer_stays_valid()
        {
            using var tmp = new TempDirectory();
            var (disk, root, _, _) = Ext4Gpt(tmp);
            string vhd = tmp.File("disk.vhd");
            ExternalTool.QemuImg("convert", "-O", "vpc", "-o", "subformat=fixed,force_size=on", disk, vhd);
            byte[] footer = Tail(vhd, 512);
            using (var image = OpenImage(vhd, null))
            {
                image.FileSystem.WriteFile("/etc/waagent.conf", Text("ResourceDisk.EnableSwap=y\n"));
                image.Commit();
            }
            Assert.Equal(footer, Tail(vhd, 512));
            Assert.Contains($"\"virtual-size\": {new FileInfo(disk).Length}", ExternalTool.QemuImg("info", "-f", "vpc", "--output=json", vhd).StdOut);
            // And qemu reads the changed data where we wrote it.
            string back = tmp.File("back.raw");
            ExternalTool.QemuImg("convert", "-f", "vpc", "-O", "raw", vhd, back);
            Assert.Equal("ResourceDisk.EnableSwap=y\n", DebugfsCat(back, root, "/etc/waagent.conf"));
            AssertExtClean(vhd, root);
            Assert.Equal("ResourceDisk.EnableSwap=y\n", DebugfsCat(vhd, root, "/etc/waagent.conf"));
        }

        [Fact]
        public void Xfs_content_is_rewritten_in_place_and_growth_or_creation_is_refused_naming_the_file()
        {
            using var tmp = new TempDirectory();
            var (disk, root, length) = XfsMbr(tmp);
            string before = Hash(disk);
            using (var image = OpenImage(disk, null))
            {
                var grow = Assert.Throws<AzureLinuxImageException>(() => image.FileSystem.WriteFile("/etc/hostname", new MemoryStream(new byte[5000])));
                Assert.Equal("XfsFileGrowth", grow.ErrorId);
                Assert.Contains("/etc/hostname", grow.Message);
                var create = Assert.Throws<AzureLinuxImageException>(() => image.FileSystem.WriteFile("/etc/new.conf", Text("x")));
                Assert.Equal("XfsCreateNotSupported", create.ErrorId);
                Assert.Contains("/etc/new.conf", create.Message);
                Assert.Equal("XfsWriteNotSupported", Assert.Throws<AzureLinuxImageException>(() => image.FileSystem.Delete("/etc/hostname")).ErrorId);
                Assert.Equal("XfsWriteNotSupported", Assert.Throws<AzureLinuxImageException>(() => image.FileSystem.CreateDirectory("/srv")).ErrorId);
            }
            Assert.Equal(before, Hash(disk));

            string conf = WaagentConf.Replace("ResourceDisk.EnableSwap=n", "ResourceDisk.EnableSwap=y").Replace("SwapSizeMB=0", "SwapSizeMB=2048");
            using (var image = OpenImage(disk, null))
            {
                image.FileSystem.WriteFile("/etc/agent.conf", Text(conf)); // via the link
                image.FileSystem.WriteFile("/opt/big.bin", Text("shrunk\n")); // smaller: blocks past EOF stay the file's
                image.FileSystem.SetAttributes("/etc/hostname", mode: 0x180, uid: 42);
                Assert.Equal(conf, Read(image.FileSystem, "/etc/waagent.conf"));
                string details = string.Join(" ", image.VolumeChanges.SelectMany(v => v.Details));
                Assert.Contains("inodes", details);
                image.Commit();
            }
            string part = Extract(disk, root, length, tmp.File("xfs.part"));
            AssertXfsClean(part);
            Assert.Equal(conf, XfsDbCat(part, "/etc/waagent.conf", conf.Length));
            Assert.Equal("shrunk\n", XfsDbCat(part, "/opt/big.bin", 7));
            string core = ExternalTool.Run("xfs_db", new[] { "-r", "-f", "-c", "path /etc/hostname", "-c", "print core.mode core.uid core.size", part }).StdOut;
            Assert.Contains("core.mode = 0100600", core);
            Assert.Contains("core.uid = 42", core);
            using LinuxImage again = LinuxImage.Open(disk);
            Assert.Equal(conf, Read(again.RequireFileSystem(), "/etc/waagent.conf"));
        }

        [Fact]
        public void A_journal_needing_recovery_is_refused_with_the_reason_and_the_image_left_untouched()
        {
            using var tmp = new TempDirectory();
            var (disk, root, _, _) = Ext4Gpt(tmp);
            ExternalTool.Run("debugfs", new[] { "-w", "-R", "feature needs_recovery", $"{disk}?offset={root}" });
            string before = Hash(disk);
            using (var image = OpenImage(disk, null))
            {
                // Still readable through the view; changing it is refused naming why.
                Assert.Equal("writehost\n", Read(image.FileSystem, "/etc/hostname"));
                var e = Assert.Throws<AzureLinuxImageException>(() => image.FileSystem.WriteFile("/etc/hostname", Text("x\n")));
                Assert.Equal("FileSystemNotWritable", e.ErrorId);
                Assert.Contains("recover", e.Message, StringComparison.OrdinalIgnoreCase);
                // The /boot file system is not affected.
                image.FileSystem.WriteFile("/boot/grub/grub.cfg", Text("ok\n"));
            }
            Assert.Equal(before, Hash(disk));
        }

        private static byte[] Tail(string path, int n)
        {
            using var f = File.OpenRead(path);
            f.Position = f.Length - n;
            var b = new byte[n];
            f.ReadExactly(b);
            return b;
        }
    }
}
