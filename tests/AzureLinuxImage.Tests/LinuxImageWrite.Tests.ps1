#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester suite for the offline write cmdlets (issue 17): Set-LinuxImageContent, New-LinuxImageItem,
# Remove-LinuxImageItem and Set-WaagentConfig on images. The image is a whole-disk ext4 file system made
# by mkfs.ext4 -d (Linux); e2fsck -fn and debugfs are the oracles. Without those tools the suite is
# skipped, except under CI=true, where it fails.
BeforeDiscovery {
    $script:haveTools = [bool](Get-Command mkfs.ext4 -ErrorAction SilentlyContinue) -and [bool](Get-Command debugfs -ErrorAction SilentlyContinue)
    if (-not $script:haveTools -and $env:CI -eq 'true') { throw 'mkfs.ext4 and debugfs (e2fsprogs) are needed for LinuxImageWrite.Tests.ps1 in CI.' }
    # The real Debian 12 image (tests/fixtures/build-debian-image.sh) needs its cached root and qemu-img (for the VHDX).
    $rootfs = if ($env:DEBIAN_ROOTFS_CACHE) { $env:DEBIAN_ROOTFS_CACHE } else { '/var/tmp/debian12-rootfs' }
    $script:haveDebian = $script:haveTools -and (Test-Path (Join-Path $rootfs '.complete')) -and [bool](Get-Command qemu-img -ErrorAction SilentlyContinue) -and [bool](Get-Command sgdisk -ErrorAction SilentlyContinue)
    if (-not $script:haveDebian -and $env:CI -eq 'true') { throw "The Debian 12 root cache ($rootfs), qemu-img and sgdisk are needed for LinuxImageWrite.Tests.ps1 in CI." }
}

BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force

    function New-TestImage([string] $Name) {
        $root = Join-Path $TestDrive "$Name.root"
        foreach ($d in 'etc', 'usr/bin', 'usr/sbin', 'var/lib/cloud/instance', 'opt') { New-Item -ItemType Directory -Path (Join-Path $root $d) -Force | Out-Null }
        Set-Content -Path (Join-Path $root 'etc/os-release') -Value 'ID=debian' -NoNewline
        Set-Content -Path (Join-Path $root 'etc/fstab') -Value "LABEL=root / ext4 defaults 0 1`n" -NoNewline
        Set-Content -Path (Join-Path $root 'etc/hostname') -Value "pester-host`n" -NoNewline
        Set-Content -Path (Join-Path $root 'etc/waagent.conf') -Value "Provisioning.Agent=auto`nResourceDisk.Format=n`nResourceDisk.EnableSwap=n # keep`nResourceDisk.SwapSizeMB=0`n" -NoNewline
        Set-Content -Path (Join-Path $root 'usr/bin/sh') -Value '#!shell' -NoNewline
        Set-Content -Path (Join-Path $root 'usr/sbin/waagent') -Value '#!/usr/bin/python3' -NoNewline
        Set-Content -Path (Join-Path $root 'var/lib/cloud/instance/boot-finished') -Value 'done' -NoNewline
        New-Item -ItemType SymbolicLink -Path (Join-Path $root 'bin') -Target 'usr/bin' | Out-Null
        $image = Join-Path $TestDrive "$Name.raw"
        & mkfs.ext4 -q -F -L root -d $root -E root_owner=0:0 $image 32M | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "mkfs.ext4 failed for $image" }
        $image
    }

    function Get-Debugfs([string] $Image, [string] $Command) { (& debugfs -R $Command $Image 2>$null) -join "`n" }

    function Assert-Clean([string] $Image) {
        $out = & e2fsck -fn $Image 2>&1
        if ($LASTEXITCODE -ne 0) { throw "e2fsck -fn $Image exited $LASTEXITCODE`n$($out -join "`n")" }
    }

    function Get-Hash([string] $Path) { (Get-FileHash -Path $Path -Algorithm SHA256).Hash }
}

Describe 'Set-LinuxImageContent' -Skip:(-not $script:haveTools) {
    BeforeAll { $img = New-TestImage 'content' }

    It 'replaces a file from -Value lines and reads back through debugfs and Get-LinuxImageContent' {
        Set-LinuxImageContent -Path $img -ItemPath /etc/hostname -Value 'web01'
        Assert-Clean $img
        Get-Debugfs $img 'cat /etc/hostname' | Should -Be 'web01'
        Get-LinuxImageContent -Path $img -ItemPath /etc/hostname | Should -Be 'web01'
    }

    It 'creates a file from -InputFile with -Mode and -Uid, and -PassThru returns the result with its default view' {
        $src = Join-Path $TestDrive 'motd.txt'
        Set-Content -Path $src -Value "hello`n" -NoNewline
        $r = Set-LinuxImageContent -Path $img -ItemPath /etc/motd -InputFile $src -Mode 0600 -Uid 7 -PassThru
        $r.Written | Should -BeTrue
        $r.Changes[0].Kind | Should -Be 'CreateFile'
        $r.Path | Should -Be ([System.IO.Path]::GetFullPath($img))
        ($r | Format-Table | Out-String) | Should -Match 'CreateFile /etc/motd'
        Assert-Clean $img
        $stat = Get-Debugfs $img 'stat /etc/motd'
        $stat | Should -Match 'Mode:\s+0600'
        $stat | Should -Match 'User:\s+7\s'
    }

    It '-WhatIf leaves the image byte-identical and -Verbose names the volume bytes' {
        $before = Get-Hash $img
        $verbose = Set-LinuxImageContent -Path $img -ItemPath /etc/hostname -Value 'never' -WhatIf -Verbose 4>&1
        ($verbose | Out-String) | Should -Match 'bytes in \d+ range'
        Get-Hash $img | Should -Be $before
    }

    It 'takes images from the pipeline (Get-Item) and writes a changed copy with -Destination' {
        $before = Get-Hash $img
        $copy = Join-Path $TestDrive 'copy.raw'
        Get-Item $img | Set-LinuxImageContent -ItemPath /etc/hostname -Value 'copy' -Destination $copy
        Get-Hash $img | Should -Be $before
        Get-Debugfs $copy 'cat /etc/hostname' | Should -Be 'copy'
        Assert-Clean $copy
    }

    It 'reports a missing folder as a non-terminating error with a stable id and the image as target' {
        Set-LinuxImageContent -Path $img -ItemPath /no/such/file -Value 'x' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ParentNotFound*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'refuses to run without content' {
        { Set-LinuxImageContent -Path $img -ItemPath /etc/x -ErrorAction Stop } | Should -Throw -ErrorId 'ContentRequired*'
    }
}

Describe 'New-LinuxImageItem and Remove-LinuxImageItem' -Skip:(-not $script:haveTools) {
    BeforeAll { $img = New-TestImage 'items' }

    It 'creates directories with -CreateParent, files and symbolic links' {
        New-LinuxImageItem -Path $img -ItemPath /srv/www/html -ItemType Directory -CreateParent | Out-Null
        New-LinuxImageItem -Path $img -ItemPath /srv/www/html/index.html -ItemType File -Value '<h1>hi</h1>' | Out-Null
        $r = New-LinuxImageItem -Path $img -ItemPath /srv/current -ItemType SymbolicLink -Target www/html
        $r.Changes.Kind | Should -Be 'CreateSymlink'
        Assert-Clean $img
        Get-Debugfs $img 'cat /srv/www/html/index.html' | Should -Be '<h1>hi</h1>'
        Get-Debugfs $img 'stat /srv/current' | Should -Match 'Fast link dest: "www/html"'
        Get-LinuxImageContent -Path $img -ItemPath /srv/current/index.html | Should -Be '<h1>hi</h1>'
    }

    It 'refuses an existing item and a link without -Target' {
        New-LinuxImageItem -Path $img -ItemPath /etc -ItemType Directory -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ItemExists*'
        New-LinuxImageItem -Path $img -ItemPath /etc/l -ItemType SymbolicLink -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'LinkTargetRequired*'
    }

    It 'removes what Get-LinuxImageItem pipes in, recursively, and e2fsck stays clean' {
        Get-LinuxImageItem -Path $img -ItemPath /var/lib | Where-Object Name -eq 'cloud' | Remove-LinuxImageItem -Recurse -Confirm:$false
        Assert-Clean $img
        Get-LinuxImageItem -Path $img -ItemPath /var/lib | Select-Object -ExpandProperty Name | Should -Not -Contain 'cloud'
    }

    It 'refuses a non-empty directory without -Recurse and a missing item, leaving the image unchanged' {
        $before = Get-Hash $img
        Remove-LinuxImageItem -Path $img -ItemPath /etc -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1 -Because ($err | Out-String)
        Remove-LinuxImageItem -Path $img -ItemPath /nope -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound*'
        Get-Hash $img | Should -Be $before
    }
}

Describe 'Set-WaagentConfig on an image' -Skip:(-not $script:haveTools) {
    BeforeAll { $img = New-TestImage 'agent' }

    It 'edits waagent.conf inside an image piped in by Get-Item and passes the result on to Test-LinuxImageReadiness' {
        $findings = Get-Item $img | Set-WaagentConfig -AzureRecommended -PassThru -WarningAction SilentlyContinue | Test-LinuxImageReadiness -Rule WaagentResourceDiskSwap
        ($findings | Where-Object RuleId -eq 'WaagentResourceDiskSwap').Status | Should -Be 'Pass'
        Assert-Clean $img
        $conf = Get-Debugfs $img 'cat /etc/waagent.conf'
        $conf | Should -Match 'ResourceDisk.EnableSwap=y # keep'
        $conf | Should -Match 'ResourceDisk.SwapSizeMB=2048'
    }

    It '-ImagePath with -WhatIf changes nothing' {
        $before = Get-Hash $img
        $r = Set-WaagentConfig -ImagePath $img -ProvisioningAgent waagent -WhatIf -PassThru -ErrorAction Stop
        Get-Hash $img | Should -Be $before
        # Declined: nothing changed, nothing passed on; and no error (a typed -ImagePath resolves to its own handling).
        $r | Should -BeNullOrEmpty
    }

    It 'refuses a qcow2 image with the advice to convert first' -Skip:(-not (Get-Command qemu-img -ErrorAction SilentlyContinue)) {
        $q = Join-Path $TestDrive 'agent.qcow2'
        & qemu-img convert -O qcow2 $img $q
        Set-WaagentConfig -ImagePath $q -AzureRecommended -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ImageFormatNotWritable*'
        $err[0].Exception.Message | Should -Match 'ConvertTo-FixedVhd'
    }
}

Describe 'The image pipeline on a real Debian 12 image, bound by property' -Skip:(-not $script:haveDebian) {
    BeforeAll {
        $raw = Join-Path $TestDrive 'debian12.raw'
        & bash (Join-Path $PSScriptRoot '../fixtures/build-debian-image.sh') $raw *> $null
        if ($LASTEXITCODE -ne 0) { throw "build-debian-image.sh failed for $raw" }
        $vhdx = Join-Path $TestDrive 'debian12.vhdx'
        & qemu-img convert -O vhdx $raw $vhdx
        if ($LASTEXITCODE -ne 0) { throw "qemu-img convert failed for $vhdx" }
        Remove-Item $raw
        $vhd = Join-Path $TestDrive 'debian12.vhd'

        # The root file system (GPT partition 'rootfs') as debugfs/e2fsck address it: image?offset=bytes.
        function Get-RootDevice([string] $Image) {
            $table = (& sfdisk --json $Image | ConvertFrom-Json).partitiontable
            $root = $table.partitions | Where-Object name -eq 'rootfs'
            "${Image}?offset=$($root.start * 512)"
        }
    }

    It 'Get-Item x.vhdx | ConvertTo-FixedVhd | Set-WaagentConfig -AzureRecommended -PassThru | Test-LinuxImageReadiness' {
        $findings = Get-Item $vhdx | ConvertTo-FixedVhd | Set-WaagentConfig -AzureRecommended -PassThru -WarningAction SilentlyContinue | Test-LinuxImageReadiness
        # Test-LinuxImageReadiness read the converted image that Set-WaagentConfig changed.
        ($findings | Where-Object RuleId -eq 'WaagentResourceDiskSwap').Status | Should -Be 'Pass'
        ($findings | Where-Object RuleId -eq 'WaagentResourceDiskSwap').Path | Should -Be $vhd
        $device = Get-RootDevice $vhd
        & e2fsck -fn $device *> $null
        $LASTEXITCODE | Should -Be 0
        $conf = Get-Debugfs $device 'cat /etc/waagent.conf'
        $conf | Should -Match '(?m)^ResourceDisk.Format=y'
        $conf | Should -Match '(?m)^ResourceDisk.EnableSwap=y'
        $conf | Should -Match '(?m)^ResourceDisk.SwapSizeMB=2048'
    }

    It 'takes an object with an ImagePath as the image, even when its Path is a waagent.conf file (no guessing by content)' {
        $hostConf = Join-Path $TestDrive 'waagent.conf'
        Set-Content -Path $hostConf -Value "ResourceDisk.SwapSizeMB=0`n" -NoNewline
        $info = Get-DiskImageInfo -Path $vhd
        $info.ImagePath | Should -Be $info.Path
        [pscustomobject]@{ Path = $hostConf; ImagePath = $info.ImagePath } | Set-WaagentConfig -ResourceDiskSwapSizeMB 4096 -Confirm:$false -WarningAction SilentlyContinue
        Get-Content -Raw $hostConf | Should -Be "ResourceDisk.SwapSizeMB=0`n"
        Get-Debugfs (Get-RootDevice $vhd) 'cat /etc/waagent.conf' | Should -Match '(?m)^ResourceDisk.SwapSizeMB=4096'
        # -Path typed on the command line with an ImagePath from the pipeline is ambiguous: refused.
        [pscustomobject]@{ ImagePath = $info.ImagePath } | Set-WaagentConfig -Path $hostConf -ResourceDiskSwapSizeMB 1 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'PathAndImagePath*'
        Get-Content -Raw $hostConf | Should -Be "ResourceDisk.SwapSizeMB=0`n"
        Set-WaagentConfig -ResourceDiskSwapSizeMB 1 -ErrorVariable none -ErrorAction SilentlyContinue
        $none[0].FullyQualifiedErrorId | Should -BeLike 'TargetRequired*'
    }
}
