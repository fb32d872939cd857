using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Xml;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>
    /// The parts of a wire server goal state (PROTOCOL.md "Goal state") a health report needs.
    /// <see cref="InstanceId"/> is null when the fabric has not placed a RoleInstance yet (right after
    /// boot): the caller fetches again.
    /// </summary>
    internal sealed record GoalState(
        string? Version,
        string Incarnation,
        string? ExpectedState,
        string ContainerId,
        string? InstanceId,
        string? RoleState,
        IReadOnlyDictionary<string, string> Configuration)
    {
        public bool HasRoleInstance => InstanceId != null;
    }

    /// <summary>Reads <c>GET /machine/?comp=goalstate</c> responses; every field validated.</summary>
    internal static class GoalStateParser
    {
        private const string What = "Wire server goal state";
        private const int MaxValueLength = 1024;
        private const int MaxConfigurationEntries = 64;
        private const int MaxUriLength = 4096;

        public static GoalState Parse(byte[] content)
        {
            XmlDocument doc = ProvisioningXml.Load(content, What);
            XmlElement root = doc.DocumentElement ?? throw Invalid("the document has no root element");
            if (root.LocalName != "GoalState")
            {
                throw Invalid($"the root element is <{root.LocalName}>, not <GoalState>");
            }

            string incarnation = Required(root, "Incarnation");
            if (incarnation.Length > 19 || !incarnation.All(c => c >= '0' && c <= '9')
                || !long.TryParse(incarnation, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                throw Invalid($"Incarnation '{Shorten(incarnation)}' is not a non-negative integer");
            }

            XmlElement container = Child(root, "Container") ?? throw Invalid("<Container> is missing");
            string containerId = Required(container, "ContainerId");

            XmlElement? roleInstance = Child(Child(container, "RoleInstanceList"), "RoleInstance");
            string? instanceId = null, roleState = null;
            var configuration = new Dictionary<string, string>(StringComparer.Ordinal);
            if (roleInstance != null)
            {
                instanceId = Required(roleInstance, "InstanceId");
                roleState = Optional(roleInstance, "State");
                XmlElement? config = Child(roleInstance, "Configuration");
                if (config != null)
                {
                    foreach (XmlElement e in config.ChildNodes.OfType<XmlElement>())
                    {
                        if (configuration.Count >= MaxConfigurationEntries)
                        {
                            throw Invalid($"<Configuration> has more than {MaxConfigurationEntries} entries");
                        }
                        string value = e.InnerText.Trim();
                        if (value.Length > MaxUriLength || HasControl(value))
                        {
                            throw Invalid($"Configuration/{e.LocalName} is longer than {MaxUriLength} characters or holds control characters");
                        }
                        configuration[e.LocalName] = value;
                    }
                }
            }

            return new GoalState(
                Optional(root, "Version"),
                incarnation,
                Optional(Child(root, "Machine"), "ExpectedState"),
                containerId,
                instanceId,
                roleState,
                configuration);
        }

        private static XmlElement? Child(XmlElement? parent, string name) =>
            parent?.ChildNodes.OfType<XmlElement>().FirstOrDefault(e => e.LocalName == name);

        private static string? Optional(XmlElement? parent, string name)
        {
            XmlElement? e = Child(parent, name);
            if (e == null)
            {
                return null;
            }
            if (e.ChildNodes.OfType<XmlElement>().Any())
            {
                throw Invalid($"<{name}> holds elements where text was expected");
            }
            string value = e.InnerText.Trim();
            if (value.Length > MaxValueLength || HasControl(value))
            {
                throw Invalid($"<{name}> is longer than {MaxValueLength} characters or holds control characters");
            }
            return value;
        }

        private static string Required(XmlElement parent, string name)
        {
            string? value = Optional(parent, name);
            if (string.IsNullOrEmpty(value))
            {
                throw Invalid($"<{parent.LocalName}/{name}> is missing or empty");
            }
            return value!;
        }

        private static bool HasControl(string s) => s.Any(char.IsControl);

        private static string Shorten(string s) => s.Length <= 40 ? s : s.Substring(0, 40) + "...";

        private static AzureLinuxImageException Invalid(string problem) =>
            new AzureLinuxImageException("InvalidGoalState", ErrorKind.InvalidData, $"{What}: {problem}.");
    }
}
