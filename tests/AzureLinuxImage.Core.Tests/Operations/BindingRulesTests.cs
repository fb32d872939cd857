using System.IO;
using System.Runtime.InteropServices;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Provisioning;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Operations
{
    /// <summary>
    /// Rules the cmdlets and the CLI used to write each on its own (issue 15), now in Core once: generation and
    /// agent names, the empty rule selection, the health report's details, when the hostname is applied, and
    /// the warning for a "raw" source that is no disk image.
    /// </summary>
    public sealed class BindingRulesTests
    {
        [Theory]
        [InlineData("1", 1)]
        [InlineData("2", 2)]
        [InlineData("auto", null)]
        [InlineData("Auto", null)]
        [InlineData(null, null)]
        public void GenerationNames(string? text, int? expected) => Assert.Equal(expected, VmGeneration.Parse(text));

        [Fact]
        public void AnUnknownGenerationIsAnArgumentError()
        {
            var e = Assert.Throws<AzureLinuxImageException>(() => VmGeneration.Parse("3"));
            Assert.Equal("InvalidGeneration", e.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        }

        /// <summary>
        /// The readiness test, the rehearsal, feature derivation and publish refuse a generation other than 1 or 2
        /// with the same id, kind and words (they were worded four ways).
        /// </summary>
        [Fact]
        public void EveryCommandRefusesAGenerationWithTheSameMessage()
        {
            using var temp = new TempDirectory();
            string image = temp.File("disk.raw");
            File.WriteAllBytes(image, new byte[1 << 20]);
            var refusals = new (string Where, System.Action Call)[]
            {
                ("parse", () => VmGeneration.Parse("3")),
                ("readiness", () => TestLinuxImageReadiness.Run(new LinuxImageReadinessOptions { RootPath = temp.Path, Generation = 3 }, new SilentContext())),
                ("rehearsal", () => TestAzureProvisioning.Run(new RehearsalOptions { ImagePath = image, Generation = 3, WorkDirectory = temp.File("work") }, new SilentContext())),
                ("features", () =>
                {
                    using var root = new global::AzureLinuxImage.Linux.InspectedImage(new global::AzureLinuxImage.FileSystems.HostDirectoryFileSystem(temp.Path), null);
                    ImageFeatureRules.Derive(root, 3);
                }),
                ("publish", () => PublishLinuxImage.Run(image, new PublishOptions { ResourceGroupName = "rg", Location = "westeurope", DiskName = "d", Generation = 3 }, new SilentContext())),
            };
            foreach (var (where, call) in refusals)
            {
                var e = Assert.Throws<AzureLinuxImageException>(call);
                Assert.True(e.ErrorId == "InvalidGeneration" && e.Kind == ErrorKind.InvalidArgument, $"{where}: {e.ErrorId} {e.Kind}");
                Assert.True(e.Message == "Generation '3' does not exist: an Azure VM is generation 1 (BIOS) or 2 (UEFI); leave it out, or give auto, to read it from the image.", $"{where}: {e.Message}");
            }
            Assert.False(Directory.Exists(temp.File("work")));
        }

        [Theory]
        [InlineData("auto", ProvisioningAgentChoice.Auto)]
        [InlineData("waagent", ProvisioningAgentChoice.Waagent)]
        [InlineData("cloud-init", ProvisioningAgentChoice.CloudInit)]
        [InlineData("CloudInit", ProvisioningAgentChoice.CloudInit)]
        [InlineData("None", ProvisioningAgentChoice.None)]
        public void AgentNames(string text, ProvisioningAgentChoice expected) => Assert.Equal(expected, TestLinuxImageReadiness.ParseProvisioningAgent(text));

        [Fact]
        public void AnUnknownAgentIsAnArgumentError() =>
            Assert.Equal("InvalidProvisioningAgent", Assert.Throws<AzureLinuxImageException>(() => TestLinuxImageReadiness.ParseProvisioningAgent("systemd")).ErrorId);

        [Fact]
        public void ASelectionThatLeavesNoRuleIsRefused()
        {
            using var temp = new TempDirectory();
            var e = Assert.Throws<AzureLinuxImageException>(() => TestLinuxImageReadiness.Run(
                new LinuxImageReadinessOptions { RootPath = temp.Path, ExcludeRules = { "*" } }, new SilentContext()));
            Assert.Equal("NoRuleSelected", e.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        }

        [Fact]
        public void ReportDetailsGoWithNotReadyOnly()
        {
            Assert.Equal("InvalidHealthReport", Assert.Throws<AzureLinuxImageException>(() =>
                SendWireServerReady.ValidateReport(new WireServerReadyOptions { Description = "x" })).ErrorId);
            Assert.Equal("InvalidHealthReport", Assert.Throws<AzureLinuxImageException>(() =>
                SendWireServerReady.ValidateReport(new WireServerReadyOptions { SubStatus = ProvisioningSubStatus.Provisioning })).ErrorId);
            var notReady = SendWireServerReady.ValidateReport(new WireServerReadyOptions { State = HealthState.NotReady, Description = "disk full" });
            Assert.Equal(ProvisioningSubStatus.ProvisioningFailed, notReady.SubStatus);
            Assert.Equal("disk full", notReady.Description);
            Assert.Null(SendWireServerReady.ValidateReport(new WireServerReadyOptions()).SubStatus);
        }

        [Fact]
        public void TheHostnameIsAppliedOnlyAtTheRealRootOnLinux()
        {
            Assert.False(new WireServerReadyOptions { SetHostname = true, Root = "/tmp/image-root" }.ApplyHostname);
            Assert.False(new WireServerReadyOptions { SetHostname = false, Root = "/" }.ApplyHostname);
            Assert.Equal(RuntimeInformation.IsOSPlatform(OSPlatform.Linux), new WireServerReadyOptions { SetHostname = true, Root = "/" }.ApplyHostname);
        }

        [Fact]
        public void ARawSourceThatIsNoDiskImageWarns()
        {
            using var temp = new TempDirectory();
            string text = temp.File("notes.vhd");
            File.WriteAllText(text, "just some notes, not a disk");
            using (DiskImage image = DiskImage.Open(text))
            {
                Assert.Contains("does not look like a disk image", ConvertToFixedVhd.NotADiskWarning(image));
            }
            // A blank raw disk (a whole number of sectors) is legitimate: no warning.
            string blank = temp.File("blank.raw");
            using (var f = File.Create(blank))
            {
                f.SetLength(1024 * 1024);
            }
            using (DiskImage image = DiskImage.Open(blank))
            {
                Assert.Null(ConvertToFixedVhd.NotADiskWarning(image));
            }
            // So is a file system without a partition table whose size is odd (mkfs on a file).
            string ext = temp.File("odd.raw");
            var bytes = new byte[64 * 1024 + 100];
            bytes[1024 + 0x38] = 0x53;
            bytes[1024 + 0x39] = 0xEF;
            File.WriteAllBytes(ext, bytes);
            using (DiskImage image = DiskImage.Open(ext))
            {
                Assert.Null(ConvertToFixedVhd.NotADiskWarning(image));
            }
        }
    }
}
