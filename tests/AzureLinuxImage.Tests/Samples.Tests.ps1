#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The samples of issue 23 run, so they cannot rot: samples/azure-pipelines.yml and samples/github-workflow.yml are
# read (Support/TestHost.ps1's strict reader; no YAML library here), their structure asserted, and their script
# steps run as the agent / runner would (pwsh with $ErrorActionPreference Stop, bash -eo pipefail) under
# TF_BUILD=True / GITHUB_ACTIONS=true, against a real Azurite and stand-ins for the Az cmdlets and az, which
# record their calls. samples/Convert-AndUpload.runbook.ps1 runs the same way in a non-interactive pwsh.
# The one step not run is each sample's build of the module/CLI: the suite uses the module and CLI built for it.

BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    $modulePath = (Resolve-Path $modulePath).Path
    Import-Module $modulePath -Force
    . (Join-Path $PSScriptRoot 'Support/TestHost.ps1')
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $samples = Join-Path $repo 'samples'
    $azurite = Start-TestAzurite
    $cli = $env:AZURELINUXIMAGE_CLI
    if (-not $cli) { $cli = Join-Path $repo 'src/AzureLinuxImage.Cli/bin/Release/net10.0/azlinux.dll' }

    # Stand-ins for the Az cmdlets the pipeline's AzurePowerShell@5 step and the runbook call. They take only the
    # parameters the samples pass (a misspelt one fails binding) and log each call; the disk's upload URL is Azurite's.
    $azStandIns = @'
function Connect-AzAccount { param([switch] $Identity) Add-Content -LiteralPath $env:STANDIN_LOG "Connect-AzAccount Identity=$Identity"; [pscustomobject]@{ Account = 'stand-in' } }
function New-AzDiskConfig { param([string] $Location, [string] $CreateOption, [long] $UploadSizeInBytes, [string] $OsType)
    [pscustomobject]@{ Location = $Location; CreateOption = $CreateOption; UploadSizeInBytes = $UploadSizeInBytes; OsType = $OsType } }
function New-AzDisk { param([string] $ResourceGroupName, [string] $DiskName, $Disk)
    Add-Content -LiteralPath $env:STANDIN_LOG "New-AzDisk $ResourceGroupName $DiskName $($Disk.CreateOption) $($Disk.UploadSizeInBytes) $($Disk.OsType) $($Disk.Location)"; [pscustomobject]@{ Name = $DiskName } }
function Grant-AzDiskAccess { param([string] $ResourceGroupName, [string] $DiskName, [string] $Access, [int] $DurationInSecond)
    Add-Content -LiteralPath $env:STANDIN_LOG "Grant-AzDiskAccess $ResourceGroupName $DiskName $Access $DurationInSecond"; [pscustomobject]@{ AccessSAS = $env:STANDIN_SAS_URL } }
function Revoke-AzDiskAccess { param([string] $ResourceGroupName, [string] $DiskName) Add-Content -LiteralPath $env:STANDIN_LOG "Revoke-AzDiskAccess $ResourceGroupName $DiskName" }
'@

    function New-Checkout {
        # What a checkout of the repository holds for the samples: the sample image at samples/sample.vhd.
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path (Join-Path $dir 'samples') -Force | Out-Null
        Copy-Item -LiteralPath (Join-Path $samples 'sample.vhd') -Destination (Join-Path $dir 'samples/sample.vhd')
        $dir
    }

    function Get-BlobLength([string] $Name) {
        [long](Invoke-WebRequest -Method Head -Uri "$($azurite.Base)/$($Name)?$($azurite.Sas)" -UseBasicParsing).Headers['Content-Length'][0]
    }

    function Assert-SecretFirst($Result, [string] $Prefix, [string] $Percent) {
        # The SAS signature given to the upload: registered in the step's first two lines, nowhere else.
        $sig = $azurite.Signature
        $decoded = [Uri]::UnescapeDataString($sig)
        $Result.Lines[0] | Should -Be ($Prefix + $sig.Replace('%', $Percent))
        $Result.Lines[1] | Should -Be ($Prefix + $decoded.Replace('%', $Percent))
        $all = $Result.StdOut + $Result.StdErr
        $all.Contains($sig) | Should -BeFalse
        ([regex]::Matches($all, [regex]::Escape($decoded))).Count | Should -Be 1
    }
}

