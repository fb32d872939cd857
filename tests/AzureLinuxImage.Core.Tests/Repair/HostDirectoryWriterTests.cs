using System;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.IO;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Repair
{
    /// <summary>The staged writer over a root folder (-RootPath): reads see the changes, nothing is written before Commit.</summary>
    public sealed class HostDirectoryWriterTests : IDisposable
    {
        private readonly TempDirectory temp = new TempDirectory();

        private string Root => temp.Path;

        public HostDirectoryWriterTests()
        {
            Directory.CreateDirectory(temp.File("etc/sub"));
            File.WriteAllText(temp.File("etc/conf"), "old\n");
            UnixFileApi.TryApply(temp.File("etc/conf"), new UnixOwnership(Convert.ToUInt32("640", 8), 0, 4), out _);
            File.WriteAllText(temp.File("etc/sub/a"), "a");
            File.CreateSymbolicLink(temp.File("etc/abs-link"), "/etc/conf");
        }

        private static string ReadAll(IFileSystem fs, string path)
        {
            using var r = new StreamReader(fs.OpenRead(path));
            return r.ReadToEnd();
        }

        private static MemoryStream Text(string s) => new MemoryStream(Encoding.UTF8.GetBytes(s));

        [Fact]
        public void Staged_changes_are_visible_to_reads_and_reach_the_folder_only_on_commit()
        {
            using (var w = new HostDirectoryWriter(Root))
            {
                w.WriteFile("/etc/abs-link", Text("new\n"));          // through an absolute link: stays inside the root
                w.CreateDirectory("/etc/new");
                w.WriteFile("/etc/new/file", Text("x"), new NewItemAttributes { Mode = Convert.ToUInt32("600", 8), Uid = 1, Gid = 2 });
                w.CreateSymlink("/etc/new/link", "/etc/new/file");
                w.Delete("/etc/sub", recursive: true);
                Assert.Equal("new\n", ReadAll(w, "/etc/conf"));
                Assert.Equal("x", ReadAll(w, "/etc/new/link"));
                Assert.Null(w.GetEntry("/etc/sub/a"));
                Assert.Equal(new[] { "abs-link", "conf", "new" }, w.List("/etc").Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray());
                // Nothing on disk yet.
                Assert.Equal("old\n", File.ReadAllText(temp.File("etc/conf")));
                Assert.False(Directory.Exists(temp.File("etc/new")));
                Assert.True(File.Exists(temp.File("etc/sub/a")));
                w.Commit();
            }
            Assert.Equal("new\n", File.ReadAllText(temp.File("etc/conf")));
            Assert.Equal("/etc/conf", UnixFileApi.ReadLink(temp.File("etc/abs-link")));
            UnixOwnership conf = UnixFileApi.GetOwnership(temp.File("etc/conf"))!.Value;
            Assert.Equal((Convert.ToUInt32("640", 8), 0u, 4u), (conf.Mode, conf.Uid, conf.Gid));
            UnixOwnership created = UnixFileApi.GetOwnership(temp.File("etc/new/file"))!.Value;
            Assert.Equal((Convert.ToUInt32("600", 8), 1u, 2u), (created.Mode, created.Uid, created.Gid));
            Assert.Equal("/etc/new/file", UnixFileApi.ReadLink(temp.File("etc/new/link")));
            Assert.False(Directory.Exists(temp.File("etc/sub")));
            Assert.Empty(Directory.GetFiles(temp.File("etc"), "*" + AtomicFileWriter.TemporaryMarker + "*"));
        }

        [Fact]
        public void Disposing_without_commit_leaves_the_folder_as_it_was()
        {
            using (var w = new HostDirectoryWriter(Root))
            {
                w.WriteFile("/etc/conf", Text("changed"));
                w.Delete("/etc/sub", recursive: true);
                w.CreateDirectory("/var");
            }
            Assert.Equal("old\n", File.ReadAllText(temp.File("etc/conf")));
            Assert.True(File.Exists(temp.File("etc/sub/a")));
            Assert.False(Directory.Exists(temp.File("var")));
        }

        [Fact]
        public void Deleting_a_directory_then_creating_it_again_hides_the_old_content()
        {
            using var w = new HostDirectoryWriter(Root);
            w.Delete("/etc/sub", recursive: true);
            w.CreateDirectory("/etc/sub");
            Assert.Empty(w.List("/etc/sub"));
            w.Commit();
            Assert.Empty(Directory.GetFileSystemEntries(temp.File("etc/sub")));
        }

        [Fact]
        public void Errors_name_the_path()
        {
            using var w = new HostDirectoryWriter(Root);
            Assert.Equal("DirectoryNotEmpty", Assert.Throws<AzureLinuxImageException>(() => w.Delete("/etc/sub")).ErrorId);
            Assert.Equal("ParentNotFound", Assert.Throws<AzureLinuxImageException>(() => w.WriteFile("/nope/file", Text("x"))).ErrorId);
            Assert.Equal("ItemExists", Assert.Throws<AzureLinuxImageException>(() => w.CreateDirectory("/etc")).ErrorId);
            Assert.Equal("NotAFile", Assert.Throws<AzureLinuxImageException>(() => w.WriteFile("/etc/sub", Text("x"))).ErrorId);
            Assert.Equal("ItemNotFound", Assert.Throws<AzureLinuxImageException>(() => w.Delete("/etc/missing")).ErrorId);
            Assert.Equal("CannotDeleteRoot", Assert.Throws<AzureLinuxImageException>(() => w.Delete("/../", recursive: true)).ErrorId);
        }

        public void Dispose() => temp.Dispose();
    }
}
