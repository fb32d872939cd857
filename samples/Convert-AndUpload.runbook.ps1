<#
.SYNOPSIS
    Azure Automation runbook: uploads a Linux disk image of any format this module reads to a new managed disk,
    converted to the fixed VHD Azure wants on the fly, with no temporary copy of the image.
.DESCRIPTION
    Runtime: PowerShell 7.4. Import the AzureLinuxImage.zip that build.ps1 makes as a module of that runtime
    (Az.Accounts and Az.Compute come with it). The Automation account's system-assigned managed identity signs
    in (Connect-AzAccount -Identity) and needs to create disks and grant and revoke their access in the resource
    group (Microsoft.Compute/disks/write, beginGetAccess/action, endGetAccess/action; Contributor there has them).

    The image is read where it is: a path on a Hybrid Runbook Worker, or an Azure Files share mounted on it.
    Copy-DiskImageToAzure streams it once into the disk's upload URL (4 MiB buffers, ThreadCount of them), so
    neither the 1 GB disk nor the 400 MB memory of an Automation sandbox limits the image's size. Before
    anything is created the image is checked offline (Test-LinuxImageReadiness) and refused when a rule fails.

    The module never prompts in a runbook: no cmdlet's ConfirmImpact reaches the default $ConfirmPreference (High).
.PARAMETER ImagePath
    The image (VHD, VHDX, VMDK, VDI, qcow2 or raw), as the worker sees it.
.PARAMETER ResourceGroupName
    Resource group of the new disk.
.PARAMETER DiskName
    Name of the new managed disk.
.PARAMETER Location
    Azure region of the disk.
.PARAMETER SkipReadinessCheck
    Upload even when a readiness rule fails.
#>
param(
    [Parameter(Mandatory)] [string] $ImagePath,
    [Parameter(Mandatory)] [string] $ResourceGroupName,
    [Parameter(Mandatory)] [string] $DiskName,
    [Parameter(Mandatory)] [string] $Location,
    [switch] $SkipReadinessCheck
)
$ErrorActionPreference = 'Stop'
Import-Module AzureLinuxImage

$info = Get-DiskImageInfo -LiteralPath $ImagePath
if (-not $SkipReadinessCheck) {
    $failed = @(Test-LinuxImageReadiness -LiteralPath $ImagePath | Where-Object Status -eq 'Fail')
    if ($failed) {
        throw "$ImagePath is not ready for Azure ($($failed.Count) rules fail: $($failed.RuleId -join ', ')). Fix it (Repair-LinuxImage) or pass -SkipReadinessCheck."
    }
}
# The upload is the fixed VHD of the image: its size rounded up to a whole MiB, plus the 512-byte footer.
$uploadSize = [long]([math]::Ceiling($info.VirtualSize / 1MB) * 1MB) + 512

Connect-AzAccount -Identity | Out-Null
$config = New-AzDiskConfig -Location $Location -CreateOption Upload -UploadSizeInBytes $uploadSize -OsType Linux
New-AzDisk -ResourceGroupName $ResourceGroupName -DiskName $DiskName -Disk $config | Out-Null
$access = Grant-AzDiskAccess -ResourceGroupName $ResourceGroupName -DiskName $DiskName -Access Write -DurationInSecond 86400
try {
    Copy-DiskImageToAzure -LiteralPath $ImagePath -Destination $access.AccessSAS
}
finally {
    Revoke-AzDiskAccess -ResourceGroupName $ResourceGroupName -DiskName $DiskName | Out-Null
}
