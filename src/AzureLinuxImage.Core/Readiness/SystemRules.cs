using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Readiness
{
    /// <summary>SSH, sudo, architecture and network (R-SYS-1, R-SYS-2, R-NOAGENT-2, AZURE-LINUX.md "ssh", "users", "network", "arch").</summary>
    internal static class SystemRules
    {
        public static IEnumerable<ReadinessRule> All()
        {
            yield return new ReadinessRule("SshServer", "System", "SSH server installed and started at boot", "R-SYS-1", ReadinessSeverity.Error,
                "sshd is installed and ssh.service, sshd.service or ssh.socket is enabled and not masked.",
                Ssh);
            yield return new ReadinessRule("SshClientAliveInterval", "System", "sshd keeps idle sessions alive", "AZ-SSH", ReadinessSeverity.Warning,
                "ClientAliveInterval (sshd_config with its Include files, first value wins) is between 1 and 235 seconds; 180 is recommended.",
                ClientAlive);
            yield return new ReadinessRule("SudoersTargetPw", "System", "No 'Defaults targetpw' in sudoers", "R-SYS-2", ReadinessSeverity.Error,
                "sudoers (with #include/#includedir) has no Defaults targetpw: provisioned users have no root password to type.",
                TargetPw);
            yield return new ReadinessRule("SudoersAllUsers", "System", "No 'ALL ALL=(ALL) ALL' in sudoers", "R-SYS-2", ReadinessSeverity.Error,
                "No sudoers rule lets every user run every command.",
                AllAll);
            yield return new ReadinessRule("Architecture64Bit", "System", "64-bit userland", "AZ-ARCH", ReadinessSeverity.Error,
                "The ELF header of /bin/sh (or bash, ls) is 64-bit x86_64 or aarch64; Arm64 needs a Generation 2 VM.",
                Architecture);
            yield return new ReadinessRule("DhcpPrimaryNic", "Network", "DHCP on the primary NIC", "R-NOAGENT-2, AZ-NETWORK", ReadinessSeverity.Error,
                "A DHCP client is installed and something brings the primary NIC up with DHCP at boot: an ifupdown stanza named by an auto/allow-hotplug line, netplan, an enabled systemd-networkd .network file, NetworkManager (its automatic profile too), ifcfg, or cloud-init. Static-only configurations fail; so does none at all, since waagent never brings a NIC up itself and the VM is then never provisioned (the fix is Debian's cloud images': net.ifnames=0 and auto eth0 / iface eth0 inet dhcp, not a pattern stanza, which waagent's ifup eth0 refuses).",
                Dhcp);
            yield return new ReadinessRule("NoMacPinning", "Network", "Interfaces not pinned to a MAC address", "AZ-NETWORK", ReadinessSeverity.Warning,
                "No persistent-net udev rules (70-persistent-net.rules) and no HWADDR/macaddress pinning: the NIC's MAC address changes in Azure.",
                Pinning);
        }

        private static RuleOutcome Ssh(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("sshd", ctx.Facts.Sshd.Error), ("systemd units", ctx.Facts.Units.Error));
            if (unknown != null)
            {
                return unknown;
            }
            SshdConfig sshd = ctx.Facts.Sshd.Value!;
            if (!sshd.Installed)
            {
                return Outcome.FailAt("No SSH server is installed (/usr/sbin/sshd).", "/usr/sbin", ctx.PackageInstall("openssh-server", "openssh-server"));
            }
            SystemdUnits units = ctx.Facts.Units.Value!;
            var states = new[] { "ssh.service", "sshd.service", "ssh.socket", "sshd.socket" }.Select(units.Get).ToList();
            UnitState? active = states.FirstOrDefault(s => s.Active);
            if (active != null)
            {
                return Outcome.Pass($"{active.Name} is enabled ({active.EnabledBy[0]}).", new SourceLine(active.EnabledBy[0], 0));
            }
            UnitState? masked = states.FirstOrDefault(s => s.Masked);
            if (masked != null)
            {
                string real = masked.MaskLink?.File.Substring(masked.MaskLink.Value.File.LastIndexOf('/') + 1) ?? masked.Name;
                return Outcome.Fail($"{real} is masked ({masked.MaskLink} -> /dev/null): nobody can log in.", masked.MaskLink,
                    $"systemctl unmask {real} && systemctl enable {real} (offline: rm {masked.MaskLink?.File})");
            }
            UnitState? installed = states.FirstOrDefault(s => s.Exists);
            string unit = installed?.Name ?? (ctx.IsRedHatFamily ? "sshd.service" : "ssh.service");
            return Outcome.Fail($"sshd is installed but {unit} is not enabled at boot.", installed?.FilePath == null ? (SourceLine?)null : new SourceLine(installed.FilePath, 0),
                $"systemctl enable {unit}");
        }

        private static RuleOutcome ClientAlive(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("sshd", ctx.Facts.Sshd.Error));
            if (unknown != null)
            {
                return unknown;
            }
            SshdConfig sshd = ctx.Facts.Sshd.Value!;
            if (!sshd.Installed || !sshd.ConfigFound)
            {
                return Outcome.NotApplicable("No SSH server configuration.");
            }
            SshdSetting? s = sshd.Get("ClientAliveInterval");
            if (s == null && ctx.Facts.Provisioning.Value is ProvisioningAgents p && p.Waagent.Settings != null)
            {
                // waagent writes ClientAliveInterval (OS.SshClientAliveInterval) into sshd_config when it provisions.
                AgentRules.AgentState a = AgentRules.State(ctx);
                if (a.Waagent && (a.WaagentMode == "waagent" || (a.WaagentMode == "auto" && !a.CloudInit)))
                {
                    return Outcome.Pass($"waagent sets ClientAliveInterval {p.Waagent.Settings.Get("OS.SshClientAliveInterval")} in sshd_config when it provisions.",
                        p.Waagent.Settings.Where("OS.SshClientAliveInterval"));
                }
            }
            const string fix = "echo 'ClientAliveInterval 180' > /etc/ssh/sshd_config.d/50-azure.conf (or set it in /etc/ssh/sshd_config when it has no Include)";
            if (s == null)
            {
                return Outcome.Fail("ClientAliveInterval is not set (0: idle sessions are dropped by Azure's load balancer after 4 minutes).", new SourceLine("/etc/ssh/sshd_config", 0), fix);
            }
            if (!int.TryParse(s.Value, out int seconds) || seconds < 1 || seconds > 235)
            {
                return Outcome.Fail($"ClientAliveInterval {s.Value} is outside 1..235 seconds.", s.Source, $"Set 'ClientAliveInterval 180' at {s.Source}.");
            }
            return Outcome.Pass($"ClientAliveInterval {seconds}.", s.Source);
        }

        private static RuleOutcome TargetPw(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("sudoers", ctx.Facts.Sudoers.Error));
            if (unknown != null)
            {
                return unknown;
            }
            Sudoers s = ctx.Facts.Sudoers.Value!;
            if (!s.Found)
            {
                return Outcome.NotApplicable("There is no /etc/sudoers.");
            }
            if (s.TargetPwLines.Count > 0)
            {
                SourceLine l = s.TargetPwLines[0];
                return Outcome.Fail($"Defaults targetpw at {Outcome.List(s.TargetPwLines)}: sudo asks for root's password, which provisioned users do not have.", l,
                    $"Comment it out: sed -i '{l.Line}s/^/# /' {l.File} (check with visudo -c)");
            }
            return Outcome.Pass($"No Defaults targetpw in {string.Join(", ", s.Files)}.");
        }

        private static RuleOutcome AllAll(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("sudoers", ctx.Facts.Sudoers.Error));
            if (unknown != null)
            {
                return unknown;
            }
            Sudoers s = ctx.Facts.Sudoers.Value!;
            if (!s.Found)
            {
                return Outcome.NotApplicable("There is no /etc/sudoers.");
            }
            if (s.AllUsersAllCommandsLines.Count > 0)
            {
                SourceLine l = s.AllUsersAllCommandsLines[0];
                return Outcome.Fail($"ALL ALL=(ALL) ALL at {Outcome.List(s.AllUsersAllCommandsLines)}: every user can run every command as root.", l,
                    $"Comment it out: sed -i '{l.Line}s/^/# /' {l.File} (check with visudo -c)");
            }
            return Outcome.Pass($"No rule gives ALL users ALL commands in {string.Join(", ", s.Files)}.");
        }

        private static RuleOutcome Architecture(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("the ELF header", ctx.Facts.Architecture.Error));
            if (unknown != null)
            {
                return unknown;
            }
            ElfArchitecture? a = ctx.Facts.Architecture.Value;
            if (a == null)
            {
                return Outcome.Unknown("No ELF binary was found at /bin/sh, /usr/bin/bash or /bin/ls.");
            }
            var ev = new SourceLine(a.File, 0);
            if (a.Name == "x86_64")
            {
                return Outcome.Pass("x86_64 (64-bit).", ev);
            }
            if (a.Name == "aarch64")
            {
                return ctx.Generation == 1
                    ? Outcome.Fail("aarch64 images run only as Generation 2 VMs.", ev, "Create the image and VMs as Generation 2 (-Generation 2).")
                    : Outcome.Pass("aarch64 (64-bit; Generation 2 only).", ev);
            }
            return Outcome.Fail($"{a.Name} ({(a.Is64Bit ? "64" : "32")}-bit) binaries: Azure runs x86_64 and aarch64 only.", ev, "Rebuild the image for x86_64 (amd64).");
        }

        private static RuleOutcome Dhcp(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("network configuration", ctx.Facts.Network.Error), ("provisioning agents", ctx.Facts.Provisioning.Error));
            if (unknown != null)
            {
                return unknown;
            }
            NetworkConfiguration n = ctx.Facts.Network.Value!;
            var ifaces = n.Interfaces.Where(i => i.Interface != "lo").ToList();
            if (n.DhcpClients.Count == 0)
            {
                return Outcome.FailAt("No DHCP client is installed (dhclient, dhcpcd, NetworkManager, systemd-networkd).", "/usr/sbin",
                    ctx.PackageInstall("isc-dhcp-client", "dhcp-client"));
            }
            ProvisioningAgents p = ctx.Facts.Provisioning.Value!;
            AgentRules.AgentState agents = AgentRules.State(ctx);
            InterfaceConfig? dhcp = n.DhcpAtBoot;
            if (dhcp != null)
            {
                if (dhcp.MappedByPattern != null && agents.Waagent && WaagentProvisions(agents))
                {
                    // AZURE-LINUX.md "Booting an image locally": waagent restarts the NIC with ifdown eth0 && ifup eth0.
                    return Outcome.Warn($"ifupdown configures '{dhcp.Interface}' only through the pattern {dhcp.MappedByPattern} ({dhcp.Source}): waagent restarts the NIC by name (ifdown eth0 && ifup eth0), which ifup refuses as an unknown interface.",
                        dhcp.Source, PrimaryNicFix(ctx, n));
                }
                return Outcome.Pass($"{dhcp.Tool} configures {dhcp.Interface} with DHCP at boot.", dhcp.Source);
            }
            InterfaceConfig? stat = ifaces.FirstOrDefault(i => i.Method == AddressMethod.Static);
            if (stat != null)
            {
                string fix = stat.Tool switch
                {
                    "ifupdown" => $"In {stat.Source.File} change line {stat.Source.Line} to 'iface {stat.Interface} inet dhcp' and delete its address/netmask/gateway lines.",
                    "ifcfg" => $"In {stat.Source.File} set BOOTPROTO=dhcp and delete IPADDR*, NETMASK*, PREFIX*, GATEWAY.",
                    "netplan" => $"In {stat.Source.File} replace 'addresses:' of {stat.Interface} with 'dhcp4: true'.",
                    "systemd-networkd" => $"In {stat.Source.File} replace Address= with DHCP=yes under [Network].",
                    _ => $"In {stat.Source.File} set method=auto under [ipv4].",
                };
                return Outcome.Fail($"Only static addresses are configured ({stat.Tool}: {stat.Interface} at {stat.Source}): Azure assigns addresses by DHCP.", stat.Source, fix);
            }
            if (p.CloudInit.Enabled)
            {
                return Outcome.Pass("No interface is configured; cloud-init writes a DHCP configuration at first boot.");
            }
            if (n.NetworkManagerAutoDhcp)
            {
                return Outcome.Pass("NetworkManager brings up every wired NIC with DHCP by default (no no-auto-default).");
            }
            InterfaceConfig? idle = ifaces.FirstOrDefault(i => i.Method == AddressMethod.Dhcp);
            if (idle != null)
            {
                string why = n.IfupdownInstalled ? $"no auto, allow-auto or allow-hotplug line names {idle.Interface}" : "ifupdown (ifup) is not installed";
                return Outcome.Fail($"{idle.Source} asks for DHCP on {idle.Interface} but {why}: nothing brings the NIC up at boot, so the VM never reaches the wire server and is never provisioned.",
                    idle.Source, n.IfupdownInstalled ? $"Add 'auto {idle.Interface}' before line {idle.Source.Line} of {idle.Source.File}." : ctx.PackageInstall("ifupdown", "NetworkManager"));
            }
            // Issue 27 item 4: nothing asks for an address and waagent (Debian's included) never brings a NIC up itself.
            return Outcome.Fail($"Nothing configures the primary NIC ({string.Join(", ", n.DhcpClients)} installed; no ifupdown stanza, .network file, NetworkManager or cloud-init asks for an address" +
                (agents.Waagent ? "; waagent does not bring interfaces up" : string.Empty) + "): the VM never reaches the wire server and is never provisioned.", null, PrimaryNicFix(ctx, n));
        }

        internal static bool WaagentProvisions(AgentRules.AgentState s) => s.WaagentMode == "waagent" || (s.WaagentMode == "auto" && !s.CloudInit);

        /// <summary>What Debian's cloud images do (AZURE-LINUX.md): net.ifnames=0 and an eth0 DHCP stanza, not a pattern (ifup eth0 must know the name).</summary>
        internal static string PrimaryNicFix(ReadinessContext ctx, NetworkConfiguration n)
        {
            string config;
            if (ctx.IsRedHatFamily)
            {
                config = "printf 'DEVICE=eth0\\nBOOTPROTO=dhcp\\nONBOOT=yes\\nTYPE=Ethernet\\n' > /etc/sysconfig/network-scripts/ifcfg-eth0";
            }
            else if (n.IfupdownInstalled || !n.DhcpClients.Contains("systemd-networkd"))
            {
                config = (n.IfupdownInstalled ? string.Empty : ctx.PackageInstall("ifupdown", "NetworkManager") + "; ") +
                    "printf 'auto eth0\\niface eth0 inet dhcp\\n' > /etc/network/interfaces.d/eth0";
            }
            else
            {
                config = "printf '[Match]\\nName=eth0\\n\\n[Network]\\nDHCP=yes\\n' > /etc/systemd/network/20-eth0.network && systemctl enable systemd-networkd";
            }
            KernelCommandLine? cmd = ctx.Facts.Boot.Value?.EffectiveCommandLine;
            return cmd != null && cmd.Value("net.ifnames") == "0" ? config : config + "; and name the NIC eth0 at every boot: " + BootRules.AddArguments(ctx, "net.ifnames=0");
        }

        private static RuleOutcome Pinning(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("network configuration", ctx.Facts.Network.Error));
            if (unknown != null)
            {
                return unknown;
            }
            NetworkConfiguration n = ctx.Facts.Network.Value!;
            if (n.PersistentNetRules.Count > 0)
            {
                string files = string.Join(" ", n.PersistentNetRules.Select(r => r.File).Distinct());
                return Outcome.Fail($"udev pins interface names to MAC addresses ({Outcome.List(n.PersistentNetRules)}): the NIC comes up as eth1 in Azure.", n.PersistentNetRules[0], $"rm -f {files}");
            }
            InterfaceConfig? pinned = n.Interfaces.FirstOrDefault(i => i.MacPinned);
            if (pinned != null)
            {
                return Outcome.Fail($"{pinned.Tool} pins {pinned.Interface} to a MAC address ({pinned.Source}).", pinned.Source,
                    $"Delete the HWADDR/hwaddress/macaddress/MACAddress line of {pinned.Source.File}.");
            }
            return Outcome.Pass("No interface is pinned to a MAC address.");
        }
    }
}
