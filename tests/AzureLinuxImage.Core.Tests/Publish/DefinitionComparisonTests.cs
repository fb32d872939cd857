using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Publish
{
    /// <summary>The rules of comparing a gallery definition with the image (issue 26), and the small parsers of publish.</summary>
    public sealed class DefinitionComparisonTests
    {
        private static ImageFeatures Features(string generation = "V2", string security = "Standard", string controllers = "SCSI", string accelerated = "False", string os = "Generalized") =>
            new ImageFeatures(
                new ImageFeature("HyperVGeneration", generation, "loader evidence", "AZ-BOOT"),
                new ImageFeature("Architecture", "x64", "kernel evidence", "AZ-ARCH"),
                new ImageFeature("SecurityType", security, "shim evidence", "AZ-BOOT"),
                new ImageFeature("DiskControllerTypes", controllers, "nvme evidence", "AZ-KERNEL"),
                new ImageFeature("IsAcceleratedNetworkSupported", accelerated, "mana evidence", "AZ-KERNEL"),
                new ImageFeature("OsState", os, "machine-id evidence", "R-GENERALIZE"));

        private static Dictionary<string, string?> Declared(params (string, string)[] values) => values.ToDictionary(v => v.Item1, v => (string?)v.Item2);

        [Fact]
        public void A_matching_definition_has_no_mismatch_and_absent_values_take_ARMs_defaults()
        {
            Assert.Empty(DefinitionComparison.Mismatches(Declared(("HyperVGeneration", "V2"), ("OsState", "Generalized")), Features()));
            // Absent hyperVGeneration is V1: a V2 image does not fit.
            Assert.Single(DefinitionComparison.Mismatches(Declared(("OsState", "Generalized")), Features()));
        }

        [Fact]
        public void Each_mismatch_names_the_declared_value_the_image_value_and_the_evidence()
        {
            IReadOnlyList<string> m = DefinitionComparison.Mismatches(
                Declared(("HyperVGeneration", "V2"), ("OsState", "Generalized"), ("Architecture", "Arm64"), ("SecurityType", "TrustedLaunchSupported"),
                    ("DiskControllerTypes", "SCSI, NVMe"), ("IsAcceleratedNetworkSupported", "True")),
                Features("V1", os: "Generalized"));
            Assert.Equal(5, m.Count);
            Assert.Contains("HyperVGeneration: the definition declares V2, the image is V1 (loader evidence)", m);
            Assert.Contains(m, x => x.StartsWith("Architecture: the definition declares Arm64, the image is x64", StringComparison.Ordinal));
            Assert.Contains(m, x => x.StartsWith("SecurityType: the definition declares TrustedLaunchSupported, the image supports Standard (shim evidence)", StringComparison.Ordinal));
            Assert.Contains(m, x => x.StartsWith("DiskControllerTypes: the definition declares SCSI, NVMe, the image supports SCSI", StringComparison.Ordinal));
            Assert.Contains(m, x => x.StartsWith("IsAcceleratedNetworkSupported: the definition declares True", StringComparison.Ordinal));
        }

        [Fact]
        public void A_definition_declaring_less_than_the_image_has_fits()
        {
            Assert.Empty(DefinitionComparison.Mismatches(Declared(("HyperVGeneration", "V2"), ("OsState", "Specialized")),
                Features(security: "TrustedLaunchSupported", controllers: "SCSI, NVMe", accelerated: "True", os: "Specialized")));
        }

        [Theory]
        [InlineData("westeurope", "westeurope", 1, "Standard_LRS")]
        [InlineData("westeurope=3", "westeurope", 3, "Standard_LRS")]
        [InlineData("northeurope=2:Standard_ZRS", "northeurope", 2, "Standard_ZRS")]
        public void Target_regions_parse(string text, string name, int count, string storage)
        {
            TargetRegion r = TargetRegion.Parse(text);
            Assert.Equal((name, count, storage), (r.Name, r.ReplicaCount, r.StorageAccountType));
        }

        [Theory]
        [InlineData("westeurope=0")]
        [InlineData("=2")]
        [InlineData("westeurope=x")]
        public void Bad_target_regions_are_refused(string text)
        {
            Assert.Equal("InvalidTargetRegion", Assert.Throws<AzureLinuxImageException>(() => TargetRegion.Parse(text)).ErrorId);
        }

        [Fact]
        public void The_token_file_takes_az_account_get_access_token_json_or_a_bare_token()
        {
            using var tmp = new TempDirectory();
            string json = tmp.File("t.json");
            File.WriteAllText(json, "{\"accessToken\": \"eyJabc\", \"expiresOn\": \"2026-01-01 00:00:00.000000\", \"subscription\": \"s\", \"tokenType\": \"Bearer\"}");
            Assert.Equal("eyJabc", AzureCredentials.ReadTokenFile(json));
            string bare = tmp.File("t.txt");
            File.WriteAllText(bare, "eyJdef\n");
            Assert.Equal("eyJdef", AzureCredentials.ReadTokenFile(bare));
            File.WriteAllText(bare, "{\"token\": 1}");
            Assert.Equal("InvalidAccessTokenFile", Assert.Throws<AzureLinuxImageException>(() => AzureCredentials.ReadTokenFile(bare)).ErrorId);
            Assert.Equal("AccessTokenFileUnreadable", Assert.Throws<AzureLinuxImageException>(() => AzureCredentials.ReadTokenFile(tmp.File("none"))).ErrorId);
        }

        [Fact]
        public void Environments_map_to_their_Resource_Manager_and_a_URL_wins()
        {
            Assert.Equal("https://management.chinacloudapi.cn/", new PublishOptions { Environment = "AzureChinaCloud" }.ResolveEndpoint().ToString());
            Assert.Equal("https://management.usgovcloudapi.net/", new PublishOptions { Environment = "AzureUSGovernment" }.ResolveEndpoint().ToString());
            Assert.Equal("https://management.local.azurestack.external/", new PublishOptions { ResourceManagerUrl = new Uri("https://management.local.azurestack.external/") }.ResolveEndpoint().ToString());
            Assert.Equal("UnknownEnvironment", Assert.Throws<AzureLinuxImageException>(() => new PublishOptions { Environment = "Mars" }.ResolveEndpoint()).ErrorId);
        }
    }
}
