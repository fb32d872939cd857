#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The module as PowerShell users meet it (issue 15): the README pipeline, several images in one pipeline,
# binding by property name, -WhatIf/-Confirm, error records, default views, progress records, Ctrl+C,
# argument completers, one dependency load context across re-imports, and publishing with PSResourceGet.
# Images are real ext4 file systems made by mkfs.ext4 -d (e2fsprogs; .ci/run installs it), no mounts.
BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    $script:moduleFolder = Split-Path (Get-Module AzureLinuxImage).Path
    $fixtures = Join-Path $PSScriptRoot '../AzureLinuxImage.Core.Tests/Waagent/Fixtures'

    # A small Linux root: an x86-64 ELF as /bin/sh, os-release, fstab, grub.cfg and waagent.conf.
    function New-LinuxRoot([string] $Path) {
        foreach ($d in 'etc', 'bin', 'boot/grub') { New-Item -ItemType Directory -Force (Join-Path $Path $d) | Out-Null }
        $elf = [byte[]]::new(64); $elf[0] = 0x7F; $elf[1] = 0x45; $elf[2] = 0x4C; $elf[3] = 0x46; $elf[4] = 2; $elf[5] = 1; $elf[18] = 62
        [System.IO.File]::WriteAllBytes((Join-Path $Path 'bin/sh'), $elf)
        Set-Content -LiteralPath (Join-Path $Path 'etc/os-release') -Value "ID=debian`nVERSION_ID=`"12`"`n" -NoNewline
        Set-Content -LiteralPath (Join-Path $Path 'etc/fstab') -Value "LABEL=root / ext4 defaults 0 1`n" -NoNewline
        Set-Content -LiteralPath (Join-Path $Path 'boot/grub/grub.cfg') -Value "menuentry 'Linux' {`n`tlinux /boot/vmlinuz-6.1.0-1-amd64 root=LABEL=root ro quiet`n}`n" -NoNewline
        Copy-Item (Join-Path $fixtures 'debian12-waagent.conf') (Join-Path $Path 'etc/waagent.conf')
    }

    # A raw disk holding one ext4 file system (labelled root) made from a Linux root folder.
    function New-Ext4Image([string] $Path, [string] $Root) {
        $mkfs = Get-Command mkfs.ext4 -ErrorAction SilentlyContinue
        if (-not $mkfs) { $mkfs = Get-Item /usr/sbin/mkfs.ext4, /sbin/mkfs.ext4 -ErrorAction SilentlyContinue | Select-Object -First 1 }
        if (-not $mkfs) { throw 'mkfs.ext4 is not installed (Debian package e2fsprogs): .ci/run installs it.' }
        & $mkfs.Source -q -F -L root -d $Root $Path 24M 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0 -and $null -ne $LASTEXITCODE) { throw "mkfs.ext4 failed with $LASTEXITCODE" }
        Get-Item -LiteralPath $Path
    }

    function New-RawImage([string] $Path, [long] $Size) {
        $f = [System.IO.File]::Create($Path)
        try {
            $f.SetLength($Size)
            $bytes = [byte[]]::new(4096); (New-Object Random 1).NextBytes($bytes)
            $f.Write($bytes, 0, $bytes.Length)
        } finally { $f.Dispose() }
        Get-Item -LiteralPath $Path
    }

    # Another pwsh process (the same PowerShell as this one), with its own environment.
    function Start-ChildPwsh([string] $Command, [hashtable] $Environment = @{}) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        $first = [Environment]::GetCommandLineArgs()[0]
        if ($first -like '*.dll') { $psi.ArgumentList.Add($first) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $Command) { $psi.ArgumentList.Add($a) }
        foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.RedirectStandardInput = $true
        $psi.WorkingDirectory = $TestDrive
        [System.Diagnostics.Process]::Start($psi)
    }

    function Invoke-ChildPwsh([string] $Command, [hashtable] $Environment = @{}) {
        $p = Start-ChildPwsh $Command $Environment
        $p.StandardInput.Close()
        $err = $p.StandardError.ReadToEndAsync()
        $out = $p.StandardOutput.ReadToEnd()
        if (-not $p.WaitForExit(300000)) { $p.Kill($true); throw "child pwsh timed out: $Command" }
        [pscustomobject]@{ ExitCode = $p.ExitCode; Out = $out; Err = $err.Result }
    }

    $script:root = Join-Path $TestDrive 'root'
    New-LinuxRoot $root
    $script:imageA = New-Ext4Image (Join-Path $TestDrive 'a.raw') $root
    $script:imageB = New-Ext4Image (Join-Path $TestDrive 'b.raw') $root
}

