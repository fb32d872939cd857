using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.FileSystems
{
    /// <summary>Confinement rules of FileSystemBase, exercised through real symlinks in a real folder.</summary>
    public class HostDirectoryFileSystemTests
    {
        [Fact]
        public void Absolute_links_resolve_inside_the_root_and_dotdot_stops_at_it()
        {
            using var dir = new TempDirectory();
            Directory.CreateDirectory(dir.File("usr/lib"));
            Directory.CreateDirectory(dir.File("etc"));
            File.WriteAllText(dir.File("usr/lib/os-release"), "ID=debian\n");
            File.CreateSymbolicLink(dir.File("etc/os-release"), "/usr/lib/os-release");
            File.CreateSymbolicLink(dir.File("etc/escape"), "../../../../../../etc/hostname");
            File.WriteAllText(dir.File("etc/hostname"), "inside\n");
            using var fs = new HostDirectoryFileSystem(dir.Path);

            using (var r = new StreamReader(fs.OpenRead("/etc/os-release")))
            {
                Assert.Equal("ID=debian\n", r.ReadToEnd());
            }
            // ../../.. from /etc climbs to the root, never above it: the link lands on the root's /etc/hostname.
            using (var r = new StreamReader(fs.OpenRead("/etc/escape")))
            {
                Assert.Equal("inside\n", r.ReadToEnd());
            }
            FileEntry link = fs.GetEntry("/etc/os-release", followLastLink: false)!;
            Assert.Equal(FileEntryType.Symlink, link.Type);
            Assert.Equal("/usr/lib/os-release", link.LinkTarget);
            Assert.Equal("/usr/lib/os-release", fs.GetEntry("/etc/os-release")!.Path);
            Assert.Null(fs.GetEntry("/etc/missing"));
            Assert.Contains(fs.List("/etc"), e => e.Name == "os-release");
        }

        [Fact]
        public void Link_loops_end_with_a_typed_error()
        {
            using var dir = new TempDirectory();
            File.CreateSymbolicLink(dir.File("a"), "b");
            File.CreateSymbolicLink(dir.File("b"), "/a");
            using var fs = new HostDirectoryFileSystem(dir.Path);
            var e = Assert.Throws<InvalidImageException>(() => fs.GetEntry("/a"));
            Assert.Contains("loop", e.Message);
        }
    }
}
