using System.IO;
using System.Linq;
using System.Text.Json;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Surface
{
    /// <summary>
    /// Issue 19: Core's System.IO.Hashing 11.0 and another module's older copy (Az.Storage ships one) in one
    /// PowerShell 7 session, whichever loads first. The host (tests/AzureLinuxImage.IsolationHost) loads
    /// System.IO.Hashing 8.0 by path into the default context, as Import-Module would, and the module by path;
    /// Core then opens a VHDX, whose header CRC-32Cs it checks with its own copy from Dependencies/.
    /// </summary>
    public sealed class LibraryIsolationTests
    {
        [Theory]
        [InlineData("other-first")]
        [InlineData("module-first")]
        public void Core_uses_its_own_System_IO_Hashing_beside_another_modules_older_copy(string order)
        {
            string qemuImg = ExternalTool.Require("qemu-img", "qemu-utils");
            using var temp = new TempDirectory();
            string vhdx = temp.File("disk.vhdx");
            ExternalTool.Run(qemuImg, new[] { "create", "-f", "vhdx", vhdx, "64M" });

            ToolResult run = ExternalTool.Run("dotnet", new[] { Repository.IsolationHostDll, "hashing", Repository.ModuleBin, vhdx, order }, check: false);
            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            using JsonDocument report = JsonDocument.Parse(run.StdOut);
            JsonElement r = report.RootElement;

            Assert.Equal("Vhdx", r.GetProperty("format").GetString());
            Assert.Equal(64L * 1024 * 1024, r.GetProperty("virtualSize").GetInt64());
            Assert.Equal(0xCBF43926u, r.GetProperty("otherCrc").GetUInt32()); // the other module's copy still works
            var loaded = r.GetProperty("loaded").EnumerateArray()
                .Select(e => (Version: e.GetProperty("version").GetString(), Context: e.GetProperty("context").GetString(), Location: e.GetProperty("location").GetString()))
                .OrderBy(a => a.Version)
                .ToList();
            Assert.Equal(2, loaded.Count);
            Assert.Equal(("11.0.0.0", "AzureLinuxImage dependencies", Path.Combine(Repository.ModuleDependencies, "System.IO.Hashing.dll")), loaded[0]);
            Assert.Equal(("8.0.0.0", "Default"), (loaded[1].Version, loaded[1].Context));
        }
    }
}
