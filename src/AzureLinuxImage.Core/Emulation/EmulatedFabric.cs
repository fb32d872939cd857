using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Security;
using System.Text;
using System.Xml.Linq;

namespace AzureLinuxImage.Emulation
{
    /// <summary>One HTTP request a rehearsed VM sent to the emulated Azure fabric.</summary>
    public sealed class FabricRequest
    {
        internal FabricRequest(TimeSpan at, string service, string method, string target, IReadOnlyDictionary<string, string> headers, string body, int status)
        {
            At = at;
            Service = service;
            Method = method;
            Target = target;
            Headers = headers;
            Body = body;
            Status = status;
        }

        /// <summary>Time since power-on.</summary>
        public TimeSpan At { get; }

        /// <summary>WireServer, HostGAPlugin or IMDS.</summary>
        public string Service { get; }

        /// <summary>The HTTP method.</summary>
        public string Method { get; }

        /// <summary>The request target (path and query).</summary>
        public string Target { get; }

        /// <summary>The request headers (last value wins).</summary>
        public IReadOnlyDictionary<string, string> Headers { get; }

        /// <summary>The request body as text.</summary>
        public string Body { get; }

        /// <summary>The status code the fabric answered.</summary>
        public int Status { get; }

        /// <inheritdoc />
        public override string ToString() => string.Format(CultureInfo.InvariantCulture, "{0,8:0.0}s {1} {2} {3} -> {4}", At.TotalSeconds, Service, Method, Target, Status);
    }

    /// <summary>What the VM's provisioning agent is told (ovf-env.xml, goal state, IMDS).</summary>
    internal sealed class FabricIdentity
    {
        public string HostName { get; set; } = "rehearsal-vm";
        public string UserName { get; set; } = "azureuser";
        public string? SshPublicKey { get; set; }
        public string? Password { get; set; }
        /// <summary>Custom data as the user gave it (bytes); ovf-env.xml carries it base64-encoded, as Azure does.</summary>
        public byte[]? CustomData { get; set; }
        public int Incarnation { get; set; } = 1;
        public Guid ContainerId { get; set; } = Guid.NewGuid();
        public Guid VmId { get; set; } = Guid.NewGuid();
        public string RoleInstanceId => VmId.ToString("N", CultureInfo.InvariantCulture) + ".rehearsal";
    }

    /// <summary>
    /// The Azure side of a first boot (PROTOCOL.md): wire server goal state and health, HostGAPlugin
    /// (404 to everything: refused connections crash waagent 2.7.3, AZURE-LINUX.md), and IMDS
    /// (Metadata: true required). Every request is recorded; health reports are parsed.
    /// </summary>
    internal sealed class EmulatedFabric
    {
        private readonly FabricIdentity _identity;
        private readonly Stopwatch _clock;
        private readonly Action<string> _log;
        private readonly object _gate = new object();
        private readonly List<FabricRequest> _requests = new List<FabricRequest>();

        public EmulatedFabric(FabricIdentity identity, Stopwatch clock, Action<string> log)
        {
            _identity = identity;
            _clock = clock;
            _log = log;
        }

        public IReadOnlyList<FabricRequest> Requests
        {
            get
            {
                lock (_gate)
                {
                    return _requests.ToList();
                }
            }
        }

        /// <summary>When the first Ready arrived, or null.</summary>
        public TimeSpan? ReadyAt { get; private set; }

        /// <summary>The incarnation the first Ready echoed.</summary>
        public int? ReadyIncarnation { get; private set; }

        /// <summary>The last NotReady's substatus and description.</summary>
        public string? NotReadyDescription { get; private set; }

        /// <summary>The User-Agent and x-ms-agent-name of the health report.</summary>
        public string? Agent { get; private set; }

