using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Xml.Linq;
using AzureLinuxImage.Emulation;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Provisioning;
using Xunit;

namespace AzureLinuxImage.Tests.Rehearsal
{
    /// <summary>
    /// The emulated fabric of Test-AzureProvisioning checked against the project's own clients
    /// (azlinux ready / goalstate / imds, in a child process) and the protocol fixtures; its
    /// provisioning CD checked by isoinfo; its network peer checked with real DHCP frames.
    /// </summary>
    public class FabricTests
    {
        private static (EmulatedFabric Fabric, List<string> Log) NewFabric(int incarnation, string? key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBQ test@host")
        {
            var log = new List<string>();
            var identity = new FabricIdentity { HostName = "vm-under-test", UserName = "alice", SshPublicKey = key, Incarnation = incarnation };
            return (new EmulatedFabric(identity, Stopwatch.StartNew(), m => { lock (log) { log.Add(m); } }), log);
        }

        [Fact]
        public void AzlinuxReadyIsAcceptedAndItsIncarnationEchoRecorded()
        {
            var (fabric, _) = NewFabric(incarnation: 7);
            using var wire = LocalFabric.Serving(fabric, VirtualNetwork.WireServer, 80);
            using var imds = LocalFabric.Serving(fabric, VirtualNetwork.Imds, 80);
            using var root = new TempDirectory();

            ToolResult run = AzLinux.Run("ready", "--endpoint", "127.0.0.1:" + wire.Port, "--imds-endpoint", "127.0.0.1:" + imds.Port,
                "--root", root.Path, "--timeout", "60", "--json");

            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            Assert.NotNull(fabric.ReadyAt);
            Assert.Equal(7, fabric.ReadyIncarnation);
            Assert.Contains(fabric.Requests, r => r.Service == "WireServer" && r.Method == "POST" && r.Target == "/machine?comp=health" && r.Status == 200);
            Assert.Contains(fabric.Requests, r => r.Service == "IMDS" && r.Status == 200);
            Assert.Contains("\"incarnation\": \"7\"", run.StdOut.Replace("\"incarnation\":\"7\"", "\"incarnation\": \"7\""));
        }

        [Fact]
        public void AzlinuxNotReadyDescriptionIsRecordedAndNotTakenForReady()
        {
            var (fabric, _) = NewFabric(incarnation: 2);
            using var wire = LocalFabric.Serving(fabric, VirtualNetwork.WireServer, 80);
            ToolResult run = AzLinux.Run("ready", "--endpoint", "127.0.0.1:" + wire.Port, "--skip-preprovisioning-check", "--timeout", "60",
                "--not-ready", "--description", "disk <sdb> failed");
            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            Assert.Null(fabric.ReadyAt);
            Assert.Equal("ProvisioningFailed: disk <sdb> failed", fabric.NotReadyDescription);
        }

        [Fact]
        public void GoalStateServedIsWhatAzlinuxGoalstateParses()
        {
            var (fabric, _) = NewFabric(incarnation: 4);
            using var wire = LocalFabric.Serving(fabric, VirtualNetwork.WireServer, 80);
            ToolResult run = AzLinux.Run("goalstate", "--endpoint", "127.0.0.1:" + wire.Port, "--json");
            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            Assert.Contains("\"4\"", run.StdOut);
            // the same elements as the fixture's goal state (PROTOCOL.md "Goal state")
            XDocument fixture = XDocument.Load(Path.Combine(Repository.Root, "tests/AzureLinuxImage.Core.Tests/Provisioning/Fixtures/goalstate-walinuxagent.xml"));
            byte[] response = fabric.Handle(VirtualNetwork.WireServer, 80, Encoding.ASCII.GetBytes("GET /machine/?comp=goalstate HTTP/1.1\r\nHost: x\r\n\r\n"))!;
            string text = Encoding.UTF8.GetString(response);
            XDocument served = XDocument.Parse(text.Substring(text.IndexOf("<?xml", StringComparison.Ordinal)));
            foreach (string name in new[] { "Version", "Incarnation", "ExpectedState", "ContainerId", "InstanceId", "State", "HostingEnvironmentConfig", "SharedConfig", "ConfigName" })
            {
                Assert.True(fixture.Descendants(name).Any(), name + " in fixture");
                Assert.True(served.Descendants(name).Any(), name + " served");
            }
        }

        [Fact]
        public async System.Threading.Tasks.Task StaleIncarnationAndForeignContainerAreRefusedAsAzureDoes()
        {
            var (fabric, _) = NewFabric(incarnation: 3);
            using var wire = LocalFabric.Serving(fabric, VirtualNetwork.WireServer, 80);
            using var http = new HttpClient(new HttpClientHandler { UseProxy = false });
            var ct = TestContext.Current.CancellationToken;
            string goal = await http.GetStringAsync($"http://127.0.0.1:{wire.Port}/machine/?comp=goalstate", ct);
            XDocument g = XDocument.Parse(goal);
            string container = g.Descendants("ContainerId").Single().Value, instance = g.Descendants("InstanceId").Single().Value;
            string Body(string inc, string c) => $"<?xml version=\"1.0\" encoding=\"utf-8\"?><Health><GoalStateIncarnation>{inc}</GoalStateIncarnation><Container><ContainerId>{c}</ContainerId><RoleInstanceList><Role><InstanceId>{instance}</InstanceId><Health><State>Ready</State></Health></Role></RoleInstanceList></Container></Health>";
            async System.Threading.Tasks.Task<int> Post(string body) => (int)(await http.PostAsync($"http://127.0.0.1:{wire.Port}/machine?comp=health", new StringContent(body, Encoding.UTF8, "text/xml"), ct)).StatusCode;
            Assert.Equal(410, await Post(Body("1", container)));
            Assert.Equal(400, await Post(Body("3", Guid.NewGuid().ToString())));
            Assert.Null(fabric.ReadyAt);
            Assert.Equal(200, await Post(Body("3", container)));
            Assert.Equal(3, fabric.ReadyIncarnation);
        }

        [Fact]
        public async System.Threading.Tasks.Task ImdsNeedsTheMetadataHeaderAndAnswersWhatAzlinuxImdsReads()
        {
            var (fabric, _) = NewFabric(incarnation: 1);
            using var imds = LocalFabric.Serving(fabric, VirtualNetwork.Imds, 80);
            using var http = new HttpClient(new HttpClientHandler { UseProxy = false });
            var bare = await http.GetAsync($"http://127.0.0.1:{imds.Port}/metadata/instance?api-version=2021-08-01", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.BadRequest, bare.StatusCode);
            ToolResult run = AzLinux.Run("imds", "--endpoint", "127.0.0.1:" + imds.Port, "--json");
            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            Assert.Contains("vm-under-test", run.StdOut);
        }

        [Fact]
        public void HostGaPluginAnswers404RatherThanRefusing()
        {
            var (fabric, _) = NewFabric(incarnation: 1);
            byte[] response = fabric.Handle(VirtualNetwork.WireServer, VirtualNetwork.HostGaPluginPort, Encoding.ASCII.GetBytes("GET /vmSettings HTTP/1.1\r\nHost: x\r\n\r\n"))!;
            Assert.StartsWith("HTTP/1.1 404 ", Encoding.ASCII.GetString(response));
            Assert.Equal("HostGAPlugin", fabric.Requests.Single().Service);
            Assert.Null(fabric.Handle(VirtualNetwork.WireServer, 80, Encoding.ASCII.GetBytes("POST /machine?comp=health HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345")));
        }

        [Fact]
        public void OvfEnvironmentHasTheFixturesLayoutAndTheGivenIdentity()
        {
            var (fabric, _) = NewFabric(incarnation: 1, key: "ssh-ed25519 AAAAKEY me@x");
            XDocument doc = XDocument.Parse(fabric.OvfEnvironment());
            XDocument fixture = XDocument.Load(Path.Combine(Repository.Root, "tests/AzureLinuxImage.Core.Tests/Provisioning/Fixtures/ovf-env-walinuxagent.xml"));
            XNamespace wa = "http://schemas.microsoft.com/windowsazure";
            var set = doc.Descendants(wa + "LinuxProvisioningConfigurationSet").Single();
            Assert.Equal("vm-under-test", set.Element(wa + "HostName")!.Value);
            Assert.Equal("alice", set.Element(wa + "UserName")!.Value);
            Assert.Equal("ssh-ed25519 AAAAKEY me@x", set.Descendants(wa + "Value").Single().Value);
            Assert.Equal("/home/alice/.ssh/authorized_keys", set.Descendants(wa + "Path").Single().Value);
            Assert.Equal("true", set.Element(wa + "DisableSshPasswordAuthentication")!.Value);
            var fixtureSet = fixture.Descendants(wa + "LinuxProvisioningConfigurationSet").Single();
            Assert.Equal(fixtureSet.Parent!.Name, set.Parent!.Name);
            Assert.All(set.Elements().Select(e => e.Name), n => Assert.Contains(n, fixtureSet.Elements().Select(e => e.Name)));
        }

        /// <summary>
        /// Custom data (issue 22): base64 of the bytes given, in LinuxProvisioningConfigurationSet after SSH (last), where
        /// Azure's own ovf-env.xml (fixtures/azure-protocol) has it; any bytes, not only text (a gzip'd cloud-config).
        /// </summary>
        [Fact]
        public void OvfEnvironmentCarriesCustomDataBase64WhereAzurePutsIt()
        {
            byte[] data = Encoding.UTF8.GetBytes("#cloud-config\nruncmd:\n - echo <rehearsal> & \"quoted\" é\n").Concat(new byte[] { 0, 0xff, 0x1f, 0x8b }).ToArray();
            var identity = new FabricIdentity { HostName = "vm-under-test", UserName = "alice", SshPublicKey = "ssh-ed25519 AAAAKEY me@x", CustomData = data };
            XDocument doc = XDocument.Parse(new EmulatedFabric(identity, Stopwatch.StartNew(), _ => { }).OvfEnvironment());
            XNamespace wa = "http://schemas.microsoft.com/windowsazure";
            XElement set = doc.Descendants(wa + "LinuxProvisioningConfigurationSet").Single();
            XElement custom = set.Elements(wa + "CustomData").Single();
            Assert.Equal(data, Convert.FromBase64String(custom.Value));
            Assert.Same(custom, set.Elements().Last());
            Assert.Equal(wa + "SSH", ((XElement)custom.PreviousNode!).Name);
            XDocument fixture = XDocument.Load(Path.Combine(Repository.Root, "tests/AzureLinuxImage.Core.Tests/Provisioning/Fixtures/ovf-env-walinuxagent.xml"));
            XElement fixtureSet = fixture.Descendants(wa + "LinuxProvisioningConfigurationSet").Single();
            Assert.Equal(fixtureSet.Elements().Last().Name, custom.Name);

            // none given: no element (an empty <CustomData/> would be custom data of zero bytes)
            var (plain, _) = NewFabric(incarnation: 1);
            Assert.Empty(XDocument.Parse(plain.OvfEnvironment()).Descendants(wa + "CustomData"));
        }

        /// <summary>WALinuxAgent's own ovf-env.xml parser (azurelinuxagent.common.protocol.ovfenv, unpacked at /opt/waagent-oracle) reads our document.</summary>
        [Fact]
        public void WaagentsOwnParserReadsTheCustomData()
        {
            string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : ExternalTool.Require("python3", "python3");
            string modules = Environment.GetEnvironmentVariable("WAAGENT_ORACLE_PYTHONPATH") ?? "/opt/waagent-oracle/usr/lib/python3/dist-packages";
            if (!File.Exists(Path.Combine(modules, "azurelinuxagent", "common", "protocol", "ovfenv.py")))
            {
                ExternalTool.Unavailable("WALinuxAgent's module is not unpacked (apt-get download waagent; dpkg-deb -x waagent_*.deb /opt/waagent-oracle).");
            }
            byte[] data = Encoding.UTF8.GetBytes("#!/bin/sh\necho custom data > /tmp/ran\n");
            var identity = new FabricIdentity { HostName = "vm-under-test", UserName = "alice", SshPublicKey = "ssh-ed25519 AAAAKEY me@x", CustomData = data };
            using var dir = new TempDirectory();
            File.WriteAllText(dir.File("ovf-env.xml"), new EmulatedFabric(identity, Stopwatch.StartNew(), _ => { }).OvfEnvironment());
            const string script = "import sys, json\nsys.path.insert(0, sys.argv[1])\nfrom azurelinuxagent.common.protocol.ovfenv import OvfEnv\n" +
                "o = OvfEnv(open(sys.argv[2]).read())\nprint(json.dumps({'hostname': o.hostname, 'username': o.username, 'customdata': o.customdata, 'keys': o.ssh_pubkeys}))\n";
            ToolResult r = ExternalTool.Run(python, new[] { "-c", script, modules, dir.File("ovf-env.xml") });
            using var json = System.Text.Json.JsonDocument.Parse(r.StdOut);
            Assert.Equal("vm-under-test", json.RootElement.GetProperty("hostname").GetString());
            Assert.Equal("alice", json.RootElement.GetProperty("username").GetString());
            Assert.Equal(data, Convert.FromBase64String(json.RootElement.GetProperty("customdata").GetString()!));
            Assert.Equal("ssh-ed25519 AAAAKEY me@x", json.RootElement.GetProperty("keys")[0][2].GetString());
        }


        /// <summary>
        /// What the agents look for (README, "The provisioning media"): cloud-init asks blkid for TYPE=iso9660 (or udf)
        /// devices, ds-identify without the asset tag for a LABEL=rd_rdfe_*; waagent mounts -t udf,iso9660,vfat.
        /// blkid (libblkid, what both use) must see the CD exactly so.
        /// </summary>
        [Fact]
        public void ProvisioningCdIsProbedByBlkidAsTheAgentsFindIt()
        {
            string blkid = ExternalTool.Require("blkid", "util-linux");
            using var dir = new TempDirectory();
            File.WriteAllBytes(dir.File("cd.iso"), IsoImageWriter.Build("rd_rdfe_stable", new[] { new KeyValuePair<string, byte[]>("ovf-env.xml", Encoding.UTF8.GetBytes("<Environment/>")) }, DateTime.UtcNow));
            ToolResult r = ExternalTool.Run(blkid, new[] { "-p", "-o", "export", dir.File("cd.iso") });
            Assert.Contains("TYPE=iso9660", r.StdOut.Split('\n'));
            Assert.Contains("LABEL=rd_rdfe_stable", r.StdOut.Split('\n'));
        }

        [Fact]
        public void ProvisioningCdIsReadByIsoinfoWithTheFileAndLabel()
        {
            string isoinfo = ExternalTool.Require("isoinfo", "genisoimage");
            using var dir = new TempDirectory();
            byte[] content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("<Environment>ovf</Environment>\n", 200)));
            File.WriteAllBytes(dir.File("cd.iso"), IsoImageWriter.Build("rd_rdfe_stable", new[] { new KeyValuePair<string, byte[]>("ovf-env.xml", content) }, new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)));
            ToolResult d = ExternalTool.Run(isoinfo, new[] { "-d", "-i", dir.File("cd.iso") });
            Assert.Contains("Volume id: rd_rdfe_stable", d.StdOut);
            Assert.Contains("Logical block size is: 2048", d.StdOut);
            ToolResult l = ExternalTool.Run(isoinfo, new[] { "-l", "-i", dir.File("cd.iso") });
            Assert.Contains("OVF-ENV.XML;1", l.StdOut);
            ToolResult x = ExternalTool.Run(isoinfo, new[] { "-i", dir.File("cd.iso"), "-x", "/OVF-ENV.XML;1" });
            Assert.Equal(Encoding.UTF8.GetString(content), x.StdOut.Replace("\r\n", "\n"));
            string? xorriso = ExternalTool.Find("xorriso");
            if (xorriso != null)
            {
                ToolResult check = ExternalTool.Run(xorriso, new[] { "-indev", dir.File("cd.iso"), "-find", "/", "-exec", "report_lba" }, check: false);
                Assert.True(check.ExitCode == 0, check.StdErr);
                Assert.Contains("/OVF-ENV.XML", check.StdOut + check.StdErr);
            }
            Assert.Throws<ArgumentException>(() => IsoImageWriter.IsoName("ovf env.xml"));
        }

        [Fact]
        public void NetworkPeerOffersOption245AndAnswersArpForTheFabric()
        {
            using var peer = new VirtualNetwork((_, _, _) => null, _ => { });
            using var qemu = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            qemu.Bind(new IPEndPoint(IPAddress.Loopback, peer.QemuPort));
            qemu.ReceiveTimeout = 10000;
            var peerEndpoint = new IPEndPoint(IPAddress.Loopback, peer.Port);
            byte[] mac = { 0x00, 0x0d, 0x3a, 1, 2, 3 };

            qemu.SendTo(DhcpFrame(mac, 1), peerEndpoint);
            byte[] offer = Receive(qemu);
            var options = DhcpOptions(offer);
            Assert.Equal(new byte[] { 2 }, options[53]);
            Assert.Equal(new byte[] { 168, 63, 129, 16 }, options[245]);
            Assert.Equal(new byte[] { 10, 0, 0, 1 }, options[3]);
            Assert.Equal(new byte[] { 10, 0, 0, 4 }, offer.AsSpan(14 + 20 + 8 + 16, 4).ToArray());
            Assert.Equal(0, OnesComplement(offer.AsSpan(14, 20))); // a valid IPv4 header checksum

            qemu.SendTo(DhcpFrame(mac, 3), peerEndpoint);
            Assert.Equal(new byte[] { 5 }, DhcpOptions(Receive(qemu))[53]);
            Assert.True(peer.Leased);

            // ARP for 10.0.0.1: answered; for the guest's own address: not
            var arp = new byte[42];
            arp.AsSpan(0, 6).Fill(0xFF);
            mac.CopyTo(arp, 6);
            arp[12] = 8; arp[13] = 6;
            byte[] body = { 0, 1, 8, 0, 6, 4, 0, 1 };
            body.CopyTo(arp, 14);
            mac.CopyTo(arp, 22);
            new byte[] { 10, 0, 0, 4 }.CopyTo(arp, 28);
            new byte[] { 10, 0, 0, 1 }.CopyTo(arp, 38);
            qemu.SendTo(arp, peerEndpoint);
            byte[] reply = Receive(qemu);
            Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(20)));
            Assert.Equal(new byte[] { 10, 0, 0, 1 }, reply.AsSpan(28, 4).ToArray());
            Assert.Equal(mac, reply.AsSpan(32, 6).ToArray());
        }

        private static byte[] Receive(Socket socket)
        {
            var buffer = new byte[2048];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int n = socket.ReceiveFrom(buffer, ref from);
            return buffer.AsSpan(0, n).ToArray();
        }

        private static Dictionary<int, byte[]> DhcpOptions(byte[] frame)
        {
            var result = new Dictionary<int, byte[]>();
            int i = 14 + 20 + 8 + 240;
            while (i < frame.Length && frame[i] != 255)
            {
                result[frame[i]] = frame.AsSpan(i + 2, frame[i + 1]).ToArray();
                i += 2 + frame[i + 1];
            }
            return result;
        }

        private static byte[] DhcpFrame(byte[] mac, byte type)
        {
            var dhcp = new byte[244 + 3 + 1];
            dhcp[0] = 1; dhcp[1] = 1; dhcp[2] = 6;
            dhcp[4] = 0x12; dhcp[5] = 0x34;
            mac.CopyTo(dhcp, 28);
            BinaryPrimitives.WriteUInt32BigEndian(dhcp.AsSpan(236), 0x63825363);
            dhcp[240] = 53; dhcp[241] = 1; dhcp[242] = type; dhcp[243] = 255;
            var frame = new byte[14 + 20 + 8 + dhcp.Length];
            frame.AsSpan(0, 6).Fill(0xFF);
            mac.CopyTo(frame, 6);
            frame[12] = 8;
            frame[14] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), (ushort)(20 + 8 + dhcp.Length));
            frame[22] = 64; frame[23] = 17;
            frame.AsSpan(30, 4).Fill(0xFF);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(34), 68);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(36), 67);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(38), (ushort)(8 + dhcp.Length));
            dhcp.CopyTo(frame, 42);
            return frame;
        }

        private static int OnesComplement(ReadOnlySpan<byte> data)
        {
            uint sum = 0;
            for (int i = 0; i + 1 < data.Length; i += 2)
            {
                sum += BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i));
            }
            while ((sum >> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }
            return (int)(~sum & 0xFFFF);
        }
    }
}
