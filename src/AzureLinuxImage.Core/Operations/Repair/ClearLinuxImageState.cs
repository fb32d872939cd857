using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Operations
{
    /// <summary>Options of Clear-LinuxImageState / azlinux generalize.</summary>
    internal sealed class ClearLinuxImageStateOptions
    {
        /// <summary>The disk image to generalize; exclusive with <see cref="RootPath"/>.</summary>
        public string? ImagePath { get; set; }

        /// <summary>A Linux root folder to generalize.</summary>
        public string? RootPath { get; set; }

        /// <summary>Build users to delete with their home (authorized_keys included), as waagent -deprovision+user does.</summary>
        public IList<string> RemoveUsers { get; set; } = new List<string>();

        /// <summary>Lock every usable or empty password hash in /etc/shadow ('!' in front, as passwd -l).</summary>
        public bool LockPasswords { get; set; }

        /// <summary>Empty the log files under /var/log and remove rotated logs and the journal.</summary>
        public bool TruncateLogs { get; set; }

        /// <summary>Write a changed copy of the image here instead of changing it in place (images only).</summary>
        public string? Destination { get; set; }

        /// <summary>With <see cref="Destination"/>: replace an existing file.</summary>
        public bool Force { get; set; }
    }

    /// <summary>
    /// Clear-LinuxImageState / azlinux generalize (issue 18, R-SYS-3): offline, what `waagent -deprovision+user`
    /// and virt-sysprep do that matters in Azure. The machine-id is emptied (systemd makes a new one at first boot)
    /// and the D-Bus id relinked as the image's tmpfiles.d says; SSH host keys removed (with a first-boot unit that
    /// makes new ones when nothing else in the image would); DHCP leases; the agent's state (its own deprovision
    /// list, Linux/AgentState.cs); cloud-init's and azure-init's state; shell histories.
    /// Opt-in: build users, password locking, logs. Every removed item is reported.
    /// </summary>
    internal static class ClearLinuxImageState
    {
        private static readonly Regex UserName = new Regex("^[a-z_][a-z0-9_.-]*\\$?$", RegexOptions.CultureInvariant);

        public const string KeygenUnit = "azlinux-ssh-keygen.service";

        public static IReadOnlyList<LinuxImageChange> Run(ClearLinuxImageStateOptions options, IOperationContext context)
        {
            foreach (string u in options.RemoveUsers)
            {
                if (!UserName.IsMatch(u) || u == "root")
                {
                    throw new AzureLinuxImageException("InvalidUserName", ErrorKind.InvalidArgument, $"'{u}' cannot be removed: {(u == "root" ? "root is never removed" : "not a valid user name")}.");
                }
            }
            return WriteOperation.Execute(options.ImagePath, options.RootPath, options.Destination, options.Force, "Generalize the Linux image", context,
                target => Clear(target, options, context));
        }

        /// <summary>
        /// What Clear-LinuxImageState (default options) would still remove or empty in <paramref name="root"/>: its own
        /// run over a writer that changes nothing, so that Publish-LinuxImage's OsState and this command cannot drift
        /// (issue 26). Empty when the image is generalized.
        /// </summary>
        internal static IReadOnlyList<LinuxImageChange> Remaining(IFileSystem root, DiskLayoutFacts? disk, IOperationContext context)
        {
            var writer = new PlanningWriter(root);
            var target = new WritableTarget(root.Description, writer, disk, () => throw new InvalidOperationException("Planning only."), null);
            return Clear(target, new ClearLinuxImageStateOptions(), context).Changes
                .Where(c => c.Action == LinuxImageChangeAction.Removed || c.Action == LinuxImageChangeAction.Truncated || c.Action == LinuxImageChangeAction.Edited)
                .ToList();
        }

        private static ImageEditor Clear(WritableTarget target, ClearLinuxImageStateOptions options, IOperationContext context)
        {
            var ed = new ImageEditor(target.Writer, target.Source, "Generalize");
            var facts = new LinuxFacts(target.Writer, target.Disk);
            Accounts? accounts = facts.Accounts.Value;
            foreach (string u in options.RemoveUsers)
            {
                if (accounts?.Users.Any(x => x.Name == u) != true)
                {
                    throw new AzureLinuxImageException("UserNotFound", ErrorKind.NotFound, $"{target.Source}: there is no user '{u}' in /etc/passwd; nothing was changed.", target.Source);
                }
            }
            context.Progress("Generalizing Linux image", "machine id", 0, 4);
            MachineIds(ed);
            context.Progress("Generalizing Linux image", "keys and state", 1, 4);
            var ctx = new ReadinessContext(facts, null, ProvisioningAgentChoice.Auto);
            WaagentSettings? w = facts.Provisioning.Value?.Waagent.Settings;
            string libDir = w?.Get("Lib.Dir") ?? "/var/lib/waagent";
            string extLogDir = w?.Get("Extension.LogDir") ?? "/var/log/azure";
            string sshDir = w?.Get("OS.SshDir") ?? "/etc/ssh";
            bool regenerated = KeysRegeneratedByImage(ctx);
            // WALinuxAgent's own deprovision list (the same list the stale-state rule reads: Linux/AgentState.cs).
            const string agent = WaagentDeprovision.SourceVersion + " azurelinuxagent/";
            RemoveMatching(ed, sshDir.TrimEnd('/') + "/ssh_host_*key*", false, "SshHostKeysRegenerated",
                $"waagent -deprovision removes the host keys ({agent}pa/deprovision/default.py:88, regen_ssh_host_key; conf.get_ssh_key_glob).");
            foreach (FileEntry e in ed.Writer.ListOrEmpty(libDir).ToList())
            {
                AgentStateItem item = WaagentDeprovision.ClassifyLibDirEntry(e.Name);
                ed.Remove(e.Path, RuleFor(item), $"{item.Meaning}: waagent -deprovision removes Lib.Dir ({agent}{item.Source}).");
            }
            foreach (AgentStateItem item in WaagentDeprovision.OtherItems)
            {
                if (item.Pattern == "/etc/resolv.conf")
                {
                    // Kept: on systemd-resolved images it is the link to the stub resolver, not the build network's state.
                    continue;
                }
                RemoveMatching(ed, item.Pattern.Replace("/var/log/azure", extLogDir), item.Directory, RuleFor(item), $"{item.Meaning}: waagent -deprovision removes it ({agent}{item.Source}).");
            }
            if (ed.Changes.Any(c => c.RuleId == "SshHostKeysRegenerated") && !regenerated)
            {
                InstallKeygenUnit(ed);
            }
            foreach (string p in new[] { "/var/lib/cloud/instance", "/var/lib/cloud/instances", "/var/lib/cloud/data", "/var/lib/cloud/sem" })
            {
                ed.Remove(p, "NoStaleProvisioningState", "cloud-init's state of the build VM (what cloud-init clean removes): cloud-init would not provision a new VM.");
            }
            RemoveMatching(ed, "/var/lib/azure-init", true, "NoStaleProvisioningState", "azure-init's state of the build VM: it would not provision a new VM.");
            foreach (string dir in new[] { "/var/lib/NetworkManager", "/var/lib/wicked" })
            {
                foreach (FileEntry e in ed.Writer.ListOrEmpty(dir).Where(e => e.Type == FileEntryType.File && (e.Name.EndsWith(".lease", StringComparison.Ordinal) || e.Name.EndsWith(".leases", StringComparison.Ordinal))))
                {
                    ed.Remove(e.Path, "NoDhcpLeases", "A DHCP lease of the build network.");
                }
            }
            foreach (HomeFile h in accounts?.Histories ?? Array.Empty<HomeFile>())
            {
                ed.Remove(h.Path, "NoShellHistory", $"Shell history of {h.User}.");
            }
            context.Progress("Generalizing Linux image", "users", 2, 4);
            foreach (string u in options.RemoveUsers)
            {
                RemoveUser(ed, accounts!.Users.First(x => x.Name == u));
            }
            if (options.LockPasswords)
            {
                LockPasswords(ed);
            }
            if (options.TruncateLogs)
            {
                TruncateLogs(ed);
            }
            RedactShadow(ed);
            context.Progress("Generalizing Linux image", "done", 4, 4);
            return ed;
        }

        /// <summary>
        /// /etc/machine-id emptied (kept: an empty file tells systemd to make one at first boot, and a read-only /etc
        /// still boots); /var/lib/dbus/machine-id, read by libdbus before /etc/machine-id, becomes the link the image's
        /// own tmpfiles.d asks for (Debian 12: usr/lib/tmpfiles.d/dbus.conf "L /var/lib/dbus/machine-id - - - - /etc/machine-id"),
        /// or is removed when nothing says so (dbus-uuidgen --ensure falls back to /etc/machine-id).
        /// </summary>
        private static void MachineIds(ImageEditor ed)
        {
            FileEntry? id = ed.Writer.GetEntry("/etc/machine-id", followLastLink: false);
            if (id != null && id.Type == FileEntryType.File)
            {
                string text = (ed.Writer.TryReadText("/etc/machine-id") ?? string.Empty).Trim();
                if (text.Length > 0 && text != "uninitialized")
                {
                    ed.Truncate("/etc/machine-id", "MachineIdBlank", $"The build VM's machine id ({text}); systemd makes a new one at first boot.");
                }
            }
            FileEntry? dbus = ed.Writer.GetEntry("/var/lib/dbus/machine-id", followLastLink: false);
            if (dbus == null || dbus.Type == FileEntryType.Symlink)
            {
                return;
            }
            string? link = null;
            foreach (string dir in new[] { "/etc/tmpfiles.d", "/run/tmpfiles.d", "/usr/lib/tmpfiles.d", "/lib/tmpfiles.d" })
            {
                foreach (FileEntry conf in ed.Writer.ListOrEmpty(dir).Where(e => e.Name.EndsWith(".conf", StringComparison.Ordinal)))
                {
                    foreach (KeyValuePair<int, string> line in RootFiles.Lines(ed.Writer.TryReadText(conf.Path) ?? string.Empty))
                    {
                        string[] w = RootFiles.Words(line.Value.Trim());
                        if (w.Length >= 7 && (w[0] == "L" || w[0] == "L+") && w[1] == "/var/lib/dbus/machine-id")
                        {
                            link ??= w[6];
                            link = link + "\u0000" + conf.Path + ":" + line.Key;
                        }
                    }
                }
                if (link != null)
                {
                    break;
                }
            }
            ed.Remove("/var/lib/dbus/machine-id", "DbusMachineIdBlank", "D-Bus reads this copy of the build VM's machine id before /etc/machine-id.");
            if (link != null)
            {
                string[] parts = link.Split('\u0000');
                ed.CreateSymlink("/var/lib/dbus/machine-id", parts[0], "DbusMachineIdBlank", $"Relinked as the image's own tmpfiles.d asks ({parts[1]}).");
            }
        }

        private static string RuleFor(AgentStateItem item) => item.Effect switch
        {
            AgentStateEffect.ProvisioningState => "NoStaleProvisioningState",
            AgentStateEffect.Lease => "NoDhcpLeases",
            AgentStateEffect.Log => item.Pattern.EndsWith("history", StringComparison.Ordinal) ? "NoShellHistory" : "Logs",
            _ => "NoStaleProvisioningState",
        };

        /// <summary>Whether provisioning in the image makes new host keys (the SshHostKeysRegenerated rule's test, with keys present).</summary>
        private static bool KeysRegeneratedByImage(ReadinessContext ctx)
        {
            ProvisioningAgents? p = ctx.Facts.Provisioning.Value;
            if (p == null)
            {
                return false;
            }
            AgentRules.AgentState s = AgentRules.State(ctx);
            if (s.CloudInit && p.CloudInit.Config.Get("ssh_deletekeys")?.Scalar is not ("false" or "False"))
            {
                return true;
            }
            if (s.Waagent && p.Waagent.Settings != null && p.Waagent.Settings.Flag("Provisioning.RegenerateSshHostKeyPair"))
            {
                return true;
            }
            SystemdUnits? units = ctx.Facts.Units.Value;
            return units != null && new[] { "sshd-keygen.target", "sshd-keygen@.service", "ssh-keygen.service", KeygenUnit }.Any(u => units.Get(u).Exists);
        }

        /// <summary>
        /// Without host keys sshd does not start; when nothing in the image makes them, a oneshot unit runs
        /// ssh-keygen -A before sshd at the first boot that finds none (the condition makes it a no-op later).
        /// </summary>
        private static void InstallKeygenUnit(ImageEditor ed)
        {
            string? keygen = new[] { "/usr/bin/ssh-keygen", "/bin/ssh-keygen" }.FirstOrDefault(ed.Writer.IsFile);
            if (keygen == null || !ed.Writer.IsDirectory("/etc/systemd/system"))
            {
                ed.NotFixed("SshHostKeysRegenerated", "/etc/ssh", 0, "The host keys were removed but nothing in the image makes new ones, and ssh-keygen or /etc/systemd/system is missing.",
                    "Make sure ssh-keygen -A runs before sshd at first boot.");
                return;
            }
            string unit = "/etc/systemd/system/" + KeygenUnit;
            ed.WriteFile(unit,
                "# Written by azlinux generalize: new SSH host keys at the first boot that finds none.\n" +
                "[Unit]\nDescription=Generate SSH host keys\nConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key\n" +
                "Before=ssh.service sshd.service\n\n[Service]\nType=oneshot\nExecStart=" + keygen + " -A\n\n[Install]\nWantedBy=multi-user.target\n",
                "SshHostKeysRegenerated", "Nothing else in the image makes SSH host keys: sshd would not start without them.");
            ed.EnsureDirectory("/etc/systemd/system/multi-user.target.wants", "SshHostKeysRegenerated");
            string wants = "/etc/systemd/system/multi-user.target.wants/" + KeygenUnit;
            if (ed.Writer.GetEntry(wants, followLastLink: false) == null)
            {
                ed.CreateSymlink(wants, unit, "SshHostKeysRegenerated", "Enabled (systemctl enable, offline).");
            }
        }

        /// <summary>Removes what <paramref name="pattern"/> names: a directory's content (the directory stays, as its package made it) or files matching a glob in the last component.</summary>
        private static void RemoveMatching(ImageEditor ed, string pattern, bool directory, string rule, string why)
        {
            if (directory)
            {
                FileEntry? dir = ed.Writer.GetEntry(pattern, followLastLink: false);
                if (dir?.Type == FileEntryType.Directory)
                {
                    foreach (FileEntry e in ed.Writer.List(pattern).ToList())
                    {
                        ed.Remove(e.Path, rule, why);
                    }
                }
                return;
            }
            int slash = pattern.LastIndexOf('/');
            string parent = slash <= 0 ? "/" : pattern.Substring(0, slash);
            string glob = pattern.Substring(slash + 1);
            if (glob.IndexOf('*') < 0)
            {
                ed.Remove(pattern, rule, why);
                return;
            }
            var regex = new Regex("^" + Regex.Escape(glob).Replace("\\*", ".*") + "$", RegexOptions.CultureInvariant);
            foreach (FileEntry e in ed.Writer.ListOrEmpty(parent).Where(e => regex.IsMatch(e.Name)).ToList())
            {
                ed.Remove(e.Path, rule, why);
            }
        }

        /// <summary>As waagent's del_account / userdel -r: the account's lines in passwd, shadow, group, gshadow, its home and mail.</summary>
        private static void RemoveUser(ImageEditor ed, UserAccount user)
        {
            string why = $"Build user {user.Name} removed (opt-in, as waagent -deprovision+user does).";
            RemoveFields(ed, "/etc/passwd", user.Name, why);
            RemoveFields(ed, "/etc/shadow", user.Name, why);
            foreach (string file in new[] { "/etc/group", "/etc/gshadow" })
            {
                TextFileEdit edit = ed.Open(file);
                if (!edit.Exists)
                {
                    continue;
                }
                foreach ((int index, int _, string text) in edit.Lines.ToList())
                {
                    string[] f = text.Split(':');
                    if (f.Length < 4)
                    {
                        continue;
                    }
                    var members = f[f.Length - 1].Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries).ToList();
                    if (f[0] == user.Name && members.All(m => m == user.Name))
                    {
                        edit.Delete(index);
                    }
                    else if (members.Remove(user.Name))
                    {
                        f[f.Length - 1] = string.Join(",", members);
                        if (file == "/etc/gshadow" && f.Length >= 3)
                        {
                            f[2] = string.Join(",", f[2].Split(',').Where(a => a != user.Name));
                        }
                        edit.Replace(index, string.Join(":", f));
                    }
                }
                ed.Save(edit, "NoAuthorizedKeys", why);
            }
            if (user.Home.Length > 1 && user.Home != "/" && user.Uid >= 1000 && ed.Writer.IsDirectory(user.Home))
            {
                ed.Remove(user.Home, "NoAuthorizedKeys", why + " Its home goes with it (authorized_keys, history).");
            }
            else
            {
                ed.Remove(RootFiles.Combine(user.Home, ".ssh/authorized_keys"), "NoAuthorizedKeys", why);
            }
            foreach (string mail in new[] { "/var/mail/" + user.Name, "/var/spool/mail/" + user.Name })
            {
                ed.Remove(mail, "NoAuthorizedKeys", why);
            }
            foreach (FileEntry e in ed.Writer.ListOrEmpty("/etc/sudoers.d").Where(e => e.Type == FileEntryType.File))
            {
                TextFileEdit edit = ed.Open(e.Path);
                foreach ((int index, int _, string text) in edit.Lines.ToList())
                {
                    string[] w = RootFiles.Words(text.Trim());
                    if (w.Length > 1 && w[0] == user.Name)
                    {
                        edit.Delete(index);
                    }
                }
                ed.Save(edit, "NoAuthorizedKeys", why + " Its sudoers rule goes too.");
            }
        }

        private static void RemoveFields(ImageEditor ed, string file, string name, string why)
        {
            TextFileEdit edit = ed.Open(file);
            foreach ((int index, int _, string text) in edit.Lines.ToList())
            {
                if (text.StartsWith(name + ":", StringComparison.Ordinal))
                {
                    edit.Delete(index);
                }
            }
            ed.Save(edit, "NoAuthorizedKeys", why);
        }

        /// <summary>passwd -l for every account with a usable or empty hash: '!' in front keeps the hash and locks it.</summary>
        private static void LockPasswords(ImageEditor ed)
        {
            TextFileEdit edit = ed.Open("/etc/shadow");
            foreach ((int index, int _, string text) in edit.Lines.ToList())
            {
                string[] f = text.Split(':');
                if (f.Length >= 2 && !f[1].StartsWith("!", StringComparison.Ordinal) && !f[1].StartsWith("*", StringComparison.Ordinal))
                {
                    f[1] = "!" + f[1];
                    edit.Replace(index, string.Join(":", f));
                }
            }
            ed.Save(edit, "NoPasswordHashes", "Password locked (opt-in, as passwd -l): log in with SSH keys provisioned by Azure.");
        }

        /// <summary>The report never carries password hashes: shadow lines are shown with the hash replaced.</summary>
        private static void RedactShadow(ImageEditor ed)
        {
            for (int i = 0; i < ed.Changes.Count; i++)
            {
                LinuxImageChange c = ed.Changes[i];
                if (c.ItemPath == "/etc/shadow" || c.ItemPath == "/etc/gshadow")
                {
                    ed.Changes[i] = ed.Change(c.RuleId, c.Action, c.ItemPath, c.Line, Redact(c.Before), Redact(c.After), c.Description);
                }
            }
        }

        private static string? Redact(string? shadowLine)
        {
            if (shadowLine == null)
            {
                return null;
            }
            string[] f = shadowLine.Split(':');
            if (f.Length >= 2 && f[1].Length > 1)
            {
                f[1] = (f[1].StartsWith("!", StringComparison.Ordinal) ? "!" : string.Empty) + "<hash>";
            }
            return string.Join(":", f);
        }

        /// <summary>Log files emptied (kept with owner and mode, as daemons expect them); rotated logs and the journal removed.</summary>
        private static void TruncateLogs(ImageEditor ed)
        {
            var rotated = new Regex(@"(\.\d+|\.gz|\.xz|\.bz2|\.zst|-\d{8})$", RegexOptions.CultureInvariant);
            var pending = new Stack<string>();
            pending.Push("/var/log");
            while (pending.Count > 0)
            {
                string dir = pending.Pop();
                foreach (FileEntry e in ed.Writer.ListOrEmpty(dir).ToList())
                {
                    if (e.Type == FileEntryType.Directory)
                    {
                        if (e.Path == "/var/log/journal")
                        {
                            foreach (FileEntry j in ed.Writer.ListOrEmpty(e.Path).ToList())
                            {
                                ed.Remove(j.Path, "Logs", "The build VM's journal (opt-in).");
                            }
                            continue;
                        }
                        pending.Push(e.Path);
                    }
                    else if (e.Type == FileEntryType.File)
                    {
                        if (rotated.IsMatch(e.Name))
                        {
                            ed.Remove(e.Path, "Logs", "A rotated log of the build VM (opt-in).");
                        }
                        else
                        {
                            ed.Truncate(e.Path, "Logs", "A log of the build VM, emptied (opt-in).");
                        }
                    }
                }
            }
        }
    }
}
