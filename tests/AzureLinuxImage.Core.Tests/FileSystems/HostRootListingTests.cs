using System.IO;
using System.Linq;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems
{
    /// <summary>
    /// ls on a host root folder (issue 16): real modes, owners and directory sizes (lstat, checked against
    /// stat(1)), and a dangling link listed as itself.
    /// </summary>
    public class HostRootListingTests
    {
        private static string Stat(string format, string path) => ExternalTool.Run("stat", new[] { "-c", format, path }).StdOut.Trim();

        [Fact]
        public void Entries_show_the_hosts_modes_owners_and_directory_sizes()
        {
            if (!System.OperatingSystem.IsLinux())
            {
                Assert.Skip("Unix modes are a Linux host's.");
            }
            using var dir = new TempDirectory();
            Directory.CreateDirectory(dir.File("etc/ssh"));
            File.WriteAllText(dir.File("etc/shadow"), "root:*:1:0:99999:7:::\n");
            ExternalTool.Run("chmod", new[] { "0640", dir.File("etc/shadow") });
            ExternalTool.Run("chown", new[] { "0:42", dir.File("etc/shadow") }, check: false);
            ExternalTool.Run("chmod", new[] { "1777", dir.File("etc/ssh") });
            File.CreateSymbolicLink(dir.File("etc/link"), "shadow");
            using var fs = new HostDirectoryFileSystem(dir.Path);

            FileEntry[] entries = fs.List("/etc").ToArray();

            FileEntry shadow = entries.Single(e => e.Name == "shadow");
            Assert.Equal("640", System.Convert.ToString(shadow.Mode, 8));
            Assert.Equal(Stat("%u", dir.File("etc/shadow")), shadow.Uid.ToString());
            Assert.Equal(Stat("%g", dir.File("etc/shadow")), shadow.Gid.ToString());
            FileEntry ssh = entries.Single(e => e.Name == "ssh");
            Assert.Equal("1777", System.Convert.ToString(ssh.Mode, 8));
            Assert.Equal(long.Parse(Stat("%s", dir.File("etc/ssh"))), ssh.Size);
            Assert.True(ssh.Size > 0);
            FileEntry link = entries.Single(e => e.Name == "link");
            Assert.Equal(FileEntryType.Symlink, link.Type);
            Assert.Equal("777", System.Convert.ToString(link.Mode, 8));
            Assert.Equal(6, link.Size);
            Assert.NotNull(link.Modified);
            Assert.Equal(long.Parse(Stat("%Y", dir.File("etc/link"))), link.Modified!.Value.ToUnixTimeSeconds());

            LinuxImageItem item = GetLinuxImageItem.Run(null, dir.Path, "/etc/shadow", false, new SilentContext()).Single();
            Assert.Equal("-rw-r-----", item.ModeString);
        }

        [Fact]
        public void A_dangling_link_is_listed_as_itself()
        {
            using var dir = new TempDirectory();
            Directory.CreateDirectory(dir.File("etc"));
            File.CreateSymbolicLink(dir.File("etc/dangling"), "/nonexistent/target");

            LinuxImageItem item = GetLinuxImageItem.Run(null, dir.Path, "/etc/dangling", false, new SilentContext()).Single();

            Assert.Equal("/etc/dangling", item.ItemPath);
            Assert.Equal(FileEntryType.Symlink, item.Type);
            Assert.Equal("/nonexistent/target", item.LinkTarget);
        }
    }
}