AfterAll {
    Stop-TestAzurite $azurite
}

Describe 'samples/azure-pipelines.yml' {
    BeforeAll {
        $file = Join-Path $samples 'azure-pipelines.yml'
        $steps = @(Read-SampleSteps $file)
        $variables = Read-SampleSection $file 'variables'
    }

    It 'has the steps the README describes: build, convert and fix, test, publish the JUnit results, upload through the service connection' {
        $steps.Count | Should -Be 5
        $steps[0].pwsh | Should -Be './build.ps1 -SkipTests'
        $steps[0].displayName | Should -Be 'Build the module'
        $steps[1].pwsh | Should -Match 'ConvertTo-FixedVhd'
        $steps[2].pwsh | Should -Match 'Test-LinuxImageReadiness'
        $steps[2].pwsh | Should -Match ([regex]::Escape('Export-ReadinessReport -Format JUnit -Path "$env:COMMON_TESTRESULTSDIRECTORY/readiness.xml"'))
        $steps[3].task | Should -Be 'PublishTestResults@2'
        $steps[3].condition | Should -Be 'always()'
        $steps[3].inputs.testResultsFormat | Should -Be 'JUnit'
        $steps[3].inputs.testResultsFiles | Should -Be '$(Common.TestResultsDirectory)/readiness.xml'
        $steps[4].task | Should -Be 'AzurePowerShell@5'
        $steps[4].inputs.azureSubscription | Should -Be '$(serviceConnection)'
        $steps[4].inputs.ScriptType | Should -Be 'InlineScript'
        $steps[4].inputs.pwsh | Should -Be 'true'
        $steps[4].inputs.Inline | Should -Match 'Copy-DiskImageToAzure -LiteralPath \$vhd -Destination \$access.AccessSAS'
        $variables.AZURELINUXIMAGE_MODULE | Should -Be '$(Build.SourcesDirectory)/out/AzureLinuxImage/AzureLinuxImage.psd1'
        foreach ($s in $steps[1..2] + @($steps[4].inputs)) {
            $text = if ($s.Contains('Inline')) { $s.Inline } else { $s.pwsh }
            # Every script step parses as PowerShell.
            $errors = $null; [void][System.Management.Automation.Language.Parser]::ParseInput($text, [ref]$null, [ref]$errors)
            $errors | Should -BeNullOrEmpty
        }
    }

    It 'runs its script steps under TF_BUILD=True: a ready image, 0 failures in the JUnit file, the disk uploaded with its SAS masked' {
        if (-not $azurite) { Set-ItResult -Skipped -Because 'Azurite is not installed (npm install --prefix /opt/azurite azurite@3.35.0)'; return }
        $checkout = New-Checkout
        $staging = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'a') -Force
        $results = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'TestResults') -Force
        $log = Join-Path $TestDrive 'ado-standins.log'
        $environment = @{}
        # Pipeline variables reach scripts as environment variables, upper-cased with '.' as '_'.
        foreach ($k in $variables.Keys) { $environment[$k.ToUpperInvariant().Replace('.', '_')] = $variables[$k].Replace('$(Build.SourcesDirectory)', $checkout) }
        $environment.AZURELINUXIMAGE_MODULE = $modulePath   # the module this suite tests, instead of the build step's out/
        $environment.TF_BUILD = 'True'
        $environment.BUILD_SOURCESDIRECTORY = $checkout
        $environment.BUILD_ARTIFACTSTAGINGDIRECTORY = $staging.FullName
        $environment.COMMON_TESTRESULTSDIRECTORY = $results.FullName
        $environment.STANDIN_LOG = $log
        $environment.STANDIN_SAS_URL = "$($azurite.Base)/ado-disk.vhd?$($azurite.Sas)"

        $outputs = foreach ($step in $steps[1..2]) {
            $r = Invoke-TestPwsh -Script ("`$ErrorActionPreference = 'Stop'`n" + $step.pwsh) -Environment $environment -WorkingDirectory $checkout
            $r.ExitCode | Should -Be 0 -Because "$($step.displayName): $($r.StdErr)$($r.StdOut)"
            $r
        }
        $junit = [xml](Get-Content -LiteralPath (Join-Path $results 'readiness.xml') -Raw)
        $junit.testsuites.failures | Should -Be '0'
        [int]$junit.testsuites.tests | Should -BeGreaterThan 30
        @($outputs[1].Lines | Where-Object { $_.StartsWith('##vso[task.logissue type=error') }) | Should -BeNullOrEmpty
        $outputs[1].Lines | Should -Contain '##vso[task.setprogress value=100;]Testing Linux image readiness'

        $upload = Invoke-TestPwsh -Script ("`$ErrorActionPreference = 'Stop'`n" + $azStandIns + "`n" + $steps[4].inputs.Inline) -Environment $environment -WorkingDirectory $checkout
        $upload.ExitCode | Should -Be 0 -Because ($upload.StdErr + $upload.StdOut)
        Assert-SecretFirst $upload '##vso[task.setsecret]' '%AZP25'
        $vhd = Join-Path $staging 'disk.vhd'
        $length = (Get-Item -LiteralPath $vhd).Length
        Get-Content -LiteralPath $log | Should -Be @(
            "New-AzDisk images-rg sample-linux-os Upload $length Linux westeurope"
            'Grant-AzDiskAccess images-rg sample-linux-os Write 86400'
            'Revoke-AzDiskAccess images-rg sample-linux-os')
        Get-BlobLength 'ado-disk.vhd' | Should -Be $length
        Get-TestBlobHash $azurite 'ado-disk.vhd' | Should -Be (Get-TestDiskHash $vhd)
        (Get-FileHash -LiteralPath (Join-Path $checkout 'samples/sample.vhd')).Hash | Should -Be (Get-FileHash -LiteralPath (Join-Path $samples 'sample.vhd')).Hash
    }
}

