using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux.Waagent;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Waagent
{
    /// <summary>-RootPath: reads confined to the root, writes refused when a link leaves it, conflicts with cloud-init.</summary>
    public class WaagentRootTests
    {
        private static string MakeRoot(TempDirectory dir, string fixture = WaagentFixtures.Debian12)
        {
            string root = dir.File("root");
            Directory.CreateDirectory(Path.Combine(root, "etc"));
            File.WriteAllBytes(Path.Combine(root, "etc", "waagent.conf"), WaagentFixtures.Bytes(fixture));
            return root;
        }

        private static void Touch(string root, string relative, string content = "")
        {
            string p = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(p)!);
            File.WriteAllText(p, content);
        }

        private static WaagentConfigChangeResult SetRoot(string root, Action<SetWaagentConfigOptions> configure)
        {
            var options = new SetWaagentConfigOptions { RootPath = root };
            configure(options);
            var op = new SetWaagentConfig(options);
            return op.Apply(op.Plan());
        }

        [Fact]
        public void Set_under_a_root_edits_its_etc_waagent_conf()
        {
            using var dir = new TempDirectory();
            string root = MakeRoot(dir);
            WaagentConfigChangeResult r = SetRoot(root, o => o.AzureRecommended = true);
            Assert.True(r.Written);
            Assert.Equal(Path.GetFullPath(root), r.RootPath);
            Assert.StartsWith("--- a/etc/waagent.conf", r.Diff);
            WaagentConfigInfo info = GetWaagentConfig.FromRoot(root);
            Assert.True(info.MeetsAzureRecommendation);
            Assert.Equal(Path.GetFullPath(root), info.RootPath);
            Assert.Null(info.Path);
            Assert.Equal("/etc/waagent.conf", info.ConfigPath);
        }

        [Fact]
        public void A_symlink_pointing_outside_the_root_is_refused_for_Set()
        {
            using var dir = new TempDirectory();
            string root = MakeRoot(dir);
            string outside = dir.File("outside/waagent.conf");
            Directory.CreateDirectory(Path.GetDirectoryName(outside)!);
            File.WriteAllBytes(outside, WaagentFixtures.Bytes(WaagentFixtures.Debian12));
            byte[] before = File.ReadAllBytes(outside);
            string link = Path.Combine(root, "etc", "waagent.conf");

            foreach (string target in new[] { outside, "../../outside/waagent.conf" })
            {
                File.Delete(link);
                File.CreateSymbolicLink(link, target);
                var e = Assert.Throws<AzureLinuxImageException>(() => SetRoot(root, o => o.AzureRecommended = true));
                Assert.Equal("PathOutsideRoot", e.ErrorId);
                Assert.Contains("nothing was written", e.Message);
                Assert.Equal(before, File.ReadAllBytes(outside));
                Assert.Equal(target, new FileInfo(link).LinkTarget);
                Assert.Equal(new[] { outside }, Directory.GetFiles(Path.GetDirectoryName(outside)!));
            }
        }

        [Fact]
        public void A_symlink_escaping_through_a_linked_folder_is_refused()
        {
            using var dir = new TempDirectory();
            string root = dir.File("root");
            Directory.CreateDirectory(root);
            Directory.CreateDirectory(dir.File("elsewhere"));
            File.WriteAllBytes(dir.File("elsewhere/waagent.conf"), WaagentFixtures.Bytes(WaagentFixtures.Debian12));
            // /etc itself is a link out of the root.
            Directory.CreateSymbolicLink(Path.Combine(root, "etc"), dir.File("elsewhere"));
            var e = Assert.Throws<AzureLinuxImageException>(() => SetRoot(root, o => o.AzureRecommended = true));
            Assert.Equal("PathOutsideRoot", e.ErrorId);
            Assert.DoesNotContain("2048", File.ReadAllText(dir.File("elsewhere/waagent.conf")));
        }

        [Fact]
        public void A_relative_symlink_inside_the_root_is_followed_and_kept()
        {
            using var dir = new TempDirectory();
            string root = dir.File("root");
            Touch(root, "usr/share/waagent/waagent.conf");
            File.WriteAllBytes(Path.Combine(root, "usr/share/waagent/waagent.conf"), WaagentFixtures.Bytes(WaagentFixtures.Debian12));
            Directory.CreateDirectory(Path.Combine(root, "etc"));
            string link = Path.Combine(root, "etc", "waagent.conf");
            File.CreateSymbolicLink(link, "../usr/share/waagent/waagent.conf");

            SetRoot(root, o => o.AzureRecommended = true);

            Assert.Equal("../usr/share/waagent/waagent.conf", new FileInfo(link).LinkTarget);
            Assert.Contains("ResourceDisk.SwapSizeMB=2048", File.ReadAllText(Path.Combine(root, "usr/share/waagent/waagent.conf")));
        }

        [Fact]
        public void An_absolute_symlink_that_means_another_file_on_this_machine_is_refused()
        {
            using var dir = new TempDirectory();
            string root = dir.File("root");
            Touch(root, "usr/share/waagent/waagent.conf", "ResourceDisk.Format=y\n");
            Directory.CreateDirectory(Path.Combine(root, "etc"));
            // Inside the image this is <root>/usr/share/...; on this machine it would be the host's own path.
            File.CreateSymbolicLink(Path.Combine(root, "etc", "waagent.conf"), "/usr/share/waagent/waagent.conf");
            var e = Assert.Throws<AzureLinuxImageException>(() => SetRoot(root, o => o.AzureRecommended = true));
            Assert.Equal("PathOutsideRoot", e.ErrorId);
            Assert.Equal("ResourceDisk.Format=y\n", File.ReadAllText(Path.Combine(root, "usr/share/waagent/waagent.conf")));
            // Reading goes through the confined view and sees the root's file.
            Assert.True(GetWaagentConfig.FromRoot(root).ResourceDiskFormat);
        }

        [Fact]
        public void A_root_without_waagent_conf_is_reported_as_not_found()
        {
            using var dir = new TempDirectory();
            Directory.CreateDirectory(dir.File("root/etc"));
            var e = Assert.Throws<AzureLinuxImageException>(() => GetWaagentConfig.FromRoot(dir.File("root")));
            Assert.Equal("WaagentConfigNotFound", e.ErrorId);
            Assert.Equal(ErrorKind.NotFound, e.Kind);
            var s = Assert.Throws<AzureLinuxImageException>(() => SetRoot(dir.File("root"), o => o.AzureRecommended = true));
            Assert.Equal("WaagentConfigNotFound", s.ErrorId);
        }

        [Fact]
        public void Waagent_as_provisioning_agent_while_cloud_init_is_enabled_is_flagged()
        {
            using var dir = new TempDirectory();
            string root = MakeRoot(dir);
            Touch(root, "usr/bin/cloud-init", "#!/bin/sh\n");
            WaagentConfigChangeResult r = SetRoot(root, o => o.Settings.Add(new KeyValuePair<string, string?>("Provisioning.Agent", "waagent")));
            Assert.Contains(r.Config.Problems, p => p.Code == "ProvisioningAgentConflict" && p.LineNumber == WaagentFixtures.LineOf(WaagentFixtures.Bytes(WaagentFixtures.Debian12), "Provisioning.Agent="));

            // Disabled cloud-init no longer conflicts.
            Touch(root, "etc/cloud/cloud-init.disabled");
            Assert.DoesNotContain(GetWaagentConfig.FromRoot(root).Problems, p => p.Code == "ProvisioningAgentConflict");
        }

        [Fact]
        public void Cloud_init_installed_only_as_units_counts_as_installed()
        {
            using var dir = new TempDirectory();
            string root = MakeRoot(dir);
            Touch(root, "lib/systemd/system/cloud-init-local.service", "[Unit]\n");
            WaagentConfigInfo info = GetWaagentConfig.FromRoot(root);
            Assert.DoesNotContain(info.Problems, p => p.Code == "CloudInitNotInstalled");
        }

        [Fact]
        public void Cloud_init_chosen_but_not_installed_is_flagged()
        {
            using var dir = new TempDirectory();
            string root = MakeRoot(dir);
            WaagentConfigInfo info = GetWaagentConfig.FromRoot(root);
            WaagentConfigProblem p = info.Problems.Single(x => x.Code == "CloudInitNotInstalled");
            Assert.Equal(WaagentProblemSeverity.Error, p.Severity);
            Assert.Contains("times out", p.Message);
        }

        [Fact]
        public void The_real_Debian12_root_shows_cloud_init_chosen_but_absent()
        {
            // AZURE-LINUX.md: Debian 12 ships Provisioning.Agent=cloud-init without cloud-init.
            string root = WaagentFixtures.RequireDebianRoot();
            WaagentConfigInfo info = GetWaagentConfig.FromRoot(root);
            Assert.Equal("cloud-init", info.ProvisioningAgent);
            Assert.Contains(info.Problems, p => p.Code == "CloudInitNotInstalled");
            Assert.False(info.ResourceDiskEnableSwap);
        }

        [Fact]
        public void Swap_configured_by_waagent_and_cloud_init_is_flagged()
        {
            using var dir = new TempDirectory();
            string root = MakeRoot(dir);
            Touch(root, "usr/bin/cloud-init", "#!/bin/sh\n");
            // The shape of Azure's documented 00-azure-swap.cfg.
            Touch(root, "etc/cloud/cloud.cfg.d/00-azure-swap.cfg",
                "#cloud-config\ndisk_setup:\n  ephemeral0:\n    table_type: gpt\n    layout: [66, [33, 82]]\n    overwrite: true\n" +
                "fs_setup:\n  - device: ephemeral0.1\n    filesystem: ext4\n  - device: ephemeral0.2\n    filesystem: swap\n" +
                "mounts:\n  - [\"ephemeral0.1\", \"/mnt\"]\n  - [\"ephemeral0.2\", \"none\", \"swap\", \"sw,nofail\", \"0\", \"0\"]\n");
            WaagentConfigChangeResult r = SetRoot(root, o => o.AzureRecommended = true);
            WaagentConfigProblem p = r.Config.Problems.Single(x => x.Code == "SwapConfiguredTwice");
            Assert.Contains("00-azure-swap.cfg", p.Message);
            Assert.Equal(WaagentProblemSeverity.Warning, p.Severity);
        }

        [Fact]
        public void Cloud_config_without_swap_does_not_conflict()
        {
            Assert.False(CloudInitPresence.ConfiguresSwap("cloud_config_modules:\n - mounts\n - locale\nmount_default_fields: [~, ~, 'auto']\n"));
            Assert.True(CloudInitPresence.ConfiguresSwap("swap:\n  filename: /swap.img\n  size: auto\n"));
            Assert.False(CloudInitPresence.ConfiguresSwap("# swap:\n#mounts: [[ephemeral0, /mnt]]\n"));
        }

        [Fact]
        public void An_image_view_is_read_through_IFileSystem()
        {
            using var dir = new TempDirectory();
            string root = MakeRoot(dir, WaagentFixtures.Upstream);
            using IFileSystem fs = new HostDirectoryFileSystem(root);
            WaagentConfigInfo info = GetWaagentConfig.FromFileSystem(fs, "disk.vhd");
            Assert.Equal("disk.vhd", info.ImagePath);
            Assert.Null(info.Path);
            Assert.Null(info.RootPath);
            Assert.Equal("auto", info.ProvisioningAgent);
        }
    }
}
