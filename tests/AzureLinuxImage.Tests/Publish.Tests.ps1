#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester 5: Publish-LinuxImage as PowerShell users meet it (issue 26), against the Resource Manager test double
# (tests/AzureLinuxImage.ArmDouble, HTTPS on 127.0.0.1 with a certificate it makes, trusted through
# SSL_CERT_FILE) whose disks are page blobs in a real Azurite, on the real Debian 12 image of
# build-debian-image.sh --azure-ready --bootable (AZLI_PUBLISH_IMAGES: a folder holding ready-gpt.raw instead).
BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    $script:dir = Join-Path ([System.IO.Path]::GetTempPath()) ("azli-publish-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $script:dir | Out-Null
    . (Join-Path $PSScriptRoot 'Support/TestHost.ps1')
    $script:problem = $null
    $isRoot = (& id -u) -eq '0'
    if (-not $env:AZURELINUXIMAGE_ARMDOUBLE -or -not (Test-Path $env:AZURELINUXIMAGE_ARMDOUBLE)) { $script:problem = 'the ARM test double is not built (AZURELINUXIMAGE_ARMDOUBLE)' }
    elseif (-not ($env:AZLI_PUBLISH_IMAGES -and (Test-Path (Join-Path $env:AZLI_PUBLISH_IMAGES 'ready-gpt.raw'))) -and (-not $isRoot -or -not (Get-Command debootstrap -ErrorAction SilentlyContinue))) { $script:problem = 'build-debian-image.sh needs root and debootstrap' }
    # Start-TestAzurite (Support/TestHost.ps1): $null when Azurite is not installed.
    elseif (-not ($script:azurite = Start-TestAzurite)) { $script:problem = 'Azurite is not installed' }
    if ($script:problem) {
        if ($env:CI -eq 'true') { throw "Publish.Tests.ps1 cannot run: $($script:problem)" }
        Import-Module $modulePath -Force
        return
    }

    $script:token = 'pester-arm-token-' + [guid]::NewGuid().ToString('N')
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in $env:AZURELINUXIMAGE_ARMDOUBLE, '--azurite', "http://127.0.0.1:$($script:azurite.Port)/", '--token', $script:token, '--dir', $script:dir) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardInput = $true
    $psi.UseShellExecute = $false
    $script:double = [System.Diagnostics.Process]::Start($psi)
    $info = $script:double.StandardOutput.ReadLine() | ConvertFrom-Json
    $script:arm = [uri]$info.url
    $script:subscription = $info.subscription
    $script:ca = $info.ca
    Import-Module $modulePath -Force

    $script:image = if ($env:AZLI_PUBLISH_IMAGES -and (Test-Path (Join-Path $env:AZLI_PUBLISH_IMAGES 'ready-gpt.raw'))) { Join-Path $env:AZLI_PUBLISH_IMAGES 'ready-gpt.raw' } else {
        $out = Join-Path $script:dir 'ready-gpt.raw'
        & bash (Join-Path $PSScriptRoot '../fixtures/build-debian-image.sh') $out --azure-ready --bootable | Out-Null
        if ($LASTEXITCODE -ne 0) { throw 'build-debian-image.sh failed' }
        $out
    }
    # A copy that fails a readiness rule (SudoersTargetPw): copied sparse, changed with the module's own writer.
    $script:broken = Join-Path $script:dir 'broken.raw'
    & cp --sparse=always $script:image $script:broken
    Set-LinuxImageContent -LiteralPath $script:broken -ItemPath /etc/sudoers.d/zz-targetpw -Value 'Defaults targetpw'

    # The test's own look at the double (its record of calls and resources) skips the certificate check;
    # the module under test trusts the double only through SSL_CERT_FILE.
    function script:Get-DoubleCalls { @(Invoke-RestMethod -SkipCertificateCheck -Uri ([uri]::new($script:arm, '_double/calls'))) }
    function script:Get-DoubleState { Invoke-RestMethod -SkipCertificateCheck -Uri ([uri]::new($script:arm, '_double/state')) }
    $script:common = "-ResourceManagerUrl '$($script:arm)' -Credential '$($script:token)' -SubscriptionId '$($script:subscription)' -ResourceGroupName rg -Location westeurope"

    # Publish-LinuxImage in a child pwsh (the same PowerShell as this one) whose environment has SSL_CERT_FILE:
    # .NET on Linux reads its root store from the native environment, which $env: does not change in this process.
    # Returns the host output (What if: lines) and, as JSON, the result, its default view, errors and warnings.
    function script:Invoke-Publish([string] $Arguments) {
        $command = @"
Import-Module '$modulePath'
`$r = Publish-LinuxImage $Arguments -ErrorVariable e -ErrorAction SilentlyContinue -WarningVariable w -WarningAction SilentlyContinue
'=====JSON====='
[pscustomobject]@{ Result = `$r; View = (`$r | Out-String); Errors = @(`$e | ForEach-Object { [pscustomobject]@{ Id = `$_.FullyQualifiedErrorId; Category = "`$(`$_.CategoryInfo.Category)"; Target = "`$(`$_.TargetObject)"; Message = `$_.Exception.Message } }); Warnings = @(`$w | ForEach-Object { "`$_" }) } | ConvertTo-Json -Depth 8
"@
        $r = Invoke-TestPwsh -Script $command -Environment @{ SSL_CERT_FILE = $script:ca }
        $parts = $r.StdOut -split '=====JSON=====', 2
        if ($parts.Count -lt 2) { throw "child pwsh failed: $($r.StdOut) $($r.StdErr)" }
        $json = $parts[1] | ConvertFrom-Json
        $json | Add-Member Host $parts[0]
        $json | Add-Member Stderr $r.StdErr
        $json
    }
}

AfterAll {
    if ($script:double) { $script:double.StandardInput.Close(); if (-not $script:double.WaitForExit(10000)) { $script:double.Kill($true) } }
    Stop-TestAzurite $script:azurite
    Remove-Item -LiteralPath $script:dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Publish-LinuxImage' {
    It 'binds -Path, -LiteralPath (PSPath), takes -Credential as an object and declares its output type' {
        $cmd = Get-Command Publish-LinuxImage
        $cmd.OutputType.Name | Should -Contain 'AzureLinuxImage.Operations.LinuxImagePublishResult'
        $cmd.Parameters['LiteralPath'].Aliases | Should -Contain 'PSPath'
        $cmd.Parameters['Credential'].ParameterType | Should -Be ([object])
        $cmd.Parameters['Environment'].Attributes.ValidValues | Should -Be @('AzureCloud', 'AzureChinaCloud', 'AzureUSGovernment')
        $cmd.Parameters['OperationTimeout'].ParameterType | Should -Be ([timespan])
        (Get-Help Publish-LinuxImage -Examples).Examples.Example.Count | Should -BeGreaterThan 0
    }

    It 'publishes the Debian image to a disk, an image and a gallery version, features with their evidence' {
        if ($script:problem) { Set-ItResult -Skipped -Because $script:problem; return }
        $run = Invoke-Publish "-LiteralPath '$($script:image)' $($script:common) -DiskName ps-disk -ImageName ps-img -GalleryName psgal -GalleryImageDefinition debian12 -GalleryImageVersion 1.0.0 -Publisher contoso -Offer debian -Sku 12 -TargetRegion @{ Name = 'westeurope'; ReplicaCount = 2 }, 'northeurope=1'"
        $run.Errors | Should -BeNullOrEmpty
        $result = $run.Result
        $prefix = "/subscriptions/$($script:subscription)/resourceGroups/rg/providers/Microsoft.Compute"
        $result.DiskId | Should -Be "$prefix/disks/ps-disk"
        $result.ImageId | Should -Be "$prefix/images/ps-img"
        $result.GalleryImageVersionId | Should -Be "$prefix/galleries/psgal/images/debian12/versions/1.0.0"
        $result.Features.HyperVGeneration.Value | Should -Be 'V2'
        $result.Features.Architecture.Value | Should -Be 'x64'
        foreach ($f in $result.Features.All) { $f.Evidence | Should -Not -BeNullOrEmpty }
        $result.Steps.Name | Should -Contain 'Upload'
        $state = Get-DoubleState
        $state."$prefix/disks/ps-disk".properties.diskState | Should -Be 'Unattached'
        $regions = $state."$prefix/galleries/psgal/images/debian12/versions/1.0.0".properties.publishingProfile.targetRegions
        ($regions | Where-Object name -eq 'westeurope').regionalReplicaCount | Should -Be 2
        ($regions | Where-Object name -eq 'northeurope').regionalReplicaCount | Should -Be 1
        # The default view names the features and steps; no SAS or token anywhere in it.
        $text = $run.View + $run.Host + $run.Stderr
        $text | Should -Match 'HyperVGeneration=V2'
        $text | Should -Match 'Upload'
        $text | Should -Not -Match 'sig='
        $text | Should -Not -Match ([regex]::Escape($script:token))
    }

    It 'with -WhatIf lists the calls and makes none' {
        if ($script:problem) { Set-ItResult -Skipped -Because $script:problem; return }
        $before = (Get-DoubleCalls).Count
        $run = Invoke-Publish "-LiteralPath '$($script:image)' $($script:common) -DiskName whatif-disk -ImageName whatif-img -WhatIf"
        $run.Errors | Should -BeNullOrEmpty
        $run.Result | Should -BeNullOrEmpty
        $out = $run.Host
        (Get-DoubleCalls).Count | Should -Be $before
        $out | Should -Match 'What if'
        $out | Should -Match 'PUT /subscriptions/.*/disks/whatif-disk'
        $out | Should -Match 'beginGetAccess'
        $out | Should -Match 'PUT /subscriptions/.*/images/whatif-img'
    }

    It 'binds -OperationTimeout (the plan shows it, -WhatIf still makes no call) and refuses zero before any call' {
        if ($script:problem) { Set-ItResult -Skipped -Because $script:problem; return }
        $before = (Get-DoubleCalls).Count
        $run = Invoke-Publish "-LiteralPath '$($script:image)' $($script:common) -DiskName timeout-disk -OperationTimeout (New-TimeSpan -Minutes 90) -WhatIf"
        $run.Errors | Should -BeNullOrEmpty
        $run.Result | Should -BeNullOrEmpty
        $run.Host | Should -Match 'What if'
        $run.Host | Should -Match 'at most 1:30:00 each'
        $run = Invoke-Publish "-LiteralPath '$($script:image)' $($script:common) -DiskName timeout-disk -OperationTimeout '00:00:45' -WhatIf"
        $run.Host | Should -Match 'at most 45.0 s each'
        (Get-DoubleCalls).Count | Should -Be $before
        $run = Invoke-Publish "-LiteralPath '$($script:image)' $($script:common) -DiskName timeout-disk -OperationTimeout 0"
        $run.Result | Should -BeNullOrEmpty
        @($run.Errors).Count | Should -Be 1
        $run.Errors[0].Id | Should -Be 'InvalidOperationTimeout,AzureLinuxImage.Commands.PublishLinuxImageCommand'
        $run.Errors[0].Category | Should -Be 'InvalidArgument'
        $run.Errors[0].Message | Should -Match '-OperationTimeout'
        (Get-DoubleCalls).Count | Should -Be $before
    }

    It 'refuses an image that fails readiness with ImageNotReady (no call), and -Force overrides it' {
        if ($script:problem) { Set-ItResult -Skipped -Because $script:problem; return }
        $before = (Get-DoubleCalls).Count
        $run = Invoke-Publish "-LiteralPath '$($script:broken)' $($script:common) -DiskName broken-disk"
        $run.Result | Should -BeNullOrEmpty
        @($run.Errors).Count | Should -Be 1
        $run.Errors[0].Id | Should -Be 'ImageNotReady,AzureLinuxImage.Commands.PublishLinuxImageCommand'
        $run.Errors[0].Category | Should -Be 'InvalidArgument'
        $run.Errors[0].Target | Should -Be $script:broken
        $run.Errors[0].Message | Should -Match 'SudoersTargetPw'
        (Get-DoubleCalls).Count | Should -Be $before
        $run = Invoke-Publish "-LiteralPath '$($script:broken)' $($script:common) -DiskName broken-disk -Force -WhatIf"
        $run.Errors | Should -BeNullOrEmpty
        "$($run.Warnings)" | Should -Match 'SudoersTargetPw'
        $run.Host | Should -Match 'What if'
        (Get-DoubleCalls).Count | Should -Be $before
    }

    It 'refuses a gallery definition declaring V1 for a V2 image before creating the disk' {
        if ($script:problem) { Set-ItResult -Skipped -Because $script:problem; return }
        $prefix = "/subscriptions/$($script:subscription)/resourceGroups/rg/providers/Microsoft.Compute"
        $headers = @{ Authorization = "Bearer $($script:token)" }
        Invoke-RestMethod -SkipCertificateCheck -Method Put -Uri ([uri]::new($script:arm, "$prefix/galleries/g1?api-version=2023-07-03")) -Headers $headers -ContentType 'application/json' -Body '{"location":"westeurope","properties":{}}' | Out-Null
        Invoke-RestMethod -SkipCertificateCheck -Method Put -Uri ([uri]::new($script:arm, "$prefix/galleries/g1/images/gen1?api-version=2023-07-03")) -Headers $headers -ContentType 'application/json' -Body '{"location":"westeurope","properties":{"osType":"Linux","osState":"Specialized","hyperVGeneration":"V1","identifier":{"publisher":"p","offer":"o","sku":"s"}}}' | Out-Null
        $run = Invoke-Publish "-LiteralPath '$($script:image)' $($script:common) -DiskName mismatch-disk -GalleryName g1 -GalleryImageDefinition gen1 -GalleryImageVersion 1.0.0"
        $run.Errors[0].Id | Should -Be 'DefinitionMismatch,AzureLinuxImage.Commands.PublishLinuxImageCommand'
        $run.Errors[0].Message | Should -Match 'declares V1, the image is V2'
        (Get-DoubleState).PSObject.Properties.Name | Should -Not -Contain "$prefix/disks/mismatch-disk"
    }
}
