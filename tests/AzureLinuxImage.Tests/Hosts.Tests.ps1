#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Azure Pipelines and GitHub Actions as hosts of the cmdlets (issue 23): the exact logging-command lines for the
# committed sample's findings (file and line inside the image), the SAS given to Copy-DiskImageToAzure registered
# once and first, the step summary, progress, and nothing of this without the variables or with -NoPipelineLogging.
# The azlinux side is PipelineCliTests (xUnit).

BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    . (Join-Path $PSScriptRoot 'Support/TestHost.ps1')
    $sample = (Resolve-Path (Join-Path $PSScriptRoot '../../samples/sample.vhd')).Path

    function Invoke-InHost([hashtable] $Variables, [scriptblock] $Body) {
        # Runs $Body with exactly these host variables set in this process; returns host lines and objects apart.
        $saved = @{}
        foreach ($v in $HostVariables) { $saved[$v] = [Environment]::GetEnvironmentVariable($v); [Environment]::SetEnvironmentVariable($v, $null) }
        foreach ($k in $Variables.Keys) { [Environment]::SetEnvironmentVariable($k, $Variables[$k]) }
        try { $all = @(& $Body 6>&1) }
        finally { foreach ($v in $HostVariables) { [Environment]::SetEnvironmentVariable($v, $saved[$v]) } }
        [pscustomobject]@{
            Lines   = @($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] } | ForEach-Object { "$($_.MessageData)" })
            Objects = @($all | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] })
        }
    }

    function Get-ExpectedIssue($Finding, [string] $Kind) {
        # The documented line of one finding (the sample's paths and messages need no escaping but ; in AzDO data, which stays).
        $message = "$($Finding.RuleId): $($Finding.Message)"
        if ($Kind -eq 'AzureDevOps') {
            $props = 'type=' + $(if ($Finding.Status -eq 'Fail') { 'error' } else { 'warning' })
            if ($Finding.EvidenceFile) { $props += ';sourcepath=' + $Finding.EvidenceFile; if ($Finding.EvidenceLine -gt 0) { $props += ';linenumber=' + $Finding.EvidenceLine } }
            return "##vso[task.logissue $props]$message"
        }
        $props = @()
        if ($Finding.EvidenceFile) { $props += 'file=' + $Finding.EvidenceFile; if ($Finding.EvidenceLine -gt 0) { $props += 'line=' + $Finding.EvidenceLine } }
        $cmd = if ($Finding.Status -eq 'Fail') { 'error' } else { 'warning' }
        if ($props) { "::$cmd $($props -join ',')::$message" } else { "::$cmd::$message" }
    }

    $azurite = Start-TestAzurite
}

AfterAll {
    Stop-TestAzurite $azurite
}

Describe 'Test-LinuxImageReadiness under Azure Pipelines (TF_BUILD=True)' {
    It 'writes one task.logissue per failing or warning finding, with the file and line inside the image' {
        $r = Invoke-InHost @{ TF_BUILD = 'True' } { Test-LinuxImageReadiness -LiteralPath $sample }
        $issues = @($r.Lines | Where-Object { $_.StartsWith('##vso[task.logissue') })
        $issues | Should -Contain '##vso[task.logissue type=error;sourcepath=/boot/grub/grub.cfg;linenumber=14]SerialConsole: The default boot entry''s command line has no console= argument: Azure''s serial console and boot diagnostics stay blank.'
        $issues | Should -Contain '##vso[task.logissue type=warning;sourcepath=/etc/default/grub;linenumber=4]QuietBoot: The command line has quiet: boot messages are hidden from the serial console.'
        $issues | Should -Contain '##vso[task.logissue type=error;sourcepath=/etc/fstab;linenumber=3]NoSwapOnOsDisk: Swap on the OS disk: fstab line 3 swaps on /swapfile. Swap belongs on the resource disk (waagent or cloud-init).'
        $issues | Should -Contain '##vso[task.logissue type=error]FixedVhd: The image is vhd (dynamic); Azure accepts fixed VHD only.'
        $expected = @($r.Objects | Where-Object { $_.Status -in 'Fail', 'Warning' } | ForEach-Object { Get-ExpectedIssue $_ 'AzureDevOps' })
        $expected.Count | Should -Be 16
        $issues | Should -Be $expected
        $r.Lines | Should -Contain '##vso[task.setprogress value=100;]Testing Linux image readiness'
        ($r.Lines -match 'task.complete').Count | Should -Be 0
    }

    It 'ends a run that found only warnings with task.complete result=SucceededWithIssues' {
        $failing = @(Test-LinuxImageReadiness -LiteralPath $sample | Where-Object Status -eq 'Fail' | ForEach-Object RuleId)
        $r = Invoke-InHost @{ TF_BUILD = 'True' } { Test-LinuxImageReadiness -LiteralPath $sample -ExcludeRule $failing }
        $r.Lines[-1] | Should -Be '##vso[task.complete result=SucceededWithIssues]Linux image readiness: 8 warnings, no failures'
        @($r.Lines | Where-Object { $_.StartsWith('##vso[task.logissue type=warning;') }).Count | Should -Be 8
    }

    It 'reports progress as task.setprogress instead of progress records' {
        $out = Join-Path $TestDrive 'ado.vhd'
        $ps = [powershell]::Create()
        try {
            [Environment]::SetEnvironmentVariable('TF_BUILD', 'True')
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $modulePath).AddStatement().AddCommand('ConvertTo-FixedVhd').AddParameter('LiteralPath', $sample).AddParameter('Destination', $out)
            $null = $ps.Invoke()
            $ps.Streams.Progress.Count | Should -Be 0
            $lines = @($ps.Streams.Information | ForEach-Object { "$($_.MessageData)" })
            @($lines | Where-Object { $_ -eq '##vso[task.setprogress value=100;]Converting to a fixed VHD' }).Count | Should -Be 1
            $lines[0] | Should -Match '^##vso\[task\.setprogress value=\d+;\]Converting to a fixed VHD$'
        }
        finally { [Environment]::SetEnvironmentVariable('TF_BUILD', $null); $ps.Dispose() }
    }
}

