using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Readiness
{
    /// <summary>A generalized image: no state, credentials or traces of the build VM (R-SYS-3, AZURE-LINUX.md "hygiene" and "users").</summary>
    internal static class HygieneRules
    {
        private const string Area = "Hygiene";

        public static IEnumerable<ReadinessRule> All()
        {
            yield return new ReadinessRule("NoStaleProvisioningState", Area, "No provisioning state from a previous VM", "R-SYS-3", ReadinessSeverity.Error,
                "waagent's Lib.Dir (/var/lib/waagent) is empty: WALinuxAgent's own deprovision list (pa/deprovision/default.py) removes the whole folder, and each known name (provisioned, ovf-env.xml, Incarnation, GoalState.*.xml, Certificates*, *.prv ...) is reported with the agent source line that writes it; /var/lib/cloud has no instance; /var/lib/azure-init has no .provisioned marker. Otherwise the agent skips provisioning of new VMs or reuses the old VM's goal state.",
                Stale);
            yield return new ReadinessRule("NoDhcpLeases", Area, "No DHCP leases", "R-SYS-3", ReadinessSeverity.Warning,
                "DHCP lease files of the build network are removed (waagent -deprovision does it).",
                Leases);
            yield return new ReadinessRule("NoPasswordHashes", Area, "No usable password hashes", "R-SYS-3", ReadinessSeverity.Warning,
                "/etc/shadow holds no usable password hash and no empty password (the build user's password would work on every VM).",
                Passwords);
            yield return new ReadinessRule("NoAuthorizedKeys", Area, "No authorized_keys left", "R-SYS-3", ReadinessSeverity.Warning,
                "No home folder keeps ~/.ssh/authorized_keys from the build machine.",
                Keys);
            yield return new ReadinessRule("NoShellHistory", Area, "No shell history", "R-SYS-3", ReadinessSeverity.Warning,
                "No shell history over 1 KB is left in a home folder (export HISTSIZE=0 before shutting down).",
                History);
            yield return new ReadinessRule("MachineIdBlank", Area, "machine-id blank", "R-SYS-3", ReadinessSeverity.Warning,
                "/etc/machine-id is empty, 'uninitialized' or absent, so each VM gets its own id (and DHCP client id).",
                MachineId);
            yield return new ReadinessRule("DbusMachineIdBlank", Area, "D-Bus machine-id follows /etc/machine-id", "R-SYS-3", ReadinessSeverity.Warning,
                "/var/lib/dbus/machine-id is absent or a link to /etc/machine-id; a regular file keeps the build VM's id in D-Bus (libdbus reads it before /etc/machine-id), on every VM of the image.",
                DbusMachineIdRule);
            yield return new ReadinessRule("SshHostKeysRegenerated", Area, "SSH host keys not shared by every VM", "R-SYS-3", ReadinessSeverity.Warning,
                "Either no SSH host keys are baked in, or the provisioning agent regenerates them (waagent Provisioning.RegenerateSshHostKeyPair=y, cloud-init ssh_deletekeys).",
                HostKeys);
        }

        private static RuleOutcome Stale(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("provisioning agents", ctx.Facts.Provisioning.Error));
            if (unknown != null)
            {
                return unknown;
            }
            var files = ctx.Facts.Provisioning.Value!.Leftovers.Where(l => l.Kind != "dhcp-lease").ToList();
            static string Describe(LeftoverFile f) => f.Item == null ? f.Path : $"{f.Path} ({f.Item.Meaning}; {WaagentDeprovision.SourceVersion} {f.Item.Source})";
            if (files.Count == 0)
            {
                return Outcome.Pass("No provisioning state is left.");
            }
            var fixes = new List<string>();
            if (files.Any(f => f.Kind == "waagent"))
            {
                fixes.Add("waagent -force -deprovision (offline: rm -rf " + string.Join(" ", files.Where(f => f.Kind == "waagent").Select(f => f.Path)) + ")");
            }
            if (files.Any(f => f.Kind == "cloud-init"))
            {
                fixes.Add("cloud-init clean --logs (offline: rm -rf /var/lib/cloud/instance /var/lib/cloud/instances)");
            }
            if (files.Any(f => f.Kind == "azure-init"))
            {
                fixes.Add("rm -f " + string.Join(" ", files.Where(f => f.Kind == "azure-init").Select(f => f.Path)));
            }
            return Outcome.Fail($"Provisioning state of a previous VM is left: {string.Join(", ", files.Select(Describe))}; new VMs are not provisioned or take the old VM's state.",
                new SourceLine(files[0].Path, 0), string.Join("; ", fixes));
        }

        private static RuleOutcome Leases(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("provisioning agents", ctx.Facts.Provisioning.Error));
            if (unknown != null)
            {
                return unknown;
            }
            var leases = ctx.Facts.Provisioning.Value!.Leftovers.Where(l => l.Kind == "dhcp-lease").ToList();
            return leases.Count == 0
                ? Outcome.Pass("No DHCP leases are left.")
                : Outcome.Fail($"DHCP leases of the build network are left: {string.Join(", ", leases.Select(l => l.Path))}.", new SourceLine(leases[0].Path, 0),
                    "rm -f " + string.Join(" ", leases.Select(l => l.Path)));
        }

        private static RuleOutcome Passwords(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("accounts", ctx.Facts.Accounts.Error));
            if (unknown != null)
            {
                return unknown;
            }
            Accounts a = ctx.Facts.Accounts.Value!;
            if (!a.ShadowFound)
            {
                return Outcome.Unknown("/etc/shadow was not found.");
            }
            var lines = a.UsablePasswords.Concat(a.EmptyPasswords).OrderBy(l => l.Line).ToList();
            if (lines.Count == 0)
            {
                return Outcome.Pass("No account in /etc/shadow has a usable or empty password.");
            }
            string shadow = ctx.Facts.Root.TryReadText("/etc/shadow") ?? string.Empty;
            string[] all = shadow.Split('\n');
            var users = lines.Select(l => l.Line - 1 < all.Length ? all[l.Line - 1].Split(':')[0] : "?").ToList();
            return Outcome.Fail($"{string.Join(", ", users)} {(users.Count == 1 ? "has" : "have")} a usable or empty password ({Outcome.List(lines)}).", lines[0],
                string.Join("; ", users.Select(u => $"usermod -p '*' {u}")) + " (or passwd -l)");
        }

        private static RuleOutcome Keys(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("accounts", ctx.Facts.Accounts.Error));
            if (unknown != null)
            {
                return unknown;
            }
            IReadOnlyList<HomeFile> keys = ctx.Facts.Accounts.Value!.AuthorizedKeys;
            return keys.Count == 0
                ? Outcome.Pass("No authorized_keys are left.")
                : Outcome.Fail($"authorized_keys left: {string.Join(", ", keys.Select(k => $"{k.Path} ({k.Lines} key{(k.Lines == 1 ? string.Empty : "s")})"))}.",
                    new SourceLine(keys[0].Path, 0), "rm -f " + string.Join(" ", keys.Select(k => k.Path)));
        }

        private static RuleOutcome History(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("accounts", ctx.Facts.Accounts.Error));
            if (unknown != null)
            {
                return unknown;
            }
            IReadOnlyList<HomeFile> all = ctx.Facts.Accounts.Value!.Histories;
            var big = all.Where(h => h.Size > 1024).ToList();
            if (big.Count > 0)
            {
                return Outcome.Fail($"Shell history left: {string.Join(", ", big.Select(h => $"{h.Path} ({h.Size} bytes)"))}.", new SourceLine(big[0].Path, 0),
                    "rm -f " + string.Join(" ", all.Select(h => h.Path)) + "; export HISTSIZE=0 before shutting down");
            }
            return Outcome.Pass(all.Count == 0 ? "No shell history." : $"Only small histories ({string.Join(", ", all.Select(h => $"{h.Path} {h.Size} bytes"))}).");
        }

        private static RuleOutcome MachineId(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("accounts", ctx.Facts.Accounts.Error));
            if (unknown != null)
            {
                return unknown;
            }
            string? id = ctx.Facts.Accounts.Value!.MachineId;
            if (id == null || id.Length == 0 || id == "uninitialized")
            {
                return Outcome.Pass(id == null ? "/etc/machine-id is absent (generated at first boot)." : "/etc/machine-id is blank.");
            }
            return Outcome.Fail($"/etc/machine-id is set ({(Regex.IsMatch(id, "^[0-9a-f]{32}$") ? id : "not a blank value")}): every VM of this image shares it.",
                new SourceLine("/etc/machine-id", 1), "truncate -s 0 /etc/machine-id (keep the file; systemd fills it at first boot)");
        }

        private static RuleOutcome DbusMachineIdRule(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("the D-Bus machine id", ctx.Facts.DbusMachineId.Error));
            if (unknown != null)
            {
                return unknown;
            }
            DbusMachineId d = ctx.Facts.DbusMachineId.Value!;
            var where = new SourceLine(DbusMachineId.Path, 0);
            const string fix = "rm -f /var/lib/dbus/machine-id && ln -s /etc/machine-id /var/lib/dbus/machine-id (D-Bus then follows the id systemd writes at first boot; machine-id(5))";
            if (!d.Exists)
            {
                return Outcome.Pass("/var/lib/dbus/machine-id is absent: D-Bus reads /etc/machine-id.");
            }
            if (d.IsLink)
            {
                return d.FollowsEtc
                    ? Outcome.Pass($"/var/lib/dbus/machine-id links to {d.LinkTarget}.", where)
                    : Outcome.Fail($"/var/lib/dbus/machine-id links to {d.LinkTarget}, not /etc/machine-id.", where, fix);
            }
            if (string.IsNullOrEmpty(d.Content))
            {
                return Outcome.Fail("/var/lib/dbus/machine-id is an empty file: D-Bus cannot read an id from it.", where, fix);
            }
            string? etc = ctx.Facts.Accounts.Value?.MachineId;
            string same = etc != null && etc == d.Content ? " (the same id as /etc/machine-id)" : string.Empty;
            return Outcome.Fail($"/var/lib/dbus/machine-id holds {(Regex.IsMatch(d.Content, "^[0-9a-f]{32}$") ? d.Content : "an id")}{same}: every VM of this image keeps it in D-Bus even once /etc/machine-id is blanked.",
                where, fix);
        }

        private static RuleOutcome HostKeys(ReadinessContext ctx)
        {
            RuleOutcome? unknown = Outcome.UnknownIf(("sshd", ctx.Facts.Sshd.Error), ("provisioning agents", ctx.Facts.Provisioning.Error));
            if (unknown != null)
            {
                return unknown;
            }
            IReadOnlyList<string> keys = ctx.Facts.Sshd.Value!.HostKeys;
            if (keys.Count == 0)
            {
                return Outcome.Pass("No SSH host keys are baked in.");
            }
            ProvisioningAgents p = ctx.Facts.Provisioning.Value!;
            AgentRules.AgentState s = AgentRules.State(ctx);
            if (s.CloudInit && p.CloudInit.Config.Get("ssh_deletekeys")?.Scalar is not ("false" or "False"))
            {
                return Outcome.Pass("cloud-init deletes and regenerates the SSH host keys at first boot (ssh_deletekeys).");
            }
            WaagentSettings? w = p.Waagent.Settings;
            if (s.Waagent && w != null && w.Flag("Provisioning.RegenerateSshHostKeyPair"))
            {
                return Outcome.Pass("waagent regenerates the SSH host keys (Provisioning.RegenerateSshHostKeyPair=y).", w.Where("Provisioning.RegenerateSshHostKeyPair"));
            }
            return Outcome.Fail($"{keys.Count} SSH host keys are baked in and nothing regenerates them: every VM has the same host identity.", new SourceLine(keys[0], 0),
                "rm -f /etc/ssh/ssh_host_* and make sure they are generated at first boot (ssh-keygen -A in a first-boot unit, or Provisioning.RegenerateSshHostKeyPair=y)");
        }
    }
}
