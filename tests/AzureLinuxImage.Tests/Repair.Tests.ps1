#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester 5 suite for Repair-LinuxImage, Clear-LinuxImageState and Install-AgentlessProvisioning, run against the
# laid-out module ($env:AZURELINUXIMAGE_MODULE). The behaviour is proven by xUnit (tests/AzureLinuxImage.Core.Tests/Repair);
# this checks the PowerShell binding: parameter sets, pipeline input, -WhatIf, error records and the default view.

BeforeAll {
    $modulePath = if ($env:AZURELINUXIMAGE_MODULE) { $env:AZURELINUXIMAGE_MODULE } else { Join-Path $PSScriptRoot '../../out/AzureLinuxImage/AzureLinuxImage.psd1' }
    Import-Module $modulePath -Force
    # A small Debian-like root: quiet on the command line, targetpw in sudoers, a machine-id and a DHCP lease.
    function New-Root {
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N').Substring(0, 8))
        foreach ($d in 'etc/default', 'boot/grub', 'bin', 'usr/bin', 'var/lib/dhcp', 'etc/systemd/system', 'etc/sudoers.d') {
            New-Item -ItemType Directory -Path (Join-Path $root $d) -Force | Out-Null
        }
        [IO.File]::WriteAllText((Join-Path $root 'etc/os-release'), "ID=debian`nVERSION_ID=`"12`"`n")
        [IO.File]::WriteAllText((Join-Path $root 'etc/fstab'), "UUID=0b0c3b1e-6f4e-4b8a-9d55-3c8f3f1f2a10 / ext4 defaults 0 1`n")
        [IO.File]::WriteAllText((Join-Path $root 'etc/default/grub'), "GRUB_DEFAULT=0`nGRUB_CMDLINE_LINUX_DEFAULT=`"quiet`"`nGRUB_CMDLINE_LINUX=`"`"`n")
        [IO.File]::WriteAllText((Join-Path $root 'boot/grub/grub.cfg'), "menuentry 'Debian' {`n`tlinux /boot/vmlinuz-6.1.0 root=UUID=0b0c3b1e-6f4e-4b8a-9d55-3c8f3f1f2a10 ro quiet`n}`n")
        [IO.File]::WriteAllText((Join-Path $root 'etc/sudoers'), "root ALL=(ALL:ALL) ALL`nDefaults targetpw`n")
        [IO.File]::WriteAllText((Join-Path $root 'etc/machine-id'), "0123456789abcdef0123456789abcdef`n")
        [IO.File]::WriteAllText((Join-Path $root 'var/lib/dhcp/dhclient.eth0.leases'), "lease {}`n")
        [IO.File]::WriteAllText((Join-Path $root 'usr/bin/systemctl'), '')
        Copy-Item /bin/sh (Join-Path $root 'bin/sh')
        $root
    }
}

Describe 'Repair-LinuxImage' {
    It 'has the documented parameter sets and writes with ShouldProcess' {
        $c = Get-Command Repair-LinuxImage
        $c.ParameterSets.Name | Sort-Object | Should -Be @('LiteralPath', 'Path', 'RootPath')
        $c.Parameters.ContainsKey('WhatIf') | Should -BeTrue
        $c.Parameters['Path'].Attributes.ValueFromPipelineByPropertyName | Should -Contain $true
        $c.Parameters['LiteralPath'].Aliases | Should -Contain 'PSPath'
        $c.OutputType.Name | Should -Contain 'AzureLinuxImage.Operations.LinuxImageChange'
    }

    It '-WhatIf changes nothing and still lists the changes' {
        $root = New-Root
        $before = Get-FileHash (Join-Path $root 'boot/grub/grub.cfg')
        $changes = Repair-LinuxImage -RootPath $root -WhatIf
        (Get-FileHash (Join-Path $root 'boot/grub/grub.cfg')).Hash | Should -Be $before.Hash
        $changes.Count | Should -BeGreaterThan 0
        $changes.Applied | Should -Not -Contain $true
    }

    It 'fixes the command line in /etc/default/grub and grub.cfg and comments out targetpw' {
        $root = New-Root
        $changes = Repair-LinuxImage -RootPath $root -Rule SerialConsole, QuietBoot, SudoersTargetPw -Confirm:$false
        ($changes | Where-Object { $_.ItemPath -eq '/boot/grub/grub.cfg' }).After | Should -Match 'console=ttyS0,115200n8'
        Get-Content (Join-Path $root 'etc/default/grub') -Raw | Should -Match 'GRUB_CMDLINE_LINUX_DEFAULT=""'
        Get-Content (Join-Path $root 'etc/sudoers') -Raw | Should -Match '# Defaults targetpw'
        (Test-LinuxImageReadiness -RootPath $root -Rule SerialConsole, QuietBoot, SudoersTargetPw).Status | Should -Not -Contain 'Fail'
    }

    It 'has a default table view' {
        $root = New-Root
        $text = Repair-LinuxImage -RootPath $root -Rule QuietBoot -WhatIf | Out-String -Width 200
        $text | Should -Match 'Action'
        $text | Should -Match 'grub.cfg'
    }

    It 'reports an unknown rule and a missing root as error records with stable ids' {
        $root = New-Root
        Repair-LinuxImage -RootPath $root -Rule NoSuchRule -ErrorAction SilentlyContinue -ErrorVariable e1 | Out-Null
        $e1[0].FullyQualifiedErrorId | Should -Match '^UnknownRule'
        Repair-LinuxImage -RootPath (Join-Path $TestDrive 'missing') -ErrorAction SilentlyContinue -ErrorVariable e2 | Out-Null
        $e2[0].FullyQualifiedErrorId | Should -Match '^(RootPathNotFound|PathNotFound)'
    }

    It 'takes image files from the pipeline and refuses what is not an image' {
        $f = Join-Path $TestDrive 'not-an-image.vhd'
        Set-Content $f 'hello'
        Get-Item $f | Repair-LinuxImage -ErrorAction SilentlyContinue -ErrorVariable e | Out-Null
        $e.Count | Should -Be 1
        $e[0].TargetObject | Should -Not -BeNullOrEmpty
    }

    It '-Destination does not bind with -RootPath' {
        { Repair-LinuxImage -RootPath (New-Root) -Destination (Join-Path $TestDrive 'x.vhd') } | Should -Throw
    }
}

Describe 'Clear-LinuxImageState' {
    It '-WhatIf removes nothing' {
        $root = New-Root
        Clear-LinuxImageState -RootPath $root -WhatIf | Out-Null
        Test-Path (Join-Path $root 'var/lib/dhcp/dhclient.eth0.leases') | Should -BeTrue
        (Get-Content (Join-Path $root 'etc/machine-id') -Raw).Trim() | Should -Be '0123456789abcdef0123456789abcdef'
    }

    It 'empties the machine-id, removes the lease and outputs each item' {
        $root = New-Root
        $changes = Clear-LinuxImageState -RootPath $root -Confirm:$false
        (Get-Item (Join-Path $root 'etc/machine-id')).Length | Should -Be 0
        Test-Path (Join-Path $root 'var/lib/dhcp/dhclient.eth0.leases') | Should -BeFalse
        ($changes | Where-Object ItemPath -eq '/var/lib/dhcp/dhclient.eth0.leases').Action | Should -Be 'Removed'
        ($changes | Where-Object ItemPath -eq '/etc/machine-id').Action | Should -Be 'Truncated'
    }

    It 'refuses to remove root' {
        Clear-LinuxImageState -RootPath (New-Root) -RemoveUser root -ErrorAction SilentlyContinue -ErrorVariable e | Out-Null
        $e[0].FullyQualifiedErrorId | Should -Match '^InvalidUserName'
    }
}

Describe 'Install-AgentlessProvisioning' {
    It 'refuses an image without curl or wget, with the reason' {
        $root = New-Root
        Install-AgentlessProvisioning -RootPath $root -ErrorAction SilentlyContinue -ErrorVariable e | Out-Null
        $e[0].FullyQualifiedErrorId | Should -Match '^NoHttpClient'
        $e[0].Exception.Message | Should -Match 'neither curl nor wget'
        Test-Path (Join-Path $root 'etc/systemd/system/azure-provisioning.service') | Should -BeFalse
    }

    It 'writes and enables the first-boot unit; the R-NOAGENT rule passes' {
        $root = New-Root
        Set-Content (Join-Path $root 'usr/bin/curl') ''
        $changes = Install-AgentlessProvisioning -RootPath $root -Confirm:$false
        $changes.ItemPath | Should -Contain '/etc/systemd/system/azure-provisioning.service'
        (Get-Item (Join-Path $root 'etc/systemd/system/multi-user.target.wants/azure-provisioning.service')).LinkTarget | Should -Be '/etc/systemd/system/azure-provisioning.service'
        (Test-LinuxImageReadiness -RootPath $root -ProvisioningAgent None -Rule AgentlessReportsReady).Status | Should -Be 'Pass'
    }
}
