using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.FileSystems;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Partitions;
using Xunit;

namespace AzureLinuxImage.Tests.Operations
{
    /// <summary>Get-LinuxImageItem / Get-LinuxImageContent / Get-DiskImageInfo and azlinux ls/cat/info over a GPT disk made from a folder.</summary>
    public class LinuxImageOperationsTests
    {
        private static (TempDirectory Tmp, string Disk, string Root) MakeDisk()
        {
            var tmp = new TempDirectory();
            string root = tmp.File("root");
            foreach (string d in new[] { "etc/default", "usr/bin", "usr/lib", "boot" })
            {
                Directory.CreateDirectory(Path.Combine(root, d));
            }
            File.WriteAllText(Path.Combine(root, "usr/lib/os-release"), "NAME=\"Test\"\r\nID=test\nVERSION_ID=\"9\"\n");
            File.CreateSymbolicLink(Path.Combine(root, "etc/os-release"), "../usr/lib/os-release");
            File.CreateSymbolicLink(Path.Combine(root, "bin"), "usr/bin");
            File.WriteAllText(Path.Combine(root, "etc/fstab"), "LABEL=opsroot / ext4 defaults 0 1\n");
            File.WriteAllText(Path.Combine(root, "etc/default/grub"), "GRUB_CMDLINE_LINUX=\"console=ttyS0\"\n");
            var bin = new byte[300_000];
            new Random(3).NextBytes(bin);
            File.WriteAllBytes(Path.Combine(root, "usr/bin/tool"), bin);
            string disk = tmp.File("disk.raw");
            PartitionTableTests.Truncate(disk, 64L << 20);
            ExternalTool.Run(ExternalTool.Require("sgdisk", "gdisk"), new[] { "-Z", "-o", "-n", "1:2048:+1M", "-t", "1:EF02", "-n", "2:0:0", "-t", "2:8300", "-c", "2:rootfs", disk });
            ExternalTool.Run(ExternalTool.Require("mkfs.ext4", "e2fsprogs"), new[] { "-q", "-F", "-d", root, "-L", "opsroot", "-U", "0b5e0b5e-1111-2222-3333-444444444444", "-E", "root_owner=0:0", tmp.File("root.img"), "40M" });
            PartitionTableTests.Dd(tmp.File("root.img"), disk, PartitionTableTests.SfdiskJson(disk)[1].Start * 512);
            return (tmp, disk, root);
        }

        [Fact]
        public void Items_and_content_come_from_inside_the_image_and_match_the_same_root_as_a_folder()
        {
            var (tmp, disk, root) = MakeDisk();
            using (tmp)
            {
                var ctx = new SilentContext();
                var etc = GetLinuxImageItem.Run(disk, null, "/etc", false, ctx).ToList();
                Assert.Equal(new[] { "default", "fstab", "os-release" }, etc.Select(i => i.Name).OrderBy(n => n, StringComparer.Ordinal));
                LinuxImageItem link = etc.Single(i => i.Name == "os-release");
                Assert.Equal(FileEntryType.Symlink, link.Type);
                Assert.Equal("../usr/lib/os-release", link.LinkTarget);
                Assert.Equal("lrwxrwxrwx", link.ModeString);
                Assert.Equal(disk, link.Path);
                Assert.Equal("/etc/os-release", link.ItemPath);

                // Not a directory: the entry itself.
                LinuxImageItem tool = Assert.Single(GetLinuxImageItem.Run(disk, null, "/bin/tool", false, ctx));
                Assert.Equal("/usr/bin/tool", tool.ItemPath);
                Assert.Equal(300_000, tool.Size);

                // Recursive listing: every entry find(1) sees in the folder.
                int expected = ExternalTool.Run(ExternalTool.Require("find", "findutils"), new[] { root, "-mindepth", "1" }).StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
                var all = GetLinuxImageItem.Run(disk, null, "/", true, ctx).ToList();
                Assert.Equal(expected + 1, all.Count); // + lost+found made by mkfs

                // The same operations over the folder (-RootPath) agree, lost+found aside.
                LinuxImageItem fromFolder = GetLinuxImageItem.Run(null, root, "/etc/fstab", false, ctx).Single();
                Assert.Null(fromFolder.Path);
                Assert.Equal(Path.GetFullPath(root), fromFolder.RootPath);
                Assert.Null(link.RootPath);
                var hostAll = GetLinuxImageItem.Run(null, root, "/", true, ctx).Select(i => (i.ItemPath, i.Type)).OrderBy(x => x.ItemPath, StringComparer.Ordinal).ToList();
                Assert.Equal(hostAll, all.Where(i => i.Name != "lost+found").Select(i => (i.ItemPath, i.Type)).OrderBy(x => x.ItemPath, StringComparer.Ordinal).ToList());

                Assert.Equal(new[] { "NAME=\"Test\"", "ID=test", "VERSION_ID=\"9\"" }, GetLinuxImageContent.ReadLines(disk, null, "/etc/os-release", ctx));
                Assert.Equal(File.ReadAllBytes(Path.Combine(root, "usr/bin/tool")), GetLinuxImageContent.ReadAllBytes(disk, null, "/bin/tool", ctx));
                Assert.Equal(File.ReadAllBytes(Path.Combine(root, "usr/bin/tool")), GetLinuxImageContent.ReadAllBytes(null, root, "/bin/tool", ctx));
                var missing = Assert.Throws<AzureLinuxImage.Errors.AzureLinuxImageException>(() => GetLinuxImageItem.Run(disk, null, "/nope", false, ctx).ToList());
                Assert.Equal("ItemNotFound", missing.ErrorId);

                DiskImageInfo info = GetDiskImageInfo.Run(disk, ctx);
                Assert.Equal(2, info.Partitions.Count);
                Assert.Equal("rootfs", info.Partitions[1].Name);
                var volume = info.Volumes.Single(v => v.FileSystem.Kind == FileSystemKind.Ext4);
                Assert.Equal("0b5e0b5e-1111-2222-3333-444444444444", volume.FileSystem.Uuid);
                MountInfoAssert(info, volume.Location);
            }
        }

