# Helpers dot-sourced by Hosts.Tests.ps1 and Samples.Tests.ps1 (issue 23): a real Azurite blob service on
# 127.0.0.1 with an account SAS signed here, and child pwsh / bash processes run with exactly the CI-host
# variables a test sets (CI itself may run under Azure Pipelines or GitHub Actions).

$script:HostVariables = 'TF_BUILD', 'GITHUB_ACTIONS', 'GITHUB_STEP_SUMMARY', 'AZURELINUXIMAGE_NO_PIPELINE_LOGGING'

function Start-TestAzurite {
    # Azurite 3.35 (npm, /opt/azurite by .ci/run) in memory, on a free port, telemetry off. $null when absent.
    $exe = @($env:AZURITE_BLOB, '/opt/azurite/node_modules/.bin/azurite-blob') | Where-Object { $_ -and (Test-Path -LiteralPath $_) } | Select-Object -First 1
    if (-not $exe) { $exe = (Get-Command azurite-blob -ErrorAction SilentlyContinue).Source }
    if (-not $exe) { return $null }
    $dir = New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) ('azli-azurite-' + [guid]::NewGuid().ToString('N').Substring(0, 8)))
    for ($attempt = 0; $attempt -lt 3; $attempt++) {
        $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
        $log = Join-Path $dir "azurite-$port.log"
        $p = Start-Process -FilePath $exe -WorkingDirectory $dir -PassThru -RedirectStandardOutput $log -RedirectStandardError (Join-Path $dir "azurite-$port.err") -ArgumentList @(
            '--blobHost', '127.0.0.1', '--blobPort', "$port", '--inMemoryPersistence', '--loose', '--skipApiVersionCheck', '--disableProductStyleUrl', '--disableTelemetry')
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ([DateTime]::UtcNow -lt $deadline -and -not $p.HasExited -and -not ((Test-Path $log) -and (Get-Content -LiteralPath $log -Raw) -match 'successfully listen')) { Start-Sleep -Milliseconds 200 }
        if (-not $p.HasExited -and (Get-Content -LiteralPath $log -Raw) -match 'successfully listen') {
            $sas = New-TestAccountSas
            $base = "http://127.0.0.1:$port/devstoreaccount1/disks"
            Invoke-WebRequest -Method Put -Uri "$($base)?restype=container&$sas" -UseBasicParsing | Out-Null
            $sig = $sas.Substring($sas.IndexOf('sig=') + 4)
            return [pscustomobject]@{ Process = $p; Port = $port; Base = $base; Sas = $sas; Signature = $sig; Folder = $dir.FullName }
        }
        if (-not $p.HasExited) { $p.Kill($true) }
    }
    throw "Azurite at $exe did not start."
}

function Stop-TestAzurite($Azurite) {
    if ($Azurite) {
        if (-not $Azurite.Process.HasExited) { $Azurite.Process.Kill($true); $Azurite.Process.WaitForExit(10000) | Out-Null }
        Remove-Item -LiteralPath $Azurite.Folder -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function New-TestAccountSas {
    # Account SAS 2019-12-12 of Azurite's documented development account: HMAC-SHA256 over
    # account\npermissions\nservices\nresourceTypes\nstart\nexpiry\nip\nprotocol\nversion\n.
    $key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
    $toSign = (@('devstoreaccount1', 'rwdlac', 'b', 'sco', '', '2099-01-01T00:00:00Z', '', '', '2019-12-12', '') -join "`n")
    $hmac = [System.Security.Cryptography.HMACSHA256]::new([Convert]::FromBase64String($key))
    try { $sig = [Convert]::ToBase64String($hmac.ComputeHash([Text.Encoding]::UTF8.GetBytes($toSign))) } finally { $hmac.Dispose() }
    'sv=2019-12-12&ss=b&srt=sco&sp=rwdlac&se=' + [Uri]::EscapeDataString('2099-01-01T00:00:00Z') + '&sig=' + [Uri]::EscapeDataString($sig)
}

function Get-TestBlobHash($Azurite, [string] $Name) {
    # The blob's SHA-256, read back from Azurite.
    $file = Join-Path $Azurite.Folder ([guid]::NewGuid().ToString('N'))
    Invoke-WebRequest -Uri "$($Azurite.Base)/$($Name)?$($Azurite.Sas)" -OutFile $file -UseBasicParsing
    try { (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash } finally { Remove-Item -LiteralPath $file -Force }
}

function Invoke-TestProcess {
    # Runs a child process with the CI-host variables removed, then $Environment added; stdout and stderr lines.
    param([string] $FilePath, [string[]] $ArgumentList, [hashtable] $Environment = @{}, [string] $WorkingDirectory = $PWD.Path)
    $psi = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.RedirectStandardInput = $true; $psi.UseShellExecute = $false
    $psi.WorkingDirectory = $WorkingDirectory
    foreach ($v in $script:HostVariables) { $psi.Environment.Remove($v) | Out-Null }
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $p = [System.Diagnostics.Process]::Start($psi)
    $p.StandardInput.Close()
    $err = $p.StandardError.ReadToEndAsync()
    $out = $p.StandardOutput.ReadToEnd()
    if (-not $p.WaitForExit(600000)) { $p.Kill($true); throw "$FilePath did not finish in 10 minutes" }
    $p.WaitForExit()
    [pscustomobject]@{
        ExitCode = $p.ExitCode
        StdOut   = $out
        StdErr   = $err.Result
        Lines    = @($out -split "`r?`n" | Where-Object { $_ -ne '' })
    }
}

function Invoke-TestPwsh {
    # A fresh, non-interactive pwsh (the one running the tests) for a script text.
    param([string] $Script, [hashtable] $Environment = @{}, [string] $WorkingDirectory = $PWD.Path)
    $exe = [Environment]::ProcessPath
    [string[]] $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    Invoke-TestProcess -FilePath $exe -ArgumentList ($prefix + @('-NoLogo', '-NoProfile', '-NonInteractive', '-Command', $Script)) -Environment $Environment -WorkingDirectory $WorkingDirectory
}

function Test-IsPipelineCommand([string] $Line) {
    $Line.StartsWith('##vso[') -or $Line.StartsWith('##[') -or $Line.StartsWith('::')
}
