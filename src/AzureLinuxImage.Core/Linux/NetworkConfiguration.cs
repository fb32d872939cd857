using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>How an interface gets its IPv4 address.</summary>
    internal enum AddressMethod
    {
        /// <summary>DHCP (dhcp, auto, BOOTPROTO=dhcp, DHCP=yes ...).</summary>
        Dhcp,
        /// <summary>A fixed address.</summary>
        Static,
        /// <summary>Configured but without IPv4 (manual, none without an address).</summary>
        Other,
    }

    /// <summary>One interface configuration: which tool, which interface, how it gets an address.</summary>
    internal sealed record InterfaceConfig(string Tool, string Interface, AddressMethod Method, bool MacPinned, SourceLine Source)
    {
        /// <summary>Something brings it up at boot (ifupdown: an auto/allow-auto/allow-hotplug line names it; other tools: always).</summary>
        public bool StartsAtBoot { get; init; } = true;

        /// <summary>ifupdown: the pattern (auto /e*/1=nic) that maps a real interface to this logical name; `ifup eth0` refuses such a name.</summary>
        public string? MappedByPattern { get; init; }
    }

    /// <summary>
    /// Network configuration of the image: ifupdown (interfaces(5) with source/source-directory), netplan,
    /// systemd-networkd, NetworkManager keyfiles, ifcfg (RHEL and SUSE), DHCP clients, persistent-net udev rules.
    /// </summary>
    internal sealed class NetworkConfiguration
    {
        public IReadOnlyList<InterfaceConfig> Interfaces => interfaces;

        /// <summary>DHCP clients installed (dhclient, dhcpcd, NetworkManager, systemd-networkd, wicked).</summary>
        public IReadOnlyList<string> DhcpClients { get; private set; } = Array.Empty<string>();

        /// <summary>NetworkManager is installed and not told to skip its automatic DHCP profile (no-auto-default).</summary>
        public bool NetworkManagerAutoDhcp { get; private set; }

        /// <summary>udev rules that pin interface names to MAC addresses (70-persistent-net.rules ...).</summary>
        public IReadOnlyList<SourceLine> PersistentNetRules { get; private set; } = Array.Empty<SourceLine>();

        private readonly List<InterfaceConfig> interfaces = new List<InterfaceConfig>();
        private readonly HashSet<string> ifupdownAuto = new HashSet<string>(StringComparer.Ordinal);
        private readonly Dictionary<string, string> ifupdownPatterns = new Dictionary<string, string>(StringComparer.Ordinal);

        /// <summary>ifupdown is installed (ifup), so its stanzas are applied by networking.service and udev hotplug.</summary>
        public bool IfupdownInstalled { get; private set; }

        /// <summary>
        /// The configuration that asks for an address on the primary NIC by DHCP at boot, or null when none would
        /// (an agent that configures the network itself, cloud-init, is the rule's business).
        /// </summary>
        public InterfaceConfig? DhcpAtBoot => interfaces.FirstOrDefault(i => i.Interface != "lo" && i.Method == AddressMethod.Dhcp && i.StartsAtBoot);

        /// <param name="fs">The root.</param>
        /// <param name="units">Enablement of systemd-networkd and NetworkManager: their files only count when the service runs.</param>
        public static NetworkConfiguration Read(IFileSystem fs, SystemdUnits? units)
        {
            var n = new NetworkConfiguration();
            var visited = new HashSet<string>(StringComparer.Ordinal);
            n.IfupdownInstalled = fs.IsFile("/sbin/ifup") || fs.IsFile("/usr/sbin/ifup");
            n.ReadIfupdown(fs, "/etc/network/interfaces", visited, 0);
            for (int i = 0; i < n.interfaces.Count; i++)
            {
                InterfaceConfig c = n.interfaces[i];
                if (c.Tool == "ifupdown")
                {
                    n.ifupdownPatterns.TryGetValue(c.Interface, out string? pattern);
                    // interfaces(5): only interfaces named by auto/allow-* lines are brought up at boot; none without ifup.
                    n.interfaces[i] = c with { StartsAtBoot = n.IfupdownInstalled && (n.ifupdownAuto.Contains(c.Interface) || pattern != null), MappedByPattern = pattern };
                }
            }
            n.ReadNetplan(fs);
            bool networkd = units == null || units.Get("systemd-networkd.service").Active;
            bool networkManager = units == null || units.Get("NetworkManager.service").Active;
            if (networkd)
            {
                n.ReadNetworkd(fs);
            }
            if (networkManager)
            {
                n.ReadNetworkManager(fs);
            }
            n.ReadIfcfg(fs, "/etc/sysconfig/network-scripts");
            n.ReadIfcfg(fs, "/etc/sysconfig/network");
            var clients = new List<string>();
            void Client(string name, params string[] paths)
            {
                if (paths.Any(fs.IsFile))
                {
                    clients.Add(name);
                }
            }
            Client("dhclient", "/sbin/dhclient", "/usr/sbin/dhclient");
            Client("dhcpcd", "/sbin/dhcpcd", "/usr/sbin/dhcpcd", "/usr/bin/dhcpcd");
            Client("NetworkManager", "/usr/sbin/NetworkManager", "/sbin/NetworkManager");
            Client("systemd-networkd", "/lib/systemd/systemd-networkd", "/usr/lib/systemd/systemd-networkd");
            Client("wicked", "/usr/sbin/wicked", "/sbin/wicked");
            Client("udhcpc", "/sbin/udhcpc", "/usr/sbin/udhcpc");
            n.DhcpClients = clients;
            if (clients.Contains("NetworkManager") && networkManager)
            {
                string conf = string.Join("\n", new[] { "/etc/NetworkManager/NetworkManager.conf" }
                    .Concat(fs.ListOrEmpty("/etc/NetworkManager/conf.d").Select(e => e.Path))
                    .Select(p => fs.TryReadText(p, 256 * 1024) ?? string.Empty));
                n.NetworkManagerAutoDhcp = !Regex.IsMatch(conf, @"^\s*no-auto-default\s*=\s*\*", RegexOptions.Multiline);
            }
            var rules = new List<SourceLine>();
            foreach (FileEntry e in fs.ListOrEmpty("/etc/udev/rules.d"))
            {
                if (!e.Name.Contains("persistent-net") || e.Name.Contains("generator"))
                {
                    continue;
                }
                string? text = fs.TryReadText(e.Path, 256 * 1024);
                foreach (KeyValuePair<int, string> line in RootFiles.Lines(text ?? string.Empty))
                {
                    string l = line.Value.Trim();
                    if (!l.StartsWith("#", StringComparison.Ordinal) && l.Contains("SUBSYSTEM==\"net\"") && l.Contains("NAME="))
                    {
                        rules.Add(new SourceLine(e.Path, line.Key));
                    }
                }
            }
            n.PersistentNetRules = rules;
            return n;
        }

        private void ReadIfupdown(IFileSystem fs, string path, HashSet<string> visited, int depth)
        {
            if (depth > 8 || !visited.Add(path))
            {
                return;
            }
            string? text = fs.TryReadText(path, 1 << 20);
            if (text == null)
            {
                return;
            }
            InterfaceConfig? current = null;
            int currentIndex = -1;
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string[] w = RootFiles.Words(RootFiles.StripComment(line.Value));
                if (w.Length == 0)
                {
                    continue;
                }
                if ((w[0] == "source" || w[0] == "source-directory") && w.Length > 1)
                {
                    foreach (string target in w.Skip(1))
                    {
                        string abs = target.StartsWith("/", StringComparison.Ordinal) ? target : "/etc/network/" + target;
                        IEnumerable<string> files = w[0] == "source"
                            ? SshdConfig.Glob(fs, abs)
                            : fs.ListOrEmpty(abs).Where(e => Regex.IsMatch(e.Name, "^[a-zA-Z0-9_-]+$")).Select(e => e.Path);
                        foreach (string f in files)
                        {
                            ReadIfupdown(fs, f, visited, depth + 1);
                        }
                    }
                    current = null;
                    continue;
                }
                if ((w[0] == "auto" || w[0] == "allow-auto" || w[0] == "allow-hotplug") && w.Length > 1)
                {
                    foreach (string name in w.Skip(1))
                    {
                        // interfaces(5) patterns: /regex/[n][=logical]; the logical name is what an iface stanza names.
                        Match pattern = Regex.Match(name, @"^(/.+/\d*)=(.+)$");
                        if (pattern.Success)
                        {
                            ifupdownPatterns[pattern.Groups[2].Value] = pattern.Groups[1].Value;
                        }
                        else
                        {
                            ifupdownAuto.Add(name);
                        }
                    }
                    current = null;
                    continue;
                }
                if (w[0] == "iface" && w.Length >= 4)
                {
                    current = null;
                    if (w[1] == "lo" || w[2] != "inet")
                    {
                        continue;
                    }
                    AddressMethod m = w[3] == "dhcp" ? AddressMethod.Dhcp : w[3] == "static" ? AddressMethod.Static : AddressMethod.Other;
                    current = new InterfaceConfig("ifupdown", w[1], m, false, new SourceLine(path, line.Key));
                    interfaces.Add(current);
                    currentIndex = interfaces.Count - 1;
                    continue;
                }
                if (current != null && (w[0] == "hwaddress" || w[0] == "hwaddr"))
                {
                    interfaces[currentIndex] = current = current with { MacPinned = true };
                }
            }
        }

        private void ReadNetplan(IFileSystem fs)
        {
            // netplan(5): files of /lib, /etc and /run merge by name, /run over /etc over /lib.
            var byName = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (string dir in new[] { "/lib/netplan", "/usr/lib/netplan", "/etc/netplan", "/run/netplan" })
            {
                foreach (FileEntry e in fs.ListOrEmpty(dir))
                {
                    if (e.Name.EndsWith(".yaml", StringComparison.Ordinal))
                    {
                        byName[e.Name] = e.Path;
                    }
                }
            }
            foreach (string path in byName.Values)
            {
                string? text = fs.TryReadText(path, 1 << 20);
                if (text == null)
                {
                    continue;
                }
                int sectionIndent = -1, ifaceIndent = -1;
                InterfaceConfig? current = null;
                int currentIndex = -1;
                foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
                {
                    string content = RootFiles.StripComment(line.Value);
                    if (content.Length == 0)
                    {
                        continue;
                    }
                    int indent = line.Value.Length - line.Value.TrimStart().Length;
                    if (content == "ethernets:" || content == "bonds:" || content == "bridges:" || content == "vlans:")
                    {
                        sectionIndent = indent;
                        ifaceIndent = -1;
                        current = null;
                        continue;
                    }
                    if (sectionIndent < 0)
                    {
                        continue;
                    }
                    if (indent <= sectionIndent)
                    {
                        sectionIndent = -1;
                        current = null;
                        continue;
                    }
                    if (ifaceIndent < 0 || indent == ifaceIndent)
                    {
                        ifaceIndent = indent;
                        if (content.EndsWith(":", StringComparison.Ordinal))
                        {
                            current = new InterfaceConfig("netplan", RootFiles.Unquote(content.TrimEnd(':')), AddressMethod.Other, false, new SourceLine(path, line.Key));
                            interfaces.Add(current);
                            currentIndex = interfaces.Count - 1;
                        }
                        continue;
                    }
                    if (current == null)
                    {
                        continue;
                    }
                    Match kv = Regex.Match(content, @"^([A-Za-z0-9_-]+)\s*:\s*(.*)$");
                    if (!kv.Success)
                    {
                        continue;
                    }
                    string key = kv.Groups[1].Value, value = RootFiles.Unquote(kv.Groups[2].Value).ToLowerInvariant();
                    if (key == "dhcp4" && (value == "true" || value == "yes" || value == "on"))
                    {
                        interfaces[currentIndex] = current = current with { Method = AddressMethod.Dhcp };
                    }
                    else if (key == "addresses" && current.Method != AddressMethod.Dhcp)
                    {
                        interfaces[currentIndex] = current = current with { Method = AddressMethod.Static };
                    }
                    else if (key == "macaddress")
                    {
                        interfaces[currentIndex] = current = current with { MacPinned = true };
                    }
                }
            }
        }

        private void ReadNetworkd(IFileSystem fs)
        {
            var byName = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (string dir in new[] { "/usr/lib/systemd/network", "/lib/systemd/network", "/etc/systemd/network", "/run/systemd/network" })
            {
                foreach (FileEntry e in fs.ListOrEmpty(dir))
                {
                    if (e.Name.EndsWith(".network", StringComparison.Ordinal))
                    {
                        byName[e.Name] = e.Path;
                    }
                }
            }
            foreach (string path in byName.Values)
            {
                string? text = fs.TryReadText(path, 256 * 1024);
                if (text == null)
                {
                    continue;
                }
                string name = "*";
                AddressMethod method = AddressMethod.Other;
                bool pinned = false;
                string section = string.Empty;
                foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
                {
                    string l = line.Value.Trim();
                    if (l.StartsWith("[", StringComparison.Ordinal))
                    {
                        section = l;
                        continue;
                    }
                    int eq = l.IndexOf('=');
                    if (eq <= 0 || l.StartsWith("#", StringComparison.Ordinal))
                    {
                        continue;
                    }
                    string key = l.Substring(0, eq).Trim(), value = l.Substring(eq + 1).Trim().ToLowerInvariant();
                    if (section == "[Match]" && key == "Name")
                    {
                        name = l.Substring(eq + 1).Trim();
                    }
                    else if (section == "[Match]" && key == "MACAddress")
                    {
                        pinned = true;
                    }
                    else if (section == "[Match]" && (key == "Virtualization" || key == "Kind" || key == "WLANInterfaceType" || (key == "Type" && value != "ether")))
                    {
                        // Shipped profiles for containers, virtual links and Wi-Fi (80-container-host0.network ...).
                        name = "lo";
                    }
                    else if (section == "[Network]" && key == "DHCP" && (value == "yes" || value == "true" || value == "ipv4" || value == "both"))
                    {
                        method = AddressMethod.Dhcp;
                    }
                    else if (section == "[Network]" && key == "Address" && method != AddressMethod.Dhcp)
                    {
                        method = AddressMethod.Static;
                    }
                }
                if (name == "lo")
                {
                    continue;
                }
                interfaces.Add(new InterfaceConfig("systemd-networkd", name, method, pinned, new SourceLine(path, 1)));
            }
        }

        private void ReadNetworkManager(IFileSystem fs)
        {
            foreach (string dir in new[] { "/etc/NetworkManager/system-connections", "/usr/lib/NetworkManager/system-connections" })
            {
                foreach (FileEntry e in fs.ListOrEmpty(dir))
                {
                    string? text = fs.TryReadText(e.Path, 256 * 1024);
                    if (text == null)
                    {
                        continue;
                    }
                    string section = string.Empty, name = e.Name, type = string.Empty;
                    AddressMethod method = AddressMethod.Dhcp; // keyfile: ipv4.method defaults to auto
                    bool pinned = false;
                    foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
                    {
                        string l = line.Value.Trim();
                        if (l.StartsWith("[", StringComparison.Ordinal))
                        {
                            section = l;
                            continue;
                        }
                        int eq = l.IndexOf('=');
                        if (eq <= 0)
                        {
                            continue;
                        }
                        string key = l.Substring(0, eq).Trim(), value = l.Substring(eq + 1).Trim();
                        if (section == "[connection]" && key == "interface-name")
                        {
                            name = value;
                        }
                        else if (section == "[connection]" && key == "type")
                        {
                            type = value;
                        }
                        else if (section == "[ethernet]" && key == "mac-address")
                        {
                            pinned = true;
                        }
                        else if (section == "[ipv4]" && key == "method")
                        {
                            method = value == "auto" ? AddressMethod.Dhcp : value == "manual" ? AddressMethod.Static : AddressMethod.Other;
                        }
                    }
                    if (type == "loopback")
                    {
                        continue;
                    }
                    interfaces.Add(new InterfaceConfig("NetworkManager", name, method, pinned, new SourceLine(e.Path, 1)));
                }
            }
        }

        private void ReadIfcfg(IFileSystem fs, string dir)
        {
            foreach (FileEntry e in fs.ListOrEmpty(dir))
            {
                if (!e.Name.StartsWith("ifcfg-", StringComparison.Ordinal) || e.Name == "ifcfg-lo" || e.Name.EndsWith("~", StringComparison.Ordinal))
                {
                    continue;
                }
                string? text = fs.TryReadText(e.Path, 256 * 1024);
                if (text == null)
                {
                    continue;
                }
                Dictionary<string, string> kv = OsIdentity.ParseShellAssignments(text);
                string proto = (kv.Get("BOOTPROTO") ?? "none").ToLowerInvariant();
                bool hasAddress = kv.Keys.Any(k => k.StartsWith("IPADDR", StringComparison.Ordinal));
                AddressMethod m = proto.StartsWith("dhcp", StringComparison.Ordinal) ? AddressMethod.Dhcp
                    : proto == "static" || hasAddress ? AddressMethod.Static : AddressMethod.Other;
                int hwLine = RootFiles.Lines(text).Where(l => l.Value.TrimStart().StartsWith("HWADDR=", StringComparison.Ordinal)).Select(l => l.Key).FirstOrDefault();
                interfaces.Add(new InterfaceConfig("ifcfg", kv.Get("DEVICE") ?? e.Name.Substring(6), m, hwLine > 0, new SourceLine(e.Path, hwLine > 0 ? hwLine : 1)));
            }
        }
    }
}
