using System.IO;
using System.Linq;
using System.Xml.Linq;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Repair
{
    /// <summary>The README's main job on the committed samples/sample.vhd, through the built CLI:
    /// convert, fix, agentless, generalize, then test exits 0; the sample itself is not Azure-ready.</summary>
    public sealed class SamplePipelineTests
    {
        [Fact]
        public void Readme_pipeline_on_the_committed_sample_ends_with_a_passing_test()
        {
            string sample = Repository.File("samples/sample.vhd");
            byte[] original = File.ReadAllBytes(sample);
            using var tmp = new TempDirectory();
            string image = tmp.File("sample-azure.vhd");

            // The sample as committed fails: the verbs below must be what makes it pass.
            ToolResult before = AzLinux.Run("test", sample);
            Assert.Equal(1, before.ExitCode);
            foreach (string rule in new[] { "FixedVhd", "SerialConsole", "DhcpPrimaryNic", "SudoersTargetPw", "NoSwapOnOsDisk", "ProvisioningAgent", "AgentlessReportsReady" })
            {
                Assert.Matches($"FAIL +{rule} ", before.StdOut);
            }
            foreach (string rule in new[] { "QuietBoot", "EarlyPrintk", "MachineIdBlank", "SshHostKeysRegenerated", "NoPasswordHashes" })
            {
                Assert.Matches($"WARN +{rule} ", before.StdOut);
            }

            foreach (string[] step in new[]
            {
                new[] { "convert", sample, image, "--force" },
                new[] { "fix", image },
                new[] { "agentless", image },
                new[] { "generalize", image, "--lock-passwords" },
            })
            {
                ToolResult r = AzLinux.Run(step);
                Assert.True(r.ExitCode == 0, $"azlinux {step[0]}: {r.StdErr}\n{r.StdOut}");
            }
            ToolResult test = AzLinux.Run("test", image, "--junit", tmp.File("results.xml"));
            Assert.True(test.ExitCode == 0, test.StdOut);
            Assert.Matches(@"0 failed, 0 warnings, \d+ passed", test.StdOut);
            XDocument junit = XDocument.Load(tmp.File("results.xml"));
            Assert.Empty(junit.Descendants("failure"));
            Assert.True(junit.Descendants("testcase").Count() > 30);
            Assert.Equal(original, File.ReadAllBytes(sample));
        }
    }
}