Describe 'The README pipeline' {
    It 'Get-Item | ConvertTo-FixedVhd | Resize-VhdAligned -PassThru | Test-LinuxImageReadiness | Export-ReadinessReport' {
        $out = New-Item -ItemType Directory (Join-Path $TestDrive 'readme')
        $results = Join-Path $out 'results.xml'
        $file = Get-Item $imageA | ConvertTo-FixedVhd -Destination $out.FullName | Resize-VhdAligned -PassThru |
            Test-LinuxImageReadiness | Export-ReadinessReport -Format JUnit -Path $results
        $file.FullName | Should -Be $results
        [xml] $xml = Get-Content -Raw $results
        @($xml.testsuites.testsuite.testcase).Count | Should -BeGreaterThan 10
        ($xml.testsuites.testsuite.testcase | Where-Object { $_.name -like 'FixedVhd:*' }).failure | Should -BeNullOrEmpty
        # The report's view names the file and its size, as Get-Item's does (a bare FileInfo printed a blank row).
        $view = $file | Out-String
        $view | Should -Match 'results\.xml'
        $view | Should -Match ([regex]::Escape("$((Get-Item $results).Length)"))
        $file.PSParentPath | Should -Not -BeNullOrEmpty
    }
}

Describe 'Several images in one pipeline' {
    It 'checks each image and the table says which image a finding is of' {
        $findings = Get-ChildItem (Join-Path $TestDrive '*.raw') | Where-Object Name -in 'a.raw', 'b.raw' | Test-LinuxImageReadiness -Rule SerialConsole
        ($findings.Path | Sort-Object) | Should -Be @($imageA.FullName, $imageB.FullName)
        $table = $findings | Out-String -Width 200
        $table | Should -Match ([regex]::Escape($imageA.FullName))
        $table | Should -Match ([regex]::Escape($imageB.FullName))
    }

    It 'converts several images and passes each result on' {
        $dest = New-Item -ItemType Directory (Join-Path $TestDrive 'many')
        $infos = $imageA, $imageB | ConvertTo-FixedVhd -Destination $dest.FullName
        $infos.Count | Should -Be 2
        $infos | ForEach-Object { $_.Format | Should -Be 'Vhd'; $_.AzureUploadReady | Should -BeTrue }
    }
}

