#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester 5 suite for Get-WaagentConfig / Set-WaagentConfig, run by build.ps1 against the laid-out module
# ($env:AZURELINUXIMAGE_MODULE). The behaviour itself is proven by xUnit (tests/AzureLinuxImage.Core.Tests/Waagent);
# this checks the PowerShell binding: parameter sets, pipeline input, -WhatIf, -PassThru, error records.

BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    $fixtures = Join-Path $PSScriptRoot '../AzureLinuxImage.Core.Tests/Waagent/Fixtures'
    function New-Conf {
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path (Join-Path $dir 'root/etc') -Force | Out-Null
        $conf = Join-Path $dir 'root/etc/waagent.conf'
        Copy-Item (Join-Path $fixtures 'debian12-waagent.conf') $conf
        [pscustomobject]@{ Dir = $dir; Root = (Join-Path $dir 'root'); Conf = $conf }
    }
}

Describe 'Get-WaagentConfig' {
    It 'reads a file with typed properties and a Settings list' {
        $t = New-Conf
        try {
            $c = Get-WaagentConfig -Path $t.Conf
            $c.ProvisioningAgent | Should -Be 'cloud-init'
            $c.ResourceDiskEnableSwap | Should -BeFalse
            ($c.Settings | Where-Object Key -eq 'OS.SshClientAliveInterval').IsSet | Should -BeFalse
            ($c.Settings | Where-Object Key -eq 'Provisioning.Agent').LineNumber | Should -BeGreaterThan 0
        }
        finally { Remove-Item $t.Dir -Recurse -Force }
    }

    It 'reports the cloud-init conflict under -RootPath' {
        $t = New-Conf
        try {
            (Get-WaagentConfig -RootPath $t.Root).Problems.Code | Should -Contain 'CloudInitNotInstalled'
        }
        finally { Remove-Item $t.Dir -Recurse -Force }
    }
}

Describe 'Set-WaagentConfig' {
    It '-WhatIf writes nothing' {
        $t = New-Conf
        try {
            $before = Get-FileHash $t.Conf
            Set-WaagentConfig -Path $t.Conf -AzureRecommended -WhatIf
            (Get-FileHash $t.Conf).Hash | Should -Be $before.Hash
        }
        finally { Remove-Item $t.Dir -Recurse -Force }
    }

    It '-AzureRecommended -PassThru applies R-AGENT-5' {
        $t = New-Conf
        try {
            $c = Set-WaagentConfig -Path $t.Conf -AzureRecommended -SwapSizeMB 4096 -PassThru
            $c.MeetsAzureRecommendation | Should -BeTrue
            $c.ResourceDiskSwapSizeMB | Should -Be 4096
        }
        finally { Remove-Item $t.Dir -Recurse -Force }
    }

    It 'takes Get-WaagentConfig output from the pipeline, named parameters and -Setting' {
        $t = New-Conf
        try {
            Get-WaagentConfig -RootPath $t.Root | Set-WaagentConfig -ProvisioningAgent auto -Setting @{ 'Logs.Verbose' = $true }
            $c = Get-WaagentConfig -RootPath $t.Root
            $c.ProvisioningAgent | Should -Be 'auto'
            ($c.Settings | Where-Object Key -eq 'Logs.Verbose').EffectiveValue | Should -Be 'y'
        }
        finally { Remove-Item $t.Dir -Recurse -Force }
    }

    It 'refuses an invalid value with a stable error id and writes nothing' {
        $t = New-Conf
        try {
            $before = Get-FileHash $t.Conf
            Set-WaagentConfig -Path $t.Conf -Setting @{ 'ResourceDisk.SwapSizeMB' = 'lots' } -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidWaagentSetting*'
            (Get-FileHash $t.Conf).Hash | Should -Be $before.Hash
        }
        finally { Remove-Item $t.Dir -Recurse -Force }
    }

    It 'reports a missing -ImagePath with the ImageNotFound error id (image edits: LinuxImageWrite.Tests.ps1)' {
        Set-WaagentConfig -ImagePath ./no-such-disk.vhd -AzureRecommended -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ImageNotFound*'
    }
}
