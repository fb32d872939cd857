using System.Collections.Generic;

namespace AzureLinuxImage.Operations
{
    /// <summary>One value an Azure image definition declares, with the fact inside the image that decides it.</summary>
    public sealed class ImageFeature
    {
        internal ImageFeature(string name, string value, string evidence, string rule)
        {
            Name = name;
            Value = value;
            Evidence = evidence;
            Rule = rule;
        }

        /// <summary>The ARM property it sets: HyperVGeneration, Architecture, SecurityType, DiskControllerTypes, IsAcceleratedNetworkSupported or OsState.</summary>
        public string Name { get; }

        /// <summary>The value as ARM spells it (V2, x64, TrustedLaunchSupported, "SCSI, NVMe", True, Generalized …).</summary>
        public string Value { get; }

        /// <summary>What in the image decides it, with the file that shows it (e.g. "/EFI/debian/shimx64.efi on the ESP is signed").</summary>
        public string Evidence { get; }

        /// <summary>The requirement id (R-…) or documented Azure rule the value follows.</summary>
        public string Rule { get; }

        /// <summary>One line that names the object.</summary>
        public override string ToString() => $"{Name}={Value}";
    }

    /// <summary>The features of an Azure image definition, each derived from the image itself (issue 26).</summary>
    public sealed class ImageFeatures
    {
        internal ImageFeatures(ImageFeature hyperVGeneration, ImageFeature architecture, ImageFeature securityType,
            ImageFeature diskControllerTypes, ImageFeature acceleratedNetwork, ImageFeature osState)
        {
            HyperVGeneration = hyperVGeneration;
            Architecture = architecture;
            SecurityType = securityType;
            DiskControllerTypes = diskControllerTypes;
            IsAcceleratedNetworkSupported = acceleratedNetwork;
            OsState = osState;
        }

        /// <summary>V1 or V2.</summary>
        public ImageFeature HyperVGeneration { get; }

        /// <summary>x64 or Arm64.</summary>
        public ImageFeature Architecture { get; }

        /// <summary>TrustedLaunchSupported or Standard.</summary>
        public ImageFeature SecurityType { get; }

        /// <summary>"SCSI" or "SCSI, NVMe".</summary>
        public ImageFeature DiskControllerTypes { get; }

        /// <summary>True or False.</summary>
        public ImageFeature IsAcceleratedNetworkSupported { get; }

        /// <summary>Generalized or Specialized.</summary>
        public ImageFeature OsState { get; }

        /// <summary>All six, in the order above.</summary>
        public IReadOnlyList<ImageFeature> All => new[] { HyperVGeneration, Architecture, SecurityType, DiskControllerTypes, IsAcceleratedNetworkSupported, OsState };

        /// <summary>One line that names the object.</summary>
        public override string ToString() => string.Join("; ", All);
    }
}
