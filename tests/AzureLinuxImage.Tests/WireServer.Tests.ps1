#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester 5: the provisioning cmdlets as PowerShell users meet them. Run by build.ps1 where pwsh and
# Pester exist (AZURELINUXIMAGE_MODULE points at the laid-out module). No test touches 168.63.129.16
# or 169.254.169.254: every call names a local endpoint where nothing listens.
BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    # A free local port with nothing behind it: connections are refused at once.
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start(); $script:deadPort = $probe.LocalEndpoint.Port; $probe.Stop()
    $script:dead = "http://127.0.0.1:$script:deadPort"
}

Describe 'Send-WireServerReady' {
    It 'gives up within -TimeoutSec with a WireServerUnreachable error' {
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        { Send-WireServerReady -Endpoint $dead -SkipPreprovisioningCheck -TimeoutSec 2 -ErrorAction Stop } |
            Should -Throw -ErrorId 'WireServerUnreachable*'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
    }

    It 'refuses -Description without -NotReady' {
        { Send-WireServerReady -Endpoint $dead -Description 'x' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidHealthReport*'
    }

    It 'supports -WhatIf and documents its parameters' {
        $cmd = Get-Command Send-WireServerReady
        $cmd.Parameters.Keys | Should -Contain 'WhatIf'
        foreach ($p in 'Endpoint', 'AgentName', 'TimeoutSec', 'NotReady', 'SubStatus', 'Description', 'Hostname') {
            $cmd.Parameters.Keys | Should -Contain $p
        }
        (Get-Help Send-WireServerReady -Examples).Examples.Example.Count | Should -BeGreaterThan 0
    }
}

Describe 'Get-WireServerGoalState' {
    It 'refuses an endpoint with a path' {
        { Get-WireServerGoalState -Endpoint 'http://127.0.0.1/machine' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidEndpoint*'
    }
}

Describe 'Get-AzureInstanceMetadata' {
    It 'refuses a path that is not names separated by /' {
        { Get-AzureInstanceMetadata -Path '../etc' -Endpoint $dead -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidMetadataPath*'
    }

    It 'gives up within -TimeoutSec when IMDS is unreachable' {
        { Get-AzureInstanceMetadata -Endpoint $dead -TimeoutSec 1 -ErrorAction Stop } | Should -Throw -ErrorId 'InstanceMetadataUnavailable*'
    }
}