        private static void MountInfoAssert(DiskImageInfo info, string rootLocation)
        {
            var root = Assert.Single(info.Mounts);
            Assert.Equal("/", root.MountPoint);
            Assert.Equal(rootLocation, root.Location);
            Assert.True(root.Mounted);
            Assert.Equal("LABEL=opsroot", root.Source);
            Assert.Null(root.Problem);
        }

        [Fact]
        public void Azlinux_ls_cat_and_info_json()
        {
            var (tmp, disk, root) = MakeDisk();
            using (tmp)
            {
                ToolResult ls = AzLinux.Run("ls", disk, "/etc", "--json");
                Assert.True(ls.ExitCode == 0, ls.StdErr);
                using (JsonDocument doc = JsonDocument.Parse(ls.StdOut))
                {
                    var names = doc.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()).OrderBy(n => n, StringComparer.Ordinal).ToList();
                    Assert.Equal(new[] { "default", "fstab", "os-release" }, names);
                    JsonElement link = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == "os-release");
                    Assert.Equal("Symlink", link.GetProperty("type").GetString());
                    Assert.Equal("../usr/lib/os-release", link.GetProperty("linkTarget").GetString());
                }
                ToolResult text = AzLinux.Run("ls", disk, "/etc");
                Assert.Contains("os-release -> ../usr/lib/os-release", text.StdOut);

                ToolResult cat = AzLinux.Run("cat", disk, "/etc/default/grub");
                Assert.Equal(0, cat.ExitCode);
                Assert.Equal(File.ReadAllText(Path.Combine(root, "etc/default/grub")), cat.StdOut);
                ToolResult missing = AzLinux.Run("cat", disk, "/etc/nothing");
                Assert.NotEqual(0, missing.ExitCode);
                Assert.Contains("ItemNotFound", missing.StdErr);

                ToolResult info = AzLinux.Run("info", disk, "--json");
                Assert.True(info.ExitCode == 0, info.StdErr);
                using JsonDocument d = JsonDocument.Parse(info.StdOut);
                JsonElement parts = d.RootElement.GetProperty("partitions");
                Assert.Equal(2, parts.GetArrayLength());
                Assert.Equal("rootfs", parts[1].GetProperty("name").GetString());
                Assert.Contains(d.RootElement.GetProperty("volumes").EnumerateArray(), v =>
                    v.GetProperty("fileSystem").GetProperty("kind").GetString() == "Ext4" &&
                    v.GetProperty("fileSystem").GetProperty("label").GetString() == "opsroot");
                Assert.Equal("/", d.RootElement.GetProperty("mounts")[0].GetProperty("mountPoint").GetString());
            }
        }
    }
}
