#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The provisioning cmdlets against a real HTTP server on 127.0.0.1 (a thread job with HttpListener) serving
# the recorded wire server and IMDS answers (tests/AzureLinuxImage.Core.Tests/Provisioning/Fixtures):
# success paths, what was posted, -WhatIf, and the default views.
BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    $fixtures = Join-Path $PSScriptRoot '../AzureLinuxImage.Core.Tests/Provisioning/Fixtures'
    # Incarnation 7, not the recording's 1: a report that sends a constant 1 (as the 2020 article does) must fail.
    $goalState = (Get-Content -Raw (Join-Path $fixtures 'goalstate-walinuxagent.xml')) -replace '<Incarnation>1</Incarnation>', '<Incarnation>7</Incarnation>'
    $imds = Get-Content -Raw (Join-Path $fixtures 'imds-instance-walinuxagent.json')

    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
    $script:endpoint = "http://127.0.0.1:$port"
    $script:log = [System.Collections.Concurrent.ConcurrentQueue[object]]::new()
    # Started here, served from a thread job, stopped in AfterAll: Stop() ends the job's blocking GetContext.
    $script:listener = [System.Net.HttpListener]::new()
    $listener.Prefixes.Add("http://127.0.0.1:$port/")
    $listener.Start()
    $script:server = Start-ThreadJob -ArgumentList $listener, $goalState, $imds, $log -ScriptBlock {
        param($listener, $goalState, $imds, $log)
        try {
            while ($listener.IsListening) {
                $ctx = $listener.GetContext()
                $req = $ctx.Request
                $body = if ($req.HasEntityBody) { [System.IO.StreamReader]::new($req.InputStream).ReadToEnd() } else { '' }
                $log.Enqueue([pscustomobject]@{ Method = $req.HttpMethod; Url = $req.Url.PathAndQuery; Body = $body; Metadata = $req.Headers['Metadata'] })
                $answer = switch -Wildcard ($req.Url.PathAndQuery) {
                    '/machine/?comp=goalstate' { $goalState; break }
                    '/machine?comp=health' { ''; break }
                    '/metadata/instance*' {
                        if ($req.Headers['Metadata'] -ne 'true') { $ctx.Response.StatusCode = 400; 'Metadata header required'; break }
                        # /metadata/instance/compute/name?format=text: one value as text, as IMDS answers.
                        $node = $imds | ConvertFrom-Json
                        foreach ($segment in $req.Url.AbsolutePath.Substring('/metadata/instance'.Length).Split('/', [System.StringSplitOptions]::RemoveEmptyEntries)) { $node = $node.$segment }
                        if ($node -is [string]) { $node } elseif ($req.Url.AbsolutePath -eq '/metadata/instance') { $imds } else { $node | ConvertTo-Json -Depth 20 }
                        break
                    }
                    default { $ctx.Response.StatusCode = 404; 'not found' }
                }
                $bytes = [System.Text.Encoding]::UTF8.GetBytes($answer)
                $ctx.Response.ContentLength64 = $bytes.Length
                $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length)
                $ctx.Response.Close()
            }
        }
        catch [System.Net.HttpListenerException] { }
        catch [System.ObjectDisposedException] { }
        catch [System.InvalidOperationException] { }
    }
    # Wait until it answers.
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while ($true) {
        try { $c = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $port); $c.Dispose(); break }
        catch { if ([DateTime]::UtcNow -gt $deadline) { throw "the test server did not start: $($server | Receive-Job -Keep | Out-String)" }; Start-Sleep -Milliseconds 100 }
    }
}

AfterAll {
    if ($listener) { $listener.Stop(); $listener.Close() }
    if ($server) { $server | Wait-Job -Timeout 10 | Out-Null; $server | Remove-Job -Force }
}

Describe 'Get-WireServerGoalState against a local wire server' {
    It 'returns the goal state with a view that prints values' {
        $g = Get-WireServerGoalState -Endpoint $endpoint -TimeoutSec 30
        $g.Incarnation | Should -Be '7'
        $g.ContainerId | Should -Be 'c6d5526c-5ac2-4200-b6e2-56f2b70c5ab2'
        $g | Out-String | Should -Not -Match 'AzureLinuxImage\.'
        "$g" | Should -Match 'Incarnation 7'
    }
}

Describe 'Send-WireServerReady against a local wire server' {
    BeforeEach { $item = $null; while ($log.TryDequeue([ref] $item)) { } }

    It 'posts Ready with the goal state''s incarnation echoed and returns an accepted result' {
        $r = Send-WireServerReady -Endpoint $endpoint -SkipPreprovisioningCheck -TimeoutSec 30 -Root $TestDrive
        $r.Accepted | Should -BeTrue
        $r.State | Should -Be 'Ready'
        $posted = @($log.ToArray() | Where-Object Method -eq 'POST')
        $posted.Count | Should -Be 1
        $posted[0].Body | Should -Match '<GoalStateIncarnation>7</GoalStateIncarnation>'
        $posted[0].Body | Should -Match '<State>Ready</State>'
        $r | Out-String | Should -Not -Match 'AzureLinuxImage\.'
    }

    It 'posts NotReady with a sub-status and an escaped description' {
        $r = Send-WireServerReady -Endpoint $endpoint -NotReady -SubStatus ProvisioningFailed -Description 'disk <full> & more' -TimeoutSec 30 -Root $TestDrive
        $r.Accepted | Should -BeTrue
        $body = ($log.ToArray() | Where-Object Method -eq 'POST' | Select-Object -Last 1).Body
        $body | Should -Match '<State>NotReady</State>'
        $body | Should -Match 'disk &lt;full&gt; &amp; more'
    }

    It 'asks IMDS first unless told not to, with the Metadata header' {
        $r = Send-WireServerReady -Endpoint $endpoint -ImdsEndpoint $endpoint -TimeoutSec 30 -Root $TestDrive
        $r.Accepted | Should -BeTrue
        $imdsCalls = @($log.ToArray() | Where-Object Url -like '/metadata/instance*')
        $imdsCalls.Count | Should -BeGreaterThan 0
        $imdsCalls[0].Metadata | Should -Be 'true'
    }

    It 'sends nothing with -WhatIf' {
        Send-WireServerReady -Endpoint $endpoint -SkipPreprovisioningCheck -TimeoutSec 30 -Root $TestDrive -WhatIf | Should -BeNullOrEmpty
        $log.Count | Should -Be 0
    }
}

Describe 'Get-AzureInstanceMetadata against a local IMDS' {
    It 'returns one value by path, and the whole document' {
        (Get-AzureInstanceMetadata -Endpoint $endpoint -Path compute/name -TimeoutSec 30).Value | Should -Be 'health'
        $all = Get-AzureInstanceMetadata -Endpoint $endpoint -TimeoutSec 30
        ($all.Value | ConvertFrom-Json).compute.name | Should -Be 'health'
        "$all" | Should -Not -Match 'AzureLinuxImage\.'
    }
}
