#Requires -Version 5.1
<#
.SYNOPSIS
    Builds AzureLinuxImage, lays out the module, runs the tests and packs the Azure Automation zip.
.DESCRIPTION
    1. dotnet build (Release) of the solution.
    2. Copies the module the build laid out to out/AzureLinuxImage/: the manifest, AzureLinuxImage.dll,
       Core and its dependencies, Dependencies/ (the Azure SDK, loaded isolated), views and en-US help.
    3. Runs the xUnit tests (dotnet test) and, where Pester 5 is installed, the Pester suites in
       tests/AzureLinuxImage.Tests against the laid-out module.
    4. Zips out/AzureLinuxImage into out/AzureLinuxImage.zip with the module folder at the root,
       the layout Azure Automation imports ("Import a module" from a .zip).
.PARAMETER Configuration
    Release (default) or Debug.
.PARAMETER SkipTests
    Build and pack only.
.EXAMPLE
    ./build.ps1
.EXAMPLE
    ./build.ps1 -SkipTests -Configuration Debug
#>
[CmdletBinding()]
param(
    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',
    [switch] $SkipTests
)
$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$module = Join-Path $out 'AzureLinuxImage'

function Invoke-Native([string] $File, [string[]] $Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') exited with $LASTEXITCODE" }
}

Invoke-Native dotnet @('build', (Join-Path $root 'AzureLinuxImage.sln'), '-c', $Configuration, '--nologo')

# The cmdlet project lays the module out at build (target LayoutModule): the cmdlets, Core and what Core
# needs in the module folder, AzureLinuxImage.Azure with Azure.Core/Azure.Identity in Dependencies/
# (loaded isolated from other modules' copies), the manifest, views and en-US help.
if (Test-Path $module) { Remove-Item $module -Recurse -Force }
New-Item -ItemType Directory -Path $out -Force | Out-Null
Copy-Item (Join-Path $root "src/AzureLinuxImage/bin/$Configuration/module/AzureLinuxImage") -Destination $out -Recurse
Write-Host "Module laid out in $module"

if (-not $SkipTests) {
    Invoke-Native dotnet @('test', (Join-Path $root 'AzureLinuxImage.sln'), '-c', $Configuration, '--nologo')
    $pester = Get-Module -ListAvailable Pester | Where-Object { $_.Version -ge [version]'5.0' } | Select-Object -First 1
    if ($pester) {
        Import-Module $pester
        $config = New-PesterConfiguration
        $config.Run.Path = Join-Path $root 'tests/AzureLinuxImage.Tests'
        $config.Run.Exit = $false
        $config.Run.PassThru = $true
        $env:AZURELINUXIMAGE_MODULE = Join-Path $module 'AzureLinuxImage.psd1'
        $result = Invoke-Pester -Configuration $config
        if ($result.FailedCount -gt 0) { throw "$($result.FailedCount) Pester test(s) failed" }
    }
    else {
        Write-Warning 'Pester 5 is not installed: the Pester suites were not run (Install-Module Pester -MinimumVersion 5.0).'
    }
}

$zip = Join-Path $out 'AzureLinuxImage.zip'
if (Test-Path $zip) { Remove-Item $zip -Force }
Add-Type -AssemblyName System.IO.Compression.FileSystem
[System.IO.Compression.ZipFile]::CreateFromDirectory($module, $zip, [System.IO.Compression.CompressionLevel]::Optimal, $true)
Write-Host "Azure Automation package: $zip"
