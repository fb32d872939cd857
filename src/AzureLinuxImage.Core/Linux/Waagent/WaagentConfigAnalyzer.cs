using System;
using System.Collections.Generic;
using System.Globalization;

namespace AzureLinuxImage.Linux.Waagent
{
    /// <summary>
    /// Turns a <see cref="WaagentConfig"/> into what the agent will use: every documented option set or
    /// defaulted (with the line the agent takes), and the problems a careful reader would point out.
    /// </summary>
    internal static class WaagentConfigAnalyzer
    {
        public static WaagentConfigInfo Analyze(WaagentConfig doc, CloudInitPresence? cloudInit, string configPath,
            string? path = null, string? rootPath = null, string? imagePath = null)
        {
            var problems = new List<WaagentConfigProblem>();
            if (!doc.IsValidUtf8)
            {
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Error, "InvalidEncoding", null, null,
                    "The file is not valid UTF-8: the agent cannot load it and stops. Re-save it as UTF-8."));
            }
            if (doc.HasByteOrderMark)
            {
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Warning, "ByteOrderMark", null, 1,
                    "The file starts with a UTF-8 byte order mark, which the agent does not strip: a Key=Value on line 1 is not recognised. Remove the mark."));
            }

            // Last line per key (the agent keeps the last), and every line per key for duplicates.
            var lastLine = new Dictionary<string, WaagentConfigLine>(StringComparer.Ordinal);
            var occurrences = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            var fileOrder = new List<string>();
            foreach (WaagentConfigLine line in doc.Lines)
            {
                if (line.Kind != WaagentLineKind.Setting)
                {
                    continue;
                }
                string key = line.Key;
                if (!occurrences.TryGetValue(key, out List<int>? list))
                {
                    list = new List<int>();
                    occurrences.Add(key, list);
                    fileOrder.Add(key);
                }
                list.Add(line.OriginalNumber ?? 0);
                lastLine[key] = line;
            }
            foreach (string key in fileOrder)
            {
                List<int> at = occurrences[key];
                if (at.Count > 1)
                {
                    problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Warning, "DuplicateKey", key, at[at.Count - 1],
                        $"{key} is set on lines {string.Join(", ", at)}; the agent takes the last one ({Describe(lastLine[key].AgentValue)}). Remove the others."));
                }
            }

            var settings = new List<WaagentSetting>();
            foreach (WaagentOption option in WaagentOptionCatalog.Options)
            {
                lastLine.TryGetValue(option.Key, out WaagentConfigLine? line);
                settings.Add(Setting(option, line, problems));
            }
            foreach (string key in fileOrder)
            {
                if (WaagentOptionCatalog.Find(key) != null)
                {
                    continue;
                }
                WaagentConfigLine line = lastLine[key];
                settings.Add(new WaagentSetting(key, line.AgentValue, null, line.AgentValue, true, line.OriginalNumber, false, null, null));
                problems.Add(UnknownKey(key, line));
            }

            var info = new WaagentConfigInfo
            {
                Path = path,
                RootPath = rootPath,
                ImagePath = imagePath,
                ConfigPath = configPath,
                ProvisioningAgent = Effective(settings, "Provisioning.Agent"),
                RegenerateSshHostKeyPair = Switch(settings, "Provisioning.RegenerateSshHostKeyPair"),
                DeleteRootPassword = Switch(settings, "Provisioning.DeleteRootPassword"),
                ResourceDiskFormat = Switch(settings, "ResourceDisk.Format"),
                ResourceDiskFilesystem = Effective(settings, "ResourceDisk.Filesystem"),
                ResourceDiskMountPoint = Effective(settings, "ResourceDisk.MountPoint"),
                ResourceDiskEnableSwap = Switch(settings, "ResourceDisk.EnableSwap"),
                ResourceDiskSwapSizeMB = Integer(settings, "ResourceDisk.SwapSizeMB") ?? 0,
                AutoUpdateEnabled = Switch(settings, "AutoUpdate.Enabled"),
                ExtensionsEnabled = Switch(settings, "Extensions.Enabled"),
                OSRootDeviceScsiTimeout = Integer(settings, "OS.RootDeviceScsiTimeout"),
                Settings = settings,
                // Still filled below: the swap and conflict checks read the typed properties.
                Problems = problems,
                LineCount = doc.Lines.Count,
                LineEndings = doc.LineEndings,
                HasByteOrderMark = doc.HasByteOrderMark,
                EndsWithNewline = doc.EndsWithNewline,
            };
            SwapSanity(info, settings, problems);
            if (cloudInit != null)
            {
                Conflicts(info, settings, cloudInit, problems);
            }
            return info;
        }

        private static WaagentSetting Setting(WaagentOption option, WaagentConfigLine? line, List<WaagentConfigProblem> problems)
        {
            string type = option.Type.ToString();
            if (line == null)
            {
                return new WaagentSetting(option.Key, null, option.DefaultValue, option.RemovedIn != null ? null : option.DefaultValue, false, null, true, type, option.Description);
            }
            int? at = line.OriginalNumber;
            string value = line.AgentValue;
            if (option.RemovedIn != null)
            {
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Warning, "RemovedOption", option.Key, at,
                    $"{option.Key} was removed from the agent in {option.RemovedIn} and has no effect; use {option.ReplacedBy} instead and delete this line."));
                return new WaagentSetting(option.Key, value, null, null, true, at, true, type, option.Description);
            }
            string? effective = EffectiveValue(option, value);
            string? error = option.Validate(value);
            if (error != null)
            {
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Error, "InvalidValue", option.Key, at, error));
            }
            else if (value != line.RawValue && line.RawValue.Trim('"') != value)
            {
                // The agent reads something other than what is written (a CRLF line with a quoted value, for example).
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Warning, "ValueReadDifferently", option.Key, at,
                    $"{option.Key} is written as {line.RawValue} but the agent reads {Describe(value)}; write the bare value."));
            }
            return new WaagentSetting(option.Key, value, option.DefaultValue, effective, true, at, true, type, option.Description);
        }

        /// <summary>What the agent uses for <paramref name="value"/>: None, an unreadable switch or integer fall back to the default.</summary>
        internal static string? EffectiveValue(WaagentOption option, string value)
        {
            if (value == WaagentOptionCatalog.NoneValue)
            {
                return option.DefaultValue;
            }
            switch (option.Type)
            {
                case WaagentOptionType.Switch:
                    string lower = value.ToLowerInvariant();
                    return lower == "y" || lower == "n" ? lower : option.DefaultValue;
                case WaagentOptionType.Integer:
                    long? n = WaagentOptionCatalog.AgentInteger(value);
                    return n.HasValue ? n.Value.ToString(CultureInfo.InvariantCulture) : option.DefaultValue;
                default:
                    return value;
            }
        }

        private static WaagentConfigProblem UnknownKey(string key, WaagentConfigLine line)
        {
            if (key.StartsWith("#", StringComparison.Ordinal))
            {
                return new WaagentConfigProblem(WaagentProblemSeverity.Information, "IndentedComment", key, line.OriginalNumber,
                    $"Line {line.OriginalNumber} starts with white space before '#', so the agent reads it as a setting named '{key}' (harmless, ignored). Put '#' in the first column.");
            }
            string? suggestion = WaagentOptionCatalog.SuggestFor(key);
            if (suggestion != null)
            {
                return new WaagentConfigProblem(WaagentProblemSeverity.Warning, "UnknownKey", key, line.OriginalNumber,
                    $"{key} is not an option of the agent (keys are case-sensitive); did you mean {suggestion}? The agent ignores this line.");
            }
            if (key.StartsWith("Debug.", StringComparison.Ordinal))
            {
                return new WaagentConfigProblem(WaagentProblemSeverity.Information, "ExperimentalOption", key, line.OriginalNumber,
                    $"{key} is an experimental Debug option of the agent; it may be ignored by other versions.");
            }
            return new WaagentConfigProblem(WaagentProblemSeverity.Information, "UnknownKey", key, line.OriginalNumber,
                $"{key} is not a documented option of the agent; it is kept but the agent ignores it.");
        }

        private static void SwapSanity(WaagentConfigInfo info, List<WaagentSetting> settings, List<WaagentConfigProblem> problems)
        {
            if (info.ResourceDiskEnableSwap && !info.ResourceDiskFormat)
            {
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Warning, "SwapWithoutResourceDisk", "ResourceDisk.EnableSwap", LineOf(settings, "ResourceDisk.EnableSwap"),
                    "ResourceDisk.EnableSwap=y has no effect while ResourceDisk.Format=n (the resource disk is not mounted). Set ResourceDisk.Format=y (R-AGENT-5)."));
            }
            if (info.ResourceDiskEnableSwap && info.ResourceDiskSwapSizeMB <= 0)
            {
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Warning, "SwapSizeZero", "ResourceDisk.SwapSizeMB", LineOf(settings, "ResourceDisk.SwapSizeMB"),
                    "ResourceDisk.EnableSwap=y with ResourceDisk.SwapSizeMB=0 makes no swap. Set a size such as 2048 (R-AGENT-5)."));
            }
        }

        private static void Conflicts(WaagentConfigInfo info, List<WaagentSetting> settings, CloudInitPresence cloudInit, List<WaagentConfigProblem> problems)
        {
            int? agentLine = LineOf(settings, "Provisioning.Agent");
            if (info.ProvisioningAgent == "waagent" && cloudInit.Enabled)
            {
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Error, "ProvisioningAgentConflict", "Provisioning.Agent", agentLine,
                    $"Provisioning.Agent=waagent while cloud-init is installed and enabled ({cloudInit.InstalledEvidence}): both would provision the VM. Use Provisioning.Agent=auto or cloud-init, or disable cloud-init (/etc/cloud/cloud-init.disabled)."));
            }
            if (info.ProvisioningAgent == "cloud-init" && !cloudInit.Installed)
            {
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Error, "CloudInitNotInstalled", "Provisioning.Agent", agentLine,
                    "Provisioning.Agent=cloud-init but cloud-init is not installed: nothing provisions the VM and its creation times out. Install cloud-init or set Provisioning.Agent=auto (or waagent)."));
            }
            else if (info.ProvisioningAgent == "cloud-init" && cloudInit.DisabledByFile)
            {
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Error, "CloudInitDisabled", "Provisioning.Agent", agentLine,
                    "Provisioning.Agent=cloud-init but /etc/cloud/cloud-init.disabled turns cloud-init off: nothing provisions the VM. Remove that file or set Provisioning.Agent=auto."));
            }
            if (info.SwapOnResourceDisk && cloudInit.Enabled && cloudInit.SwapConfigFile != null)
            {
                problems.Add(new WaagentConfigProblem(WaagentProblemSeverity.Warning, "SwapConfiguredTwice", "ResourceDisk.EnableSwap", LineOf(settings, "ResourceDisk.EnableSwap"),
                    $"Swap on the resource disk is configured both here and by cloud-init ({cloudInit.SwapConfigFile}); keep one: ResourceDisk.EnableSwap=n here, or remove the cloud-init swap configuration."));
            }
        }

        private static string? Effective(List<WaagentSetting> settings, string key) => Find(settings, key)?.EffectiveValue;

        private static bool Switch(List<WaagentSetting> settings, string key) => Effective(settings, key) == "y";

        private static long? Integer(List<WaagentSetting> settings, string key)
        {
            string? v = Effective(settings, key);
            return v == null ? null : WaagentOptionCatalog.AgentInteger(v);
        }

        private static int? LineOf(List<WaagentSetting> settings, string key) => Find(settings, key)?.LineNumber;

        private static WaagentSetting? Find(List<WaagentSetting> settings, string key)
        {
            foreach (WaagentSetting s in settings)
            {
                if (s.Key == key)
                {
                    return s;
                }
            }
            return null;
        }

        private static string Describe(string value) => value.Length == 0 ? "an empty value" : "'" + value + "'";
    }
}
