# Runs Pester 5 for the xUnit harness (PesterSuites.cs) and writes what it found as JSON.
#   -Path: one file, or several joined by the platform's path separator (':' or ';').
#   -Discover: every test of every -Path file, not run (the harness makes one xUnit case of each).
#   otherwise: runs the one -Path file, Output Detailed to stdout, results to -ResultPath.
# A test is keyed by file, block path and its ordinal among tests of the same path (-ForEach data
# gives several tests one path), so a discovered case finds its run result without expanded names.
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Path,
    [Parameter(Mandatory)] [string] $PesterModule,
    [Parameter(Mandatory)] [string] $ResultPath,
    [switch] $Discover
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $PesterModule -Force

function Get-Message($ErrorRecords) {
    @($ErrorRecords | Where-Object { $_ } | ForEach-Object {
        $text = "$($_.Exception.GetType().FullName): $($_.Exception.Message)"
        if ($_.ScriptStackTrace) { $text += "`n" + $_.ScriptStackTrace }
        $text
    }) -join "`n`n"
}

# Expands '<name>' templates from a test's -ForEach data, as Pester does when it runs the test.
function Get-DisplayName($Test) {
    $name = $Test.Name
    $data = $Test.Data
    if ($data -is [System.Collections.IDictionary]) {
        foreach ($k in $data.Keys) { $name = $name.Replace("<$k>", "$($data[$k])") }
    }
    elseif ($null -ne $data) { $name = $name.Replace('<_>', "$data") }
    (@($Test.Block.Path | Where-Object { $_ }) + $name) -join ' > '
}

$config = New-PesterConfiguration
$config.Run.Path = $Path.Split([System.IO.Path]::PathSeparator)
$config.Run.PassThru = $true
$config.Run.SkipRun = [bool] $Discover
$config.Run.Exit = $false
$config.Output.Verbosity = if ($Discover) { 'None' } else { 'Detailed' }
$config.Output.StackTraceVerbosity = 'Filtered'
$run = Invoke-Pester -Configuration $config

$containers = foreach ($c in $run.Containers) {
    $file = "$($c.Item)"
    $seen = @{}
    $tests = foreach ($t in $run.Tests | Where-Object { "$($_.Block.BlockContainer.Item)" -eq $file }) {
        $path = $t.Path -join ' > '
        $seen[$path] = 1 + [int] $seen[$path]
        $message = Get-Message $t.ErrorRecord
        if ($t.Result -eq 'Failed' -and -not $message) {
            # A failed BeforeAll/BeforeEach fails the tests under it; its error sits on the block.
            for ($b = $t.Block; $b -and -not $message; $b = $b.Parent) { $message = Get-Message $b.ErrorRecord }
        }
        [ordered]@{
            Key = if ($seen[$path] -gt 1) { "$path #$($seen[$path])" } else { $path }
            Name = Get-DisplayName $t
            Result = "$($t.Result)"
            Message = $message
            DurationMs = [long] $t.Duration.TotalMilliseconds
        }
    }
    # BeforeAll/AfterAll errors at any depth, and a file that fails to load (container error).
    $blockErrors = [System.Collections.Generic.List[string]]::new()
    $pending = [System.Collections.Generic.Queue[object]]::new()
    foreach ($b in $c.Blocks) { $pending.Enqueue($b) }
    while ($pending.Count) {
        $b = $pending.Dequeue()
        $m = Get-Message $b.ErrorRecord
        if ($m) { $blockErrors.Add("$($b.Path -join ' > '): $m") }
        foreach ($child in $b.Blocks) { $pending.Enqueue($child) }
    }
    [ordered]@{
        File = $file
        Result = "$($c.Result)"
        Message = ((@(Get-Message $c.ErrorRecord) + @($blockErrors)) | Where-Object { $_ }) -join "`n`n"
        Tests = @($tests)
    }
}
ConvertTo-Json -InputObject @($containers) -Depth 6 | Set-Content -LiteralPath $ResultPath -Encoding utf8
