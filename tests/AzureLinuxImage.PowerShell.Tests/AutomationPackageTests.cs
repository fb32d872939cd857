using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Xunit;

namespace AzureLinuxImage.PowerShellTests
{
    /// <summary>
    /// The Azure Automation import check of issue 23, on the zip build.ps1 makes: the module folder at its root,
    /// named as the zip and the manifest (Automation's rule), under Automation's documented module size limit
    /// (100 MB, "Maximum size of a module", Azure subscription and service limits: Automation), importing in a
    /// pwsh -NonInteractive whose streams are redirected (no console, no width), and its writing cmdlets never
    /// prompting there or in a runspace with no host UI at all, as with Automation's own host — while the same
    /// runspace does fail when a prompt is forced, so the check can fail.
    /// </summary>
    public sealed class AutomationPackageTests
    {
        /// <summary>Automation's limit: 100 MB, taken as 100,000,000 bytes to stay under either reading.</summary>
        public const long AutomationModuleLimit = 100_000_000;

        [Fact]
        public void The_zip_has_the_module_folder_at_its_root_stays_under_the_limit_and_runs_without_a_console_or_prompts()
        {
            string dir = Directory.CreateTempSubdirectory("azli-automation-").FullName;
            try
            {
                string outDir = Path.Combine(dir, "out");
                var build = PowerShellHost.Run(dir, new[] { "-File", Path.Combine(PowerShellHost.RepoRoot, "build.ps1"), "-Configuration", PowerShellHost.Configuration, "-NoBuild", "-SkipTests", "-OutputPath", outDir }, TimeSpan.FromMinutes(5));
                Assert.True(build.ExitCode == 0, build.ToString());
                // The one zip build.ps1 made, found rather than named, so that its name is checked below.
                string zip = Assert.Single(Directory.GetFiles(outDir, "*.zip"));
                long size = new FileInfo(zip).Length;
                TestContext.Current.TestOutputHelper?.WriteLine($"AzureLinuxImage.zip: {size} bytes ({size / 1048576.0:F1} MiB); Automation's limit {AutomationModuleLimit} bytes");
                Assert.True(size < AutomationModuleLimit, $"{zip} is {size} bytes, over Azure Automation's 100 MB module limit");

                using (ZipArchive archive = ZipFile.OpenRead(zip))
                {
                    var names = archive.Entries.Select(e => e.FullName.Replace('\\', '/')).ToList();
                    Assert.All(names, n => Assert.StartsWith("AzureLinuxImage/", n, StringComparison.Ordinal));
                    // Zip, folder and manifest share the module's name.
                    Assert.Equal("AzureLinuxImage", Path.GetFileNameWithoutExtension(zip));
                    Assert.Contains("AzureLinuxImage/AzureLinuxImage.psd1", names);
                    long expanded = archive.Entries.Sum(e => e.Length);
                    TestContext.Current.TestOutputHelper?.WriteLine($"expanded: {expanded} bytes in {names.Count} files");
                }

                string sample = Path.Combine(PowerShellHost.RepoRoot, "samples", "sample.vhd");
                string script = $@"
$ErrorActionPreference = 'Stop'
Expand-Archive -LiteralPath '{zip}' -DestinationPath ./modules
$env:PSModulePath = (Resolve-Path ./modules).Path + [IO.Path]::PathSeparator + $env:PSModulePath
$here = $PWD.Path
'redirected=' + [Console]::IsOutputRedirected + ',' + [Console]::IsInputRedirected
'width=' + $(try {{ [Console]::WindowWidth }} catch {{ 'none' }})
'confirm=' + $ConfirmPreference
Import-Module AzureLinuxImage
Copy-Item -LiteralPath '{sample}' -Destination ""$here/sample.vhd""

# 1. This pwsh -NonInteractive: every writing cmdlet of the main job, at the default $ConfirmPreference.
$vhd = ConvertTo-FixedVhd -LiteralPath ""$here/sample.vhd"" -Destination ""$here/a.vhd""
$vhd | Repair-LinuxImage | Out-Null
$vhd | Install-AgentlessProvisioning | Out-Null
$vhd | Clear-LinuxImageState -LockPassword | Out-Null
Resize-VhdAligned -LiteralPath ""$here/a.vhd"" -SizeBytes 48MB
$findings = Test-LinuxImageReadiness -LiteralPath ""$here/a.vhd""
$findings | Export-ReadinessReport -Format JUnit -Path ""$here/r.xml"" | Out-Null
'fails=' + @($findings | Where-Object Status -eq 'Fail').Count
Get-DiskImageInfo -LiteralPath ""$here/a.vhd"" | Out-String | Out-Null

# 2. A runspace with no host UI at all (the default host): a prompt there is an error, not a wait.
function Invoke-NoUi([string] $Text) {{
    $ps = [powershell]::Create()
    try {{
        $null = $ps.AddScript($Text)
        $out = @(try {{ $ps.Invoke() }} catch {{ 'threw=' + $_.Exception.InnerException.GetType().Name }})
        ($out -join ',') + ';errors=' + $ps.Streams.Error.Count + ';' + (($ps.Streams.Error | ForEach-Object {{ $_.FullyQualifiedErrorId }}) -join ',')
    }} finally {{ $ps.Dispose() }}
}}
'noui=' + (Invoke-NoUi ""Import-Module AzureLinuxImage; `$v = ConvertTo-FixedVhd -LiteralPath '$here/sample.vhd' -Destination '$here/b.vhd'; `$v | Repair-LinuxImage | Out-Null; `$v | Clear-LinuxImageState | Out-Null; `$v | Install-AgentlessProvisioning | Out-Null; 'done'"")
'forced=' + (Invoke-NoUi ""Import-Module AzureLinuxImage; `$ConfirmPreference = 'Low'; ConvertTo-FixedVhd -LiteralPath '$here/sample.vhd' -Destination '$here/c.vhd' | Out-Null; 'done'"")
";
                var run = PowerShellHost.Run(dir, new[] { "-Command", script }, TimeSpan.FromMinutes(5));
                TestContext.Current.TestOutputHelper?.WriteLine(run.ToString());
                Assert.True(run.ExitCode == 0, run.ToString());
                string[] lines = run.StdOut.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
                Assert.Contains("redirected=True,True", lines);
                Assert.Contains("confirm=High", lines);
                Assert.Contains("fails=0", lines);
                Assert.Contains("noui=done;errors=0;", lines);
                // The control: forcing a confirmation in the same kind of runspace fails instead of waiting.
                string forced = lines.Single(l => l.StartsWith("forced=", StringComparison.Ordinal));
                Assert.Contains(";errors=1;HostFunctionNotImplemented,AzureLinuxImage.Commands.ConvertToFixedVhdCommand", forced, StringComparison.Ordinal);
                Assert.False(File.Exists(Path.Combine(dir, "c.vhd")));
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
