using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AzureLinuxImage.Disks.Vmdk
{
    /// <summary>Extent access from the descriptor.</summary>
    internal enum VmdkAccess
    {
        ReadWrite,
        ReadOnly,
        NoAccess,
    }

    /// <summary>One extent line: <c>RW 4192256 SPARSE "disk-s001.vmdk"</c> or <c>RW 8192 FLAT "disk-flat.vmdk" 0</c>.</summary>
    internal sealed class VmdkExtentLine
    {
        public VmdkExtentLine(VmdkAccess access, long sectors, string type, string? fileName, long offsetSectors, int lineNumber)
        {
            Access = access;
            Sectors = sectors;
            Type = type;
            FileName = fileName;
            OffsetSectors = offsetSectors;
            LineNumber = lineNumber;
        }

        public VmdkAccess Access { get; }
        public long Sectors { get; }

        /// <summary>FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, SESPARSE, VMFSRDM, VMFSRAW (upper case).</summary>
        public string Type { get; }
        public string? FileName { get; }
        public long OffsetSectors { get; }
        public int LineNumber { get; }
    }

    /// <summary>
    /// The text descriptor (VMware "Virtual Disk Format 1.1", "The Descriptor File"): header keys, the extent
    /// list and the disk database. Parsing only: the caller supplies the text, already size-capped.
    /// </summary>
    internal sealed class VmdkDescriptor
    {
        public const string Signature = "# Disk DescriptorFile";

        /// <summary>A CID of all ones means "no parent" in parentCID.</summary>
        public const uint NoParentCid = 0xFFFFFFFF;

        /// <summary>Bounds the number of files one descriptor can make us open.</summary>
        public const int MaxExtents = 4096;

        private static readonly Regex ExtentPattern = new Regex(
            "^(RW|RDONLY|NOACCESS)\\s+(\\d+)\\s+([A-Za-z]+)(?:\\s+\"([^\"]*)\"(?:\\s+(\\d+))?)?\\s*$",
            RegexOptions.CultureInvariant);

        private readonly Dictionary<string, string> values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        public List<VmdkExtentLine> Extents { get; } = new List<VmdkExtentLine>();

        public uint? Cid { get; private set; }
        public uint ParentCid { get; private set; } = NoParentCid;
        public string? CreateType => Value("createType");
        public string? ParentFileNameHint => Value("parentFileNameHint");

        public string? Value(string key) => values.TryGetValue(key, out string v) ? v : null;

        /// <summary>Parses; null with the reason (line number included) when the text is not a valid descriptor.</summary>
        public static VmdkDescriptor? TryParse(string text, out string problem)
        {
            problem = string.Empty;
            var d = new VmdkDescriptor();
            string[] lines = text.Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].Trim().TrimEnd('\0').Trim();
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }
                Match m = ExtentPattern.Match(line);
                if (m.Success)
                {
                    if (d.Extents.Count >= MaxExtents)
                    {
                        problem = $"more than {MaxExtents} extents";
                        return null;
                    }
                    if (!long.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long sectors) || sectors > (long)VmdkSparseHeader.MaxCapacitySectors)
                    {
                        problem = $"line {i + 1}: extent size '{m.Groups[2].Value}' is out of range";
                        return null;
                    }
                    long offset = 0;
                    if (m.Groups[5].Success && (!long.TryParse(m.Groups[5].Value, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset > (long)VmdkSparseHeader.MaxCapacitySectors))
                    {
                        problem = $"line {i + 1}: extent offset '{m.Groups[5].Value}' is out of range";
                        return null;
                    }
                    VmdkAccess access = m.Groups[1].Value == "RW" ? VmdkAccess.ReadWrite : m.Groups[1].Value == "RDONLY" ? VmdkAccess.ReadOnly : VmdkAccess.NoAccess;
                    d.Extents.Add(new VmdkExtentLine(access, sectors, m.Groups[3].Value.ToUpperInvariant(),
                        m.Groups[4].Success ? m.Groups[4].Value : null, offset, i + 1));
                    continue;
                }
                int eq = line.IndexOf('=');
                if (eq <= 0)
                {
                    problem = $"line {i + 1} is neither 'key = value' nor an extent: '{Shorten(line)}'";
                    return null;
                }
                string key = line.Substring(0, eq).Trim();
                string value = line.Substring(eq + 1).Trim();
                if (value.Length >= 2 && value[0] == '"' && value[value.Length - 1] == '"')
                {
                    value = value.Substring(1, value.Length - 2);
                }
                d.values[key] = value;
            }
            string? cid = d.Value("CID");
            if (cid != null)
            {
                if (!uint.TryParse(cid, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint c))
                {
                    problem = $"CID '{Shorten(cid)}' is not a hexadecimal 32-bit number";
                    return null;
                }
                d.Cid = c;
            }
            string? parentCid = d.Value("parentCID");
            if (parentCid != null)
            {
                if (!uint.TryParse(parentCid, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint p))
                {
                    problem = $"parentCID '{Shorten(parentCid)}' is not a hexadecimal 32-bit number";
                    return null;
                }
                d.ParentCid = p;
            }
            return d;
        }

        private static string Shorten(string s) => s.Length <= 80 ? s : s.Substring(0, 80) + "...";
    }
}