Describe 'Parameter sets and binding by property name' {
    It 'Get-DiskImageInfo takes -Path (wildcards), -LiteralPath and Get-ChildItem output' {
        (Get-DiskImageInfo -Path (Join-Path $TestDrive 'a.r?w')).Path | Should -Be $imageA.FullName
        (Get-DiskImageInfo -LiteralPath $imageA.FullName).Format | Should -Be 'Raw'
        (Get-ChildItem -LiteralPath $imageA.FullName | Get-DiskImageInfo).Volumes[0].FileSystem.Kind | Should -Be 'Ext4'
    }

    It 'Get-LinuxImageItem and Get-LinuxImageContent read an image by -Path, -LiteralPath and -RootPath' {
        (Get-LinuxImageItem -Path $imageA.FullName -ItemPath /etc).Name | Should -Contain 'waagent.conf'
        (Get-LinuxImageItem -LiteralPath $imageA.FullName -ItemPath /etc/os-release).Size | Should -Be 26
        Get-LinuxImageContent -LiteralPath $imageA.FullName -ItemPath /etc/os-release | Should -Be @('ID=debian', 'VERSION_ID="12"')
        Get-LinuxImageContent -RootPath $root -ItemPath /etc/os-release | Should -Be @('ID=debian', 'VERSION_ID="12"')
    }

    It 'Get-LinuxImageItem output pipes into Get-LinuxImageContent by Path and ItemPath' {
        $lines = Get-LinuxImageItem -Path $imageA.FullName -ItemPath /etc/os-release | Get-LinuxImageContent
        $lines | Should -Be @('ID=debian', 'VERSION_ID="12"')
    }

    It 'Test-LinuxImageReadiness takes -Path, -LiteralPath, -RootPath and DiskImageInfo from the pipeline' {
        (Test-LinuxImageReadiness -Path $imageA.FullName -Rule SerialConsole).Status | Should -Be 'Fail'
        (Test-LinuxImageReadiness -LiteralPath $imageA.FullName -Rule SerialConsole).Path | Should -Be $imageA.FullName
        (Test-LinuxImageReadiness -RootPath $root -Rule SerialConsole).Status | Should -Be 'Fail'
        (Get-DiskImageInfo $imageA.FullName | Test-LinuxImageReadiness -Rule SerialConsole).Path | Should -Be $imageA.FullName
        (Test-LinuxImageReadiness -RootPath $root -Generation 2 -ProvisioningAgent CloudInit -Rule SerialConsole).RuleId | Should -Be 'SerialConsole'
    }

    It 'Get-WaagentConfig reads an image piped in (Get-Item, Get-DiskImageInfo) as -ImagePath does' {
        $byImagePath = Get-WaagentConfig -ImagePath $imageA.FullName
        $byImagePath.ProvisioningAgent | Should -Be 'cloud-init'
        $piped = Get-Item $imageA | Get-WaagentConfig
        $piped.ImagePath | Should -Be $imageA.FullName
        $piped.ProvisioningAgent | Should -Be 'cloud-init'
        (Get-DiskImageInfo $imageA.FullName | Get-WaagentConfig).ImagePath | Should -Be $imageA.FullName
        # A configuration file still binds as one.
        (Get-Item (Join-Path $root 'etc/waagent.conf') | Get-WaagentConfig).ImagePath | Should -BeNullOrEmpty
    }

    It 'Resize-VhdAligned takes -LiteralPath and ConvertTo-FixedVhd output by Path' {
        $vhd = ConvertTo-FixedVhd -LiteralPath $imageA.FullName -Destination (Join-Path $TestDrive 'resize.vhd')
        (Resize-VhdAligned -LiteralPath $vhd.Path -SizeBytes (30MB) -PassThru).VirtualSize | Should -Be (30MB)
        ($vhd | Resize-VhdAligned -SizeBytes (31MB) -PassThru).VirtualSize | Should -Be (31MB)
    }
}

Describe '-WhatIf and -Confirm' {
    It 'ConvertTo-FixedVhd and Resize-VhdAligned change nothing with -WhatIf' {
        $dest = Join-Path $TestDrive 'whatif.vhd'
        ConvertTo-FixedVhd -Path $imageA.FullName -Destination $dest -WhatIf | Should -BeNullOrEmpty
        $dest | Should -Not -Exist
        $vhd = ConvertTo-FixedVhd -Path $imageA.FullName -Destination $dest
        $before = (Get-Item $dest).Length
        Resize-VhdAligned -Path $vhd.Path -SizeBytes (40MB) -WhatIf | Should -BeNullOrEmpty
        (Get-Item $dest).Length | Should -Be $before
    }

    It 'writes with -Confirm:$false even when $ConfirmPreference asks about everything' {
        $ConfirmPreference = 'Low'
        $dest = Join-Path $TestDrive 'confirmed.vhd'
        (ConvertTo-FixedVhd -Path $imageA.FullName -Destination $dest -Confirm:$false).Path | Should -Be $dest
    }

    It 'Send-WireServerReady -WhatIf sends nothing and outputs nothing' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $endpoint = "http://127.0.0.1:$($listener.LocalEndpoint.Port)"
            $result = Send-WireServerReady -Endpoint $endpoint -SkipPreprovisioningCheck -TimeoutSec 5 -WhatIf
            $result | Should -BeNullOrEmpty
            Start-Sleep -Milliseconds 200
            $listener.Pending() | Should -BeFalse
        }
        finally { $listener.Stop() }
    }
}