Describe 'samples/github-workflow.yml' {
    BeforeAll {
        $file = Join-Path $samples 'github-workflow.yml'
        $steps = @(Read-SampleSteps $file)
        $workflowEnv = Read-SampleSection $file 'env'
    }

    It 'has the steps the README describes: checkout, .NET, build azlinux, convert and fix, test, OIDC login, upload' {
        $steps.Count | Should -Be 7
        $steps[0].uses | Should -Be 'actions/checkout@v4'
        $steps[1].uses | Should -Be 'actions/setup-dotnet@v4'
        $steps[1].with.'dotnet-version' | Should -Be '10.0.x'
        $steps[2].name | Should -Be 'Build azlinux'
        $steps[2].run | Should -Match 'dotnet publish src/AzureLinuxImage.Cli -c Release -o "\$RUNNER_TEMP/azlinux"'
        $steps[2].run | Should -Match '>> "\$GITHUB_PATH"'
        $steps[5].uses | Should -Be 'azure/login@v2'
        $steps[5].with.'client-id' | Should -Be '${{ secrets.AZURE_CLIENT_ID }}'
        @($steps | Where-Object { $_.Contains('run') } | ForEach-Object { $_.shell }) | Should -Be @('bash', 'bash', 'bash', 'bash')
        $steps[3].run | Should -Match 'azlinux convert'
        $steps[4].run | Should -Match 'azlinux test out/disk.vhd --junit out/readiness.xml'
        $steps[6].run | Should -Match 'azlinux upload out/disk.vhd "\$sas"'
        $workflowEnv.IMAGE | Should -Be 'samples/sample.vhd'
    }

    It 'runs its run steps under GITHUB_ACTIONS=true: a ready image, the job summary, the disk uploaded with its SAS masked' {
        if (-not $azurite) { Set-ItResult -Skipped -Because 'Azurite is not installed (npm install --prefix /opt/azurite azurite@3.35.0)'; return }
        $checkout = New-Checkout
        $bin = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'standin-bin') -Force
        # azlinux as the build step would put it on PATH, and a stand-in az that logs its calls.
        Set-Content -LiteralPath (Join-Path $bin 'azlinux') -Value "#!/bin/sh`nexec dotnet '$cli' `"`$@`"`n"
        Set-Content -LiteralPath (Join-Path $bin 'az') -Value @'
#!/bin/bash
echo "az $*" >> "$STANDIN_LOG"
case "$1 $2" in
  "disk create"|"disk revoke-access") ;;
  "disk grant-access") echo "$STANDIN_SAS_URL" ;;
  *) echo "stand-in az: unexpected: $*" >&2; exit 2 ;;