        /// <summary>The ovf-env.xml for the provisioning CD (Azure's layout, PROTOCOL.md "Provisioning media").</summary>
        public string OvfEnvironment()
        {
            string key = _identity.SshPublicKey == null ? string.Empty :
                "<SSH><PublicKeys><PublicKey><Fingerprint></Fingerprint><Path>/home/" + Escape(_identity.UserName) + "/.ssh/authorized_keys</Path><Value>" + Escape(_identity.SshPublicKey.Trim()) + "</Value></PublicKey></PublicKeys></SSH>";
            string password = _identity.Password == null ? string.Empty : "<UserPassword>" + Escape(_identity.Password) + "</UserPassword>";
            // last in the set, after SSH, as in Azure's own ovf-env.xml (fixtures/azure-protocol); waagent and cloud-init read it base64
            string customData = _identity.CustomData == null ? string.Empty : "<CustomData>" + Convert.ToBase64String(_identity.CustomData) + "</CustomData>";
            return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" +
                "<Environment xmlns=\"http://schemas.dmtf.org/ovf/environment/1\" xmlns:oe=\"http://schemas.dmtf.org/ovf/environment/1\" xmlns:wa=\"http://schemas.microsoft.com/windowsazure\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n" +
                "<wa:ProvisioningSection><wa:Version>1.0</wa:Version>" +
                "<LinuxProvisioningConfigurationSet xmlns=\"http://schemas.microsoft.com/windowsazure\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">" +
                "<ConfigurationSetType>LinuxProvisioningConfiguration</ConfigurationSetType>" +
                "<HostName>" + Escape(_identity.HostName) + "</HostName><UserName>" + Escape(_identity.UserName) + "</UserName>" + password +
                "<DisableSshPasswordAuthentication>" + (_identity.Password == null ? "true" : "false") + "</DisableSshPasswordAuthentication>" + key + customData +
                "</LinuxProvisioningConfigurationSet></wa:ProvisioningSection>\n" +
                "<wa:PlatformSettingsSection><wa:Version>1.0</wa:Version><PlatformSettings xmlns=\"http://schemas.microsoft.com/windowsazure\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">" +
                "<KmsServerHostname>kms.core.windows.net</KmsServerHostname><ProvisionGuestAgent>true</ProvisionGuestAgent><GuestAgentPackageName i:nil=\"true\" /><RetainWindowsPEPassInUnattend>true</RetainWindowsPEPassInUnattend><RetainOfflineServicingPassInUnattend>true</RetainOfflineServicingPassInUnattend><PreprovisionedVm>false</PreprovisionedVm><EnableTrustedImageIdentifier>false</EnableTrustedImageIdentifier></PlatformSettings></wa:PlatformSettingsSection>\n" +
                "</Environment>\n";
        }

        /// <summary>Answers the bytes received so far on one connection, or null while the request is incomplete.</summary>
        public byte[]? Handle(IPAddress destination, int port, byte[] received)
        {
            string text = Encoding.UTF8.GetString(received);
            int headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headerEnd < 0)
            {
                return null;
            }
            string[] lines = text.Substring(0, headerEnd).Split(new[] { "\r\n" }, StringSplitOptions.None);
            string[] requestLine = lines[0].Split(' ');
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string line in lines.Skip(1))
            {
                int colon = line.IndexOf(':');
                if (colon > 0)
                {
                    headers[line.Substring(0, colon).Trim()] = line.Substring(colon + 1).Trim();
                }
            }
            int bodyStart = Encoding.UTF8.GetByteCount(text.Substring(0, headerEnd + 4));
            int length = headers.TryGetValue("Content-Length", out string? cl) && int.TryParse(cl, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;
            if (received.Length - bodyStart < length)
            {
                return null;
            }
            string body = Encoding.UTF8.GetString(received, bodyStart, length);
            string method = requestLine[0];
            string target = requestLine.Length > 1 ? requestLine[1] : "/";
            string service = port == VirtualNetwork.HostGaPluginPort ? "HostGAPlugin" : destination.Equals(VirtualNetwork.Imds) ? "IMDS" : "WireServer";
            (int status, string contentType, string answer) = service == "WireServer" ? Wire(method, target, headers, body)
                : service == "IMDS" ? Imds(target, headers)
                : (404, "text/plain", "HostGAPlugin is not emulated");
            var request = new FabricRequest(_clock.Elapsed, service, method, target, headers, body, status);
            lock (_gate)
            {
                _requests.Add(request);
            }
            _log("fabric: " + request);
            byte[] content = Encoding.UTF8.GetBytes(answer);
            string head = string.Format(CultureInfo.InvariantCulture, "HTTP/1.1 {0} {1}\r\nContent-Type: {2}\r\nContent-Length: {3}\r\nConnection: close\r\n\r\n", status, Reason(status), contentType, content.Length);
            return Encoding.ASCII.GetBytes(head).Concat(content).ToArray();
        }