Describe 'Test-LinuxImageReadiness under GitHub Actions (GITHUB_ACTIONS=true)' {
    It 'writes ::error / ::warning annotations and appends the findings to $GITHUB_STEP_SUMMARY' {
        $summary = Join-Path $TestDrive 'summary.md'
        Set-Content -LiteralPath $summary -Value 'earlier step'
        $r = Invoke-InHost @{ GITHUB_ACTIONS = 'true'; GITHUB_STEP_SUMMARY = $summary } { Test-LinuxImageReadiness -LiteralPath $sample }
        $r.Lines | Should -Contain '::error file=/boot/grub/grub.cfg,line=14::SerialConsole: The default boot entry''s command line has no console= argument: Azure''s serial console and boot diagnostics stay blank.'
        $r.Lines | Should -Contain '::warning file=/etc/ssh/sshd_config::SshClientAliveInterval: ClientAliveInterval is not set (0: idle sessions are dropped by Azure''s load balancer after 4 minutes).'
        $expected = @($r.Objects | Where-Object { $_.Status -in 'Fail', 'Warning' } | ForEach-Object { Get-ExpectedIssue $_ 'GitHub' })
        $r.Lines | Should -Be $expected
        $text = Get-Content -LiteralPath $summary -Raw
        $text | Should -Match '^earlier step\r?\n# Azure readiness of '
        $text | Should -Match '8 failed, 8 warnings, 24 passed'
        $text | Should -Match '\| Fail \| SerialConsole \| .* \| /boot/grub/grub\.cfg:14 \|'
    }
}

Describe 'Nothing of this elsewhere' {
    It 'writes no host line and no summary without the variables' {
        $summary = Join-Path $TestDrive 'none.md'
        $r = Invoke-InHost @{ GITHUB_STEP_SUMMARY = $summary } { Test-LinuxImageReadiness -LiteralPath $sample }
        $r.Lines | Should -BeNullOrEmpty
        $r.Objects.Count | Should -BeGreaterThan 30
        $summary | Should -Not -Exist
    }

    It 'writes no host line with -NoPipelineLogging, whatever the variables say' {
        $summary = Join-Path $TestDrive 'off.md'
        $r = Invoke-InHost @{ TF_BUILD = 'True'; GITHUB_ACTIONS = 'true'; GITHUB_STEP_SUMMARY = $summary } { Test-LinuxImageReadiness -LiteralPath $sample -NoPipelineLogging }
        $r.Lines | Should -BeNullOrEmpty
        $summary | Should -Not -Exist
    }

    It 'writes no host line with AZURELINUXIMAGE_NO_PIPELINE_LOGGING set' {
        $r = Invoke-InHost @{ TF_BUILD = 'True'; AZURELINUXIMAGE_NO_PIPELINE_LOGGING = '1' } { Test-LinuxImageReadiness -LiteralPath $sample }
        $r.Lines | Should -BeNullOrEmpty
    }
}

