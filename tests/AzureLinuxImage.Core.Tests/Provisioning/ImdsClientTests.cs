using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Provisioning;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Provisioning.ProvisioningFixtures;

namespace AzureLinuxImage.Tests.Provisioning
{
    /// <summary>IMDS against a local server serving the real samples; like IMDS, it refuses requests without Metadata: true.</summary>
    public class ImdsClientTests
    {
        private const string Extended = "/metadata/instance?api-version=2021-08-01&extended=true";
        private const string Minimum = "/metadata/instance?api-version=2019-06-01";

        private static string AzureInit => Text("imds-instance-extended-azure-init.json");
        private static string WALinuxAgent => Text("imds-instance-walinuxagent.json");

        private static Reply Json(string body) => Reply.Status(200, body, "application/json; charset=utf-8");

        private static Func<RecordedRequest, Reply> RequireMetadata(Func<RecordedRequest, Reply> inner) => r =>
            r.Header("Metadata") == "true" ? inner(r) : Reply.Status(400, "{\"error\":\"Bad request. Required metadata header not specified\"}", "application/json");

        private static InstanceMetadataResult Get(LocalFabric fabric, string? path = null, string apiVersion = "2021-08-01", RetryPolicy? policy = null) =>
            GetInstanceMetadata.Run(new InstanceMetadataOptions { Endpoint = fabric.Endpoint, Path = path, ApiVersion = apiVersion, Policy = policy ?? Fast() }, new RecordingContext());

        [Fact]
        public void WholeExtendedDocumentWithTheMetadataHeader()
        {
            using var fabric = new LocalFabric().On("GET", Extended, RequireMetadata(_ => Json(AzureInit)));
            InstanceMetadataResult result = Get(fabric);
            RecordedRequest r = Assert.Single(fabric.Requests);
            Assert.Equal("true", r.Header("Metadata"));
            Assert.Equal("2021-08-01", result.ApiVersion);
            Assert.True(result.Extended);
            Assert.Equal("None", result.PreprovisioningType);
            Assert.False(result.IsPreprovisioned);
            Assert.Equal(AzureInit, result.Value);
            Assert.Equal(1, result.Attempts);
        }

        [Fact]
        public void ABadRequestToTheNewerVersionFallsBackTo20190601()
        {
            using var fabric = new LocalFabric()
                .On("GET", Extended, Reply.Status(400, "{\"error\":\"Bad request. api-version is invalid\"}", "application/json"))
                .On("GET", Minimum, RequireMetadata(_ => Json(WALinuxAgent)));
            InstanceMetadataResult result = Get(fabric);
            Assert.Equal(new[] { "GET " + Extended, "GET " + Minimum }, fabric.Requests.Select(r => r.ToString()));
            Assert.All(fabric.Requests, r => Assert.Equal("true", r.Header("Metadata")));
            Assert.Equal("2019-06-01", result.ApiVersion);
            Assert.False(result.Extended);
            Assert.Null(result.PreprovisioningType);
            using JsonDocument doc = JsonDocument.Parse(result.Value);
            Assert.Equal("health", doc.RootElement.GetProperty("compute").GetProperty("name").GetString());
        }

        [Fact]
        public void OneValueAsText()
        {
            using var fabric = new LocalFabric()
                .On("GET", "/metadata/instance/compute/osProfile/computerName?api-version=2021-08-01&format=text", RequireMetadata(_ => Reply.Status(200, "temp-vm", "text/plain")));
            InstanceMetadataResult result = Get(fabric, "/compute/osProfile/computerName/");
            Assert.Equal("temp-vm", result.Value);
            Assert.Equal("compute/osProfile/computerName", result.Path);
            Assert.Null(result.PreprovisioningType);
        }

        [Fact]
        public void TheSeedsSingleValueRequest()
        {
            // R-NOAGENT-4: /metadata/instance/compute/name?api-version=2019-06-01&format=text
            using var fabric = new LocalFabric()
                .On("GET", "/metadata/instance/compute/name?api-version=2019-06-01&format=text", RequireMetadata(_ => Reply.Status(200, "health", "text/plain")));
            Assert.Equal("health", Get(fabric, "compute/name", "2019-06-01").Value);
        }

