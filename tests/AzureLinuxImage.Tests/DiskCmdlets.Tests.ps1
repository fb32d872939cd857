#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester suite for machines with pwsh; build.ps1 runs it against the laid-out module.
BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    $MiB = 1MB

    function New-RawImage([string] $Path, [long] $Size) {
        $f = [System.IO.File]::Create($Path)
        try {
            $f.SetLength($Size)
            $bytes = [byte[]]::new(4096); (New-Object Random 1).NextBytes($bytes)
            $f.Write($bytes, 0, $bytes.Length)
        } finally { $f.Dispose() }
    }
}

Describe 'ConvertTo-FixedVhd' {
    It 'converts Get-Item output to an aligned fixed VHD and pipes into Get-DiskImageInfo' {
        $src = Join-Path $TestDrive 'disk.raw'
        New-RawImage $src (30 * $MiB + 512)
        $info = Get-Item $src | ConvertTo-FixedVhd -Destination (Join-Path $TestDrive 'out.vhd')
        $info.VirtualSize | Should -Be (31 * $MiB)
        $info.AzureUploadReady | Should -BeTrue
        ($info | Get-DiskImageInfo).Format | Should -Be 'Vhd'
    }

    It 'writes nothing with -WhatIf' {
        $src = Join-Path $TestDrive 'w.raw'
        New-RawImage $src (21 * $MiB)
        ConvertTo-FixedVhd -LiteralPath $src -Destination (Join-Path $TestDrive 'w.vhd') -WhatIf
        Join-Path $TestDrive 'w.vhd' | Should -Not -Exist
    }

    It 'refuses to overwrite without -Force, with a stable error id' {
        $src = Join-Path $TestDrive 'f.raw'
        New-RawImage $src (21 * $MiB)
        Set-Content (Join-Path $TestDrive 'f.vhd') 'keep'
        ConvertTo-FixedVhd -Path $src -Destination (Join-Path $TestDrive 'f.vhd') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DestinationExists*'
        Get-Content (Join-Path $TestDrive 'f.vhd') | Should -Be 'keep'
    }
}

Describe 'Resize-VhdAligned' {
    It 'grows a fixed VHD in place and passes the result on with -PassThru' {
        $src = Join-Path $TestDrive 'r.raw'
        New-RawImage $src (21 * $MiB)
        $vhd = (ConvertTo-FixedVhd -Path $src -Destination (Join-Path $TestDrive 'r.vhd')).Path
        $info = Resize-VhdAligned -Path $vhd -SizeBytes (40 * $MiB + 1) -PassThru
        $info.VirtualSize | Should -Be (41 * $MiB)
        (Get-Item $vhd).Length | Should -Be (41 * $MiB + 512)
    }

    It 'refuses a raw image with NotAFixedVhd' {
        $src = Join-Path $TestDrive 'n.raw'
        New-RawImage $src (21 * $MiB)
        Resize-VhdAligned -Path $src -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'NotAFixedVhd*'
    }
}

Describe 'Module surface' {
    It 'exports every cmdlet with help and an example' {
        foreach ($c in Get-Command -Module AzureLinuxImage) {
            (Get-Help $c.Name).Examples | Should -Not -BeNullOrEmpty
        }
    }
}
