using System.IO;
using System.Linq;
using System.Text.Json;
using System.Xml.Linq;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>azlinux test as a child process: exit codes 0 / 1 / 2, text, --json and --junit.</summary>
    public sealed class TestVerbTests : IClassFixture<DebianRoots>
    {
        private readonly DebianRoots roots;

        public TestVerbTests(DebianRoots roots)
        {
            this.roots = roots;
        }

        [Fact]
        public void StockRootExitsOneAndWritesJUnit()
        {
            using var temp = new TempDirectory();
            string junit = temp.File("readiness.xml");
            ToolResult r = AzLinux.Run("test", "--root", roots.Stock.Path, "--junit", junit);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("FAIL    SerialConsole", r.StdOut);
            Assert.Contains("To fix", r.StdOut);
            XDocument doc = XDocument.Load(junit);
            XElement failed = doc.Descendants("testcase").Single(t => t.Attribute("name")!.Value.StartsWith("SerialConsole:"));
            Assert.NotNull(failed.Element("failure"));
            // SerialConsole, WaagentResourceDiskSwap, ProvisioningAgentConflict, and DhcpPrimaryNic (nothing brings the NIC up, issue 27).
            Assert.Equal(4, doc.Descendants("failure").Count());
        }

        [Fact]
        public void AzureReadyRootExitsZeroAndJsonParses()
        {
            ToolResult r = AzLinux.Run("test", "--root", roots.AzureReady.Path, "--json", "--agent", "waagent");
            Assert.True(r.ExitCode == 0, r.StdErr + r.StdOut);
            using JsonDocument json = JsonDocument.Parse(r.StdOut);
            Assert.Equal(0, json.RootElement.GetProperty("summary").GetProperty("fail").GetInt32());
            Assert.Contains(json.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("ruleId").GetString() == "SerialConsole" && f.GetProperty("status").GetString() == "Pass");
        }

        [Fact]
        public void RuleSelectionLimitsTheCheck()
        {
            ToolResult r = AzLinux.Run("test", "--root", roots.Stock.Path, "--rule", "Sudoers*", "--json");
            Assert.Equal(0, r.ExitCode);
            using JsonDocument json = JsonDocument.Parse(r.StdOut);
            Assert.Equal(2, json.RootElement.GetProperty("findings").GetArrayLength());
        }

        [Fact]
        public void WhatCannotBeInspectedExitsTwo()
        {
            using var temp = new TempDirectory();
            ToolResult notRoot = AzLinux.Run("test", "--root", temp.Path);
            Assert.Equal(2, notRoot.ExitCode);
            Assert.Contains("NotALinuxRoot", notRoot.StdErr);
            ToolResult missing = AzLinux.Run("test", "--root", temp.File("nowhere"));
            Assert.Equal(2, missing.ExitCode);
            File.WriteAllBytes(temp.File("disk.raw"), new byte[1 << 20]);
            Assert.Equal(2, AzLinux.Run("test", temp.File("disk.raw")).ExitCode);
            ToolResult unknownRule = AzLinux.Run("test", "--root", roots.Stock.Path, "--rule", "NoSuchRule");
            Assert.Equal(2, unknownRule.ExitCode);
            Assert.Contains("UnknownRule", unknownRule.StdErr);
        }
    }
}
