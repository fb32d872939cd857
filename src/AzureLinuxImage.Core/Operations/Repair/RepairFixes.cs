using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Linux.Waagent;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Operations
{
    /// <summary>The safe offline fix of each rule that has one (issue 18's list); the rest are reported NotFixed.</summary>
    internal sealed class RepairFixes
    {
        private static readonly Regex KernelDevice = new Regex(@"^/dev/(?:sd|vd|xvd|hd)[a-z]+(\d+)$", RegexOptions.CultureInvariant);

        private readonly ImageEditor ed;
        private readonly WritableTarget target;
        private readonly IReadOnlyDictionary<string, ReadinessFinding> findings;
        private readonly ReadinessContext? ctx;

        public RepairFixes(ImageEditor ed, WritableTarget target, IReadOnlyDictionary<string, ReadinessFinding> findings, ReadinessContext? ctx)
        {
            this.ed = ed;
            this.target = target;
            this.findings = findings;
            this.ctx = ctx;
        }

        private IFileSystemWriter W => ed.Writer;

        private bool Failing(string rule) => findings.TryGetValue(rule, out ReadinessFinding? f) && (f.Status == ReadinessStatus.Fail || f.Status == ReadinessStatus.Warning);

        /// <summary>Applies every fix whose rule fails; returns the rules a fix was attempted for.</summary>
        public IEnumerable<string> Apply(IReadOnlyList<ReadinessFinding> failing)
        {
            if (ctx == null)
            {
                yield break;
            }
            var attempted = new List<string>();
            // Network first: its fix may add net.ifnames=0 to the command line, which is edited once below.
            var addArgs = new List<string>();
            var removeKeys = new List<Func<string, bool>>();
            if (Failing("DhcpPrimaryNic") && FixDhcp(addArgs))
            {
                attempted.Add("DhcpPrimaryNic");
            }
            CommandLine(addArgs, removeKeys, attempted);
            if (Failing("NoSwapOnOsDisk") && FixSwap(removeKeys))
            {
                attempted.Add("NoSwapOnOsDisk");
            }
            if (addArgs.Count > 0 || removeKeys.Count > 0)
            {
                CommandLineFix.Apply(ed, "KernelCommandLine", addArgs.Distinct().ToList(), a => removeKeys.Any(r => r(a)),
                    $"Kernel command line for Azure (R-BOOT-1, R-BOOT-2): +{string.Join(" +", addArgs.DefaultIfEmpty(string.Empty))}");
                Relabel("KernelCommandLine", attempted);
            }
            foreach (var (rule, fix) in new (string, Func<bool>)[]
            {
                ("FstabStableNames", FixFstabNames),
                ("SudoersTargetPw", () => CommentLines(ctx.Facts.Sudoers.Value?.TargetPwLines, "SudoersTargetPw", "Defaults targetpw makes sudo ask for root's password (R-SYS-2).")),
                ("SudoersAllUsers", () => CommentLines(ctx.Facts.Sudoers.Value?.AllUsersAllCommandsLines, "SudoersAllUsers", "ALL ALL=(ALL) ALL lets every user run every command as root (R-SYS-2).")),
                ("UdfAvailable", () => CommentLines(ctx.Facts.Modprobe.Value?.BlockedBy("udf"), "UdfAvailable", "udf must load to read the provisioning media (R-PART-3).")),
                ("WaagentResourceDiskSwap", () => FixWaagent("WaagentResourceDiskSwap")),
                ("ProvisioningAgentConflict", () => FixWaagent("ProvisioningAgentConflict")),
                ("InitrdHyperVDrivers", () => FixInitrd("InitrdHyperVDrivers", new[] { "hv_vmbus", "hv_storvsc", "hv_netvsc" })),
                ("InitrdNvme", () => FixInitrd("InitrdNvme", new[] { "nvme" })),
                ("NoMacPinning", FixPinning),
                ("SshClientAliveInterval", FixClientAlive),
            })
            {
                if (Failing(rule) && fix())
                {
                    attempted.Add(rule);
                }
            }
            foreach (string a in attempted.Distinct())
            {
                yield return a;
            }
        }

        /// <summary>Changes recorded under the placeholder rule id go to the rules whose findings asked for them.</summary>
        private void Relabel(string placeholder, List<string> attempted)
        {
            string rules = string.Join(",", attempted.Where(a => a.StartsWith("Cmd:", StringComparison.Ordinal)).Select(a => a.Substring(4)).Distinct());
            for (int i = 0; i < ed.Changes.Count; i++)
            {
                LinuxImageChange c = ed.Changes[i];
                if (c.RuleId == placeholder)
                {
                    ed.Changes[i] = ed.Change(rules.Length == 0 ? placeholder : rules, c.Action, c.ItemPath, c.Line, c.Before, c.After, c.Description, c.Remediation);
                }
            }
            attempted.RemoveAll(a => a.StartsWith("Cmd:", StringComparison.Ordinal));
            attempted.AddRange(rules.Split(',').Where(r => r.Length > 0));
        }

        private void CommandLine(List<string> add, List<Func<string, bool>> remove, List<string> attempted)
        {
            string port = BootRules.SerialPort(ctx!);
            if (Failing("SerialConsole"))
            {
                add.Add($"console={port},115200n8");
                attempted.Add("Cmd:SerialConsole");
            }
            if (Failing("EarlyPrintk"))
            {
                KernelCommandLine? cmd = ctx!.Facts.Boot.Value?.EffectiveCommandLine;
                if (cmd == null || !cmd.Values("earlyprintk").Any(v => v.StartsWith(port, StringComparison.Ordinal)))
                {
                    remove.Add(a => a.StartsWith("earlyprintk=", StringComparison.Ordinal));
                    add.Add($"earlyprintk={port},115200");
                }
                attempted.Add("Cmd:EarlyPrintk");
            }
            // RootDelay warns only when the initrd's boot code sleeps for the parameter (issue 24): the fix
            // removes it; its absence passes, so no fix ever adds rootdelay (R-BOOT-1, docs/rules.md).
            if (Failing("RootDelay") && ctx!.Facts.Boot.Value?.EffectiveCommandLine?.Has("rootdelay") == true)
            {
                remove.Add(a => a.StartsWith("rootdelay=", StringComparison.Ordinal));
                attempted.Add("Cmd:RootDelay");
            }
            if (Failing("QuietBoot"))
            {
                remove.Add(a => a == "quiet" || a == "rhgb" || a == "crashkernel=auto" || a.StartsWith("splash", StringComparison.Ordinal));
                attempted.Add("Cmd:QuietBoot");
            }
            if (Failing("ForbiddenKernelArguments"))
            {
                remove.Add(a => a == "libata.atapi_enabled=0" || a.StartsWith("reserve=0x1f0", StringComparison.Ordinal));
                attempted.Add("Cmd:ForbiddenKernelArguments");
            }
            if (add.Contains("net.ifnames=0"))
            {
                attempted.Add("Cmd:DhcpPrimaryNic");
            }
        }

        private bool FixSwap(List<Func<string, bool>> removeArgs)
        {
            bool any = false;
            Fstab? fstab = ctx!.Facts.Fstab.Value;
            var swapLines = fstab?.Entries.Where(e => e.IsSwap && !e.IsNoAuto).Select(e => e.Source).ToList() ?? new List<SourceLine>();
            if (CommentLines(swapLines, "NoSwapOnOsDisk", "Swap belongs on the resource disk, not the OS disk (R-PART-2)."))
            {
                any = true;
            }
            SwapFacts? swap = ctx.Facts.Swap.Value;
            if (swap != null)
            {
                foreach (string file in swap.SwapFiles)
                {
                    any |= ed.Remove(file, "NoSwapOnOsDisk", "A swap file on the OS disk (R-PART-2); its fstab line is commented out.");
                }
                foreach (UnitState u in swap.SwapUnits)
                {
                    ed.NotFixed("NoSwapOnOsDisk", u.FilePath, 0, $"swap unit {u.Name} is left for the admin to remove or disable.", $"systemctl disable {u.Name}");
                }
                foreach (SourceLine r in swap.ResumeSettings)
                {
                    TextFileEdit edit = ed.Open(r.File);
                    int i = edit.IndexOfLine(r.Line);
                    if (i >= 0)
                    {
                        edit.Replace(i, "RESUME=none");
                        any |= ed.Save(edit, "NoSwapOnOsDisk", "The initramfs must not wait for a swap device that will not exist; takes effect when the initramfs is rebuilt.");
                        ed.NotFixed("NoSwapOnOsDisk", r.File, r.Line, "The current initramfs still holds the old resume setting until it is rebuilt.", ctx.RebuildInitramfs);
                    }
                }
            }
            if (ctx.Facts.Boot.Value?.EffectiveCommandLine?.Has("resume") == true || ctx.Facts.Boot.Value?.DefaultGrubCommandLine?.Has("resume") == true)
            {
                removeArgs.Add(a => a.StartsWith("resume=", StringComparison.Ordinal));
                any = true;
            }
            if (ctx.Facts.Disk != null)
            {
                foreach (PartitionFact p in ctx.Facts.Disk.Partitions.Where(p => p.GptType == DiskLayoutFacts.LinuxSwapType || p.MbrType == 0x82 || p.HasSwapSignature))
                {
                    ed.NotFixed("NoSwapOnOsDisk", null, 0, $"Swap partition {p.Number} stays: removing a partition is not an offline file edit.",
                        p.IsLogicalVolume ? $"lvremove {p.Name}" : $"sgdisk -d {p.Number} <disk>, then grow the root");
                }
            }
            return any;
        }

        private bool FixFstabNames()
        {
            Fstab? fstab = ctx!.Facts.Fstab.Value;
            if (fstab == null || !fstab.Found)
            {
                return false;
            }
            TextFileEdit edit = ed.Open("/etc/fstab");
            foreach (FstabLine e in fstab.Entries.Where(x => x.Naming == DeviceNaming.KernelName && !x.IsNoAuto))
            {
                Match m = KernelDevice.Match(e.Device);
                PartitionFact? p = m.Success && target.Disk != null
                    ? target.Disk.Partitions.FirstOrDefault(x => !x.IsLogicalVolume && x.Number == int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
                    : null;
                if (p?.FileSystemUuid == null)
                {
                    ed.NotFixed("FstabStableNames", "/etc/fstab", e.Source.Line,
                        target.Disk == null
                            ? $"{e.Device}: a root folder has no disk to read the file system UUID from."
                            : $"{e.Device}: no partition of this disk with that number holds a file system with a UUID.",
                        $"Replace {e.Device} with UUID=$(blkid -s UUID -o value {e.Device}) at /etc/fstab:{e.Source.Line}.");
                    continue;
                }
                int i = edit.IndexOfLine(e.Source.Line);
                string line = edit[i];
                int at = line.IndexOf(e.Device, StringComparison.Ordinal);
                edit.Replace(i, line.Substring(0, at) + "UUID=" + p.FileSystemUuid + line.Substring(at + e.Device.Length));
            }
            return ed.Save(edit, "FstabStableNames", "Kernel device names change in Azure (sda/sdb order, NVMe); the file system's UUID does not.");
        }

        /// <summary>Comments out each listed line (sudoers, modprobe.d, fstab), grouped by file.</summary>
        private bool CommentLines(IReadOnlyList<SourceLine>? lines, string rule, string why)
        {
            if (lines == null || lines.Count == 0)
            {
                return false;
            }
            bool any = false;
            foreach (var group in lines.GroupBy(l => l.File))
            {
                TextFileEdit edit = ed.Open(group.Key);
                foreach (SourceLine l in group)
                {
                    int i = edit.IndexOfLine(l.Line);
                    if (i >= 0 && !edit[i].TrimStart().StartsWith("#", StringComparison.Ordinal))
                    {
                        edit.CommentOut(i);
                    }
                }
                any |= ed.Save(edit, rule, why);
            }
            return any;
        }

        private bool FixWaagent(string rule)
        {
            ProvisioningAgents? p = ctx!.Facts.Provisioning.Value;
            if (p == null || !p.Waagent.Installed || !W.IsFile(WaagentConfigLocation.ConfigPathInRoot))
            {
                return false;
            }
            byte[] bytes = WaagentConfigLocation.ReadFromFileSystem(W);
            WaagentConfig before = WaagentConfig.Parse(bytes, WaagentConfigLocation.ConfigPathInRoot);
            WaagentConfig after = before;
            string why;
            if (rule == "WaagentResourceDiskSwap")
            {
                // R-AGENT-5, the same edits as Set-WaagentConfig -AzureRecommended.
                var recommended = new SetWaagentConfig(new SetWaagentConfigOptions { RootPath = "/", AzureRecommended = true });
                foreach (KeyValuePair<string, string?> e in recommended.Edits())
                {
                    after = after.With(e.Key, e.Value!);
                }
                why = "R-AGENT-5: waagent formats the resource disk as ext4 at /mnt/resource and puts swap there.";
            }
            else
            {
                AgentRules.AgentState s = AgentRules.State(ctx);
                string? value = s.WaagentMode switch
                {
                    "cloud-init" when !p.CloudInit.Installed => "waagent",
                    "waagent" when s.CloudInit => "auto",
                    "disabled" when !s.CloudInit && !s.AzureInit && !s.Agentless => "waagent",
                    "cloud-init" or "waagent" or "auto" or "disabled" => null,
                    _ => "auto",
                };
                if (value == null)
                {
                    return false;
                }
                after = after.With("Provisioning.Agent", value);
                why = $"Provisioning.Agent={value}: the agent that provisions must be one that is installed and enabled (AZ-AGENT).";
            }
            TextFileEdit edit = new TextFileEdit(WaagentConfigLocation.ConfigPathInRoot, System.Text.Encoding.UTF8.GetString(bytes));
            string[] newLines = System.Text.Encoding.UTF8.GetString(after.ToBytes()).Replace("\r\n", "\n").TrimEnd('\n').Split('\n');
            // Report the changed lines; the bytes written are WaagentConfig's (BOM, CRLF, comments kept).
            var oldLines = edit.Lines.Select(l => l.Text).ToList();
            int changed = 0;
            for (int i = 0; i < Math.Max(oldLines.Count, newLines.Length); i++)
            {
                string? o = i < oldLines.Count ? oldLines[i] : null;
                string? n = i < newLines.Length ? newLines[i] : null;
                if (o != n)
                {
                    changed++;
                }
            }
            if (changed == 0)
            {
                return false;
            }
            if (!ed.Stage(rule, WaagentConfigLocation.ConfigPathInRoot, () =>
            {
                using var content = new System.IO.MemoryStream(after.ToBytes(), false);
                W.WriteFile(WaagentConfigLocation.ConfigPathInRoot, content);
            }))
            {
                return true;
            }
            foreach (WaagentConfigLine line in after.Lines.Where(l => l.Kind == WaagentLineKind.Setting))
            {
                WaagentConfigLine? old = before.Find(line.Key);
                if (old == null || old.Text != line.Text)
                {
                    ed.Changes.Add(ed.Change(rule, LinuxImageChangeAction.Edited, WaagentConfigLocation.ConfigPathInRoot, old?.OriginalNumber ?? 0,
                        old?.Text, line.Text, why));
                }
            }
            return true;
        }

        private bool FixInitrd(string rule, string[] modules)
        {
            KernelInfo? k = ctx!.Facts.Kernels.Value?.FirstOrDefault();
            var needed = modules.Where(m => k == null || k.Driver(m) != DriverAvailability.BuiltIn).ToList();
            string? generator = CommandLineFix.InitramfsGenerator(W);
            bool any = false;
            if (generator == "initramfs-tools" && W.IsDirectory("/etc/initramfs-tools"))
            {
                TextFileEdit edit = ed.Open("/etc/initramfs-tools/modules");
                var listed = new HashSet<string>(edit.Lines.Select(l => RootFiles.StripComment(l.Text).Trim()).Where(l => l.Length > 0).Select(l => RootFiles.Words(l)[0]));
                foreach (string m in needed.Where(m => !listed.Contains(m)))
                {
                    edit.Append(m);
                }
                any = ed.Save(edit, rule, "Listed for the next update-initramfs, so the initramfs loads the Azure drivers (R-INITRD-1).");
            }
            else if (generator == "dracut")
            {
                string path = "/etc/dracut.conf.d/azure.conf";
                ed.EnsureDirectory("/etc/dracut.conf.d", rule);
                TextFileEdit edit = ed.Open(path);
                string text = string.Join("\n", edit.Lines.Select(l => l.Text));
                var missing = needed.Where(m => !Regex.IsMatch(text, @"add_drivers\+?=.*\b" + Regex.Escape(m) + @"\b")).ToList();
                if (missing.Count > 0)
                {
                    edit.Append($"add_drivers+=\" {string.Join(" ", missing)} \"");
                }
                any = ed.Save(edit, rule, "Listed for the next dracut run, so the initramfs loads the Azure drivers (R-INITRD-1).");
            }
            if (!any && generator == null)
            {
                return false;
            }
            ed.NotFixed(rule, k?.InitrdPath, 0, $"The current initramfs still lacks {string.Join(", ", needed)}: it must be rebuilt, which needs the image's own tools.",
                ctx.RebuildInitramfs + " (inside the VM or a chroot)");
            return true;
        }

        /// <summary>ClientAliveInterval 180 (AZ-SSH): in sshd_config.d when sshd_config includes it (first value wins), else before any Match block.</summary>
        private bool FixClientAlive()
        {
            SshdConfig? sshd = ctx!.Facts.Sshd.Value;
            if (sshd == null || !sshd.Installed || !sshd.ConfigFound)
            {
                return false;
            }
            const string why = "Azure's load balancer drops idle connections after 4 minutes; sshd keeps them alive (AZ-SSH).";
            SshdSetting? current = sshd.Get("ClientAliveInterval");
            if (current != null)
            {
                TextFileEdit edit = ed.Open(current.Source.File);
                int i = edit.IndexOfLine(current.Source.Line);
                if (i < 0)
                {
                    return false;
                }
                edit.Replace(i, "ClientAliveInterval 180");
                return ed.Save(edit, "SshClientAliveInterval", why);
            }
            string? main = W.TryReadText("/etc/ssh/sshd_config");
            if (main != null && Regex.IsMatch(main, @"^\s*Include\s+/etc/ssh/sshd_config\.d/\*\.conf", RegexOptions.Multiline | RegexOptions.IgnoreCase) && W.IsDirectory("/etc/ssh/sshd_config.d"))
            {
                int before = ed.Changes.Count;
                if (ed.WriteFile("/etc/ssh/sshd_config.d/50-azure.conf", "ClientAliveInterval 180\n", "SshClientAliveInterval", why))
                {
                    return true;
                }
                // Cannot create a file here (XFS): set it in sshd_config itself, before any Match block.
                ed.Changes.RemoveRange(before, ed.Changes.Count - before);
            }
            TextFileEdit config = ed.Open("/etc/ssh/sshd_config");
            int match = config.Lines.Where(l => Regex.IsMatch(l.Text, @"^\s*Match\s", RegexOptions.IgnoreCase)).Select(l => l.Index).DefaultIfEmpty(-1).First();
            if (match >= 0)
            {
                config.InsertAfter(match - 1, "ClientAliveInterval 180");
            }
            else
            {
                config.Append("ClientAliveInterval 180");
            }
            return ed.Save(config, "SshClientAliveInterval", why);
        }

        private bool FixPinning()
        {
            NetworkConfiguration? n = ctx!.Facts.Network.Value;
            if (n == null)
            {
                return false;
            }
            bool any = false;
            foreach (string file in n.PersistentNetRules.Select(r => r.File).Distinct())
            {
                any |= ed.Remove(file, "NoMacPinning", "udev rules that pin interface names to the build VM's MAC address; in Azure the NIC would come up as eth1.");
            }
            foreach (var group in n.Interfaces.Where(i => i.MacPinned).GroupBy(i => i.Source.File))
            {
                TextFileEdit edit = ed.Open(group.Key);
                foreach ((int index, int line, string text) in edit.Lines.ToList())
                {
                    string t = text.Trim();
                    if (Regex.IsMatch(t, @"^(HWADDR\s*=|MACADDR\s*=|hwaddress\s|hw-address\s|macaddress\s*:|MACAddress\s*=|mac-address\s*=)", RegexOptions.IgnoreCase))
                    {
                        edit.Delete(index);
                    }
                }
                any |= ed.Save(edit, "NoMacPinning", "The NIC's MAC address changes in Azure; a configuration pinned to the old one never applies.");
            }
            return any;
        }

        private bool FixDhcp(List<string> addArgs)
        {
            NetworkConfiguration? n = ctx!.Facts.Network.Value;
            if (n == null || n.DhcpClients.Count == 0)
            {
                return false;
            }
            var ifaces = n.Interfaces.Where(i => i.Interface != "lo").ToList();
            InterfaceConfig? stat = ifaces.FirstOrDefault(i => i.Method == AddressMethod.Static);
            if (stat != null)
            {
                return NetworkFix.StaticToDhcp(ed, stat);
            }
            if (ifaces.Any(i => i.Method == AddressMethod.Dhcp))
            {
                return false;
            }
            // Nothing configures the NIC (issue 27): Debian's cloud images bring eth0 up with ifupdown and keep the
            // kernel's name (net.ifnames=0); waagent restarts the NIC by that name, so no pattern stanza.
            if (W.IsFile("/sbin/ifup") || W.IsFile("/usr/sbin/ifup"))
            {
                string interfaces = "/etc/network/interfaces";
                string? main = W.TryReadText(interfaces);
                bool sourcesDir = main != null && Regex.IsMatch(main, @"^\s*source(-directory)?\s+/etc/network/interfaces\.d", RegexOptions.Multiline);
                const string why = "Nothing configured the NIC: DHCP on eth0, as Debian's cloud images do (R-NOAGENT-2).";
                bool done = false;
                if (sourcesDir && W.IsDirectory("/etc/network/interfaces.d"))
                {
                    int before = ed.Changes.Count;
                    done = ed.WriteFile("/etc/network/interfaces.d/eth0", "auto eth0\niface eth0 inet dhcp\n", "DhcpPrimaryNic", why);
                    if (!done)
                    {
                        // A file system that cannot create files (XFS here) may still grow the existing one in place.
                        ed.Changes.RemoveRange(before, ed.Changes.Count - before);
                    }
                }
                if (!done)
                {
                    TextFileEdit edit = ed.Open(interfaces);
                    edit.Append("auto eth0");
                    edit.Append("iface eth0 inet dhcp");
                    done = ed.Save(edit, "DhcpPrimaryNic", why);
                }
                if (!done)
                {
                    return true;
                }
                addArgs.Add("net.ifnames=0");
                return true;
            }
            if (ctx.IsRedHatFamily && W.IsDirectory("/etc/sysconfig/network-scripts"))
            {
                ed.WriteFile("/etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\nTYPE=Ethernet\n", "DhcpPrimaryNic",
                    "Nothing configured the NIC: DHCP on eth0 (R-NOAGENT-2).");
                addArgs.Add("net.ifnames=0");
                return true;
            }
            if (W.IsDirectory("/etc/systemd/network") && ctx.Facts.Units.Value?.Get("systemd-networkd.service").Active == true)
            {
                ed.WriteFile("/etc/systemd/network/10-azure-eth0.network", "[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n", "DhcpPrimaryNic",
                    "Nothing configured the NIC: DHCP on eth0 with systemd-networkd (R-NOAGENT-2).");
                addArgs.Add("net.ifnames=0");
                return true;
            }
            return false;
        }
    }
}
