#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester 5: Test-AzureProvisioning as PowerShell users meet it (issue 22). Nothing here boots a VM:
# the boot itself is proven by RehearsalBootTests (xUnit) on real Debian images.
BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    $script:dir = Join-Path ([System.IO.Path]::GetTempPath()) ("azli-rehearse-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $script:dir | Out-Null
    $script:image = Join-Path $script:dir 'disk.raw'
    [System.IO.File]::WriteAllBytes($script:image, [byte[]]::new(1MB))
    $script:hasQemu = $null -ne (Get-Command qemu-system-x86_64 -ErrorAction SilentlyContinue)
    # A boot sector that writes two lines to COM1 and triple-faults: QEMU (-no-reboot) exits within a second, so the
    # serial log is proven without booting Linux (the same bytes as BootSectorImage in the xUnit tests).
    $script:bootSector = Join-Path $script:dir 'bootsector.raw'
    $code = [byte[]](0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0xba, 0xf8, 0x03, 0xbe, 0x23, 0x7c, 0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8,
        0x0f, 0x01, 0x1e, 0x1d, 0x7c, 0xcd, 0x03, 0xf4, 0xeb, 0xfd, 0, 0, 0, 0, 0, 0) + [System.Text.Encoding]::ASCII.GetBytes("pester boot sector line one`r`nline two`r`n`0")
    $disk = [byte[]]::new(1MB)
    [Array]::Copy($code, $disk, $code.Length)
    $disk[510] = 0x55; $disk[511] = 0xaa
    [System.IO.File]::WriteAllBytes($script:bootSector, $disk)
}

