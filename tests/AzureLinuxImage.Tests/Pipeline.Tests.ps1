#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The module's main job in PowerShell, on the committed sample (samples/sample.vhd): convert, fix offline,
# install the agent-less unit, generalize, check. The CLI's version is SamplePipelineTests (xUnit).

BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    $sample = Join-Path $PSScriptRoot '../../samples/sample.vhd'
}

Describe 'The image pipeline on the sample' {
    It 'converts, repairs, installs the agent-less unit and generalizes until no rule fails, leaving the sample unchanged' {
        $before = (Get-FileHash -LiteralPath $sample -Algorithm SHA256).Hash
        $vhd = Get-Item -LiteralPath $sample | ConvertTo-FixedVhd -Destination (Join-Path $TestDrive 'sample-azure.vhd')
        $vhd.Path | Should -Exist

        $failedBefore = @($vhd | Test-LinuxImageReadiness | Where-Object Status -eq 'Fail')
        $failedBefore.Count | Should -BeGreaterThan 0

        $fixed = @($vhd | Repair-LinuxImage)
        ($fixed | Where-Object Applied).Count | Should -BeGreaterThan 0
        @($vhd | Install-AgentlessProvisioning).Count | Should -BeGreaterThan 0
        @($vhd | Clear-LinuxImageState -LockPassword).Count | Should -BeGreaterThan 0

        $findings = @($vhd | Test-LinuxImageReadiness)
        $findings.Count | Should -BeGreaterThan 30
        @($findings | Where-Object Status -eq 'Fail' | ForEach-Object RuleId) | Should -BeNullOrEmpty
        $junit = Join-Path $TestDrive 'results.xml'
        $findings | Export-ReadinessReport -Format JUnit -Path $junit | Out-Null
        ([xml](Get-Content -LiteralPath $junit -Raw)).testsuites.failures | Should -Be '0'
        (Get-FileHash -LiteralPath $sample -Algorithm SHA256).Hash | Should -Be $before
    }
}
