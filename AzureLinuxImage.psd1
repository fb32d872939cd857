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
        'Set-LinuxImageContent'
        'Remove-LinuxImageItem'
        'New-LinuxImageItem'
        'Repair-LinuxImage'
        'Clear-LinuxImageState'
        'Install-AgentlessProvisioning'
        'Test-AzureProvisioning'
        'Publish-LinuxImage'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            # No ProjectUri/LicenseUri: the project has no public address yet; the MIT LICENSE ships in the module folder.
            Tags         = @('Azure', 'Linux', 'VHD', 'VHDX', 'VMDK', 'qcow2', 'VDI', 'DiskImage', 'Upload', 'Provisioning', 'waagent', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'MacOS')
            ReleaseNotes = '0.1.0: ConvertTo-FixedVhd, Resize-VhdAligned, Get-DiskImageInfo (disk images); Get-LinuxImageItem, Get-LinuxImageContent (files inside an image); Test-LinuxImageReadiness, Export-ReadinessReport (offline Azure readiness, JUnit/JSON/Markdown); Get-WaagentConfig, Set-WaagentConfig (waagent.conf); Set-LinuxImageContent, New-LinuxImageItem, Remove-LinuxImageItem (offline changes inside an image); Repair-LinuxImage, Clear-LinuxImageState, Install-AgentlessProvisioning (offline fixes, generalization, agent-less first boot); Copy-DiskImageToAzure (page blob or managed disk upload); Send-WireServerReady, Get-WireServerGoalState, Get-AzureInstanceMetadata (agent-less provisioning); Test-AzureProvisioning (first boot rehearsed under QEMU with an emulated Azure fabric); Publish-LinuxImage (managed disk, image and Compute Gallery version, its definition features read from the image).'
        }
    }
}
