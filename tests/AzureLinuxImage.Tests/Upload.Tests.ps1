#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester suite for machines with pwsh; build.ps1 runs it against the laid-out module. The upload itself is
# proven against Azurite by xUnit (CopyDiskImageToAzureTests, ModuleIsolationTests); this checks what only
# a real PowerShell shows: where the module's Azure SDK loads.
BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    $image = Join-Path $TestDrive 'disk.raw'
    $f = [System.IO.File]::Create($image); try { $f.SetLength(21MB) } finally { $f.Dispose() }
}

Describe 'Copy-DiskImageToAzure dependency isolation' {
    It 'loads Azure.Core from the module''s Dependencies folder, whatever other modules loaded' {
        # Port 9 (discard) on loopback refuses the connection: the command fails, after loading its SDK.
        Copy-DiskImageToAzure -Path $image -Destination 'http://127.0.0.1:9/acct/vhds/disk.vhd?sv=1&sig=secret' -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -Not -BeNullOrEmpty
        "$err" | Should -Not -Match 'secret'
        $ours = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Azure.Core' -and $_.Location -like '*Dependencies*' }
        $ours | Should -Not -BeNullOrEmpty
        if ($PSVersionTable.PSEdition -eq 'Core') {
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($ours[0]).Name | Should -Be 'AzureLinuxImage dependencies'
        }
    }

    It 'takes a token string as -Credential without Azure types in its signature' {
        (Get-Command Copy-DiskImageToAzure).Parameters['Credential'].ParameterType | Should -Be ([object])
    }
}
