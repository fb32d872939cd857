#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester suite for machines with pwsh; build.ps1 runs it against the laid-out module. The upload itself is
# proven against Azurite by xUnit (CopyDiskImageToAzureTests, ModuleIsolationTests); this checks what only
# a real PowerShell shows: where the module's Azure SDK loads.
BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    $image = Join-Path $TestDrive 'disk.raw'
    $f = [System.IO.File]::Create($image); try { $f.SetLength(21MB) } finally { $f.Dispose() }
}

Describe 'Copy-DiskImageToAzure dependency isolation' {
    It 'loads Azure.Core from the module''s Dependencies folder, whatever other modules loaded' {
        # Port 9 (discard) on loopback refuses the connection: the command fails, after loading its SDK.
        Copy-DiskImageToAzure -Path $image -Destination 'http://127.0.0.1:9/acct/vhds/disk.vhd?sv=1&sig=secret' -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -Not -BeNullOrEmpty
        "$err" | Should -Not -Match 'secret'
        $ours = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Azure.Core' -and $_.Location -like '*Dependencies*' }
        $ours | Should -Not -BeNullOrEmpty
        if ($PSVersionTable.PSEdition -eq 'Core') {
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($ours[0]).Name | Should -Be 'AzureLinuxImage dependencies'
            # The Blob SDK the upload runs on (issue 19) loads in the same isolated context.
            $blobs = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Azure.Storage.Blobs' }
            $blobs | Should -Not -BeNullOrEmpty
            $blobs | ForEach-Object { [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name } | Should -Be 'AzureLinuxImage dependencies'
        }
    }

    It 'takes a token string as -Credential without Azure types in its signature' {
        (Get-Command Copy-DiskImageToAzure).Parameters['Credential'].ParameterType | Should -Be ([object])
    }
}

Describe 'Copy-DiskImageToAzure when the destination cannot be reached (issue 15)' {
    BeforeAll {
        # Port 9 on loopback refuses connections: Azure.Core retries, then the upload must fail cleanly.
        $refused = 'http://127.0.0.1:9/acct/vhds/disk.vhd?sv=1&sig=secret'
        $redacted = 'http://127.0.0.1:9/acct/vhds/disk.vhd'
        $errorId = 'UploadFailed,AzureLinuxImage.Commands.CopyDiskImageToAzureCommand'
    }

    It 'writes one non-terminating UploadFailed error with a category and the redacted destination as target' {
        $reached = $false
        Copy-DiskImageToAzure -Path $image -Destination $refused -ErrorVariable err -ErrorAction SilentlyContinue
        $succeeded = $?
        $reached = $true
        $succeeded | Should -BeFalse
        $reached | Should -BeTrue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be $errorId
        $err[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err[0].TargetObject | Should -Be $redacted
        $err[0].Exception.Message | Should -Match ([regex]::Escape($redacted))
        $err[0].Exception.Message | Should -Match 'refused'
        "$err" | Should -Not -Match 'secret'
        $err[0].Exception | Should -BeOfType ([AzureLinuxImage.Errors.AzureLinuxImageException])
    }

    It 'is terminating with -ErrorAction Stop' {
        { Copy-DiskImageToAzure -Path $image -Destination $refused -ErrorAction Stop } | Should -Throw -ErrorId $errorId
    }

    It 'is the same error under -WhatIf, which checks the destination before deciding' {
        Copy-DiskImageToAzure -Path $image -Destination $refused -WhatIf -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be $errorId
        $err[0].TargetObject | Should -Be $redacted
    }

    It 'refuses -Credential with an http URL with a clear error and sends nothing' {
        Copy-DiskImageToAzure -Path $image -Destination $redacted -Credential 'an-access-token' -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'CredentialNeedsHttps,AzureLinuxImage.Commands.CopyDiskImageToAzureCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].Exception.Message | Should -Match 'https'
        $err[0].Exception.Message | Should -Not -Match 'an-access-token'
    }
}
