@{
    RootModule           = 'AzureLinuxImage.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Desktop', 'Core')
    GUID                 = '5b0f3f6e-2f4c-4f0e-9a57-3d8f0c1e7a42'
    Author               = 'AzureLinuxImage contributors'
    CompanyName          = 'AzureLinuxImage contributors'
    Copyright            = '(c) AzureLinuxImage contributors. All rights reserved.'
    Description          = 'Takes a Linux disk image built on any hypervisor to a working VM in Azure: converts VHD, VHDX, VMDK, VDI, qcow2 and raw images to an aligned fixed VHD without Hyper-V or qemu-img, inspects the Linux inside for Azure readiness offline, reports provisioning ready, uploads only the data.'
    PowerShellVersion    = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess     = @('AzureLinuxImage.format.ps1xml')
    CmdletsToExport      = @(
        'ConvertTo-FixedVhd'
        'Export-ReadinessReport'
        'Copy-DiskImageToAzure'
        'Get-AzureInstanceMetadata'
        'Get-DiskImageInfo'
        'Get-LinuxImageContent'
        'Get-LinuxImageItem'
        'Get-WaagentConfig'
        'Get-WireServerGoalState'
        'Resize-VhdAligned'
        'Send-WireServerReady'
        'Set-WaagentConfig'
        'Test-LinuxImageReadiness'
        'Repair-LinuxImage'
        'Clear-LinuxImageState'
        'Install-AgentlessProvisioning'
        'Set-LinuxImageContent'
        'Remove-LinuxImageItem'
        'New-LinuxImageItem'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Azure', 'Linux', 'VHD', 'VHDX', 'VMDK', 'qcow2', 'DiskImage', 'Image', 'Upload', 'Provisioning', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ProjectUri   = 'https://example.invalid/AzureLinuxImage'
            LicenseUri   = 'https://example.invalid/AzureLinuxImage/LICENSE'
            ReleaseNotes = 'First release: ConvertTo-FixedVhd, Resize-VhdAligned, Get-DiskImageInfo, Get-LinuxImageItem, Get-LinuxImageContent.'
        }
    }
}