        private static string Reason(int status) => status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found" : "Error";

        private (int, string, string) Wire(string method, string target, IDictionary<string, string> headers, string body)
        {
            const string xml = "text/xml; charset=utf-8";
            string path = target.ToLowerInvariant();
            if (method == "GET" && path == "/?comp=versions")
            {
                return (200, xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Versions><Preferred><Version>2015-04-05</Version></Preferred><Supported><Version>2015-04-05</Version><Version>2012-11-30</Version><Version>2012-09-15</Version><Version>2012-05-15</Version><Version>2011-12-31</Version><Version>2011-10-15</Version><Version>2011-08-31</Version><Version>2011-04-07</Version><Version>2010-12-15</Version><Version>2010-28-10</Version></Supported></Versions>");
            }
            if (method == "GET" && (path == "/machine/?comp=goalstate" || path == "/machine?comp=goalstate"))
            {
                return (200, xml, GoalState());
            }
            if (method == "GET" && path.StartsWith("/machine/" + _identity.ContainerId.ToString("D").ToLowerInvariant(), StringComparison.Ordinal))
            {
                if (path.Contains("type=hostingenvironmentconfig"))
                {
                    return (200, xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<HostingEnvironmentConfig version=\"1.0.0.0\" goalStateIncarnation=\"" + _identity.Incarnation.ToString(CultureInfo.InvariantCulture) + "\"><StoredCertificates /><Deployment name=\"" + _identity.ContainerId.ToString("N") + "\" guid=\"{" + _identity.ContainerId.ToString("D") + "}\" incarnation=\"0\" isNonCancellableTopologyChangeEnabled=\"false\"><Service name=\"rehearsal\" guid=\"{00000000-0000-0000-0000-000000000000}\" /><ServiceInstance name=\"" + _identity.ContainerId.ToString("N") + ".0\" guid=\"{" + _identity.VmId.ToString("D") + "}\" /></Deployment><Incarnation number=\"1\" instance=\"" + Escape(_identity.HostName) + "\" guid=\"{" + _identity.VmId.ToString("D") + "}\" /><Role guid=\"{" + _identity.VmId.ToString("D") + "}\" name=\"" + Escape(_identity.HostName) + "\" hostingEnvironmentVersion=\"1\" software=\"\" softwareType=\"ApplicationPackage\" entryPoint=\"\" parameters=\"\" settleTimeSeconds=\"10\" /><HostingEnvironmentSettings name=\"full\" Runtime=\"rd_fabric_stable.110726-1327.RuntimePackage_1.0.0.8.zip\"><CAS mode=\"full\" /><PrivilegeLevel mode=\"max\" /><AdditionalProperties><CgiHandlers></CgiHandlers></AdditionalProperties></HostingEnvironmentSettings><ApplicationSettings><Setting name=\"__ModelData\" value=\"\" /></ApplicationSettings><ResourceReferences><Resource name=\"DiagnosticStore\" type=\"directory\" request=\"Microsoft.Cis.Fabric.Controller.Descriptions.ServiceDescription.Data.Policy\" sticky=\"true\" size=\"1\" path=\"rehearsal.DiagnosticStore\" disableQuota=\"false\" /></ResourceReferences></HostingEnvironmentConfig>");
                }
                if (path.Contains("type=sharedconfig"))
                {
                    return (200, xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<SharedConfig version=\"1.0.0.0\" goalStateIncarnation=\"" + _identity.Incarnation.ToString(CultureInfo.InvariantCulture) + "\"><Deployment name=\"" + _identity.ContainerId.ToString("N") + "\" guid=\"{" + _identity.ContainerId.ToString("D") + "}\" incarnation=\"0\" isNonCancellableTopologyChangeEnabled=\"false\"><Service name=\"rehearsal\" guid=\"{00000000-0000-0000-0000-000000000000}\" /><ServiceInstance name=\"" + _identity.ContainerId.ToString("N") + ".0\" guid=\"{" + _identity.VmId.ToString("D") + "}\" /></Deployment><Incarnation number=\"1\" instance=\"" + Escape(_identity.HostName) + "\" guid=\"{" + _identity.VmId.ToString("D") + "}\" /><Role guid=\"{" + _identity.VmId.ToString("D") + "}\" name=\"" + Escape(_identity.HostName) + "\" settleTimeSeconds=\"0\" /><Instances><Instance id=\"" + Escape(_identity.HostName) + "\" address=\"" + VirtualNetwork.GuestAddress + "\"><FaultDomains randomId=\"0\" updateId=\"0\" updateCount=\"0\" /><InputEndpoints /></Instance></Instances></SharedConfig>");
                }
            }
            if (method == "POST" && (path == "/machine?comp=health" || path == "/machine/?comp=health"))
            {
                return Health(headers, body);
            }
            if (method == "POST" && path.StartsWith("/machine", StringComparison.Ordinal) && path.Contains("comp=telemetrydata"))
            {
                return (200, xml, string.Empty);
            }
            if (method == "POST" && path == "/provisioning/health")
            {
                // azure-init's JSON endpoint (PROTOCOL.md)
                bool ready = body.Replace(" ", string.Empty).Contains("\"state\":\"Ready\"");
                RecordHealth(ready, ready ? null : body, _identity.Incarnation, headers);
                return (201, "application/json", string.Empty);
            }
            return (404, "text/plain", "not emulated: " + method + " " + target);
        }

        private string GoalState()
        {
            string container = _identity.ContainerId.ToString("D");
            string config = "http://168.63.129.16:80/machine/" + container + "/" + _identity.RoleInstanceId;
            return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<GoalState xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"goalstate10.xsd\">" +
                "<Version>2010-12-15</Version><Incarnation>" + _identity.Incarnation.ToString(CultureInfo.InvariantCulture) + "</Incarnation>" +
                "<Machine><ExpectedState>Started</ExpectedState><StopRolesDeadlineHint>300000</StopRolesDeadlineHint><LBProbePorts><Port>16001</Port></LBProbePorts><ExpectHealthReport>FALSE</ExpectHealthReport></Machine>" +
                "<Container><ContainerId>" + container + "</ContainerId><RoleInstanceList><RoleInstance><InstanceId>" + _identity.RoleInstanceId + "</InstanceId><State>Started</State><Configuration>" +
                "<HostingEnvironmentConfig>" + config + "?comp=config&amp;type=hostingEnvironmentConfig&amp;incarnation=" + _identity.Incarnation.ToString(CultureInfo.InvariantCulture) + "</HostingEnvironmentConfig>" +
                "<SharedConfig>" + config + "?comp=config&amp;type=sharedConfig&amp;incarnation=" + _identity.Incarnation.ToString(CultureInfo.InvariantCulture) + "</SharedConfig>" +
                "<ConfigName>" + _identity.RoleInstanceId + ".1." + _identity.RoleInstanceId + ".1.xml</ConfigName>" +
                "</Configuration></RoleInstance></RoleInstanceList></Container></GoalState>";
        }

        private (int, string, string) Health(IDictionary<string, string> headers, string body)
        {
            XDocument doc;
            try
            {
                doc = XDocument.Parse(body);
            }
            catch (System.Xml.XmlException e)
            {
                _log("fabric: health report is not XML: " + e.Message);
                return (400, "text/plain", "malformed health report");
            }
            string? Text(string name) => doc.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
            string? state = doc.Descendants().Where(e => e.Name.LocalName == "State").Select(e => e.Value).LastOrDefault();
            int.TryParse(Text("GoalStateIncarnation"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int incarnation);
            if (!string.Equals(Text("ContainerId"), _identity.ContainerId.ToString("D"), StringComparison.OrdinalIgnoreCase) || Text("InstanceId") != _identity.RoleInstanceId)
            {
                _log("fabric: health report names another container or role instance");
                return (400, "text/plain", "InvalidContainerConfiguration");
            }
            if (incarnation != _identity.Incarnation)
            {
                _log("fabric: health report echoes incarnation " + incarnation + ", goal state is " + _identity.Incarnation);
                return (410, "text/plain", "stale incarnation");
            }
            bool ready = state == "Ready";
            string? details = ready ? null : (Text("SubStatus") + ": " + Text("Description")).Trim(' ', ':');
            if (details != null && details.Length > 4096)
            {
                return (500, "text/plain", "description too long");
            }
            RecordHealth(ready, details, incarnation, headers);
            return (200, "text/xml; charset=utf-8", string.Empty);
        }

        private void RecordHealth(bool ready, string? details, int incarnation, IDictionary<string, string> headers)
        {
            headers.TryGetValue("User-Agent", out string? userAgent);
            headers.TryGetValue("x-ms-agent-name", out string? agentName);
            lock (_gate)
            {
                Agent = string.Join(" / ", new[] { userAgent, agentName }.Where(s => !string.IsNullOrEmpty(s)));
                if (ready && ReadyAt == null)
                {
                    ReadyAt = _clock.Elapsed;
                    ReadyIncarnation = incarnation;
                }
                else if (!ready)
                {
                    NotReadyDescription = details;
                }
            }
            _log(ready ? "fabric: Ready (incarnation " + incarnation + ")" : "fabric: NotReady " + details);
        }

        private (int, string, string) Imds(string target, IDictionary<string, string> headers)
        {
            if (!headers.TryGetValue("Metadata", out string? metadata) || !string.Equals(metadata, "true", StringComparison.OrdinalIgnoreCase))
            {
                return (400, "application/json", "{\"error\":\"Bad request. Required metadata header not specified\"}");
            }
            string path = target.Split('?')[0].TrimEnd('/');
            bool text = target.Contains("format=text");
            string vmId = _identity.VmId.ToString("D");
            var values = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["/metadata/instance/compute/name"] = _identity.HostName,
                ["/metadata/instance/compute/vmId"] = vmId,
                ["/metadata/instance/compute/osProfile/computerName"] = _identity.HostName,
                ["/metadata/instance/compute/osProfile/adminUsername"] = _identity.UserName,
                ["/metadata/instance/compute/location"] = "rehearsal",
            };
            if (text && values.TryGetValue(path, out string? value))
            {
                return (200, "text/plain", value);
            }
            if (path == "/metadata/instance" || path == "/metadata/instance/compute")
            {
                string compute = "{\"azEnvironment\":\"AzurePublicCloud\",\"location\":\"rehearsal\",\"name\":\"" + JsonEscape(_identity.HostName) + "\",\"osType\":\"Linux\",\"vmId\":\"" + vmId + "\",\"vmSize\":\"Standard_D2s_v3\"," +
                    "\"osProfile\":{\"adminUsername\":\"" + JsonEscape(_identity.UserName) + "\",\"computerName\":\"" + JsonEscape(_identity.HostName) + "\",\"disablePasswordAuthentication\":\"" + (_identity.Password == null ? "true" : "false") + "\"}," +
                    "\"publicKeys\":[" + (_identity.SshPublicKey == null ? string.Empty : "{\"keyData\":\"" + JsonEscape(_identity.SshPublicKey.Trim()) + "\",\"path\":\"/home/" + JsonEscape(_identity.UserName) + "/.ssh/authorized_keys\"}") + "]," +
                    "\"tagsList\":[],\"userData\":\"\",\"securityProfile\":{\"secureBootEnabled\":\"false\",\"virtualTpmEnabled\":\"false\"}}";
                if (path == "/metadata/instance/compute")
                {
                    return (200, "application/json; charset=utf-8", compute);
                }
                string json = "{\"compute\":" + compute + "," +
                    "\"network\":{\"interface\":[{\"ipv4\":{\"ipAddress\":[{\"privateIpAddress\":\"" + VirtualNetwork.GuestAddress + "\",\"publicIpAddress\":\"\"}],\"subnet\":[{\"address\":\"10.0.0.0\",\"prefix\":\"24\"}]},\"ipv6\":{\"ipAddress\":[]},\"macAddress\":\"\"}]}}";
                return (200, "application/json; charset=utf-8", json);
            }
            return (404, "application/json", "{\"error\":\"Not found\"}");
        }

        private static string Escape(string value) => SecurityElement.Escape(value) ?? string.Empty;

        private static string JsonEscape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"");
    }
}
