using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Xunit;

namespace AzureLinuxImage.PowerShellTests
{
    /// <summary>
    /// build.ps1 run by the real pwsh, so it cannot rot: its lay-out and zip steps on the module this build
    /// made (-NoBuild -SkipTests; its build and test steps are the README's two dotnet commands, which
    /// are running now), then the zip imported as Azure Automation would, from a fresh folder.
    /// </summary>
    public sealed class BuildScriptTests
    {
        [Fact]
        public void Lays_out_and_zips_a_module_that_imports_from_the_zip()
        {
            string dir = Directory.CreateTempSubdirectory("azli-build-").FullName;
            try
            {
                string configuration = PowerShellHost.Configuration;
                string outDir = Path.Combine(dir, "out");
                var build = PowerShellHost.Run(dir, new[] { "-File", Path.Combine(PowerShellHost.RepoRoot, "build.ps1"), "-Configuration", configuration, "-NoBuild", "-SkipTests", "-OutputPath", outDir }, TimeSpan.FromMinutes(5));
                Assert.True(build.ExitCode == 0, build.ToString());
                string zip = Path.Combine(outDir, "AzureLinuxImage.zip");
                Assert.True(File.Exists(zip), build.ToString());

                using (var archive = ZipFile.OpenRead(zip))
                {
                    var names = archive.Entries.Select(e => e.FullName.Replace('\\', '/')).ToHashSet(StringComparer.Ordinal);
                    Assert.All(names, n => Assert.StartsWith("AzureLinuxImage/", n, StringComparison.Ordinal));
                    foreach (string expected in new[] { "AzureLinuxImage/AzureLinuxImage.psd1", "AzureLinuxImage/AzureLinuxImage.dll", "AzureLinuxImage/AzureLinuxImage.Core.dll", "AzureLinuxImage/AzureLinuxImage.format.ps1xml", "AzureLinuxImage/en-US/AzureLinuxImage.dll-Help.xml", "AzureLinuxImage/Dependencies/Azure.Core.dll" })
                    {
                        Assert.Contains(expected, names);
                    }
                }

                // Expand where nothing else is, import by folder name from PSModulePath, run a cmdlet.
                string script = $@"
$ErrorActionPreference = 'Stop'
Expand-Archive -LiteralPath '{zip}' -DestinationPath ./modules
$env:PSModulePath = (Resolve-Path ./modules).Path + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module AzureLinuxImage
$m = Get-Module AzureLinuxImage
if ($m.ModuleBase -notlike '*modules*') {{ throw ""imported from $($m.ModuleBase)"" }}
$declared = (Import-PowerShellDataFile (Join-Path $m.ModuleBase 'AzureLinuxImage.psd1')).CmdletsToExport
$missing = $declared | Where-Object {{ -not (Get-Command $_ -Module AzureLinuxImage -ErrorAction SilentlyContinue) }}
if ($missing) {{ throw ""not exported: $missing"" }}
[IO.File]::WriteAllBytes((Join-Path $PWD 'd.raw'), [byte[]]::new(1MB))
(Get-DiskImageInfo -LiteralPath ./d.raw).Format
'cmdlets=' + $declared.Count
";
                var import = PowerShellHost.Run(dir, new[] { "-Command", script }, TimeSpan.FromMinutes(5));
                Assert.True(import.ExitCode == 0, import.ToString());
                Assert.Contains("Raw", import.StdOut, StringComparison.Ordinal);
                Assert.Matches(@"cmdlets=\d{2}", import.StdOut);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        [Fact]
        public void Runs_the_solution_tests_with_the_laid_out_module_and_no_separate_pester_step()
        {
            // The script's test step is `dotnet test` of the solution with AZURELINUXIMAGE_MODULE on the
            // out/ layout: the Pester suites run through this harness, not through a Pester found on the machine.
            string text = File.ReadAllText(Path.Combine(PowerShellHost.RepoRoot, "build.ps1"));
            var parse = PowerShellHost.Command($"$t = $null; $e = $null; [void][System.Management.Automation.Language.Parser]::ParseFile('{Path.Combine(PowerShellHost.RepoRoot, "build.ps1")}', [ref]$t, [ref]$e); 'errors=' + $e.Count");
            Assert.True(parse.ExitCode == 0, parse.ToString());
            Assert.Contains("errors=0", parse.StdOut, StringComparison.Ordinal);
            Assert.Contains("'test', (Join-Path $root 'AzureLinuxImage.sln')", text, StringComparison.Ordinal);
            Assert.Contains("$env:AZURELINUXIMAGE_MODULE = Join-Path $module 'AzureLinuxImage.psd1'", text, StringComparison.Ordinal);
            Assert.DoesNotContain("Get-Module -ListAvailable Pester", text, StringComparison.Ordinal);
        }
    }
}
