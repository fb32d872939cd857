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
        foreach ($p in 'Generation', 'QemuPath', 'TimeoutSec', 'HostName', 'UserName', 'SshPublicKey', 'Incarnation', 'WorkDirectory', 'NoKvm', 'WhatIf', 'Confirm') {
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
