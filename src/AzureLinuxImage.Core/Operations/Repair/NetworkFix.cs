using System;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// A static-only NIC configuration turned into DHCP (R-NOAGENT-2, AZ-NETWORK) in the tool's own file:
    /// ifupdown, ifcfg, systemd-networkd, NetworkManager keyfiles and netplan; the address lines are removed.
    /// </summary>
    internal static class NetworkFix
    {
        private const string Why = "Azure gives the NIC its address by DHCP; a static address from the build network never works there.";

        public static bool StaticToDhcp(ImageEditor ed, InterfaceConfig stat)
        {
            TextFileEdit edit = ed.Open(stat.Source.File);
            switch (stat.Tool)
            {
                case "ifupdown":
                    Ifupdown(edit, stat.Source.Line);
                    break;
                case "ifcfg":
                    Ifcfg(edit);
                    break;
                case "systemd-networkd":
                    Networkd(edit);
                    break;
                case "NetworkManager":
                    NetworkManager(edit);
                    break;
                case "netplan":
                    Netplan(edit, stat.Source.Line);
                    break;
                default:
                    return false;
            }
            return ed.Save(edit, "DhcpPrimaryNic", Why);
        }

        private static void Ifupdown(TextFileEdit edit, int line)
        {
            int i = edit.IndexOfLine(line);
            if (i < 0)
            {
                return;
            }
            edit.Replace(i, Regex.Replace(edit[i], @"\binet\s+static\b", "inet dhcp"));
            for (int j = i + 1; j < edit.Count; j++)
            {
                string[] w = RootFiles.Words(edit[j].Trim());
                if (w.Length == 0 || w[0].StartsWith("#", StringComparison.Ordinal))
                {
                    continue;
                }
                if (w[0] == "iface" || w[0] == "auto" || w[0] == "mapping" || w[0].StartsWith("allow-", StringComparison.Ordinal) || w[0].StartsWith("source", StringComparison.Ordinal))
                {
                    break;
                }
                if (new[] { "address", "netmask", "gateway", "broadcast", "network", "pointopoint" }.Contains(w[0]))
                {
                    edit.Delete(j);
                }
            }
        }

        private static void Ifcfg(TextFileEdit edit)
        {
            bool set = false;
            foreach ((int index, int _, string text) in edit.Lines.ToList())
            {
                string t = text.Trim();
                if (Regex.IsMatch(t, @"^BOOTPROTO\s*="))
                {
                    edit.Replace(index, "BOOTPROTO=dhcp");
                    set = true;
                }
                else if (Regex.IsMatch(t, @"^(IPADDR|NETMASK|PREFIX|GATEWAY)\d*\s*="))
                {
                    edit.Delete(index);
                }
            }
            if (!set)
            {
                edit.Append("BOOTPROTO=dhcp");
            }
        }

        private static void Networkd(TextFileEdit edit)
        {
            int network = -1;
            bool hasDhcp = false;
            string section = string.Empty;
            foreach ((int index, int _, string text) in edit.Lines.ToList())
            {
                string t = text.Trim();
                if (t.StartsWith("[", StringComparison.Ordinal))
                {
                    section = t;
                    if (t == "[Network]")
                    {
                        network = index;
                    }
                    continue;
                }
                if (section == "[Network]" && Regex.IsMatch(t, @"^(Address|Gateway)\s*="))
                {
                    edit.Delete(index);
                }
                if (section == "[Network]" && Regex.IsMatch(t, @"^DHCP\s*="))
                {
                    edit.Replace(index, "DHCP=yes");
                    hasDhcp = true;
                }
                if (section == "[Address]" || section == "[Route]")
                {
                    edit.Delete(index);
                }
            }
            if (!hasDhcp)
            {
                if (network >= 0)
                {
                    edit.InsertAfter(network, "DHCP=yes");
                }
                else
                {
                    edit.Append("[Network]");
                    edit.Append("DHCP=yes");
                }
            }
        }

        private static void NetworkManager(TextFileEdit edit)
        {
            string section = string.Empty;
            foreach ((int index, int _, string text) in edit.Lines.ToList())
            {
                string t = text.Trim();
                if (t.StartsWith("[", StringComparison.Ordinal))
                {
                    section = t;
                    continue;
                }
                if (section == "[ipv4]" && Regex.IsMatch(t, @"^method\s*=\s*manual"))
                {
                    edit.Replace(index, "method=auto");
                }
                else if (section == "[ipv4]" && Regex.IsMatch(t, @"^(address\d*|addresses|gateway)\s*="))
                {
                    edit.Delete(index);
                }
            }
        }

        private static void Netplan(TextFileEdit edit, int line)
        {
            int i = edit.IndexOfLine(line);
            if (i < 0)
            {
                return;
            }
            int indent = Indent(edit[i]);
            for (int j = i + 1; j < edit.Count; j++)
            {
                string text = edit[j];
                if (text.Trim().Length == 0 || text.TrimStart().StartsWith("#", StringComparison.Ordinal))
                {
                    continue;
                }
                int ind = Indent(text);
                if (ind <= indent)
                {
                    break;
                }
                string t = text.Trim();
                if (t.StartsWith("addresses:", StringComparison.Ordinal))
                {
                    edit.Replace(j, new string(' ', ind) + "dhcp4: true");
                    for (int k = j + 1; k < edit.Count && (Indent(edit[k]) > ind || (Indent(edit[k]) == ind && edit[k].TrimStart().StartsWith("- ", StringComparison.Ordinal))); k++)
                    {
                        edit.Delete(k);
                        j = k;
                    }
                }
                else if (t.StartsWith("gateway4:", StringComparison.Ordinal) || t.StartsWith("dhcp4: false", StringComparison.Ordinal) || t.StartsWith("dhcp4: no", StringComparison.Ordinal))
                {
                    edit.Delete(j);
                }
            }
        }

        private static int Indent(string s) => s.Length - s.TrimStart(' ').Length;
    }
}
