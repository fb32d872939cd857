using System;
using System.Collections.Generic;
using System.Globalization;

namespace AzureLinuxImage.Linux.Waagent
{
    /// <summary>How the Azure Linux Agent reads an option's value.</summary>
    public enum WaagentOptionType
    {
        /// <summary>A switch: <c>y</c> or <c>n</c> (any case); anything else makes the agent use the default.</summary>
        Switch,
        /// <summary>A whole number; a value that is not one makes the agent use the default.</summary>
        Integer,
        /// <summary>Free text, used as written.</summary>
        String,
    }

    /// <summary>
    /// One documented option of /etc/waagent.conf: its type, the value the agent uses when the key is
    /// absent (AZURE-LINUX.md, "WALinuxAgent configuration defaults"; the agent's own defaults, not the
    /// shipped file's), and the rule a new value must satisfy.
    /// </summary>
    internal sealed class WaagentOption
    {
        public WaagentOption(string key, WaagentOptionType type, string? defaultValue, string description)
        {
            Key = key;
            Type = type;
            DefaultValue = defaultValue;
            Description = description;
        }

        public string Key { get; }

        public WaagentOptionType Type { get; }

        /// <summary>The agent's value when the key is absent or "None"; null means "not set at all" (the feature is off).</summary>
        public string? DefaultValue { get; }

        public string Description { get; }

        /// <summary>Smallest accepted integer (Integer options).</summary>
        public long Minimum { get; init; } = long.MinValue;

        /// <summary>Largest accepted integer (Integer options).</summary>
        public long Maximum { get; init; } = int.MaxValue;

        /// <summary>Closed list of accepted values (String options), compared exactly.</summary>
        public IReadOnlyList<string>? AllowedValues { get; init; }

        /// <summary>The value must be an absolute path (String options).</summary>
        public bool AbsolutePath { get; init; }

        /// <summary>"None" is documented for this option as "leave it unset".</summary>
        public bool NoneMeansUnset { get; init; }

        /// <summary>Removed from the agent: a line with this key has no effect (the version that removed it).</summary>
        public string? RemovedIn { get; init; }

        /// <summary>What to use instead of a removed option.</summary>
        public string? ReplacedBy { get; init; }

        /// <summary>Section = the part of the key before the first dot (ResourceDisk for ResourceDisk.Format).</summary>
        public string Section => WaagentOptionCatalog.SectionOf(Key);

        /// <summary>Null when <paramref name="value"/> is acceptable for this option, else why it is not.</summary>
        public string? Validate(string value)
        {
            if (RemovedIn != null)
            {
                return $"{Key} was removed from the agent in {RemovedIn} and has no effect" + (ReplacedBy != null ? $"; use {ReplacedBy} instead." : ".");
            }
            if (value == WaagentOptionCatalog.NoneValue)
            {
                return NoneMeansUnset || DefaultValue == null
                    ? null
                    : $"{Key}=None makes the agent use its default ({DefaultValue}); write the value you mean instead.";
            }
            switch (Type)
            {
                case WaagentOptionType.Switch:
                    return value == "y" || value == "n" || value == "Y" || value == "N"
                        ? null
                        : $"{Key} takes y or n, not '{value}' (the agent would silently use its default, {DefaultValue}).";
                case WaagentOptionType.Integer:
                    if (!WaagentOptionCatalog.TryParsePlainInteger(value, out long n))
                    {
                        return $"{Key} takes a whole number, not '{value}' (the agent would silently use its default, {DefaultValue ?? "unset"}).";
                    }
                    if (n < Minimum || n > Maximum)
                    {
                        return $"{Key}={value} is out of range: it must be between {Minimum.ToString(CultureInfo.InvariantCulture)} and {Maximum.ToString(CultureInfo.InvariantCulture)}.";
                    }
                    return null;
                default:
                    if (value.Length == 0)
                    {
                        return $"{Key} must not be empty (the agent would use the empty text, not its default).";
                    }
                    if (AllowedValues != null && !Contains(AllowedValues, value))
                    {
                        return $"{Key} takes one of {string.Join(", ", AllowedValues)}, not '{value}'.";
                    }
                    if (AbsolutePath && (!value.StartsWith("/", StringComparison.Ordinal) || ContainsWhiteSpace(value) || value.IndexOf('"') >= 0))
                    {
                        return $"{Key} must be an absolute path without spaces or quotes (such as {DefaultValue ?? "/mnt/resource"}), not '{value}'.";
                    }
                    return null;
            }
        }

        private static bool Contains(IReadOnlyList<string> list, string value)
        {
            foreach (string s in list)
            {
                if (s == value)
                {
                    return true;
                }
            }
            return false;
        }

        private static bool ContainsWhiteSpace(string value)
        {
            foreach (char c in value)
            {
                if (char.IsWhiteSpace(c))
                {
                    return true;
                }
            }
            return false;
        }
    }
}