Describe 'Copy-DiskImageToAzure registers its secrets first' {
    It 'under <Variable>: the SAS signature appears once, in the first line of pwsh''s stdout, and never again' -ForEach @(
        @{ Variable = 'TF_BUILD'; Value = 'True'; Prefix = '##vso[task.setsecret]'; Percent = '%AZP25' }
        @{ Variable = 'GITHUB_ACTIONS'; Value = 'true'; Prefix = '::add-mask::'; Percent = '%25' }
    ) {
        if (-not $azurite) { Set-ItResult -Skipped -Because 'Azurite is not installed (npm install --prefix /opt/azurite azurite@3.35.0)'; return }
        $name = "pester-$Variable.vhd"
        $url = "$($azurite.Base)/$($name)?$($azurite.Sas)"
        $script = "Import-Module '$modulePath'; Copy-DiskImageToAzure -LiteralPath '$sample' -Destination '$url' | ForEach-Object { 'dest=' + `$_.Destination }"
        $r = Invoke-TestPwsh -Script $script -Environment @{ $Variable = $Value }
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $sig = $azurite.Signature
        $decoded = [Uri]::UnescapeDataString($sig)
        $decoded | Should -Not -Be $sig
        $r.Lines[0] | Should -Be ($Prefix + $sig.Replace('%', $Percent))
        $r.Lines[1] | Should -Be ($Prefix + $decoded.Replace('%', $Percent))
        $all = $r.StdOut + $r.StdErr
        ([regex]::Matches($all, [regex]::Escape($r.Lines[0]))).Count | Should -Be 1
        $all.Contains($sig) | Should -BeFalse
        ([regex]::Matches($all, [regex]::Escape($decoded))).Count | Should -Be 1
        $r.Lines[-1] | Should -Be "dest=$($azurite.Base)/$name"
    }

    It 'registers a token given as -Credential before the command fails or writes anything else' {
        $r = Invoke-InHost @{ TF_BUILD = 'True' } {
            Copy-DiskImageToAzure -LiteralPath $sample -Destination 'http://127.0.0.1:9/acct/vhds/d.vhd' -Credential 'tok-e1f2a3b4c5d6' -ErrorAction SilentlyContinue -ErrorVariable failed
            $failed | ForEach-Object { "error: $_" }
        }
        $r.Lines[0] | Should -Be '##vso[task.setsecret]tok-e1f2a3b4c5d6'
        $r.Objects | Should -HaveCount 1
        "$($r.Objects)" | Should -Match 'https'
        "$($r.Objects)" | Should -Not -Match 'tok-e1f2a3b4c5d6'
    }

    It 'writes nothing for the host without the variables' {
        if (-not $azurite) { Set-ItResult -Skipped -Because 'Azurite is not installed'; return }
        $url = "$($azurite.Base)/pester-none.vhd?$($azurite.Sas)"
        $r = Invoke-TestPwsh -Script "Import-Module '$modulePath'; Copy-DiskImageToAzure -LiteralPath '$sample' -Destination '$url' | Out-Null; 'done'"
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.Lines | Should -Be @('done')
        ($r.StdOut + $r.StdErr).Contains([Uri]::UnescapeDataString($azurite.Signature)) | Should -BeFalse
    }
}

Describe 'Console progress (Write-Progress)' {
    It 'ConvertTo-FixedVhd reports bytes done, rate and time left, and closes its bar with one Completed record' {
        $out = Join-Path $TestDrive 'progress.vhd'
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $modulePath).AddStatement().AddCommand('ConvertTo-FixedVhd').AddParameter('LiteralPath', $sample).AddParameter('Destination', $out)
            $null = $ps.Invoke()
            $records = @($ps.Streams.Progress | Where-Object Activity -eq 'Converting to a fixed VHD')
            $records.Count | Should -BeGreaterThan 0
            @($records | Where-Object RecordType -eq 'Completed').Count | Should -Be 1
            $records[-1].RecordType | Should -Be 'Completed'
            $records[-1].StatusDescription | Should -Match '-> .*progress\.vhd: 40\.0 of 40\.0 MiB, [\d.]+ [KMG]?i?B/s, 00:00:00 left$'
            $records | ForEach-Object { $_.StatusDescription | Should -Match ' of [\d.]+ MiB, [\d.]+ [KMGT]?i?B/s, (\d\d:\d\d:\d\d|--:--:--) left$' }
        }
        finally { $ps.Dispose() }
    }
}