Describe 'Error records' {
    It 'a damaged image: stable id, category, the file as target, $? false, -ErrorAction Stop throws it' {
        $bad = Join-Path $TestDrive 'bad.vhdx'
        $bytes = [byte[]]::new(1MB); [System.Text.Encoding]::ASCII.GetBytes('vhdxfile').CopyTo($bytes, 0)
        [System.IO.File]::WriteAllBytes($bad, $bytes)
        Get-DiskImageInfo -LiteralPath $bad -ErrorVariable err -ErrorAction SilentlyContinue
        $ok = $?
        $ok | Should -BeFalse
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidDiskImage,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].TargetObject | Should -Be $bad
        { Get-DiskImageInfo -LiteralPath $bad -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidDiskImage,AzureLinuxImage.Commands.GetDiskImageInfoCommand'
    }

    It 'a missing file is ObjectNotFound and the next pipeline item still runs' {
        $infos = @((Join-Path $TestDrive 'missing.raw'), $imageA.FullName) | Get-DiskImageInfo -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $infos.Path | Should -Be $imageA.FullName
    }

    It 'an empty rule selection is a usage error, not an empty pass' {
        { Test-LinuxImageReadiness -RootPath $root -ExcludeRule '*' -ErrorAction Stop } | Should -Throw -ErrorId 'NoRuleSelected*'
    }

    It 'a text file renamed .vhd converts with a warning that it is no disk image' {
        $text = Join-Path $TestDrive 'notes.vhd'
        # Over one sector (a smaller source is refused as empty) and no whole number of sectors.
        Set-Content -LiteralPath $text -Value ('just some notes, not a disk' * 40) -NoNewline
        $info = ConvertTo-FixedVhd -LiteralPath $text -Destination (Join-Path $TestDrive 'notes-fixed.vhd') -WarningVariable warn -WarningAction SilentlyContinue
        $info | Should -Not -BeNullOrEmpty
        "$warn" | Should -Match 'does not look like a disk image'
        # A real image of a whole number of sectors does not warn.
        ConvertTo-FixedVhd -LiteralPath $imageA.FullName -Destination (Join-Path $TestDrive 'nowarn.vhd') -WarningVariable quiet -WarningAction SilentlyContinue | Out-Null
        $quiet | Should -BeNullOrEmpty
    }
}

Describe 'Default views' {
    It 'prints no type names for any output type, nested objects included' {
        $objects = @(
            Get-DiskImageInfo -LiteralPath $imageA.FullName
            Get-LinuxImageItem -Path $imageA.FullName -ItemPath /etc
            Get-WaagentConfig -ImagePath $imageA.FullName
            Test-LinuxImageReadiness -RootPath $root -Rule SerialConsole
        )
        foreach ($o in $objects) {
            foreach ($text in ($o | Out-String -Width 300), ($o | Format-List * | Out-String -Width 300)) {
                $text | Should -Not -Match '\{?AzureLinuxImage\.[A-Za-z.]+\}?' -Because "$($o.GetType().Name) should print values, not type names"
            }
        }
        $info = $objects[0]
        "$($info.Volumes[0])" | Should -Match 'ext4'
        "$($info.Volumes[0].FileSystem)" | Should -Match "ext4 'root'"
    }

    It 'every public type of Core has a ToString of its own' {
        $types = [AzureLinuxImage.Operations.DiskImageInfo].Assembly.GetExportedTypes() |
            Where-Object { $_.IsClass -and -not $_.IsAbstract -and -not [Exception].IsAssignableFrom($_) -and -not $_.IsSubclassOf([Delegate]) }
        $types | Should -Not -BeNullOrEmpty
        $plain = $types | Where-Object { $_.GetMethod('ToString', [type[]]@()).DeclaringType -eq [object] }
        $plain.FullName | Should -BeNullOrEmpty
    }
}