esac
'@
        & chmod +x (Join-Path $bin 'azlinux') (Join-Path $bin 'az')
        $summary = Join-Path $TestDrive 'step-summary.md'
        $log = Join-Path $TestDrive 'gh-standins.log'
        $environment = @{}
        foreach ($k in $workflowEnv.Keys) { $environment[$k] = $workflowEnv[$k] }
        $environment.GITHUB_ACTIONS = 'true'
        $environment.GITHUB_STEP_SUMMARY = $summary
        $environment.RUNNER_TEMP = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'runner-temp') -Force).FullName
        $environment.PATH = "$($bin.FullName):$env:PATH"
        $environment.STANDIN_LOG = $log
        $environment.STANDIN_SAS_URL = "$($azurite.Base)/gh-disk.vhd?$($azurite.Sas)"

        $outputs = foreach ($step in $steps[3, 4, 6]) {
            $script = Join-Path $TestDrive ("step-" + [guid]::NewGuid().ToString('N').Substring(0, 6) + '.sh')
            Set-Content -LiteralPath $script -Value $step.run
            # GitHub's documented bash invocation for shell: bash.
            $r = Invoke-TestProcess -FilePath 'bash' -ArgumentList @('--noprofile', '--norc', '-eo', 'pipefail', $script) -Environment $environment -WorkingDirectory $checkout
            $r.ExitCode | Should -Be 0 -Because "$($step.name): $($r.StdErr)$($r.StdOut)"
            $r
        }
        ([xml](Get-Content -LiteralPath (Join-Path $checkout 'out/readiness.xml') -Raw)).testsuites.failures | Should -Be '0'
        $outputs[1].StdOut | Should -Match '0 failed, 0 warnings'
        @($outputs[1].Lines | Where-Object { $_.StartsWith('::error') }) | Should -BeNullOrEmpty
        Get-Content -LiteralPath $summary -Raw | Should -Match '^# Azure readiness of out/disk\.vhd\r?\n\r?\n0 failed, 0 warnings, '

        Assert-SecretFirst $outputs[2] '::add-mask::' '%25'
        $vhd = Join-Path $checkout 'out/disk.vhd'
        $length = (Get-Item -LiteralPath $vhd).Length
        $calls = @(Get-Content -LiteralPath $log)
        $calls[0] | Should -Be "az disk create -g images-rg -n sample-linux-os -l westeurope --upload-type Upload --upload-size-bytes $length --os-type Linux -o none"
        $calls[1] | Should -Be 'az disk grant-access -g images-rg -n sample-linux-os --access-level Write --duration-in-seconds 86400 --query accessSas -o tsv'
        $calls[2] | Should -Be 'az disk revoke-access -g images-rg -n sample-linux-os -o none'
        Get-BlobLength 'gh-disk.vhd' | Should -Be $length
        Get-TestBlobHash $azurite 'gh-disk.vhd' | Should -Be (Get-TestDiskHash $vhd)
    }
}

