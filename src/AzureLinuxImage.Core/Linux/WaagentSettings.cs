using System;
using AzureLinuxImage.Linux.Waagent;

namespace AzureLinuxImage.Linux
{
    /// <summary>
    /// /etc/waagent.conf as the readiness rules see it: values as the agent reads them (Core's lossless
    /// <see cref="WaagentConfig"/> parser: the last line of a key wins, inline comments cut) and WALinuxAgent's
    /// own defaults for absent keys (<see cref="WaagentOptionCatalog"/>, AZURE-LINUX.md), with the line each came from.
    /// </summary>
    internal sealed class WaagentSettings
    {
        private readonly WaagentConfig config;

        public WaagentSettings(string path, byte[] bytes)
        {
            Path = path;
            config = WaagentConfig.Parse(bytes, path);
        }

        public string Path { get; }

        /// <summary>The value the agent uses: the file's, else the agent's default, else null.</summary>
        public string? Get(string key)
        {
            WaagentConfigLine? line = config.Find(key);
            return line != null ? line.AgentValue : WaagentOptionCatalog.Find(key)?.DefaultValue;
        }

        /// <summary>Where a key is set, or the whole file when it is absent (the default applies).</summary>
        public SourceLine Where(string key) => new SourceLine(Path, config.Find(key)?.OriginalNumber ?? 0);

        public bool IsSet(string key) => config.Find(key) != null;

        /// <summary>y/yes/true as the agent reads booleans.</summary>
        public bool Flag(string key)
        {
            string? v = Get(key)?.ToLowerInvariant();
            return v == "y" || v == "yes" || v == "true";
        }
    }
}
