#Requires -Version 5.1
<#
.SYNOPSIS
    Builds AzureLinuxImage, lays out the module, runs the tests and packs the Azure Automation zip.
.DESCRIPTION
    1. dotnet build (Release) of the solution.
    2. Copies the module the build laid out to out/AzureLinuxImage/: the manifest, AzureLinuxImage.dll,
       Core and its dependencies, Dependencies/ (the Azure SDK, loaded isolated), views and en-US help.
    3. Runs the tests: dotnet test of the solution, which runs the xUnit tests and every Pester suite
       (tests/AzureLinuxImage.Tests/*.Tests.ps1) in PowerShell 7.6.10 with Pester 5.7.1, both restored by
       the build (tests/AzureLinuxImage.PowerShell.Tests), against the module laid out in step 2.
    4. Zips out/AzureLinuxImage into out/AzureLinuxImage.zip with the module folder at the root,
       the layout Azure Automation imports ("Import a module" from a .zip).
    Works the same on Windows and Linux (PowerShell 5.1 or 7).
.PARAMETER Configuration
    Release (default) or Debug.
.PARAMETER SkipTests
    Build, lay out and pack only.
.PARAMETER NoBuild
    Lay out and pack what an earlier build of the same configuration left (used by the tests of this script).
.PARAMETER OutputPath
    Where the module folder and the zip go (default: out/ beside this script).
.EXAMPLE
    ./build.ps1
.EXAMPLE
    ./build.ps1 -SkipTests -Configuration Debug
#>
[CmdletBinding()]
param(
    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',
    [switch] $SkipTests,
    [switch] $NoBuild,
    [string] $OutputPath
)
$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$out = if ($OutputPath) { [System.IO.Path]::GetFullPath($OutputPath) } else { Join-Path $root 'out' }
$module = Join-Path $out 'AzureLinuxImage'
$clock = [System.Diagnostics.Stopwatch]::StartNew()

function Invoke-Native([string] $File, [string[]] $Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') exited with $LASTEXITCODE" }
}

function Write-Step([string] $Text) { Write-Host ("[{0,6:F0} s] {1}" -f $clock.Elapsed.TotalSeconds, $Text) }

if (-not $NoBuild) {
    Write-Step 'Build'
    Invoke-Native dotnet @('build', (Join-Path $root 'AzureLinuxImage.sln'), '-c', $Configuration, '--nologo')
}

# The cmdlet project lays the module out at build (target LayoutModule): the cmdlets, Core and what Core
# needs in the module folder, AzureLinuxImage.Azure with Azure.Core/Azure.Identity in Dependencies/
# (loaded isolated from other modules' copies), the manifest, views and en-US help.
$built = Join-Path $root "src/AzureLinuxImage/bin/$Configuration/module/AzureLinuxImage"
if (-not (Test-Path (Join-Path $built 'AzureLinuxImage.psd1'))) { throw "No module laid out in $built; build first (without -NoBuild)." }
if (Test-Path $module) { Remove-Item $module -Recurse -Force }
New-Item -ItemType Directory -Path $out -Force | Out-Null
Copy-Item $built -Destination $out -Recurse
Write-Step "Module laid out in $module"

if (-not $SkipTests) {
    # xUnit and the Pester suites in one command (the README's); the suites load the module laid out above.
    Write-Step 'Tests (xUnit, and Pester in PowerShell 7.6.10)'
    $previous = $env:AZURELINUXIMAGE_MODULE
    $env:AZURELINUXIMAGE_MODULE = Join-Path $module 'AzureLinuxImage.psd1'
    try {
        # Built above (or by the earlier build -NoBuild names): the tests run what was laid out.
        Invoke-Native dotnet @('test', (Join-Path $root 'AzureLinuxImage.sln'), '-c', $Configuration, '--nologo', '--no-build')
    }
    finally { $env:AZURELINUXIMAGE_MODULE = $previous }
}

$zip = Join-Path $out 'AzureLinuxImage.zip'
if (Test-Path $zip) { Remove-Item $zip -Force }
Add-Type -AssemblyName System.IO.Compression.FileSystem
[System.IO.Compression.ZipFile]::CreateFromDirectory($module, $zip, [System.IO.Compression.CompressionLevel]::Optimal, $true)
Write-Step "Azure Automation package: $zip"