Describe 'samples/Convert-AndUpload.runbook.ps1' {
    BeforeAll {
        $runbook = Join-Path $samples 'Convert-AndUpload.runbook.ps1'
        # The runbook imports the module by name, as Automation does with an imported module.
        $modulesRoot = Split-Path (Split-Path $modulePath)
        function Invoke-Runbook([string] $Image, [string] $Blob, [string] $Log, [string] $Temp, [switch] $Skip) {
            $call = "& '$runbook' -ImagePath '$Image' -ResourceGroupName images-rg -DiskName runbook-disk -Location westeurope" + $(if ($Skip) { ' -SkipReadinessCheck' } else { '' })
            $call = "try { $call | ForEach-Object { 'uploaded=' + `$_.Destination + ' ' + `$_.BlobLength } } catch { 'error=' + `$_.Exception.Message; exit 1 }"
            Invoke-TestPwsh -Script ($azStandIns + "`n" + $call) -Environment @{
                PSModulePath = $modulesRoot; STANDIN_LOG = $Log; STANDIN_SAS_URL = "$($azurite.Base)/$($Blob)?$($azurite.Sas)"; TMPDIR = $Temp; TEMP = $Temp; TMP = $Temp
            }
        }
    }

    It 'parses and declares the parameters Automation shows' {
        $errors = $null; $ast = [System.Management.Automation.Language.Parser]::ParseFile($runbook, [ref]$null, [ref]$errors)
        $errors | Should -BeNullOrEmpty
        $ast.ParamBlock.Parameters.Name.VariablePath.UserPath | Should -Be @('ImagePath', 'ResourceGroupName', 'DiskName', 'Location', 'SkipReadinessCheck')
        Get-Content -LiteralPath $runbook -Raw | Should -Match 'Connect-AzAccount -Identity'
    }

    It 'refuses an image that fails a readiness rule before creating anything' {
        $image = Join-Path (New-Checkout) 'samples/sample.vhd'
        $log = Join-Path $TestDrive 'runbook-refused.log'
        $r = Invoke-Runbook -Image $image -Blob 'refused.vhd' -Log $log -Temp (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'tmp-refused') -Force).FullName
        $r.ExitCode | Should -Not -Be 0
        $r.Lines[-1] | Should -Match '^error=.*sample\.vhd is not ready for Azure \(8 rules fail: FixedVhd, SizeWholeMiB, .*\)\. Fix it'
        $log | Should -Not -Exist
    }

    It 'uploads with the managed identity, converting on the fly: no temporary copy, the disk exactly the upload size' {
        if (-not $azurite) { Set-ItResult -Skipped -Because 'Azurite is not installed (npm install --prefix /opt/azurite azurite@3.35.0)'; return }
        $images = Split-Path (Join-Path (New-Checkout) 'samples/sample.vhd')
        $image = Join-Path $images 'sample.vhd'
        $temp = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'tmp-runbook') -Force).FullName
        $log = Join-Path $TestDrive 'runbook.log'
        $r = Invoke-Runbook -Image $image -Blob 'runbook.vhd' -Log $log -Temp $temp -Skip
        $r.ExitCode | Should -Be 0 -Because ($r.StdErr + $r.StdOut)
        $length = Get-BlobLength 'runbook.vhd'
        $r.Lines[-1] | Should -Be "uploaded=$($azurite.Base)/runbook.vhd $length"
        Get-Content -LiteralPath $log | Should -Be @(
            'Connect-AzAccount Identity=True'
            "New-AzDisk images-rg runbook-disk Upload $length Linux westeurope"
            'Grant-AzDiskAccess images-rg runbook-disk Write 86400'
            'Revoke-AzDiskAccess images-rg runbook-disk')
        # The blob is the very disk ConvertTo-FixedVhd writes, and nothing was written beside the image or in TMPDIR.
        $converted = ConvertTo-FixedVhd -LiteralPath $image -Destination (Join-Path $TestDrive 'runbook-reference.vhd')
        Get-TestBlobHash $azurite 'runbook.vhd' | Should -Be (Get-TestDiskHash $converted.Path)
        @(Get-ChildItem -LiteralPath $images -Force).Name | Should -Be @('sample.vhd')
        @(Get-ChildItem -LiteralPath $temp -Force -Recurse) | Should -BeNullOrEmpty
    }
}
