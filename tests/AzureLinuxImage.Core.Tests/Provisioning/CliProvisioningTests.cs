using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Text.Json;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Provisioning.ProvisioningFixtures;

namespace AzureLinuxImage.Tests.Provisioning
{
    /// <summary>
    /// The real azlinux CLI in a child process against local servers, with HTTP_PROXY pointing at a
    /// third server: .NET would send 127.0.0.1 traffic through it (it does not bypass loopback), so a
    /// request there means the environment proxy was used.
    /// </summary>
    public class CliProvisioningTests
    {
        private sealed record Run(int ExitCode, string StdOut, string StdErr);

        private static Run Azlinux(LocalFabric proxy, params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(Repository.CliDll);
            foreach (string a in args)
            {
                psi.ArgumentList.Add(a);
            }
            foreach (string name in new[] { "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy" })
            {
                psi.Environment[name] = proxy.Endpoint;
            }
            psi.Environment.Remove("NO_PROXY");
            psi.Environment.Remove("no_proxy");
            using var p = Process.Start(psi)!;
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            p.OutputDataReceived += (_, e) => { if (e.Data != null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
            p.ErrorDataReceived += (_, e) => { if (e.Data != null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            if (!p.WaitForExit(120_000))
            {
                p.Kill(true);
                throw new TimeoutException("azlinux did not finish in 120 s");
            }
            p.WaitForExit();
            return new Run(p.ExitCode, stdout.ToString(), stderr.ToString());
        }

        [Fact]
        public void ReadyExitsZeroWhenAcceptedSendsExactRequestsAndIgnoresTheProxy()
        {
            using var proxy = new LocalFabric();
            using var imds = new LocalFabric().On("GET", "/metadata/instance?api-version=2021-08-01&extended=true",
                r => r.Header("Metadata") == "true" ? Reply.Status(200, Text("imds-instance-extended-azure-init.json"), "application/json") : Reply.Status(400));
            using var wire = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateWithIncarnation(3)))
                .On("POST", HealthTarget, Reply.Status(200));
            using var root = new TempDirectory();

            Run run = Azlinux(proxy, "ready", "--endpoint", wire.Endpoint, "--imds-endpoint", imds.Endpoint, "--agent-name", Agent,
                "--root", root.Path, "--timeout", "60", "--json");

            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            Assert.Empty(proxy.Requests);
            Assert.Equal(new[] { "GET " + GoalStateTarget, "POST " + HealthTarget }, wire.Requests.Select(r => r.ToString()));
            Assert.Equal(ReadyBody("3"), wire.Requests[1].Body);
            Assert.Equal("text/xml;charset=utf-8", wire.Requests[1].Header("Content-Type"));
            Assert.Equal(Agent, wire.Requests[1].Header("x-ms-agent-name"));
            Assert.Single(imds.Requests);
            using JsonDocument json = JsonDocument.Parse(run.StdOut);
            Assert.True(json.RootElement.GetProperty("accepted").GetBoolean());
            Assert.Equal(200, json.RootElement.GetProperty("httpStatus").GetInt32());
            Assert.Equal("3", json.RootElement.GetProperty("incarnation").GetString());
            Assert.Equal("Ready", json.RootElement.GetProperty("state").GetString());
            Assert.Equal("None", json.RootElement.GetProperty("preprovisioningType").GetString());
        }

        [Fact]
        public void ReadyExitsNonZeroWhenTheFabricRefusesAndTextShowsWhatWasSent()
        {
            using var proxy = new LocalFabric();
            using var wire = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(400, "<Error><Code>BadRequest</Code></Error>"));
            Run refused = Azlinux(proxy, "ready", "--endpoint", wire.Endpoint, "--skip-preprovisioning-check", "--timeout", "30",
                "--not-ready", "--description", "disk <sdb> failed");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("WireServerRejected", refused.StdErr);
            Assert.Contains("<Description>disk &lt;sdb&gt; failed</Description>", wire.Requests[1].Body);
            Assert.Contains("<SubStatus>ProvisioningFailed</SubStatus>", wire.Requests[1].Body);
            Assert.Empty(proxy.Requests);

            using var ok = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            Run text = Azlinux(proxy, "ready", "--endpoint", ok.Endpoint, "--skip-preprovisioning-check", "--agent-name", Agent);
            Assert.True(text.ExitCode == 0, text.StdErr);
            // R-NOAGENT-5: the journal shows the goal state ids, the XML sent and the response.
            Assert.Contains("ContainerId: " + ContainerId, text.StdOut);
            Assert.Contains("InstanceId: " + InstanceId, text.StdOut);
            Assert.Contains("Health sent: " + ReadyBody("1"), text.StdOut);
            Assert.Contains("Response: 200", text.StdOut);
        }

        [Fact]
        public void DryRunSendsNothingAndExitsTwo()
        {
            using var proxy = new LocalFabric();
            using var wire = new LocalFabric()
                .On("GET", GoalStateTarget, Reply.Status(200, GoalStateXml))
                .On("POST", HealthTarget, Reply.Status(200));
            Run run = Azlinux(proxy, "ready", "--endpoint", wire.Endpoint, "--skip-preprovisioning-check", "--dry-run");
            Assert.Equal(2, run.ExitCode);
            Assert.Equal(new[] { "GET" }, wire.Requests.Select(r => r.Method));
            Assert.Contains("dry run", run.StdErr);
        }

        [Fact]
        public void GoalStateAndImdsVerbs()
        {
            using var proxy = new LocalFabric();
            using var wire = new LocalFabric().On("GET", GoalStateTarget, Reply.Status(200, GoalStateWithIncarnation(8)));
            Run goal = Azlinux(proxy, "goalstate", "--endpoint", wire.Endpoint, "--json");
            Assert.True(goal.ExitCode == 0, goal.StdErr);
            using (JsonDocument json = JsonDocument.Parse(goal.StdOut))
            {
                Assert.Equal("8", json.RootElement.GetProperty("incarnation").GetString());
                Assert.Equal(ContainerId, json.RootElement.GetProperty("containerId").GetString());
                Assert.Equal(InstanceId, json.RootElement.GetProperty("instanceId").GetString());
            }

            using var imds = new LocalFabric()
                .On("GET", "/metadata/instance/compute/name?api-version=2021-08-01&format=text", Reply.Status(400))
                .On("GET", "/metadata/instance/compute/name?api-version=2019-06-01&format=text",
                    r => r.Header("Metadata") == "true" ? Reply.Status(200, "health", "text/plain") : Reply.Status(400));
            Run name = Azlinux(proxy, "imds", "compute/name", "--endpoint", imds.Endpoint);
            Assert.True(name.ExitCode == 0, name.StdErr);
            Assert.Equal("health", name.StdOut.Trim());
            Assert.Equal(2, imds.Requests.Count);

            using var nothing = new LocalFabric(startAfter: TimeSpan.FromHours(1));
            Run unreachable = Azlinux(proxy, "goalstate", "--endpoint", nothing.Endpoint, "--timeout", "1");
            Assert.Equal(1, unreachable.ExitCode);
            Assert.Contains("WireServerUnreachable", unreachable.StdErr);
            Assert.Empty(proxy.Requests);
        }
    }
}
