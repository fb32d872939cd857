using System.IO;
using System.Linq;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Partitions;
using Xunit;

namespace AzureLinuxImage.Tests.Linux
{
    /// <summary>A real Debian 12 disk (GPT, BIOS boot + ESP + ext4 root) read through the assembled Linux view.</summary>
    public class DebianImageTests : IClassFixture<DebianImageFixture>
    {
        private readonly DebianImageFixture fixture;

        public DebianImageTests(DebianImageFixture fixture)
        {
            this.fixture = fixture;
        }

        [Fact]
        public void Etc_is_listed_os_release_is_read_through_its_link_and_usrmerge_links_resolve()
        {
            string path = fixture.Require();
            using LinuxImage image = LinuxImage.Open(path);
            Assert.Equal(PartitionStyle.Gpt, image.Table.Scheme);
            Assert.Equal(new[] { PartitionKind.BiosBoot, PartitionKind.EfiSystem, PartitionKind.LinuxFileSystem }, image.Table.Partitions.Select(p => p.Kind).ToArray());
            Assert.Equal("rootfs", image.Table.Partitions[2].Name);
            IFileSystem fs = image.RequireFileSystem();

            var etc = fs.List("/etc").ToList();
            Assert.Contains(etc, e => e.Name == "fstab" && e.Type == FileEntryType.File);
            Assert.Contains(etc, e => e.Name == "passwd" && e.Type == FileEntryType.File);
            Assert.True(etc.Count > 50);

            FileEntry link = fs.GetEntry("/etc/os-release", followLastLink: false)!;
            Assert.Equal(FileEntryType.Symlink, link.Type);
            string osRelease = new StreamReader(fs.OpenRead("/etc/os-release")).ReadToEnd();
            Assert.Contains("VERSION_ID=\"12\"", osRelease);
            Assert.Contains("ID=debian", osRelease);

            // usrmerge: /bin -> usr/bin, /lib -> usr/lib.
            Assert.Equal(FileEntryType.Symlink, fs.GetEntry("/bin", followLastLink: false)!.Type);
            Assert.Equal("/usr/bin", fs.GetEntry("/bin")!.Path);
            Assert.Equal("/usr/bin/bash", fs.GetEntry("/bin/bash")!.Path);
            Assert.Equal("/usr/lib", fs.GetEntry("/lib")!.Path);
            Assert.NotEmpty(fs.List("/lib/modules"));
            Assert.Contains(fs.List("/boot"), e => e.Name.StartsWith("vmlinuz-"));

            // The fstab line for / names the root by UUID; it is the volume found.
            MountInfo root = Assert.Single(image.Mounts, m => m.MountPoint == "/");
            Assert.Contains("partition 3", root.Location);
            string fstab = new StreamReader(fs.OpenRead("/etc/fstab")).ReadToEnd();
            Assert.Contains(root.Source, fstab);
        }

        [Fact]
        public void Test_LinuxImageReadiness_inspects_the_image_through_the_view_with_its_disk_facts()
        {
            string path = fixture.Require();
            using (LinuxImage image = LinuxImage.Open(path))
            {
                DiskLayoutFacts facts = LinuxImageInspection.Facts(image);
                Assert.Equal("gpt", facts.PartitionTable);
                Assert.False(facts.RootOnLvm);
                Assert.Equal(3, facts.Partitions.Count);
                Assert.Equal(DiskLayoutFacts.BiosBootType, facts.Partitions[0].GptType);
                Assert.Equal("ext4", facts.Partitions[2].FileSystemType);
                Assert.Equal("rootfs", facts.Partitions[2].FileSystemLabel);
            }
            var findings = AzureLinuxImage.Operations.TestLinuxImageReadiness.Run(
                new AzureLinuxImage.Operations.LinuxImageReadinessOptions { ImagePath = path }, new AzureLinuxImage.Operations.SilentContext());
            Assert.True(findings.Count > 20);
            Assert.Contains(findings, f => f.Status == AzureLinuxImage.Readiness.ReadinessStatus.Pass);
        }

        [Fact]
        public void Get_WaagentConfig_reads_the_agent_configuration_inside_the_image()
        {
            string path = fixture.Require();
            AzureLinuxImage.Linux.Waagent.WaagentConfigInfo info = AzureLinuxImage.Operations.GetWaagentConfig.FromImage(path);
            Assert.Equal(System.IO.Path.GetFullPath(path), info.ImagePath);
            Assert.Equal("/etc/waagent.conf", info.ConfigPath);
            Assert.NotNull(info.ProvisioningAgent);
        }
    }
}
