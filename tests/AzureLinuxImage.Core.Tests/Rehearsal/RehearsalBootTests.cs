using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Rehearsal
{
    /// <summary>The azure-ready and stock Debian 12 images of build-debian-image.sh --bootable, built once for the class.</summary>
    public sealed class BootableImagesFixture : IDisposable
    {
        private readonly TempDirectory temp = new TempDirectory();

        public string Image(string name, params string[] options)
        {
            string path = temp.File(name + ".raw");
            if (!File.Exists(path))
            {
                string script = Repository.File("tests/fixtures/build-debian-image.sh");
                ToolResult r = ExternalTool.Run("bash", new[] { script, path }.Concat(options).ToArray(), check: false, timeoutSeconds: 1200);
                if (r.ExitCode != 0)
                {
                    throw new InvalidOperationException("build-debian-image.sh failed: " + r.StdErr + r.StdOut);
                }
            }
            return path;
        }

        public void Dispose() => temp.Dispose();
    }

    /// <summary>
    /// Issue 22's proof: the real Debian 12 images booted under QEMU TCG with the emulated fabric. The
    /// azure-ready one (waagent) reports Ready echoing the incarnation, sets the hostname and creates the
    /// user with the key, read back from the overlay; so do the cloud-init one and the agent-less one (hostname
    /// only); the stock one never reports Ready and the reason
    /// (no DHCP request: nothing brings its NIC up) is in the result. Neither image is written.
    /// </summary>
    public sealed class RehearsalBootTests : IClassFixture<BootableImagesFixture>
    {
        private const string Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZ3rehearsalkeyforthetestsonlyAAAAAAAAAAAAA rehearsal@test";
        private readonly BootableImagesFixture images;

        public RehearsalBootTests(BootableImagesFixture images)
        {
            this.images = images;
        }

        private static void RequireTools()
        {
            if (Environment.UserName != "root" || ExternalTool.Find("debootstrap") == null)
            {
                ExternalTool.Unavailable("build-debian-image.sh needs root and debootstrap.");
            }
            ExternalTool.RequireDebianRootfs();
            ExternalTool.Require("qemu-system-x86_64", "qemu-system-x86");
            ExternalTool.Require("qemu-img", "qemu-utils");
        }

        private static byte[] Hash(string path)
        {
            using var s = File.OpenRead(path);
            using var sha = SHA256.Create();
            return sha.ComputeHash(s);
        }

        [Fact]
        public void AzureReadyImageReportsReadyWithHostnameAndUser()
        {
            RequireTools();
            string image = images.Image("ready", "--azure-ready", "--bootable");
            byte[] before = Hash(image);
            var context = new SilentContext();
            using var logs = new TempDirectory();
            string serialLog = logs.File("serial.log");
            byte[] customData = System.Text.Encoding.UTF8.GetBytes("#cloud-config\n# rehearsed custom data <&>\n");
            ProvisioningRehearsal r = TestAzureProvisioning.Run(new RehearsalOptions
            {
                ImagePath = image,
                NoKvm = true,
                Timeout = TimeSpan.FromMinutes(15), // TCG on a loaded 2-core runner: measured 165 s here under load 48
                HostName = "rehearsed-host",
                UserName = "alice",
                SshPublicKey = Key,
                Incarnation = 2,
                SerialLog = serialLog,
                CustomData = customData,
            }, context);

            Assert.True(r.Ready, r.Failure + "\n" + string.Join("\n", r.LastConsoleLines));
            Assert.Equal("TCG", r.Accelerator);
            Assert.Equal(2, r.IncarnationEchoed);
            Assert.StartsWith("WALinuxAgent/", r.Agent);
            Assert.Equal("rehearsed-host", r.HostName);
            Assert.True(r.UserCreated);
            Assert.True(r.SshKeyInstalled);
            Assert.Contains(r.Requests, q => q.Service == "WireServer" && q.Target == "/machine/?comp=goalstate");
            Assert.Contains(r.Requests, q => q.Service == "HostGAPlugin" && q.Status == 404);
            Assert.DoesNotContain(r.ConsoleProblems, p => p.Contains("Kernel panic"));
            // waagent (Provisioning.DecodeCustomData=n, its default) saves ovf-env.xml's CustomData as the base64 text
            Assert.True(r.CustomDataWritten);
            Assert.Equal("/var/lib/waagent/CustomData", r.CustomDataFile);
            // the serial console went to the file asked for, all of it: the kernel's banner, the login prompt and the last lines seen
            Assert.Equal(serialLog, r.ConsoleLog);
            string log = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(serialLog), @"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f]", string.Empty); // as the rehearsal cleans its lines
            Assert.Contains("Linux version", log);
            Assert.Contains(" login: ", log);
            Assert.Contains(r.LastConsoleLines.Last(l => l.Trim().Length > 0), log);
            Assert.Equal(before, Hash(image));
        }

        /// <summary>
        /// An image without any agent (waagent purged, curl added), made agent-less by `azlinux agentless`, reports Ready
        /// through azure-provisioning.service and its reporter script, and takes the host name from IMDS; all through the CLI.
        /// </summary>
        [Fact]
        public void AgentlessImageReportsReadyThroughItsUnit()
        {
            RequireTools();
            string image = images.Image("agentless", "--azure-ready", "--bootable", "--agent", "none");
            ToolResult install = AzLinux.Run("agentless", image);
            Assert.True(install.ExitCode == 0, install.StdErr + install.StdOut);
            byte[] before = Hash(image);
            using var work = new TempDirectory();

            ToolResult run = ExternalTool.Run("dotnet", new[] { Repository.CliDll, "rehearse", image, "--no-kvm", "--timeout", "900", "--hostname", "agentless-host", "--incarnation", "4",
                "--keep", work.Path, "--json" }, check: false, timeoutSeconds: 1500);

            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            using JsonDocument doc = JsonDocument.Parse(run.StdOut);
            JsonElement r = doc.RootElement;
            Assert.True(r.GetProperty("ready").GetBoolean());
            Assert.Equal(4, r.GetProperty("incarnationEchoed").GetInt32());
            string agent = r.GetProperty("agent").GetString()!;
            Assert.StartsWith("curl/", agent); // the reporter script's client, and the unit it names itself after
            Assert.EndsWith("/ azure-provisioning.service", agent);
            Assert.Equal("agentless-host", r.GetProperty("hostName").GetString());
            Assert.False(r.GetProperty("userCreated").GetBoolean()); // agent-less provisioning creates no user (R-NOAGENT-4)
            Assert.Contains(r.GetProperty("requests").EnumerateArray(), q => q.GetProperty("service").GetString() == "IMDS" && q.GetProperty("status").GetInt32() == 200);
            // the reporter's log reaches the serial console (boot diagnostics), and the unit disabled itself (first boot only)
            Assert.Contains("azure-report-ready: ready reported (HTTP 200)", File.ReadAllText(work.File("serial.log")));
            ToolResult wants = AzLinux.Run("ls", work.File("overlay.qcow2"), "/etc/systemd/system/multi-user.target.wants");
            Assert.True(wants.ExitCode == 0, wants.StdErr);
            Assert.Contains("ssh.service", wants.StdOut);
            Assert.DoesNotContain("azure-provisioning.service", wants.StdOut);
            Assert.Equal(before, Hash(image));
        }

        /// <summary>
        /// Debian 12's cloud-init alone (waagent purged): its Azure datasource is chosen by the chassis asset tag, reads
        /// ovf-env.xml from the ISO 9660 provisioning CD, reports Ready itself, then sets the host name and creates the user
        /// with the key from ovf-env.xml (read back once the boot reached the login prompt).
        /// </summary>
        [Fact]
        public void CloudInitImageReportsReadyWithHostnameAndUser()
        {
            RequireTools();
            string image = images.Image("cloudinit", "--azure-ready", "--bootable", "--agent", "cloud-init");
            byte[] before = Hash(image);
            ProvisioningRehearsal r = TestAzureProvisioning.Run(new RehearsalOptions
            {
                ImagePath = image,
                NoKvm = true,
                Timeout = TimeSpan.FromMinutes(15),
                HostName = "cloudinit-host",
                UserName = "carol",
                SshPublicKey = Key,
                Incarnation = 3,
            }, new SilentContext());

            Assert.True(r.Ready, r.Failure + "\n" + string.Join("\n", r.LastConsoleLines));
            Assert.Equal(3, r.IncarnationEchoed);
            Assert.StartsWith("Cloud-Init/", r.Agent);
            Assert.Equal("cloudinit-host", r.HostName);
            Assert.True(r.UserCreated);
            Assert.True(r.SshKeyInstalled);
            Assert.Contains(r.Requests, q => q.Service == "IMDS" && q.Status == 200);
            Assert.DoesNotContain(r.ConsoleProblems, p => p.Contains("Kernel panic"));
            Assert.Equal(before, Hash(image));
        }

        [Fact]
        public void StockImageIsNeverReadyAndSaysWhy()
        {
            RequireTools();
            string image = images.Image("stock", "--bootable");
            byte[] before = Hash(image);
            ProvisioningRehearsal r = TestAzureProvisioning.Run(new RehearsalOptions
            {
                ImagePath = image,
                NoKvm = true,
                Timeout = TimeSpan.FromMinutes(3), // bounded for CI: it never becomes ready
            }, new SilentContext());

            Assert.False(r.Ready);
            Assert.Null(r.ReadyAfter);
            Assert.Contains("never asked for a DHCP lease", r.Failure);
            Assert.DoesNotContain(r.Requests, q => q.Method == "POST");
            Assert.Equal("debian", r.HostName);
            Assert.False(r.UserCreated);
            Assert.Equal(before, Hash(image));
        }
    }
}
