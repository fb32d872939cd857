using System;
using System.Collections.Generic;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// Compares what an existing gallery image definition declares with the features derived from the image
    /// (issue 26: refused before any byte is uploaded). HyperVGeneration, Architecture and OsState must be
    /// equal; SecurityType, DiskControllerTypes and IsAcceleratedNetworkSupported must not promise more than
    /// the image has (a definition declaring less is accepted: VMs simply do not use the capability).
    /// Absent values take ARM's defaults: V1, x64, Standard, SCSI, False.
    /// </summary>
    internal static class DefinitionComparison
    {
        /// <summary>One line per mismatch, naming the definition's value and the image's, with the evidence.</summary>
        public static IReadOnlyList<string> Mismatches(IReadOnlyDictionary<string, string?> declared, ImageFeatures image)
        {
            var result = new List<string>();
            void Equal(string name, ImageFeature feature, string fallback)
            {
                string value = Declared(declared, name) ?? fallback;
                if (!string.Equals(value, feature.Value, StringComparison.OrdinalIgnoreCase))
                {
                    result.Add($"{name}: the definition declares {value}, the image is {feature.Value} ({feature.Evidence})");
                }
            }
            Equal("HyperVGeneration", image.HyperVGeneration, "V1");
            Equal("Architecture", image.Architecture, "x64");
            Equal("OsState", image.OsState, "Generalized");

            string security = Declared(declared, "SecurityType") ?? "Standard";
            if (!string.Equals(security, "Standard", StringComparison.OrdinalIgnoreCase) && !string.Equals(security, image.SecurityType.Value, StringComparison.OrdinalIgnoreCase))
            {
                result.Add($"SecurityType: the definition declares {security}, the image supports {image.SecurityType.Value} ({image.SecurityType.Evidence})");
            }
            string controllers = Declared(declared, "DiskControllerTypes") ?? "SCSI";
            if (controllers.IndexOf("NVMe", StringComparison.OrdinalIgnoreCase) >= 0 && image.DiskControllerTypes.Value.IndexOf("NVMe", StringComparison.OrdinalIgnoreCase) < 0)
            {
                result.Add($"DiskControllerTypes: the definition declares {controllers}, the image supports {image.DiskControllerTypes.Value} ({image.DiskControllerTypes.Evidence})");
            }
            string accelerated = Declared(declared, "IsAcceleratedNetworkSupported") ?? "False";
            if (string.Equals(accelerated, "True", StringComparison.OrdinalIgnoreCase) && !string.Equals(image.IsAcceleratedNetworkSupported.Value, "True", StringComparison.OrdinalIgnoreCase))
            {
                result.Add($"IsAcceleratedNetworkSupported: the definition declares {accelerated}, the image is {image.IsAcceleratedNetworkSupported.Value} ({image.IsAcceleratedNetworkSupported.Evidence})");
            }
            return result;
        }

        private static string? Declared(IReadOnlyDictionary<string, string?> declared, string name) =>
            declared.TryGetValue(name, out string? v) && !string.IsNullOrEmpty(v) ? v : null;
    }
}