        [Fact]
        public void TransientStatusesAreRetried()
        {
            using var fabric = new LocalFabric()
                .On("GET", Extended, Reply.Status(404), Reply.Status(410), Reply.Status(429), Reply.Status(500), Reply.Status(503), Reply.Drop, Json(AzureInit));
            InstanceMetadataResult result = Get(fabric);
            Assert.Equal(7, fabric.Requests.Count);
            // A connection dropped before any answer may be retried once inside HttpClient itself.
            Assert.InRange(result.Attempts, 6, 7);
        }

        [Theory]
        [InlineData(401)]
        [InlineData(403)]
        [InlineData(405)]
        public void AuthorizationAndMethodErrorsAreFinal(int status)
        {
            using var fabric = new LocalFabric().On("GET", Extended, Reply.Status(status, "{\"error\":\"no\"}", "application/json"));
            var e = Assert.Throws<AzureLinuxImageException>(() => Get(fabric));
            Assert.Equal("InstanceMetadataRejected", e.ErrorId);
            Assert.Contains(status.ToString(), e.Message);
            Assert.Single(fabric.Requests);
        }

        [Fact]
        public void ABadRequestAtTheMinimumVersionIsFinal()
        {
            using var fabric = new LocalFabric().On("GET", Minimum, Reply.Status(400, "{}", "application/json"));
            Assert.Equal("InstanceMetadataRejected", Assert.Throws<AzureLinuxImageException>(() => Get(fabric, apiVersion: "2019-06-01")).ErrorId);
            Assert.Single(fabric.Requests);
        }

        [Fact]
        public void AValuePathThatDoesNotExistEndsAfterAFewNotFounds()
        {
            using var fabric = new LocalFabric();
            var e = Assert.Throws<AzureLinuxImageException>(() => Get(fabric, "compute/nothingHere"));
            Assert.Equal("InstanceMetadataNotFound", e.ErrorId);
            Assert.Equal(ImdsClient.MaxNotFoundForValue, fabric.Requests.Count);
        }

        [Theory]
        [InlineData("../../etc/passwd")]
        [InlineData("compute?x=1")]
        [InlineData("compute//name")]
        [InlineData("")]
        [InlineData("compute/na me")]
        public void BadPathsAreRefusedBeforeAnyRequest(string path)
        {
            using var fabric = new LocalFabric();
            Assert.Equal("InvalidMetadataPath", Assert.Throws<AzureLinuxImageException>(() => Get(fabric, path)).ErrorId);
            Assert.Empty(fabric.Requests);
        }

        [Fact]
        public void ImdsDocumentReadsNamesAndPreprovisioning()
        {
            ImdsDocument azureInit = ImdsDocument.Parse(AzureInit);
            Assert.Equal("temp-vm", azureInit.ComputerName);
            Assert.Equal("None", azureInit.PreprovisioningType);
            Assert.Equal("12345678-90ab-cdef-1234-567890abcdef", azureInit.VmId);
            Assert.Equal("10.0.0.4", azureInit.GetString("network/interface/0/ipv4/ipAddress/0/privateIpAddress"));
            Assert.Equal("false", azureInit.GetString("extended/compute/hasCustomData"));
            Assert.Null(azureInit.GetString("network/interface/7/macAddress"));

            // The WALinuxAgent sample predates osProfile: compute/name is the fallback.
            ImdsDocument wala = ImdsDocument.Parse(WALinuxAgent);
            Assert.Equal("health", wala.ComputerName);
            Assert.Null(wala.PreprovisioningType);

            Assert.Equal("InvalidInstanceMetadata", Assert.Throws<AzureLinuxImageException>(() => ImdsDocument.Parse("[1,2]")).ErrorId);
            Assert.Equal("InvalidInstanceMetadata", Assert.Throws<AzureLinuxImageException>(() => ImdsDocument.Parse("{\"compute\":")).ErrorId);
            string deep = string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100);
            Assert.Equal("InvalidInstanceMetadata", Assert.Throws<AzureLinuxImageException>(() => ImdsDocument.Parse(deep)).ErrorId);
        }

        [Fact]
        public void APreprovisionedVmIsNotClaimedReady()
        {
            string pooled = AzureInit.Replace("\"ppsType\": \"None\"", "\"ppsType\": \"Running\"");
            Assert.Contains("\"ppsType\": \"Running\"", pooled);
            using var imds = new LocalFabric().On("GET", Extended, RequireMetadata(_ => Json(pooled)));
            using var wire = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            var options = new WireServerReadyOptions { Endpoint = wire.Endpoint, ImdsEndpoint = imds.Endpoint, AgentName = Agent, Policy = Fast(), Root = "/nonexistent-root-for-tests" };
            var e = Assert.Throws<AzureLinuxImageException>(() => SendWireServerReady.Run(options, new RecordingContext()));
            Assert.Equal("PreprovisionedVm", e.ErrorId);
            Assert.Contains("Running", e.Message);
            Assert.Empty(wire.Requests);
            Assert.Single(imds.Requests);
        }

