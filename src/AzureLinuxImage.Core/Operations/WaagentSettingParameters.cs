using System;
using System.Collections.Generic;
using System.Globalization;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// The named settings Set-WaagentConfig offers as parameters and the waagent.conf key each sets (issue 15:
    /// one table, not one per binding), and the text forms every binding accepts: KEY=VALUE, booleans as y/n.
    /// </summary>
    internal static class WaagentSettingParameters
    {
        /// <summary>Parameter name, waagent.conf key, and whether the value is a yes/no.</summary>
        public static readonly IReadOnlyList<(string Parameter, string Key, bool IsSwitch)> Table = new[]
        {
            ("ResourceDiskFormat", "ResourceDisk.Format", true),
            ("ResourceDiskFilesystem", "ResourceDisk.Filesystem", false),
            ("ResourceDiskMountPoint", "ResourceDisk.MountPoint", false),
            ("ResourceDiskEnableSwap", "ResourceDisk.EnableSwap", true),
            ("ResourceDiskSwapSizeMB", "ResourceDisk.SwapSizeMB", false),
            ("ProvisioningAgent", "Provisioning.Agent", false),
            ("RegenerateSshHostKeyPair", "Provisioning.RegenerateSshHostKeyPair", true),
            ("DeleteRootPassword", "Provisioning.DeleteRootPassword", true),
            ("AutoUpdate", "AutoUpdate.Enabled", true),
            ("OSRootDeviceScsiTimeout", "OS.RootDeviceScsiTimeout", false),
        };

        /// <summary>A value as waagent.conf writes it: booleans y/n, numbers invariant, null removes the key.</summary>
        public static string? ValueText(object? value) => value switch
        {
            null => null,
            bool b => b ? "y" : "n",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString(),
        };

        /// <summary>Adds the settings the bound parameters (name → value) ask for, in table order (after any -Setting entries).</summary>
        public static void AddBound(SetWaagentConfigOptions options, IReadOnlyDictionary<string, object?> bound)
        {
            foreach (var (parameter, key, _) in Table)
            {
                if (bound.TryGetValue(parameter, out object? value))
                {
                    options.Settings.Add(new KeyValuePair<string, string?>(key, ValueText(value)));
                }
            }
        }

        /// <summary>KEY=VALUE arguments (the CLI's form); a malformed one is a typed error naming it.</summary>
        public static void AddAssignments(SetWaagentConfigOptions options, IEnumerable<string> pairs)
        {
            foreach (string pair in pairs)
            {
                int eq = pair.IndexOf('=');
                if (eq <= 0)
                {
                    throw new AzureLinuxImageException("InvalidSetting", ErrorKind.InvalidArgument, $"'{pair}' is not KEY=VALUE.");
                }
                options.Settings.Add(new KeyValuePair<string, string?>(pair.Substring(0, eq), pair.Substring(eq + 1)));
            }
        }

        /// <summary>True when the options ask for anything at all.</summary>
        public static bool HasEdits(SetWaagentConfigOptions options) => options.Settings.Count > 0 || options.AzureRecommended || options.SwapSizeMB != null;
    }
}
