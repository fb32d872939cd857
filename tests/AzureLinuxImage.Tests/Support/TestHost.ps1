# Helpers dot-sourced by Hosts.Tests.ps1, Samples.Tests.ps1 (issue 23) and Publish.Tests.ps1: a real Azurite blob service on
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

function Get-TestDiskHash([string] $Path) {
    # SHA-256 of a fixed VHD's disk data (all but the 512-byte footer, whose timestamp and unique id each
    # writer sets), after checking that the footer is one ("conectix", disk type 2 = fixed).
    $f = [IO.File]::OpenRead($Path)
    try {
        $footer = [byte[]]::new(512)
        $f.Position = $f.Length - 512; $f.ReadExactly($footer, 0, 512)
        if ([Text.Encoding]::ASCII.GetString($footer, 0, 8) -ne 'conectix' -or $footer[63] -ne 2) { throw "$Path does not end with a fixed VHD footer" }
        $sha = [Security.Cryptography.SHA256]::Create()
        $f.Position = 0
        $buffer = [byte[]]::new(1MB); $left = $f.Length - 512
        while ($left -gt 0) { $n = $f.Read($buffer, 0, [int][math]::Min($buffer.Length, $left)); $sha.TransformBlock($buffer, 0, $n, $null, 0) | Out-Null; $left -= $n }
        $sha.TransformFinalBlock([byte[]]::new(0), 0, 0) | Out-Null
        [Convert]::ToHexString($sha.Hash)
    }
    finally { $f.Dispose() }
}

function Get-TestBlobHash($Azurite, [string] $Name) {
    # The disk data hash (Get-TestDiskHash) of a blob read back from Azurite.
    $file = Join-Path $Azurite.Folder ([guid]::NewGuid().ToString('N'))
    Invoke-WebRequest -Uri "$($Azurite.Base)/$($Name)?$($Azurite.Sas)" -OutFile $file -UseBasicParsing
    try { Get-TestDiskHash $file } finally { Remove-Item -LiteralPath $file -Force }
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

# --- The samples' YAML: no YAML library here, so the samples keep a simple shape this reader checks strictly:
# "key: value", "key: |" blocks and nested mappings under a list of "- " steps. Anything else throws.

function Get-Indent([string] $Line) { $Line.Length - $Line.TrimStart().Length }

function ConvertFrom-SimpleMapping([string[]] $Lines) {
    $content = @($Lines | Where-Object { $_.Trim() -ne '' -and -not $_.TrimStart().StartsWith('#') })
    if (-not $content) { return [ordered]@{} }
    $base = ($content | ForEach-Object { Get-Indent $_ } | Measure-Object -Minimum).Minimum
    $map = [ordered]@{}
    for ($k = 0; $k -lt $Lines.Count; $k++) {
        $l = $Lines[$k]
        if ($l.Trim() -eq '' -or $l.TrimStart().StartsWith('#')) { continue }
        if ((Get-Indent $l) -ne $base -or $l -notmatch '^\s*([A-Za-z0-9_.@-]+):(?:\s+(.*))?$') { throw "Not a 'key: value' line at indentation ${base}: '$l'" }
        $key = $Matches[1]; $value = "$($Matches[2])".Trim()
        $children = @()
        while ($k + 1 -lt $Lines.Count -and ($Lines[$k + 1].Trim() -eq '' -or (Get-Indent $Lines[$k + 1]) -gt $base)) { $k++; $children += $Lines[$k] }
        if ($map.Contains($key)) { throw "Key '$key' twice" }
        if ($value -eq '|') {
            $first = $children | Where-Object { $_.Trim() -ne '' } | Select-Object -First 1
            $cut = Get-Indent $first
            $text = ($children | ForEach-Object { if ($_.Trim() -eq '') { '' } else { $_.Substring($cut) } }) -join "`n"
            $map[$key] = $text.TrimEnd("`n") + "`n"
        }
        elseif ($value -eq '') { $map[$key] = ConvertFrom-SimpleMapping $children }
        else {
            if (@($children | Where-Object { $_.Trim() -ne '' -and -not $_.TrimStart().StartsWith('#') }).Count) { throw "Scalar '$key' has children" }
            $map[$key] = $value -replace "^'(.*)'$", '$1' -replace '^"(.*)"$', '$1'
        }
    }
    $map
}

function Read-SampleSection([string] $Path, [string] $Name) {
    # A top-level mapping ("variables:", "env:") of the file.
    $lines = @(Get-Content -LiteralPath $Path)
    $i = [Array]::IndexOf($lines, "${Name}:")
    if ($i -lt 0) { throw "No top-level '${Name}:' in $Path" }
    $children = @()
    for ($n = $i + 1; $n -lt $lines.Count -and ($lines[$n].Trim() -eq '' -or (Get-Indent $lines[$n]) -gt 0); $n++) { $children += $lines[$n] }
    ConvertFrom-SimpleMapping $children
}

function Read-SampleSteps([string] $Path) {
    # The one "steps:" list of the file, each step as an ordered mapping.
    $lines = @(Get-Content -LiteralPath $Path)
    $starts = @(for ($n = 0; $n -lt $lines.Count; $n++) { if ($lines[$n] -match '^\s*steps:\s*$') { $n } })
    if ($starts.Count -ne 1) { throw "$Path must have exactly one 'steps:' list" }
    $stepsIndent = Get-Indent $lines[$starts[0]]
    $items = [System.Collections.Generic.List[object]]::new()
    $itemIndent = $null
    for ($n = $starts[0] + 1; $n -lt $lines.Count; $n++) {
        $line = $lines[$n]
        if ($line.Trim() -eq '' -or $line.TrimStart().StartsWith('#')) { if ($items.Count) { $items[-1].Add($line) }; continue }
        $indent = Get-Indent $line
        if ($line.TrimStart().StartsWith('- ') -and ($null -eq $itemIndent -or $indent -eq $itemIndent)) {
            $itemIndent = $indent
            $items.Add([System.Collections.Generic.List[string]]@((' ' * ($indent + 2)) + $line.TrimStart().Substring(2)))
            continue
        }
        if ($null -eq $itemIndent -or $indent -le $itemIndent) { break }
        $items[-1].Add($line)
    }
    foreach ($item in $items) { , (ConvertFrom-SimpleMapping $item.ToArray()) }
}
