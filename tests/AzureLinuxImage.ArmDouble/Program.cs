using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AzureLinuxImage.ArmDouble
{
    /// <summary>
    /// Usage: ArmDouble --azurite http://127.0.0.1:PORT --token TOKEN --dir DIR [--subscription ID] [--retry-after S]
    /// Prints one JSON line {"url":…,"ca":…} when listening (ca: the PEM file to trust, e.g. through
    /// SSL_CERT_FILE), then serves until its standard input closes.
    /// Control (no token needed): GET /_double/calls, POST /_double/faults {method,pathContains,status,retryAfter,count},
    /// POST /_double/stall {pathContains,seconds,retryAfter,count,outcome} (the next count operations on a resource whose id
    /// contains pathContains stay InProgress for seconds, -1: until released, and the resource reads provisioningState
    /// Creating meanwhile; then they end with outcome, Succeeded or Failed, and so does the resource), POST /_double/release {pathContains,afterSeconds} (stalled operations end afterSeconds from now),
    /// GET /_double/state.
    /// </summary>
    public static class Program
    {
        public static async Task<int> Main(string[] args)
        {
            string Arg(string name, string? fallback = null)
            {
                int i = Array.IndexOf(args, name);
                return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"{name} is required");
            }
            var state = new Compute(new Uri(Arg("--azurite")), Arg("--token"), Arg("--subscription", "00000000-0000-0000-0000-000000000001"), int.Parse(Arg("--retry-after", "0")));
            string dir = Arg("--dir");
            Directory.CreateDirectory(dir);
            X509Certificate2 cert = MakeCertificate(out string pem);
            string caPath = Path.Combine(dir, "arm-double-ca.pem");
            File.WriteAllText(caPath, pem);

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(cert)));
            WebApplication app = builder.Build();
            app.Run(state.Handle);
            await app.StartAsync();
            string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::1]", "127.0.0.1");
            state.Port = new Uri(url).Port;
            Console.Out.WriteLine(JsonSerializer.Serialize(new { url = url.TrimEnd('/') + "/", ca = caPath, subscription = state.Subscription }));
            Console.Out.Flush();
            await Task.Run(() => { while (Console.In.Read() >= 0) { } });
            await app.StopAsync();
            return 0;
        }

        /// <summary>A self-signed CA certificate for 127.0.0.1 and localhost (basic constraints CA, so OpenSSL's trust store takes it as a root).</summary>
        private static X509Certificate2 MakeCertificate(out string pem)
        {
            using RSA key = RSA.Create(2048);
            var request = new CertificateRequest("CN=ARM test double", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
            using X509Certificate2 made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
            pem = made.ExportCertificatePem() + "\n";
            return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pfx), null);
        }
    }

    /// <summary>
    /// The resources and their rules, as the public REST reference of Microsoft.Compute describes them
    /// (disks 2023-04-02, images, galleries 2023-07-03): states, status codes, long-running operations.
    /// </summary>
    internal sealed class Compute
    {
        private const long MiB = 1 << 20;
        private readonly object gate = new object();
        private readonly Uri azurite;
        private readonly string token;
        private readonly int retryAfter;
        private readonly Dictionary<string, JsonObject> resources = new Dictionary<string, JsonObject>(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, Operation> operations = new Dictionary<string, Operation>();
        private readonly List<JsonObject> calls = new List<JsonObject>();
        private readonly List<Fault> faults = new List<Fault>();
        private readonly List<Stall> stalls = new List<Stall>();
        private readonly DateTime started = DateTime.UtcNow;

        public Compute(Uri azurite, string token, string subscription, int retryAfter)
        {
            this.azurite = azurite;
            this.token = token;
            Subscription = subscription;
            this.retryAfter = retryAfter;
        }

        public string Subscription { get; }

        private sealed class Operation
        {
            public int Polls;
            public JsonNode? Output;

            /// <summary>The resource the operation is about (its provisioningState follows a stalled operation).</summary>
            public string ResourceId = "";

            /// <summary>Set by a stall switch: the operation ends at <see cref="DoneAt"/> (null: not until released), not after two polls.</summary>
            public bool Stalled;
            public DateTime? DoneAt;
            public int RetryAfter;
            public string Outcome = "Succeeded";
        }

        private sealed class Stall
        {
            public string PathContains = "";
            public int Seconds;
            public int RetryAfter;
            public int Count;
            public string Outcome = "Succeeded";
        }

        private sealed class Fault
        {
            public string Method = "";
            public string PathContains = "";
            public int Status;
            public int RetryAfter;
            public int Count;
        }

        public async Task Handle(HttpContext http)
        {
            string path = http.Request.Path.Value ?? "/";
            string method = http.Request.Method;
            string body = await new StreamReader(http.Request.Body).ReadToEndAsync();
            if (path.StartsWith("/_double/", StringComparison.Ordinal))
            {
                await Control(http, path, body);
                return;
            }
            (int status, JsonNode? answer, Dictionary<string, string> headers) result;
            lock (gate)
            {
                result = Answer(http, method, path, body);
                calls.Add(new JsonObject
                {
                    ["method"] = method,
                    ["path"] = path,
                    ["apiVersion"] = http.Request.Query["api-version"].ToString(),
                    ["status"] = result.status,
                    ["ms"] = (long)(DateTime.UtcNow - started).TotalMilliseconds,
                });
            }
            http.Response.StatusCode = result.status;
            foreach (KeyValuePair<string, string> h in result.headers)
            {
                http.Response.Headers[h.Key] = h.Value;
            }
            if (result.answer != null)
            {
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(result.answer.ToJsonString());
            }
        }

        private async Task Control(HttpContext http, string path, string body)
        {
            string text;
            lock (gate)
            {
                switch (path)
                {
                    case "/_double/calls":
                        text = new JsonArray(calls.Select(c => (JsonNode)c.DeepClone()).ToArray()).ToJsonString();
                        break;
                    case "/_double/faults":
                        JsonNode f = JsonNode.Parse(body)!;
                        faults.Add(new Fault
                        {
                            Method = (string?)f["method"] ?? "",
                            PathContains = (string?)f["pathContains"] ?? "",
                            Status = (int?)f["status"] ?? 503,
                            RetryAfter = (int?)f["retryAfter"] ?? 1,
                            Count = (int?)f["count"] ?? 1,
                        });
                        text = "{}";
                        break;
                    case "/_double/stall":
                        JsonNode st = JsonNode.Parse(body)!;
                        stalls.Add(new Stall
                        {
                            PathContains = (string?)st["pathContains"] ?? "",
                            Seconds = (int?)st["seconds"] ?? -1,
                            RetryAfter = (int?)st["retryAfter"] ?? 1,
                            Count = (int?)st["count"] ?? 1,
                            Outcome = (string?)st["outcome"] ?? "Succeeded",
                        });
                        text = "{}";
                        break;
                    case "/_double/release":
                        JsonNode rl = JsonNode.Parse(body)!;
                        string contains = (string?)rl["pathContains"] ?? "";
                        DateTime at = DateTime.UtcNow.AddSeconds((int?)rl["afterSeconds"] ?? 0);
                        foreach (Operation op in operations.Values.Where(o => o.Stalled && o.DoneAt == null && o.ResourceId.Contains(contains, StringComparison.OrdinalIgnoreCase)))
                        {
                            op.DoneAt = at;
                        }
                        text = "{}";
                        break;
                    case "/_double/state":
                        Settle();
                        text = new JsonObject(resources.Select(r => new KeyValuePair<string, JsonNode?>(r.Key, r.Value.DeepClone()))).ToJsonString();
                        break;
                    default:
                        http.Response.StatusCode = 404;
                        return;
                }
            }
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(text);
        }

        private static (int, JsonNode?, Dictionary<string, string>) Error(int status, string code, string message) =>
            (status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, new Dictionary<string, string>());

        private (int, JsonNode?, Dictionary<string, string>) Answer(HttpContext http, string method, string path, string body)
        {
            if (http.Request.Headers.Authorization.ToString() != "Bearer " + token)
            {
                return Error(401, "AuthenticationFailed", "The access token is missing or invalid.");
            }
            Fault? fault = faults.FirstOrDefault(f => f.Count > 0 && (f.Method.Length == 0 || f.Method == method) && path.Contains(f.PathContains, StringComparison.OrdinalIgnoreCase));
            if (fault != null)
            {
                fault.Count--;
                var (s, a, h) = Error(fault.Status, fault.Status == 429 ? "TooManyRequests" : "ServiceUnavailable", "Injected by the test double.");
                h["Retry-After"] = fault.RetryAfter.ToString();
                return (s, a, h);
            }
            if (string.IsNullOrEmpty(http.Request.Query["api-version"]) && !path.StartsWith("/operations/", StringComparison.Ordinal))
            {
                return Error(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
            }
            Settle();
            if (path.StartsWith("/operations/", StringComparison.Ordinal))
            {
                return PollOperation(path);
            }
            if (method == "GET" && path == "/subscriptions")
            {
                return (200, new JsonObject { ["value"] = new JsonArray(new JsonObject { ["id"] = "/subscriptions/" + Subscription, ["subscriptionId"] = Subscription, ["state"] = "Enabled" }) }, new Dictionary<string, string>());
            }
            Match m = Regex.Match(path, @"^/subscriptions/(?<sub>[^/]+)/resourceGroups/(?<rg>[^/]+)/providers/Microsoft\.Compute/(?<rest>.+)$", RegexOptions.IgnoreCase);
            if (!m.Success || !string.Equals(m.Groups["sub"].Value, Subscription, StringComparison.OrdinalIgnoreCase))
            {
                return Error(404, "SubscriptionNotFound", $"The subscription or path of {path} was not found.");
            }
            string rest = m.Groups["rest"].Value;
            string id = path;
            Match action = Regex.Match(rest, @"^disks/(?<d>[^/]+)/(?<a>beginGetAccess|endGetAccess)$");
            if (action.Success)
            {
                return method == "POST" ? DiskAction(id.Substring(0, id.LastIndexOf('/')), action.Groups["a"].Value, body) : Error(405, "MethodNotAllowed", method);
            }
            string kind = Regex.IsMatch(rest, @"^disks/[^/]+$") ? "disk" : Regex.IsMatch(rest, @"^images/[^/]+$") ? "image"
                : Regex.IsMatch(rest, @"^galleries/[^/]+$") ? "gallery" : Regex.IsMatch(rest, @"^galleries/[^/]+/images/[^/]+$") ? "definition"
                : Regex.IsMatch(rest, @"^galleries/[^/]+/images/[^/]+/versions/[^/]+$") ? "version" : "";
            if (kind.Length == 0)
            {
                return Error(404, "NotFound", $"No such resource type: {rest}");
            }
            if (method == "GET")
            {
                return resources.TryGetValue(id, out JsonObject? r) ? (200, r.DeepClone(), new Dictionary<string, string>())
                    : Error(404, kind == "disk" || kind == "image" ? "ResourceNotFound" : "GalleryImageNotFound", $"The Resource '{rest}' under resource group '{m.Groups["rg"].Value}' was not found.");
            }
            if (method != "PUT")
            {
                return Error(405, "MethodNotAllowed", method);
            }
            JsonNode? input;
            try
            {
                input = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                return Error(400, "InvalidRequestContent", "The request content is not JSON.");
            }
            if (input?["location"] == null)
            {
                return Error(400, "LocationRequired", "The location property is required for this definition.");
            }
            return kind switch
            {
                "disk" => PutDisk(id, m.Groups["rg"].Value, input),
                "image" => PutImage(id, input),
                "gallery" => Created(id, input, 200),
                "definition" => PutDefinition(id, input),
                _ => PutVersion(id, input),
            };
        }

        private (int, JsonNode?, Dictionary<string, string>) PutDisk(string id, string rg, JsonNode input)
        {
            if (resources.TryGetValue(id, out JsonObject? existing) && (string?)existing["properties"]!["diskState"] != "ReadyToUpload")
            {
                return Error(409, "OperationNotAllowed", $"Disk {id} is in state {(string?)existing["properties"]!["diskState"]}; it cannot be updated now.");
            }
            JsonNode? props = input["properties"];
            JsonNode? creation = props?["creationData"];
            if ((string?)creation?["createOption"] != "Upload")
            {
                return Error(400, "InvalidParameter", "This double serves createOption Upload only.");
            }
            long size = (long?)creation!["uploadSizeBytes"] ?? 0;
            if (size < 20 * MiB + 512 || size > 32L * 1024 * 1024 * MiB + 512 || (size - 512) % MiB != 0)
            {
                return Error(400, "InvalidParameter", $"The specified uploadSizeBytes {size} must be a whole number of MiB plus 512 bytes, between 20972032 and 35183298347520.");
            }
            if ((string?)props!["osType"] != "Linux" && props["osType"] != null)
            {
                return Error(400, "InvalidParameter", "osType must be Linux or Windows.");
            }
            string blobName = rg + "-" + id.Substring(id.LastIndexOf('/') + 1) + ".vhd";
            PageBlobClient blob = Blob(blobName);
            blob.GetParentBlobContainerClient().CreateIfNotExists();
            blob.Create(size);
            var disk = (JsonObject)input.DeepClone();
            disk["id"] = id;
            disk["name"] = id.Substring(id.LastIndexOf('/') + 1);
            disk["type"] = "Microsoft.Compute/disks";
            JsonObject p = disk["properties"]!.AsObject();
            p["diskState"] = "ReadyToUpload";
            p["provisioningState"] = "Succeeded";
            p["diskSizeBytes"] = size - 512;
            p["hyperVGeneration"] = (string?)props["hyperVGeneration"] ?? "V1";
            p["_blob"] = blobName;
            resources[id] = disk;
            return Accepted(id, null, 202, creating: true);
        }

        private PageBlobClient Blob(string name) =>
            new PageBlobClient(new Uri(azurite, $"devstoreaccount1/disks/{name}"), new StorageSharedKeyCredential("devstoreaccount1",
                "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="));

        private (int, JsonNode?, Dictionary<string, string>) DiskAction(string diskId, string action, string body)
        {
            if (!resources.TryGetValue(diskId, out JsonObject? disk))
            {
                return Error(404, "ResourceNotFound", $"Disk {diskId} was not found.");
            }
            JsonObject p = disk["properties"]!.AsObject();
            string state = (string?)p["diskState"] ?? "";
            if (action == "beginGetAccess")
            {
                JsonNode? input = body.Length > 0 ? JsonNode.Parse(body) : null;
                if ((string?)input?["access"] != "Write" && (string?)input?["access"] != "Read")
                {
                    return Error(400, "InvalidParameter", "access must be Read or Write.");
                }
                if ((string?)input!["access"] == "Write" && state != "ReadyToUpload" && state != "ActiveUpload")
                {
                    return Error(409, "OperationNotAllowed", $"Disk {diskId} is in state {state}; write access is granted only in ReadyToUpload or ActiveUpload.");
                }
                p["diskState"] = "ActiveUpload";
                Uri sas = Blob((string)p["_blob"]!).GenerateSasUri(BlobSasPermissions.Read | BlobSasPermissions.Write, DateTimeOffset.UtcNow.AddDays(1));
                return Accepted(diskId, new JsonObject { ["accessSAS"] = sas.ToString() }, 202);
            }
            if (state == "ActiveUpload")
            {
                p["diskState"] = "Unattached";
            }
            return Accepted(diskId, null, 202);
        }

        private (int, JsonNode?, Dictionary<string, string>) PutImage(string id, JsonNode input)
        {
            string? diskId = (string?)input["properties"]?["storageProfile"]?["osDisk"]?["managedDisk"]?["id"];
            var check = SourceDisk(diskId, (string?)input["properties"]?["hyperVGeneration"] ?? "V1");
            return check ?? Created(id, input, 201);
        }

        private (int, JsonNode?, Dictionary<string, string>)? SourceDisk(string? diskId, string generation)
        {
            if (diskId == null || !resources.TryGetValue(diskId, out JsonObject? disk))
            {
                return Error(404, "NotFound", $"Source disk {diskId} was not found.");
            }
            string state = (string?)disk["properties"]!["diskState"] ?? "";
            if (state != "Unattached")
            {
                return Error(409, "OperationNotAllowed", $"Disk {diskId} is in state {state}: revoke its access (endGetAccess) first.");
            }
            string diskGeneration = (string?)disk["properties"]!["hyperVGeneration"] ?? "V1";
            if (!string.Equals(diskGeneration, generation, StringComparison.OrdinalIgnoreCase))
            {
                return Error(400, "InvalidParameter", $"The source disk's hyperVGeneration {diskGeneration} does not match {generation}.");
            }
            return null;
        }

        private (int, JsonNode?, Dictionary<string, string>) PutDefinition(string id, JsonNode input)
        {
            string gallery = id.Substring(0, id.IndexOf("/images/", StringComparison.OrdinalIgnoreCase));
            if (!resources.ContainsKey(gallery))
            {
                return Error(404, "ParentResourceNotFound", $"The gallery {gallery} was not found.");
            }
            JsonNode? identifier = input["properties"]?["identifier"];
            if (identifier?["publisher"] == null || identifier["offer"] == null || identifier["sku"] == null || input["properties"]?["osState"] == null)
            {
                return Error(400, "InvalidParameter", "identifier (publisher, offer, sku), osType and osState are required.");
            }
            if (resources.TryGetValue(id, out JsonObject? old) && (string?)old["properties"]!["hyperVGeneration"] != (string?)input["properties"]!["hyperVGeneration"])
            {
                return Error(409, "PropertyChangeNotAllowed", "Changing property 'hyperVGeneration' is not allowed.");
            }
            return Created(id, input, 201);
        }

        private (int, JsonNode?, Dictionary<string, string>) PutVersion(string id, JsonNode input)
        {
            string definitionId = id.Substring(0, id.IndexOf("/versions/", StringComparison.OrdinalIgnoreCase));
            if (!resources.TryGetValue(definitionId, out JsonObject? definition))
            {
                return Error(404, "ParentResourceNotFound", $"The gallery image {definitionId} was not found.");
            }
            string? diskId = (string?)input["properties"]?["storageProfile"]?["osDiskImage"]?["source"]?["id"];
            var check = SourceDisk(diskId, (string?)definition["properties"]!["hyperVGeneration"] ?? "V1");
            if (check != null)
            {
                return check.Value;
            }
            if (input["properties"]?["publishingProfile"]?["targetRegions"] is not JsonArray regions || regions.Count == 0)
            {
                return Error(400, "InvalidParameter", "publishingProfile.targetRegions is required.");
            }
            return Created(id, input, 201);
        }

        private (int, JsonNode?, Dictionary<string, string>) Created(string id, JsonNode input, int status)
        {
            var r = (JsonObject)input.DeepClone();
            r["id"] = id;
            r["name"] = id.Substring(id.LastIndexOf('/') + 1);
            JsonObject p = r["properties"] as JsonObject ?? new JsonObject();
            r["properties"] = p;
            p["provisioningState"] = "Succeeded";
            resources[id] = r;
            return Accepted(id, r.DeepClone(), status, creating: true);
        }

        /// <summary>A long-running operation: Azure-AsyncOperation (and for POST, Location) to poll; InProgress once, then Succeeded.</summary>
        /// A stall switch matching <paramref name="id"/> keeps it InProgress instead (a PUT's resource then reads Creating).
        private (int, JsonNode?, Dictionary<string, string>) Accepted(string id, JsonNode? output, int status, bool creating = false)
        {
            string opId = Guid.NewGuid().ToString("N");
            var operation = new Operation { Output = output, ResourceId = id, RetryAfter = retryAfter };
            Stall? stall = stalls.FirstOrDefault(s => s.Count > 0 && id.Contains(s.PathContains, StringComparison.OrdinalIgnoreCase));
            if (stall != null)
            {
                stall.Count--;
                operation.Stalled = true;
                operation.DoneAt = stall.Seconds < 0 ? null : DateTime.UtcNow.AddSeconds(stall.Seconds);
                operation.RetryAfter = stall.RetryAfter;
                operation.Outcome = stall.Outcome;
                if (creating && resources.TryGetValue(id, out JsonObject? resource))
                {
                    resource["properties"]!["provisioningState"] = "Creating";
                }
            }
            operations[opId] = operation;
            var headers = new Dictionary<string, string>
            {
                ["Azure-AsyncOperation"] = $"https://127.0.0.1:{Port}/operations/{opId}?api-version=2023-04-02",
                ["Retry-After"] = operation.RetryAfter.ToString(),
            };
            if (status == 202)
            {
                headers["Location"] = $"https://127.0.0.1:{Port}/operations/{opId}/result?api-version=2023-04-02";
            }
            return (status, status == 202 ? null : output, headers);
        }

        public int Port { get; set; }

        /// <summary>An ordinary operation ends at its second status poll; a stalled one when its time has come.</summary>
        private static bool Finished(Operation op, int polls) => op.Stalled ? op.DoneAt is DateTime at && DateTime.UtcNow >= at : polls >= 2;

        /// <summary>A resource whose stalled operation has ended reads Succeeded again.</summary>
        private void Settle()
        {
            foreach (Operation op in operations.Values.Where(o => o.Stalled && Finished(o, o.Polls)))
            {
                if (resources.TryGetValue(op.ResourceId, out JsonObject? r) && (string?)r["properties"]?["provisioningState"] == "Creating")
                {
                    r["properties"]!["provisioningState"] = op.Outcome;
                }
                op.Stalled = false;
                op.Polls = Math.Max(op.Polls, 2);
            }
        }

        private (int, JsonNode?, Dictionary<string, string>) PollOperation(string path)
        {
            Match m = Regex.Match(path, @"^/operations/(?<id>[0-9a-f]+)(?<result>/result)?$");
            if (!m.Success || !operations.TryGetValue(m.Groups["id"].Value, out Operation? op))
            {
                return Error(404, "NotFound", "No such operation.");
            }
            var headers = new Dictionary<string, string> { ["Retry-After"] = op.RetryAfter.ToString() };
            if (m.Groups["result"].Success)
            {
                return !Finished(op, op.Polls) ? (202, null, headers) : (200, op.Output?.DeepClone(), headers);
            }
            op.Polls++;
            bool finished = Finished(op, op.Polls);
            var status = new JsonObject { ["name"] = m.Groups["id"].Value, ["status"] = finished ? op.Outcome : "InProgress", ["startTime"] = DateTime.UtcNow.ToString("o") };
            if (finished && op.Outcome != "Succeeded")
            {
                status["error"] = new JsonObject { ["code"] = "InternalOperationError", ["message"] = "Injected by the test double: the operation failed." };
            }
            else if (finished && op.Output != null)
            {
                status["properties"] = new JsonObject { ["output"] = op.Output.DeepClone() };
            }
            return (200, status, headers);
        }
    }
}