AfterAll {
    Remove-Item -LiteralPath $script:dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Test-AzureProvisioning' {
    It 'binds -Path, -LiteralPath (PSPath) and declares its output type' {
        $cmd = Get-Command Test-AzureProvisioning
        $cmd.OutputType.Name | Should -Contain 'AzureLinuxImage.Operations.ProvisioningRehearsal'
        $cmd.Parameters['LiteralPath'].Aliases | Should -Contain 'PSPath'
        $cmd.Parameters['Path'].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Contain $true
        foreach ($p in 'Generation', 'QemuPath', 'TimeoutSec', 'HostName', 'UserName', 'SshPublicKey', 'Incarnation', 'WorkDirectory', 'NoKvm', 'SerialLog', 'Force', 'CustomData', 'WhatIf', 'Confirm') {
            $cmd.Parameters.Keys | Should -Contain $p
        }
        (Get-Help Test-AzureProvisioning -Examples).Examples.Example.Count | Should -BeGreaterThan 0
    }

    It 'with -WhatIf boots nothing, outputs nothing and leaves the image as it was' {
        if (-not $script:hasQemu) { Set-ItResult -Skipped -Because 'qemu-system-x86_64 is not installed'; return }
        $work = Join-Path $script:dir 'work-whatif'
        $before = (Get-FileHash -LiteralPath $script:image).Hash
        $out = Get-Item -LiteralPath $script:image | Test-AzureProvisioning -WorkDirectory $work -WhatIf
        $out | Should -BeNullOrEmpty
        Test-Path -LiteralPath $work | Should -BeFalse
        (Get-FileHash -LiteralPath $script:image).Hash | Should -Be $before
    }

    It 'takes -AdminUsername (the issue''s and ARM''s name) as -UserName, and -SerialLog and -CustomData as strings' {
        $cmd = Get-Command Test-AzureProvisioning
        $cmd.Parameters['UserName'].Aliases | Should -Contain 'AdminUsername'
        $cmd.Parameters['SerialLog'].ParameterType | Should -Be ([string])
        $cmd.Parameters['CustomData'].ParameterType | Should -Be ([string])
        { Test-AzureProvisioning -LiteralPath $script:image -CustomData '' -WhatIf } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }

    It 'with -WhatIf and -SerialLog, -AdminUsername, -CustomData binds them, boots nothing and creates no log' {
        if (-not $script:hasQemu) { Set-ItResult -Skipped -Because 'qemu-system-x86_64 is not installed'; return }
        $log = Join-Path $script:dir 'whatif.log'
        $out = Test-AzureProvisioning -LiteralPath $script:image -SerialLog $log -AdminUsername 'bob' -CustomData "#cloud-config`n" -WhatIf
        $out | Should -BeNullOrEmpty
        Test-Path -LiteralPath $log | Should -BeFalse
    }

    It 'writes -SerialLog relative to the current location, keeps it when the boot fails and names it in ConsoleLog' {
        if (-not $script:hasQemu) { Set-ItResult -Skipped -Because 'qemu-system-x86_64 is not installed'; return }
        Push-Location -LiteralPath $script:dir
        try {
            $r = Test-AzureProvisioning -LiteralPath 'bootsector.raw' -NoKvm -SerialLog 'relative.log' -AdminUsername 'bob' -CustomData 'echo hi' -WarningAction SilentlyContinue
        } finally {
            Pop-Location
        }
        $expected = Join-Path $script:dir 'relative.log'
        $r.Ready | Should -BeFalse
        $r.Failure | Should -BeLike 'QEMU exited*'
        $r.UserName | Should -Be 'bob'
        $r.CustomDataWritten | Should -BeFalse
        $r.ConsoleLog | Should -Be $expected
        Get-Content -LiteralPath $expected -Raw | Should -BeLike '*pester boot sector line one*line two*'
        ($r | Format-List | Out-String) | Should -Match 'CustomData\s*:\s*NOT written back'
    }

    It 'refuses an existing -SerialLog without -Force and replaces it with -Force' {
        if (-not $script:hasQemu) { Set-ItResult -Skipped -Because 'qemu-system-x86_64 is not installed'; return }
        $log = Join-Path $script:dir 'existing.log'
        Set-Content -LiteralPath $log -Value 'keep me'
        { Test-AzureProvisioning -LiteralPath $script:bootSector -NoKvm -SerialLog $log -ErrorAction Stop } | Should -Throw -ErrorId 'DestinationExists*'
        (Get-Content -LiteralPath $log -Raw).Trim() | Should -Be 'keep me'
        $r = Test-AzureProvisioning -LiteralPath $script:bootSector -NoKvm -SerialLog $log -Force -WarningAction SilentlyContinue
        $r.ConsoleLog | Should -Be $log
        Get-Content -LiteralPath $log -Raw | Should -BeLike 'pester boot sector line one*'
    }

    It 'with -Verbose says which accelerator it picked and why (KVM only when /dev/kvm is usable)' {
        if (-not $script:hasQemu) { Set-ItResult -Skipped -Because 'qemu-system-x86_64 is not installed'; return }
        $verbose = Test-AzureProvisioning -LiteralPath $script:image -WhatIf -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        $verbose | Where-Object { $_ -match '^(KVM|TCG)' } | Should -Not -BeNullOrEmpty
        if (-not (Test-Path -LiteralPath '/dev/kvm')) {
            $verbose | Should -Contain 'TCG (software emulation, several times slower): /dev/kvm does not exist (no KVM module loaded, or no nested virtualization for this VM).'
        }
        $verbose = Test-AzureProvisioning -LiteralPath $script:image -NoKvm -WhatIf -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        $verbose | Should -Contain 'TCG: KVM not wanted (-NoKvm / --no-kvm).'
    }

    It 'says where to get QEMU when -QemuPath does not hold it' {
        { Test-AzureProvisioning -LiteralPath $script:image -QemuPath (Join-Path $script:dir 'no-qemu') -ErrorAction Stop } |
            Should -Throw -ErrorId 'QemuNotFound*' -ExpectedMessage '*Install QEMU*'
    }

    It 'reports a missing image with an error naming it' {
        $missing = Join-Path $script:dir 'missing.raw'
        { Test-AzureProvisioning -LiteralPath $missing -ErrorAction Stop } | Should -Throw
        $err = $null
        Test-AzureProvisioning -LiteralPath $missing -ErrorAction SilentlyContinue -ErrorVariable err
        $err.Count | Should -BeGreaterThan 0
        "$($err[0])" | Should -BeLike '*missing.raw*'
    }

    It 'refuses a generation other than 1 or 2' {
        { Test-AzureProvisioning -LiteralPath $script:image -Generation 3 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
}

Describe 'Views' {
    It 'shows a rehearsal as a list and fabric requests as a table' {
        (Get-FormatData -TypeName 'AzureLinuxImage.Operations.ProvisioningRehearsal').FormatViewDefinition.Count | Should -BeGreaterThan 0
        (Get-FormatData -TypeName 'AzureLinuxImage.Emulation.FabricRequest').FormatViewDefinition.Count | Should -BeGreaterThan 0
        $text = [AzureLinuxImage.Operations.ProvisioningRehearsal]::new() | Format-List | Out-String
        $text | Should -Match 'Ready\s*:\s*False'
        $text | Should -Match 'Incarnation'
        $text | Should -Match 'ConsoleProblems'
    }
}