Describe 'Progress' {
    It 'closes each bar with exactly one Completed record' {
        $big = Join-Path $TestDrive 'progress.raw'
        $f = [System.IO.File]::Create($big)
        try { $b = [byte[]]::new(1MB); (New-Object Random 3).NextBytes($b); foreach ($i in 1..48) { $f.Write($b, 0, $b.Length) } } finally { $f.Dispose() }
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$((Get-Module AzureLinuxImage).Path)'; ConvertTo-FixedVhd -LiteralPath '$big' -Destination '$TestDrive/progress.vhd'").Invoke()
            $ps.Streams.Error | Should -BeNullOrEmpty
            $records = @($ps.Streams.Progress)
        }
        finally { $ps.Dispose() }
        $records | Should -Not -BeNullOrEmpty
        foreach ($g in $records | Group-Object ActivityId) {
            @($g.Group | Where-Object RecordType -eq 'Completed').Count | Should -Be 1 -Because "activity $($g.Name) must be closed once"
        }
        $script:activityId = $records[0].ActivityId
    }

    It 'uses the same activity id in every process' {
        $path = (Get-Module AzureLinuxImage).Path
        $big = Join-Path $TestDrive 'progress.raw'
        $ids = foreach ($i in 1, 2) {
            $child = Invoke-ChildPwsh "`$ps = [powershell]::Create(); `$null = `$ps.AddScript(`"Import-Module '$path'; ConvertTo-FixedVhd -LiteralPath '$big' -Destination '$TestDrive/progress-$i.vhd'`").Invoke(); 'id=' + `$ps.Streams.Progress[0].ActivityId"
            $child.Out | Should -Match 'id=\d+' -Because $child.Err
            [regex]::Match($child.Out, 'id=(\d+)').Groups[1].Value
        }
        $ids[0] | Should -Be $ids[1]
        $ids[0] | Should -Be $activityId
    }
}

Describe 'Ctrl+C' {
    It 'stops a running cmdlet at once and runs the caller''s finally blocks' {
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $marker = Join-Path $TestDrive 'finally.txt'
        $path = (Get-Module AzureLinuxImage).Path
        $p = Start-ChildPwsh "Import-Module '$path'; 'started'; try { Send-WireServerReady -Endpoint http://127.0.0.1:$port -SkipPreprovisioningCheck -TimeoutSec 600 } finally { [IO.File]::WriteAllText('$marker', 'ran') }"
        try {
            $p.StandardOutput.ReadLine() | Should -Be 'started'
            Start-Sleep -Seconds 2
            $p.HasExited | Should -BeFalse -Because 'the wire server retries for up to 600 s'
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            if ($IsWindows) { Set-ItResult -Skipped -Because 'SIGINT is how a terminal delivers Ctrl+C on Linux and macOS' ; return }
            & kill -INT $p.Id
            $p.WaitForExit(20000) | Should -BeTrue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
            Get-Content -LiteralPath $marker | Should -Be 'ran'
        }
        finally { if (-not $p.HasExited) { $p.Kill($true) } }
    }
}