        [Fact]
        public void ReadySetsTheHostnameWritesKvpAndReportsWithOneImdsRequest()
        {
            using var root = new TempDirectory();
            string pool = Path.Combine(root.Path, "var", "lib", "hyperv", ".kvp_pool_1");
            Directory.CreateDirectory(Path.GetDirectoryName(pool)!);
            File.WriteAllBytes(pool, Array.Empty<byte>());
            using var imds = new LocalFabric().On("GET", Extended, RequireMetadata(_ => Json(AzureInit)));
            using var wire = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            var context = new RecordingContext();
            var options = new WireServerReadyOptions
            {
                Endpoint = wire.Endpoint, ImdsEndpoint = imds.Endpoint, AgentName = Agent, Policy = Fast(), Root = root.Path, SetHostname = true,
            };
            WireServerReadyResult result = SendWireServerReady.Run(options, context);

            Assert.True(result.Accepted);
            Assert.Equal("None", result.PreprovisioningType);
            Assert.Equal("temp-vm", result.Hostname);
            Assert.Equal("temp-vm\n", File.ReadAllText(Path.Combine(root.Path, "etc", "hostname")));
            Assert.Contains("DHCP", result.HostnameNote);
            Assert.Contains("renew", result.HostnameNote);
            Assert.Single(imds.Requests);
            Assert.Equal(new[] { "GET", "POST" }, wire.Requests.Select(r => r.Method));
            Assert.Empty(result.Warnings);

            Assert.True(result.KvpRecordWritten);
            byte[] bytes = File.ReadAllBytes(pool);
            Assert.Equal(2560, bytes.Length);
            Assert.Equal("PROVISIONING_REPORT", Encoding.UTF8.GetString(bytes, 0, 19));
            Assert.All(bytes.Skip(19).Take(512 - 19), b => Assert.Equal(0, b));
            string value = Encoding.UTF8.GetString(bytes, 512, 2048).TrimEnd('\0');
            Assert.StartsWith("result=success|agent=TestAgent/1.0|pps_type=None|vm_id=12345678-90ab-cdef-1234-567890abcdef|timestamp=", value);
            // The record is in the pool before the fabric hears the report (the host reads KVP then).
            Assert.True(File.GetLastWriteTimeUtc(pool) <= DateTime.UtcNow);
        }

        [Fact]
        public void WithoutAPoolFileNoKvpRecordIsWritten()
        {
            using var root = new TempDirectory();
            using var imds = new LocalFabric().On("GET", Extended, Json(WALinuxAgent));
            using var wire = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            var context = new RecordingContext();
            WireServerReadyResult result = SendWireServerReady.Run(new WireServerReadyOptions
            {
                Endpoint = wire.Endpoint, ImdsEndpoint = imds.Endpoint, AgentName = Agent, Policy = Fast(), Root = root.Path, SetHostname = true,
            }, context);
            Assert.False(result.KvpRecordWritten);
            Assert.False(Directory.Exists(Path.Combine(root.Path, "var")));
            // compute/name fallback; the document was not extended, so pre-provisioning is unknown: a warning.
            Assert.Equal("health", result.Hostname);
            Assert.Null(result.PreprovisioningType);
            Assert.Contains(result.Warnings, w => w.Contains("ppsType unknown"));
            Assert.Equal(result.Warnings, context.Warnings);
        }

        [Fact]
        public void AnUnreachableImdsDoesNotStopTheReport()
        {
            using var imds = new LocalFabric().On("GET", Extended, Reply.Status(503));
            using var wire = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            WireServerReadyResult result = SendWireServerReady.Run(new WireServerReadyOptions
            {
                Endpoint = wire.Endpoint, ImdsEndpoint = imds.Endpoint, AgentName = Agent, Policy = Fast(), ImdsPolicy = Fast(budget: 0.5, backoff: 0.1),
                Root = "/nonexistent-root-for-tests",
            }, new RecordingContext());
            Assert.True(result.Accepted);
            Assert.True(imds.Requests.Count >= 2);
            Assert.Contains(result.Warnings, w => w.Contains("IMDS was not usable"));
        }
    }
}
