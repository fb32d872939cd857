using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace AzureLinuxImage.PowerShellTests
{
    /// <summary>The harness itself: a failing, skipped or broken Pester test must come back as such, never as passed.</summary>
    public sealed class HarnessTests
    {
        private const string Suite = @"
Describe 'Outer' {
    It 'passes' { 1 | Should -Be 1 }
    It 'fails' { 1 | Should -Be 2 }
    It 'is skipped' -Skip { }
    It 'runs <n>' -ForEach @(@{ n = 1 }, @{ n = 2 }) { $n | Should -Be 1 }
    Context 'Broken setup' {
        BeforeAll { throw 'setup broke' }
        It 'never runs' { }
    }
}
";

        [Fact]
        public void Reports_each_outcome_with_its_message_and_keys_matching_discovery()
        {
            string dir = Directory.CreateTempSubdirectory("azli-harness-").FullName;
            try
            {
                string suite = Path.Combine(dir, "Sample.Tests.ps1");
                File.WriteAllText(suite, Suite);
                var discovered = PesterRuns.Discover(new[] { suite }).Single();
                string resultPath = Path.Combine(dir, "run.json");
                var run = PowerShellHost.Run(dir, new[] { "-File", Path.Combine(AppContext.BaseDirectory, "Invoke-PesterSuite.ps1"), "-Path", suite, "-PesterModule", PowerShellHost.PesterModule, "-ResultPath", resultPath }, TimeSpan.FromMinutes(5));
                Assert.True(run.ExitCode == 0, run.ToString());
                var container = JsonSerializer.Deserialize<PesterContainer[]>(File.ReadAllText(resultPath), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!.Single();

                Assert.Equal(discovered.Tests.Select(t => t.Key), container.Tests.Select(t => t.Key));
                string Result(string key) => container.Tests.Single(t => t.Key == key).Result;
                Assert.Equal("Passed", Result("Outer > passes"));
                Assert.Equal("Failed", Result("Outer > fails"));
                Assert.Contains("Expected 2, but got 1", container.Tests.Single(t => t.Key == "Outer > fails").Message, StringComparison.Ordinal);
                Assert.Equal("Skipped", Result("Outer > is skipped"));
                Assert.Equal("Passed", Result("Outer > runs <n>"));
                Assert.Equal("Failed", Result("Outer > runs <n> #2"));
                Assert.Equal("Outer > runs 2", container.Tests.Single(t => t.Key == "Outer > runs <n> #2").Name);
                Assert.Equal("Failed", Result("Outer > Broken setup > never runs"));
                Assert.Contains("setup broke", container.Tests.Single(t => t.Key == "Outer > Broken setup > never runs").Message, StringComparison.Ordinal);
                Assert.Contains("setup broke", container.Message, StringComparison.Ordinal);
                Assert.Contains("[-] fails", run.StdOut, StringComparison.Ordinal);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        [Fact]
        public void A_suite_that_does_not_parse_is_a_container_error()
        {
            string dir = Directory.CreateTempSubdirectory("azli-harness-").FullName;
            try
            {
                string suite = Path.Combine(dir, "Broken.Tests.ps1");
                File.WriteAllText(suite, "Describe 'x' { It 'y' { ");
                string resultPath = Path.Combine(dir, "run.json");
                var run = PowerShellHost.Run(dir, new[] { "-File", Path.Combine(AppContext.BaseDirectory, "Invoke-PesterSuite.ps1"), "-Path", suite, "-PesterModule", PowerShellHost.PesterModule, "-ResultPath", resultPath }, TimeSpan.FromMinutes(5));
                Assert.True(run.ExitCode == 0, run.ToString());
                var container = JsonSerializer.Deserialize<PesterContainer[]>(File.ReadAllText(resultPath), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!.Single();
                Assert.Equal("Failed", container.Result);
                Assert.False(string.IsNullOrEmpty(container.Message));
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
