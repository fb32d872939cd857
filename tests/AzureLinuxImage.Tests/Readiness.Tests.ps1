#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester suite for machines with pwsh; build.ps1 runs it against the laid-out module.
BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force

    # A small Linux root: a 64-bit x86 ELF header as /bin/sh, a grub.cfg without a serial console,
    # sudoers with 'Defaults targetpw' (R-SYS-2), and the files that make a folder a Linux root.
    function New-LinuxRoot([string] $Path, [switch] $Ready) {
        foreach ($d in 'etc', 'bin', 'boot/grub', 'usr/sbin') { New-Item -ItemType Directory -Force (Join-Path $Path $d) | Out-Null }
        $elf = [byte[]]::new(64); $elf[0] = 0x7F; $elf[1] = 0x45; $elf[2] = 0x4C; $elf[3] = 0x46; $elf[4] = 2; $elf[5] = 1; $elf[18] = 62
        [System.IO.File]::WriteAllBytes((Join-Path $Path 'bin/sh'), $elf)
        Set-Content -NoNewline (Join-Path $Path 'etc/os-release') "ID=debian`nVERSION_ID=`"12`"`n"
        Set-Content -NoNewline (Join-Path $Path 'etc/fstab') "UUID=0b0c3b1e-6f4e-4b8a-9d55-3c8f3f1f2a10 / ext4 defaults 0 1`n"
        $console = if ($Ready) { 'console=ttyS0,115200n8 earlyprintk=ttyS0,115200' } else { 'quiet' }
        Set-Content -NoNewline (Join-Path $Path 'boot/grub/grub.cfg') "menuentry 'Linux' {`n`tlinux /boot/vmlinuz-6.1.0-1-amd64 root=UUID=x ro $console`n}`n"
        $sudoers = if ($Ready) { "root ALL=(ALL:ALL) ALL`n" } else { "Defaults targetpw`nroot ALL=(ALL:ALL) ALL`n" }
        Set-Content -NoNewline (Join-Path $Path 'etc/sudoers') $sudoers
    }
}

Describe 'Test-LinuxImageReadiness' {
    BeforeAll {
        New-LinuxRoot (Join-Path $TestDrive 'stock')
        New-LinuxRoot (Join-Path $TestDrive 'ready') -Ready
    }

    It 'emits one finding per rule for a root folder, with evidence and remediation' {
        $root = Join-Path $TestDrive 'stock'
        $findings = Test-LinuxImageReadiness -RootPath $root
        ($findings | Group-Object RuleId | Where-Object Count -gt 1) | Should -BeNullOrEmpty
        $console = $findings | Where-Object RuleId -eq 'SerialConsole'
        $console.Status | Should -Be 'Fail'
        $console.EvidenceFile | Should -Be '/boot/grub/grub.cfg'
        $console.Remediation | Should -Match 'console=ttyS0'
        ($findings | Where-Object RuleId -eq 'SudoersTargetPw').Status | Should -Be 'Fail'
        ($findings | Where-Object RuleId -eq 'FixedVhd').Status | Should -Be 'NotApplicable'
    }

    It 'selects rules with -Rule and -ExcludeRule and answers -Quiet' {
        $root = Join-Path $TestDrive 'ready'
        $findings = Test-LinuxImageReadiness -RootPath $root -Rule 'Sudoers*', 'SerialConsole' -ExcludeRule 'SudoersAllUsers'
        ($findings.RuleId | Sort-Object) | Should -Be @('SerialConsole', 'SudoersTargetPw')
        Test-LinuxImageReadiness -RootPath $root -Rule 'SerialConsole', 'Sudoers*' -Quiet | Should -BeTrue
        Test-LinuxImageReadiness -RootPath (Join-Path $TestDrive 'stock') -Rule 'SerialConsole' -Quiet | Should -BeFalse
    }

    It 'reports a folder that is not a Linux root as a non-terminating error with a stable id' {
        $empty = New-Item -ItemType Directory (Join-Path $TestDrive 'empty')
        Test-LinuxImageReadiness -RootPath $empty.FullName -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'NotALinuxRoot*'
    }
}

Describe 'Export-ReadinessReport' {
    BeforeAll {
        New-LinuxRoot (Join-Path $TestDrive 'stock')
    }

    It 'writes JUnit that PublishTestResults@2 reads: a testcase per rule, failures with remediation' {
        $report = Join-Path $TestDrive 'readiness.xml'
        $file = Test-LinuxImageReadiness -RootPath (Join-Path $TestDrive 'stock') | Export-ReadinessReport -Format JUnit -Path $report
        $file.FullName | Should -Be $report
        [xml] $xml = Get-Content -Raw $report
        $case = $xml.testsuites.testsuite.testcase | Where-Object { $_.name -like 'SerialConsole:*' }
        $case.failure.InnerText | Should -Match 'Remediation:'
    }

    It 'refuses to overwrite without -Force and writes nothing with -WhatIf' {
        $report = Join-Path $TestDrive 'keep.md'
        Set-Content $report 'keep'
        Test-LinuxImageReadiness -RootPath (Join-Path $TestDrive 'stock') | Export-ReadinessReport -Format Markdown -Path $report -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DestinationExists*'
        Test-LinuxImageReadiness -RootPath (Join-Path $TestDrive 'stock') | Export-ReadinessReport -Format Json -Path (Join-Path $TestDrive 'w.json') -WhatIf
        Join-Path $TestDrive 'w.json' | Should -Not -Exist
    }
}
