using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Provisioning;
using Xunit;

namespace AzureLinuxImage.Tests.Repair
{
    /// <summary>
    /// The sh reporter Install-AgentlessProvisioning writes into images, run for real (sh with curl, and with wget)
    /// against the in-test wire server and IMDS on 127.0.0.1 (issue 18's proof).
    /// </summary>
    public sealed class AgentlessReporterTests : IDisposable
    {
        private readonly TempDirectory temp = new TempDirectory();
        private readonly LocalFabric wire = new LocalFabric();
        private readonly LocalFabric imds = new LocalFabric();

        public AgentlessReporterTests()
        {
            File.WriteAllText(temp.File("report.sh"), InstallAgentlessProvisioning.ReporterScript());
            imds.On("GET", "/metadata/instance?api-version=2021-08-01&extended=true",
                Reply.Status(200, "{\"compute\":{\"name\":\"vm-resource\",\"osProfile\":{\"computerName\":\"asked-name\"}},\"extended\":{\"compute\":{\"ppsType\":\"None\"}}}", "application/json"));
            imds.On("GET", "/metadata/instance/compute/osProfile/computerName?api-version=2021-08-01&format=text", Reply.Status(200, "asked-name", "text/plain"));
        }

        private ToolResult Run(string client, int budget = 60)
        {
            string tool = ExternalTool.Require(client, client);
            // Only the chosen client on PATH: a folder with links to sh, the tool and the coreutils the script uses.
            string bin = temp.File("bin-" + client);
            Directory.CreateDirectory(bin);
            foreach (string t in new[] { "sh", "sed", "tr", "cat", "date", "sleep", "mktemp", "rm", "grep", "tail", "cut", "printf", client })
            {
                string? found = t == client ? tool : ExternalTool.Find(t);
                if (found != null && !File.Exists(Path.Combine(bin, t)))
                {
                    File.CreateSymbolicLink(Path.Combine(bin, t), found);
                }
            }
            string script = File.ReadAllText(temp.File("report.sh")).Replace("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PATH=" + bin);
            File.WriteAllText(temp.File("report-" + client + ".sh"), script);
            return ExternalTool.Run("/usr/bin/env", new[]
            {
                "-i", "PATH=" + bin, "AZURE_WIRESERVER_URL=" + wire.Endpoint, "AZURE_IMDS_URL=" + imds.Endpoint, "AZURE_READY_BUDGET=" + budget,
                "AZURE_READY_HOSTNAME_FILE=" + temp.File("hostname"), "AZURE_READY_NO_HOSTNAMECTL=1", "AZURE_READY_BACKOFF=1 1 1",
                "http_proxy=http://127.0.0.1:9", "/bin/sh", temp.File("report-" + client + ".sh"),
            }, check: false, timeoutSeconds: 120);
        }

        private static string Incarnation(RecordedRequest r) => Regex.Match(r.Body, "<GoalStateIncarnation>([^<]*)</GoalStateIncarnation>").Groups[1].Value;

        [Theory]
        [InlineData("curl")]
        [InlineData("wget")]
        public void Reports_ready_with_the_incarnation_echoed_and_the_hostname_from_IMDS(string client)
        {
            wire.On("GET", ProvisioningFixtures.GoalStateTarget, Reply.Status(200, ProvisioningFixtures.GoalStateWithIncarnation(7)));
            wire.On("POST", ProvisioningFixtures.HealthTarget, Reply.Status(200));
            ToolResult r = Run(client);
            Assert.True(r.ExitCode == 0, r.StdErr);
            RecordedRequest health = Assert.Single(wire.Requests, q => q.Method == "POST");
            Assert.Equal("7", Incarnation(health));
            Assert.Contains($"<ContainerId>{ProvisioningFixtures.ContainerId}</ContainerId>", health.Body);
            Assert.Contains($"<InstanceId>{ProvisioningFixtures.InstanceId}</InstanceId>", health.Body);
            Assert.Contains("<State>Ready</State>", health.Body);
            Assert.Equal("2012-11-30", health.Header("x-ms-version"));
            Assert.Equal("azure-provisioning.service", health.Header("x-ms-agent-name"));
            Assert.StartsWith("text/xml", health.Header("Content-Type"));
            // The fabric's own XML parser accepts the report.
            System.Xml.Linq.XDocument.Parse(health.Body);
            Assert.All(imds.Requests, q => Assert.Equal("true", q.Header("Metadata")));
            Assert.Equal("asked-name", File.ReadAllText(temp.File("hostname")).Trim());
        }

        [Theory]
        [InlineData("curl")]
        [InlineData("wget")]
        public void Retries_503_then_fetches_the_goal_state_again_after_410(string client)
        {
            wire.On("GET", ProvisioningFixtures.GoalStateTarget,
                Reply.Status(503), Reply.Status(200, ProvisioningFixtures.GoalStateWithoutRoleInstance),
                Reply.Status(200, ProvisioningFixtures.GoalStateWithIncarnation(3)), Reply.Status(200, ProvisioningFixtures.GoalStateWithIncarnation(4)));
            wire.On("POST", ProvisioningFixtures.HealthTarget, Reply.Status(503), Reply.Status(410), Reply.Status(201));
            ToolResult r = Run(client);
            Assert.True(r.ExitCode == 0, r.StdErr);
            var posts = wire.Requests.Where(q => q.Method == "POST").ToList();
            Assert.Equal(3, posts.Count);
            // 503: the same report again; 410: a new goal state, its incarnation in the next report.
            Assert.Equal(new[] { "3", "3", "4" }, posts.Select(Incarnation).ToArray());
            Assert.Equal(4, wire.Requests.Count(q => q.Method == "GET"));
        }

        [Fact]
        public void Gives_up_when_the_budget_is_spent_and_exits_non_zero()
        {
            wire.On("GET", ProvisioningFixtures.GoalStateTarget, Reply.Status(200, ProvisioningFixtures.GoalStateWithIncarnation(2)));
            wire.On("POST", ProvisioningFixtures.HealthTarget, Reply.Status(500));
            ToolResult r = Run("curl", budget: 3);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("not accepted", r.StdErr);
            Assert.InRange(wire.Requests.Count(q => q.Method == "POST"), 2, 5);
        }

        [Fact]
        public void A_pre_provisioned_VM_is_not_claimed_ready()
        {
            imds.On("GET", "/metadata/instance?api-version=2021-08-01&extended=true",
                Reply.Status(200, "{\"compute\":{\"name\":\"x\"},\"extended\":{\"compute\":{\"ppsType\":\"Running\"}}}", "application/json"));
            wire.On("GET", ProvisioningFixtures.GoalStateTarget, Reply.Status(200, ProvisioningFixtures.GoalStateXml));
            wire.On("POST", ProvisioningFixtures.HealthTarget, Reply.Status(200));
            ToolResult r = Run("curl");
            Assert.NotEqual(0, r.ExitCode);
            Assert.DoesNotContain(wire.Requests, q => q.Method == "POST");
        }

        public void Dispose()
        {
            wire.Dispose();
            imds.Dispose();
            temp.Dispose();
        }
    }
}