Describe 'Argument completers' {
    It 'completes -Rule and -ExcludeRule with rule ids' {
        (TabExpansion2 'Test-LinuxImageReadiness -RootPath x -Rule Seri').CompletionMatches.CompletionText | Should -Contain 'SerialConsole'
        (TabExpansion2 'Test-LinuxImageReadiness -RootPath x -ExcludeRule Sudoers').CompletionMatches.CompletionText | Should -Contain 'SudoersTargetPw'
    }

    It 'completes -ItemPath inside the image named by -Path, not on the host' {
        $completions = (TabExpansion2 "Get-LinuxImageItem -Path '$($imageA.FullName)' -ItemPath /etc/wa").CompletionMatches.CompletionText
        $completions | Should -Be '/etc/waagent.conf'
        (TabExpansion2 "Get-LinuxImageContent -RootPath '$root' -ItemPath /etc/os").CompletionMatches.CompletionText | Should -Be '/etc/os-release'
        # The host's /etc has many entries starting 'h' (hosts, hostname); the image's /etc has none.
        (TabExpansion2 "Get-LinuxImageItem -Path '$($imageA.FullName)' -ItemPath /etc/h").CompletionMatches | Should -BeNullOrEmpty
    }
}

Describe 'Module loading' {
    It 'keeps one dependency load context across Import-Module -Force' {
        foreach ($i in 1..3) { Import-Module (Get-Module AzureLinuxImage).Path -Force }
        $contexts = @([System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -eq 'AzureLinuxImage dependencies')
        $contexts.Count | Should -Be 1
    }

    It 'ships an MIT LICENSE and a manifest with real (or no) URIs, unique tags and release notes naming every cmdlet' {
        Join-Path $moduleFolder 'LICENSE' | Should -Exist
        Get-Content -Raw (Join-Path $moduleFolder 'LICENSE') | Should -Match 'MIT License'
        $manifest = Import-PowerShellDataFile (Join-Path $moduleFolder 'AzureLinuxImage.psd1')
        $data = $manifest.PrivateData.PSData
        foreach ($uri in $data.ProjectUri, $data.LicenseUri, $data.IconUri) { if ($uri) { $uri | Should -Not -Match 'example\.(invalid|com|org)' } }
        $data.Tags.Count | Should -Be (@($data.Tags | Sort-Object -Unique)).Count
        foreach ($c in $manifest.CmdletsToExport) { $data.ReleaseNotes | Should -Match ([regex]::Escape($c)) }
    }

    It 'publishes to a local folder repository with Publish-PSResource, installs with Install-PSResource and imports' {
        $home2 = New-Item -ItemType Directory (Join-Path $TestDrive 'home')
        $repo = New-Item -ItemType Directory (Join-Path $TestDrive 'repo')
        # A child pwsh with its own HOME: the repository registration and the install stay out of the user's.
        $script = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name AzliLocal -Uri '$($repo.FullName)' -Trusted
Publish-PSResource -Path '$moduleFolder' -Repository AzliLocal
Install-PSResource -Name AzureLinuxImage -Repository AzliLocal -TrustRepository -Scope CurrentUser
Import-Module AzureLinuxImage
`$m = Get-Module AzureLinuxImage
'base=' + `$m.ModuleBase
'cmdlets=' + (Get-Command -Module AzureLinuxImage).Count
"@
        $childEnv = @{ HOME = $home2.FullName; XDG_DATA_HOME = (Join-Path $home2 '.local/share'); XDG_CONFIG_HOME = (Join-Path $home2 '.config'); XDG_CACHE_HOME = (Join-Path $home2 '.cache'); PSModulePath = '' }
        $child = Invoke-ChildPwsh $script $childEnv
        $child.ExitCode | Should -Be 0 -Because $child.Err
        @(Get-ChildItem $repo -Filter 'azurelinuximage.*.nupkg').Count | Should -Be 1
        $child.Out | Should -Match ([regex]::Escape("base=$($home2.FullName)"))
        $expected = (Import-PowerShellDataFile (Join-Path $moduleFolder 'AzureLinuxImage.psd1')).CmdletsToExport.Count
        $child.Out | Should -Match "cmdlets=$expected\b"
    }
}
