using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>How an fstab device is named.</summary>
    internal enum DeviceNaming
    {
        /// <summary>UUID= or /dev/disk/by-uuid/.</summary>
        Uuid,
        /// <summary>LABEL= or /dev/disk/by-label/.</summary>
        Label,
        /// <summary>PARTUUID= or /dev/disk/by-partuuid/.</summary>
        PartUuid,
        /// <summary>PARTLABEL= or /dev/disk/by-partlabel/.</summary>
        PartLabel,
        /// <summary>/dev/mapper/..., /dev/&lt;vg&gt;/&lt;lv&gt;: stable LVM or device-mapper names.</summary>
        DeviceMapper,
        /// <summary>/dev/sda1, /dev/vda1, /dev/nvme0n1p1, /dev/hda1, /dev/xvda1: kernel names that change between hypervisors.</summary>
        KernelName,
        /// <summary>A file (swap file) or a pseudo file system (tmpfs, proc).</summary>
        Other,
    }

    /// <summary>One line of /etc/fstab (fstab(5)).</summary>
    internal sealed record FstabLine(string Device, string MountPoint, string Type, string Options, DeviceNaming Naming, SourceLine Source)
    {
        public bool IsSwap => Type == "swap";

        public bool IsNoAuto => Options.Split(',').Contains("noauto");

        /// <summary>The value after UUID=/LABEL=/... or the by-* link name.</summary>
        public string Key
        {
            get
            {
                int eq = Device.IndexOf('=');
                if (eq > 0 && !Device.StartsWith("/", StringComparison.Ordinal))
                {
                    return RootFiles.Unquote(Device.Substring(eq + 1));
                }
                return Device.Substring(Device.LastIndexOf('/') + 1);
            }
        }
    }

    /// <summary>/etc/fstab parsed, with how each device is named.</summary>
    internal sealed class Fstab
    {
        public bool Found { get; private set; }

        public IReadOnlyList<FstabLine> Entries { get; private set; } = Array.Empty<FstabLine>();

        public FstabLine? Root => Entries.FirstOrDefault(e => e.MountPoint == "/");

        public static Fstab Read(IFileSystem fs)
        {
            var f = new Fstab();
            string? text = fs.TryReadText("/etc/fstab", 1 << 20);
            if (text == null)
            {
                return f;
            }
            f.Found = true;
            var entries = new List<FstabLine>();
            foreach (KeyValuePair<int, string> line in RootFiles.Lines(text))
            {
                string l = line.Value.Trim();
                if (l.Length == 0 || l[0] == '#')
                {
                    continue;
                }
                string[] w = RootFiles.Words(l);
                if (w.Length < 3)
                {
                    continue;
                }
                string device = Unescape(w[0]);
                entries.Add(new FstabLine(device, Unescape(w[1]), w[2], w.Length > 3 ? w[3] : "defaults", Classify(device), new SourceLine("/etc/fstab", line.Key)));
            }
            f.Entries = entries;
            return f;
        }

        /// <summary>fstab(5) escapes blanks as \040 and tabs as \011.</summary>
        private static string Unescape(string s) => s.Replace("\\040", " ").Replace("\\011", "\t");

        internal static DeviceNaming Classify(string device)
        {
            string d = device.Trim('"');
            if (d.StartsWith("UUID=", StringComparison.OrdinalIgnoreCase) || d.StartsWith("/dev/disk/by-uuid/", StringComparison.Ordinal))
            {
                return DeviceNaming.Uuid;
            }
            if (d.StartsWith("LABEL=", StringComparison.OrdinalIgnoreCase) || d.StartsWith("/dev/disk/by-label/", StringComparison.Ordinal))
            {
                return DeviceNaming.Label;
            }
            if (d.StartsWith("PARTUUID=", StringComparison.OrdinalIgnoreCase) || d.StartsWith("/dev/disk/by-partuuid/", StringComparison.Ordinal))
            {
                return DeviceNaming.PartUuid;
            }
            if (d.StartsWith("PARTLABEL=", StringComparison.OrdinalIgnoreCase) || d.StartsWith("/dev/disk/by-partlabel/", StringComparison.Ordinal))
            {
                return DeviceNaming.PartLabel;
            }
            if (System.Text.RegularExpressions.Regex.IsMatch(d, @"^/dev/([shvx]d[a-z]+\d*|xvd[a-z]+\d*|nvme\d+n\d+(p\d+)?|mmcblk\d+(p\d+)?)$"))
            {
                return DeviceNaming.KernelName;
            }
            if (d.StartsWith("/dev/mapper/", StringComparison.Ordinal) || System.Text.RegularExpressions.Regex.IsMatch(d, @"^/dev/[^/]+/[^/]+$"))
            {
                return DeviceNaming.DeviceMapper;
            }
            return DeviceNaming.Other;
        }
    }
}
