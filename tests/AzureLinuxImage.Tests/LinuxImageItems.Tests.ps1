#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester suite for machines with pwsh; build.ps1 runs it against the laid-out module.
# Images with ext4 need Linux tools to build, so the cmdlets are exercised over a root folder
# (-RootPath), which goes through the same confined resolver; the xUnit tests cover images.
BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    $root = Join-Path $TestDrive 'root'
    New-Item -ItemType Directory -Path (Join-Path $root 'etc/default') -Force | Out-Null
    Set-Content -Path (Join-Path $root 'etc/hostname') -Value 'pester-host' -NoNewline
    Set-Content -Path (Join-Path $root 'etc/default/grub') -Value "GRUB_TIMEOUT=5`nGRUB_CMDLINE_LINUX=`"console=ttyS0`""
}

Describe 'Get-LinuxImageItem' {
    It 'lists a directory of a root folder with names, types and the folder as RootPath' {
        $items = Get-LinuxImageItem -RootPath $root -ItemPath /etc
        ($items.Name | Sort-Object) | Should -Be @('default', 'hostname')
        ($items | Where-Object Name -eq 'default').Type | Should -Be 'Directory'
        ($items | Where-Object Name -eq 'hostname').Size | Should -Be 11
        $items[0].RootPath | Should -Be ([System.IO.Path]::GetFullPath($root))
    }

    It 'lists subdirectories with -Recurse' {
        (Get-LinuxImageItem -RootPath $root -ItemPath /etc -Recurse).ItemPath | Should -Contain '/etc/default/grub'
    }

    It 'never climbs above the root with ..' {
        (Get-LinuxImageItem -RootPath $root -ItemPath '/../../etc/hostname').ItemPath | Should -Be '/etc/hostname'
    }

    It 'reports a missing item with the ItemNotFound error id' {
        Get-LinuxImageItem -RootPath $root -ItemPath /nope -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound*'
    }
}

Describe 'Get-LinuxImageContent' {
    It 'writes the lines of a file' {
        $lines = Get-LinuxImageContent -RootPath $root -ItemPath /etc/default/grub
        $lines | Should -Be @('GRUB_TIMEOUT=5', 'GRUB_CMDLINE_LINUX="console=ttyS0"')
    }

    It 'writes one byte array with -AsByteStream' {
        $bytes = Get-LinuxImageContent -RootPath $root -ItemPath /etc/hostname -AsByteStream
        $bytes.GetType().FullName | Should -Be 'System.Byte[]'
        [System.Text.Encoding]::ASCII.GetString($bytes) | Should -Be 'pester-host'
    }

    It 'takes ItemPath from Get-LinuxImageItem output' {
        Get-LinuxImageItem -RootPath $root -ItemPath /etc/hostname | Get-LinuxImageContent -RootPath $root | Should -Be 'pester-host'
    }
}
