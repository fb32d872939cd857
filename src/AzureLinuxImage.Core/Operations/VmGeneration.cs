using System;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// The Azure VM generation a command is given (-Generation, --generation): 1 (BIOS) or 2 (UEFI); where the
    /// command can decide from the image, also Auto (null). One check and one message for every command
    /// (readiness test, rehearsal, feature derivation, publish), so a wrong value reads the same everywhere.
    /// </summary>
    internal static class VmGeneration
    {
        public const string ErrorId = "InvalidGeneration";

        /// <summary>"1", "2" or "auto" (any case; Auto and no value are null), as -Generation and --generation take it.</summary>
        public static int? Parse(string? text)
        {
            string value = (text ?? "auto").Trim();
            if (string.Equals(value, "auto", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }
            return value switch
            {
                "1" => 1,
                "2" => 2,
                _ => throw Invalid(value),
            };
        }

        /// <summary>Refuses anything but 1 or 2; null (Auto) passes. <paramref name="target"/>: the image it was given for.</summary>
        public static void Require(int? generation, string? target = null)
        {
            if (generation != null && generation != 1 && generation != 2)
            {
                throw Invalid(generation.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), target);
            }
        }

        /// <summary>The one error for a generation that does not exist.</summary>
        internal static AzureLinuxImageException Invalid(string given, string? target = null) =>
            new AzureLinuxImageException(ErrorId, ErrorKind.InvalidArgument,
                $"Generation '{given}' does not exist: an Azure VM is generation 1 (BIOS) or 2 (UEFI); leave it out, or give auto, to read it from the image.", target);
    }
}
