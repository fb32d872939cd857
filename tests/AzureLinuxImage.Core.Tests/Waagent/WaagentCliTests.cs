using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Waagent
{
    /// <summary>azlinux waagent get/set, run as a real child process.</summary>
    public class WaagentCliTests
    {
        [Fact]
        public void Get_json_reports_settings_with_lines_and_defaults()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            ToolResult r = AzLinux.Run("waagent", "get", path, "--json");
            Assert.True(r.ExitCode == 0, r.StdErr);
            using JsonDocument json = JsonDocument.Parse(r.StdOut);
            JsonElement root = json.RootElement;
            Assert.Equal("cloud-init", root.GetProperty("provisioningAgent").GetString());
            Assert.False(root.GetProperty("meetsAzureRecommendation").GetBoolean());
            JsonElement[] settings = root.GetProperty("settings").EnumerateArray().ToArray();
            JsonElement agent = settings.Single(s => s.GetProperty("key").GetString() == "Provisioning.Agent");
            Assert.Equal(WaagentFixtures.LineOf(File.ReadAllBytes(path), "Provisioning.Agent="), agent.GetProperty("lineNumber").GetInt32());
            JsonElement alive = settings.Single(s => s.GetProperty("key").GetString() == "OS.SshClientAliveInterval");
            Assert.False(alive.GetProperty("isSet").GetBoolean());
            Assert.Equal("180", alive.GetProperty("effectiveValue").GetString());
        }

        [Fact]
        public void Get_root_text_shows_the_cloud_init_conflict()
        {
            using var dir = new TempDirectory();
            WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12, "root/etc/waagent.conf");
            ToolResult r = AzLinux.Run("waagent", "get", "--root", dir.File("root"));
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Contains("CloudInitNotInstalled", r.StdOut);
            Assert.Contains("Provisioning agent       cloud-init", r.StdOut);
        }

        [Fact]
        public void Get_on_a_disk_image_goes_to_the_image_view_not_the_text_parser()
        {
            using var dir = new TempDirectory();
            string image = dir.File("disk.img");
            File.WriteAllBytes(image, new byte[64 * 1024]);
            ToolResult r = AzLinux.Run("waagent", "get", image);
            Assert.NotEqual(0, r.ExitCode);
            // The image is read through the Linux image view: a disk of zeros has no Linux root.
            Assert.Contains("LinuxRootNotFound", r.StdErr);
        }

        [Fact]
        public void Set_dry_run_prints_the_diff_and_writes_nothing()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            byte[] before = File.ReadAllBytes(path);
            ToolResult r = AzLinux.Run("waagent", "set", path, "ResourceDisk.EnableSwap=y", "--dry-run");
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Contains("-ResourceDisk.EnableSwap=n\n+ResourceDisk.EnableSwap=y\n", r.StdOut);
            Assert.StartsWith("--- a/waagent.conf", r.StdOut);
            Assert.Contains("nothing written", r.StdErr);
            Assert.Equal(before, File.ReadAllBytes(path));
        }

        [Fact]
        public void Set_azure_recommended_changes_exactly_the_swap_lines()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12);
            byte[] before = File.ReadAllBytes(path);
            ToolResult r = AzLinux.Run("waagent", "set", path, "--azure-recommended", "--swap-size-mb", "4096", "Provisioning.Agent=auto");
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Contains("6 line(s) changed", r.StdOut);
            WaagentConfigDocumentTests.AssertOnlyLinesChanged(before, File.ReadAllBytes(path), new Dictionary<int, string>
            {
                [WaagentFixtures.LineOf(before, "ResourceDisk.EnableSwap=")] = "ResourceDisk.EnableSwap=y\n",
                [WaagentFixtures.LineOf(before, "ResourceDisk.SwapSizeMB=")] = "ResourceDisk.SwapSizeMB=4096\n",
                [WaagentFixtures.LineOf(before, "Provisioning.Agent=")] = "Provisioning.Agent=auto\n",
            });
        }

        [Fact]
        public void Set_refuses_invalid_values_and_writes_nothing()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.HandWritten);
            byte[] before = File.ReadAllBytes(path);
            ToolResult r = AzLinux.Run("waagent", "set", path, "ResourceDisk.EnableSwap=y", "ResourceDisk.Filesystem=ntfs");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("InvalidWaagentSetting", r.StdErr);
            Assert.Contains("ext3, ext4, xfs", r.StdErr);
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Single(Directory.GetFiles(dir.Path));
        }

        [Fact]
        public void Set_root_refuses_a_link_out_of_the_root()
        {
            using var dir = new TempDirectory();
            string outside = WaagentFixtures.CopyTo(dir, WaagentFixtures.Debian12, "outside/waagent.conf");
            byte[] before = File.ReadAllBytes(outside);
            Directory.CreateDirectory(dir.File("root/etc"));
            File.CreateSymbolicLink(dir.File("root/etc/waagent.conf"), outside);
            ToolResult r = AzLinux.Run("waagent", "set", "--root", dir.File("root"), "--azure-recommended");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("PathOutsideRoot", r.StdErr);
            Assert.Equal(before, File.ReadAllBytes(outside));
        }

        [Fact]
        public void Set_on_a_disk_image_without_a_linux_root_fails_and_leaves_it_unchanged()
        {
            using var dir = new TempDirectory();
            string image = dir.File("disk.img");
            File.WriteAllBytes(image, new byte[64 * 1024]);
            ToolResult r = AzLinux.Run("waagent", "set", image, "--azure-recommended", "--json");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("LinuxRootNotFound", r.StdErr);
            Assert.Equal(new byte[64 * 1024], File.ReadAllBytes(image));
        }

        [Fact]
        public void Set_json_and_unset()
        {
            using var dir = new TempDirectory();
            string path = WaagentFixtures.CopyTo(dir, WaagentFixtures.HandWritten);
            ToolResult r = AzLinux.Run("waagent", "set", path, "--unset", "Provisioning.Enabled", "--json");
            Assert.True(r.ExitCode == 0, r.StdErr);
            using JsonDocument json = JsonDocument.Parse(r.StdOut);
            Assert.True(json.RootElement.GetProperty("written").GetBoolean());
            Assert.Equal(1, json.RootElement.GetProperty("changedLineCount").GetInt32());
            Assert.DoesNotContain("Provisioning.Enabled", File.ReadAllText(path));
            Assert.Contains("warning:", r.StdErr);
        }
    }
}
