using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using Azure.Core;
using AzureLinuxImage.Azure.Arm;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Azure
{
    /// <summary>
    /// Publish-LinuxImage / azlinux publish (issue 26): readiness gate, the definition's features read from
    /// the image, every existing resource checked (a gallery definition that does not fit is refused before
    /// any byte), then managed disk (createOption Upload) → beginGetAccess Write → the streamed upload →
    /// endGetAccess → managed image → gallery, definition and version. Re-running with the same names
    /// resumes; a failure reports what exists and how to remove what this run created, and deletes nothing.
    /// </summary>
    internal static class PublishLinuxImage
    {
        public const string Activity = "Publishing to Azure";
        internal const string DiskApi = "2023-04-02";
        internal const string ImageApi = "2024-03-01";
        internal const string GalleryApi = "2023-07-03";
        internal const string SubscriptionApi = "2022-12-01";

        /// <summary>The upload disk is only the source of images and versions, never a VM's disk: the cheapest SKU.</summary>
        private const string DiskSku = "Standard_LRS";

        public static LinuxImagePublishResult? Run(string sourcePath, PublishOptions options, IOperationContext context)
        {
            // A pipeline host masks a token before any line could show it (issue 23); the upload SAS is registered
            // by the upload itself, right after it is granted.
            CopyDiskImageToAzure.RegisterSecrets(null, options.Credential, context);
            return new Publisher(sourcePath, options, context).Execute();
        }

        private sealed class Publisher
        {
            private readonly string source;
            private readonly PublishOptions options;
            private readonly IOperationContext context;
            private readonly List<PublishStep> steps = new List<PublishStep>();
            private readonly List<string> created = new List<string>();
            private readonly List<string> existing = new List<string>();
            private ArmClient? arm;
            private string step = "Readiness";

            public Publisher(string source, PublishOptions options, IOperationContext context)
            {
                this.source = source;
                this.options = options;
                this.context = context;
            }

            public LinuxImagePublishResult? Execute()
            {
                Validate();
                // Local work first: nothing of it needs Azure, and a refusal here costs no call.
                Timed("Readiness", () => { PublishReadinessGate.Check(source, options.Generation, options.Force, context); return "passed"; });
                ImageFeatures features = null!;
                Timed("Features", () =>
                {
                    using InspectedImage view = LinuxImageInspection.Open(source);
                    features = ImageFeatureRules.Derive(view, options.Generation);
                    return features.ToString();
                });
                long size;
                using (DiskImage image = DiskImage.Open(source))
                {
                    size = AzureDiskRules.RoundUpToMiB(image.VirtualSize);
                }
                long uploadSize = size + Disks.Vhd.VhdFooter.Size;

                Names names = new Names(options.SubscriptionId ?? "{subscription}", options);
                if (!context.ShouldProcess(names.Disk, $"Publish {source} ({features}; upload {uploadSize} bytes) with these Resource Manager calls:{string.Concat(Plan(names, uploadSize).Select(c => System.Environment.NewLine + "  " + c))}"))
                {
                    return null;
                }

                TokenCredential credential = AzureCredentials.Resolve(options.Credential, options.UseManagedIdentity, options.UseDefaultAzureCredential)
                    ?? throw new AzureLinuxImageException("CredentialRequired", ErrorKind.InvalidArgument,
                        "Resource Manager needs a credential: -Credential (a token, Get-AzAccessToken's output or a TokenCredential), -UseManagedIdentity or -UseDefaultAzureCredential (azlinux: --access-token-file, --managed-identity, --default-credential).");
                var armOptions = new ArmClientOptions();
                if (options.ArmTransport != null)
                {
                    armOptions.Transport = options.ArmTransport;
                }
                arm = new ArmClient(options.ResolveEndpoint(), credential, armOptions, context, options.OperationTimeout);
                try
                {
                    return Publish(features, uploadSize);
                }
                catch (Exception e) when (e is AzureLinuxImageException || e is OperationCanceledException || CopyDiskImageToAzure.IsFromTransport(e))
                {
                    throw Failed(e);
                }
            }

            private void Validate()
            {
                void Require(string? value, string name)
                {
                    if (string.IsNullOrWhiteSpace(value))
                    {
                        throw new AzureLinuxImageException("MissingParameter", ErrorKind.InvalidArgument, $"{name} is required.");
                    }
                }
                Require(options.ResourceGroupName, "-ResourceGroupName (--resource-group)");
                Require(options.Location, "-Location (--location)");
                Require(options.DiskName, "-DiskName (--disk)");
                int gallery = new[] { options.GalleryName, options.GalleryImageDefinition, options.GalleryImageVersion }.Count(v => !string.IsNullOrWhiteSpace(v));
                if (gallery != 0 && gallery != 3)
                {
                    throw new AzureLinuxImageException("GalleryParametersIncomplete", ErrorKind.InvalidArgument,
                        "-GalleryName, -GalleryImageDefinition and -GalleryImageVersion (--gallery, --definition, --version) go together.");
                }
                if (options.GalleryImageVersion != null && !System.Text.RegularExpressions.Regex.IsMatch(options.GalleryImageVersion, @"^\d+\.\d+\.\d+$"))
                {
                    throw new AzureLinuxImageException("InvalidGalleryImageVersion", ErrorKind.InvalidArgument,
                        $"'{options.GalleryImageVersion}' is not a gallery image version: use MAJOR.MINOR.PATCH (e.g. 1.0.0).");
                }
                VmGeneration.Require(options.Generation);
                if (options.OperationTimeout <= TimeSpan.Zero)
                {
                    throw new AzureLinuxImageException("InvalidOperationTimeout", ErrorKind.InvalidArgument,
                        $"-OperationTimeout (--operation-timeout) must be positive, not {options.OperationTimeout}.");
                }
                options.ResolveEndpoint();
            }

            private IEnumerable<string> Plan(Names n, long uploadSize)
            {
                if (options.SubscriptionId == null)
                {
                    yield return "GET /subscriptions (the one subscription the credential sees)";
                }
                yield return $"GET {n.Disk}";
                if (options.ImageName != null)
                {
                    yield return $"GET {n.Image}";
                }
                if (options.GalleryName != null)
                {
                    yield return $"GET {n.Gallery}";
                    yield return $"GET {n.Definition}";
                    yield return $"GET {n.Version}";
                }
                yield return $"PUT {n.Disk} (createOption Upload, uploadSizeBytes {uploadSize}; not when an earlier run's disk is reused)";
                yield return $"POST {n.Disk}/beginGetAccess (Write)";
                yield return $"Put Page to the disk's upload URL ({uploadSize} bytes at most)";
                yield return $"POST {n.Disk}/endGetAccess";
                if (options.ImageName != null)
                {
                    yield return $"PUT {n.Image}";
                }
                if (options.GalleryName != null)
                {
                    yield return $"PUT {n.Gallery} (only if absent)";
                    yield return $"PUT {n.Definition} (only if absent)";
                    yield return $"PUT {n.Version} (target regions: {string.Join(", ", Regions().Select(r => $"{r.Name}×{r.ReplicaCount}"))})";
                }
                yield return $"GET each long-running operation's status until it ends (at most {ArmOperationTimedOutException.Describe(options.OperationTimeout)} each: -OperationTimeout, --operation-timeout)";
            }

            private IList<TargetRegion> Regions() => options.TargetRegions.Count > 0 ? options.TargetRegions : new List<TargetRegion> { new TargetRegion(options.Location) };

            private LinuxImagePublishResult Publish(ImageFeatures features, long uploadSize)
            {
                step = "Check";
                string subscription = options.SubscriptionId ?? Timed("Subscription", () => FindSubscription());
                var n = new Names(subscription, options);

                // Every existing resource is looked at before anything is created or sent.
                JsonElement? disk = null, image = null, gallery = null, definition = null, version = null;
                Timed("Check", () =>
                {
                    disk = Get(n.Disk, DiskApi, "the disk");
                    image = options.ImageName != null ? Get(n.Image, ImageApi, "the image") : null;
                    if (options.GalleryName != null)
                    {
                        gallery = Get(n.Gallery, GalleryApi, "the gallery");
                        definition = gallery == null ? null : Get(n.Definition, GalleryApi, "the image definition");
                        version = definition == null ? null : Get(n.Version, GalleryApi, "the image version");
                    }
                    return "done";
                });
                DiskPlan diskPlan = CheckDisk(disk, n, features, uploadSize);
                CheckImage(image, n);
                if (definition != null)
                {
                    IReadOnlyList<string> mismatches = DefinitionComparison.Mismatches(DeclaredValues(definition.Value), features);
                    if (mismatches.Count > 0)
                    {
                        throw new AzureLinuxImageException("DefinitionMismatch", ErrorKind.InvalidArgument,
                            $"The gallery image definition {n.Definition} does not fit this image: {string.Join("; ", mismatches)}. Nothing was created and no byte was uploaded. Publish to a definition that matches, or fix the image.", source);
                    }
                }
                else if (options.GalleryName != null && (string.IsNullOrWhiteSpace(options.Publisher) || string.IsNullOrWhiteSpace(options.Offer) || string.IsNullOrWhiteSpace(options.Sku)))
                {
                    throw new AzureLinuxImageException("DefinitionIdentifierRequired", ErrorKind.InvalidArgument,
                        $"The gallery image definition {n.Definition} does not exist: -Publisher, -Offer and -Sku (--publisher, --offer, --sku) are needed to create it. Nothing was created.");
                }
                CheckVersion(version, n);

                bool resumed = diskPlan != DiskPlan.Create;
                AzureUploadResult? upload = null;
                if (diskPlan == DiskPlan.Create)
                {
                    Timed("Disk", () =>
                    {
                        Put(n.Disk, DiskApi, DiskBody(features, uploadSize), "creating the disk", creates: true);
                        return "created";
                    });
                }
                if (diskPlan != DiskPlan.Uploaded)
                {
                    string sas = Timed("Grant", () =>
                    {
                        JsonElement? access = arm!.SendAndWait("POST", n.Disk + "/beginGetAccess", DiskApi, new { access = "Write", durationInSeconds = 86400 }, "granting write access");
                        return access is JsonElement a && a.TryGetProperty("accessSAS", out JsonElement s) && s.GetString() is string url && url.Length > 0
                            ? url
                            : throw new AzureLinuxImageException("NoUploadUrl", ErrorKind.ResourceUnavailable, $"beginGetAccess on {n.Disk} returned no accessSAS.");
                    }, secret: true);
                    step = "Upload";
                    Timed("Upload", () =>
                    {
                        UploadOptions u = options.Upload;
                        u.ManagedDisk = true;
                        u.Confirmed = true;
                        u.Resume = diskPlan == DiskPlan.Resume;
                        u.ThreadCount = options.ThreadCount;
                        u.Credential = null;
                        u.UseManagedIdentity = false;
                        u.UseDefaultAzureCredential = false;
                        upload = CopyDiskImageToAzure.Run(source, new Uri(sas), u, context);
                        return upload == null ? "skipped" : $"{upload.BytesSent} bytes in {upload.Requests} requests{(upload.Resumed ? " (resumed)" : string.Empty)}";
                    });
                    Timed("Revoke", () => { arm!.SendAndWait("POST", n.Disk + "/endGetAccess", DiskApi, null, "revoking access"); return "done"; });
                }
                else
                {
                    context.Warning($"{n.Disk} was uploaded by an earlier run (Unattached, created for upload with {uploadSize} bytes): not uploading again.");
                }

                string? imageId = null;
                if (options.ImageName != null)
                {
                    imageId = Timed("Image", () => Ensure(image, n.Image, ImageApi, () => ImageBody(features, n.Disk), "creating the image", "exists")) is string ? n.Image : null;
                }
                string? definitionId = null, versionId = null;
                if (options.GalleryName != null)
                {
                    Timed("Gallery", () => Ensure(gallery, n.Gallery, GalleryApi, () => new { location = options.Location, properties = new { description = "Created by Publish-LinuxImage" } }, "creating the gallery", "exists"));
                    Timed("Definition", () => Ensure(definition, n.Definition, GalleryApi, () => DefinitionBody(features), "creating the image definition", "exists, matches"));
                    Timed("Version", () => Ensure(version, n.Version, GalleryApi, () => VersionBody(n.Disk), "creating the image version (replication to its target regions)", "exists"));
                    definitionId = n.Definition;
                    versionId = n.Version;
                }
                context.Progress(Activity, "done", 1, 1);
                return new LinuxImagePublishResult(source, n.Disk, imageId, definitionId, versionId, features, upload, steps, created, arm!.Calls.Count, resumed);
            }

            private enum DiskPlan
            {
                Create,
                Upload,
                Resume,
                Uploaded,
            }

            private DiskPlan CheckDisk(JsonElement? disk, Names n, ImageFeatures features, long uploadSize)
            {
                if (disk == null)
                {
                    return DiskPlan.Create;
                }
                existing.Add(n.Disk);
                JsonElement p = disk.Value.TryGetProperty("properties", out JsonElement pp) ? pp : default;
                string state = Text(p, "diskState") ?? "Unknown";
                string? createOption = p.ValueKind == JsonValueKind.Object && p.TryGetProperty("creationData", out JsonElement cd) ? Text(cd, "createOption") : null;
                long declared = p.ValueKind == JsonValueKind.Object && p.TryGetProperty("creationData", out JsonElement cd2) && cd2.TryGetProperty("uploadSizeBytes", out JsonElement us) && us.TryGetInt64(out long v) ? v : -1;
                string generation = Text(p, "hyperVGeneration") ?? "V1";
                if (!string.Equals(createOption, "Upload", StringComparison.OrdinalIgnoreCase) || declared != uploadSize)
                {
                    throw new AzureLinuxImageException("DiskExists", ErrorKind.AlreadyExists,
                        $"{n.Disk} exists and was not created for this upload (createOption {createOption ?? "none"}, uploadSizeBytes {declared}; this image needs Upload with {uploadSize}). Choose another -DiskName or remove it: az disk delete --ids {n.Disk}. Nothing was created.");
                }
                if (!string.Equals(generation, features.HyperVGeneration.Value, StringComparison.OrdinalIgnoreCase))
                {
                    throw new AzureLinuxImageException("DiskExists", ErrorKind.AlreadyExists,
                        $"{n.Disk} exists with hyperVGeneration {generation}, but the image is {features.HyperVGeneration.Value} ({features.HyperVGeneration.Evidence}). Choose another -DiskName. Nothing was created.");
                }
                switch (state)
                {
                    case "ReadyToUpload":
                        context.Verbose($"{n.Disk} exists, ReadyToUpload: reused.");
                        return DiskPlan.Upload;
                    case "ActiveUpload":
                        context.Verbose($"{n.Disk} exists, ActiveUpload: the upload resumes.");
                        return DiskPlan.Resume;
                    case "Unattached":
                        return DiskPlan.Uploaded;
                    default:
                        throw new AzureLinuxImageException("DiskExists", ErrorKind.AlreadyExists,
                            $"{n.Disk} exists in state {state}: it cannot be uploaded to. Choose another -DiskName. Nothing was created.");
                }
            }

            private void CheckImage(JsonElement? image, Names n) =>
                CheckMadeFromDisk(image, n.Image, n.Disk, "ImageExists", "image", "-ImageName", "properties", "storageProfile", "osDisk", "managedDisk");

            private void CheckVersion(JsonElement? version, Names n) =>
                CheckMadeFromDisk(version, n.Version, n.Disk, "GalleryImageVersionExists", "image version", "-GalleryImageVersion", "properties", "storageProfile", "osDiskImage", "source");

            /// <summary>An existing image or version is kept only when it was made from this disk (its source id at <paramref name="path"/>).</summary>
            private void CheckMadeFromDisk(JsonElement? resource, string id, string disk, string errorId, string what, string parameter, params string[] path)
            {
                if (resource == null)
                {
                    return;
                }
                existing.Add(id);
                JsonElement e = resource.Value;
                foreach (string name in path)
                {
                    if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out e))
                    {
                        e = default;
                        break;
                    }
                }
                string? from = Text(e, "id");
                if (!string.Equals(from, disk, StringComparison.OrdinalIgnoreCase))
                {
                    throw new AzureLinuxImageException(errorId, ErrorKind.AlreadyExists,
                        $"The {what} {id} exists and was made from {from ?? "another source"}, not {disk}. Choose another {parameter}. Nothing was created.");
                }
            }

            /// <summary>What a definition declares, by feature name (absent: null, ARM's default applies).</summary>
            internal static IReadOnlyDictionary<string, string?> DeclaredValues(JsonElement definition)
            {
                var d = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                if (!definition.TryGetProperty("properties", out JsonElement p))
                {
                    return d;
                }
                d["HyperVGeneration"] = Text(p, "hyperVGeneration");
                d["Architecture"] = Text(p, "architecture");
                d["OsState"] = Text(p, "osState");
                if (p.TryGetProperty("features", out JsonElement f) && f.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement item in f.EnumerateArray())
                    {
                        string? name = Text(item, "name");
                        if (name != null)
                        {
                            d[name] = Text(item, "value");
                        }
                    }
                }
                return d;
            }

            private object DiskBody(ImageFeatures f, long uploadSize) => new
            {
                location = options.Location,
                sku = new { name = DiskSku },
                properties = new
                {
                    osType = "Linux",
                    hyperVGeneration = f.HyperVGeneration.Value,
                    creationData = new { createOption = "Upload", uploadSizeBytes = uploadSize },
                    supportedCapabilities = new
                    {
                        architecture = f.Architecture.Value,
                        diskControllerTypes = f.DiskControllerTypes.Value,
                        acceleratedNetwork = IsTrue(f.IsAcceleratedNetworkSupported.Value),
                    },
                },
            };

            private object ImageBody(ImageFeatures f, string diskId) => new
            {
                location = options.Location,
                properties = new
                {
                    hyperVGeneration = f.HyperVGeneration.Value,
                    storageProfile = new { osDisk = new { osType = "Linux", osState = f.OsState.Value, managedDisk = new { id = diskId } } },
                },
            };

            private object DefinitionBody(ImageFeatures f)
            {
                var features = new List<object>();
                if (!string.Equals(f.SecurityType.Value, "Standard", StringComparison.OrdinalIgnoreCase))
                {
                    features.Add(new { name = "SecurityType", value = f.SecurityType.Value });
                }
                features.Add(new { name = "DiskControllerTypes", value = f.DiskControllerTypes.Value });
                features.Add(new { name = "IsAcceleratedNetworkSupported", value = IsTrue(f.IsAcceleratedNetworkSupported.Value) ? "True" : "False" });
                return new
                {
                    location = options.Location,
                    properties = new
                    {
                        osType = "Linux",
                        osState = f.OsState.Value,
                        hyperVGeneration = f.HyperVGeneration.Value,
                        architecture = f.Architecture.Value,
                        identifier = new { publisher = options.Publisher, offer = options.Offer, sku = options.Sku },
                        features,
                    },
                };
            }

            private object VersionBody(string diskId) => new
            {
                location = options.Location,
                properties = new
                {
                    publishingProfile = new
                    {
                        targetRegions = Regions().Select(r => new { name = r.Name, regionalReplicaCount = r.ReplicaCount, storageAccountType = r.StorageAccountType }).ToArray(),
                    },
                    storageProfile = new { osDiskImage = new { source = new { id = diskId } } },
                },
            };

            private static bool IsTrue(string value) => string.Equals(value, "True", StringComparison.OrdinalIgnoreCase);

            private static string? Text(JsonElement e, string name) =>
                e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

            private string FindSubscription()
            {
                ArmResponse r = arm!.Send("GET", "/subscriptions", SubscriptionApi);
                ArmClient.ThrowIfError(r, "GET", "/subscriptions");
                List<string> ids = r.Body is JsonElement b && b.TryGetProperty("value", out JsonElement list) && list.ValueKind == JsonValueKind.Array
                    ? list.EnumerateArray().Select(s => Text(s, "subscriptionId")).Where(s => s != null).Select(s => s!).ToList()
                    : new List<string>();
                if (ids.Count != 1)
                {
                    throw new AzureLinuxImageException("SubscriptionRequired", ErrorKind.InvalidArgument,
                        $"The credential sees {ids.Count} subscriptions: give -SubscriptionId (--subscription).");
                }
                return ids[0];
            }

            /// <summary>
            /// The resource, or null when absent. One an earlier run left mid-operation (its wait timed out or was
            /// cancelled: provisioningState Creating, Updating…) is waited for here, so the checks see its final state.
            /// </summary>
            private JsonElement? Get(string path, string api, string what)
            {
                ArmResponse r = arm!.Send("GET", path, api);
                if (r.Status == 404)
                {
                    return null;
                }
                ArmClient.ThrowIfError(r, "GET", path);
                return r.Body is JsonElement b ? arm.WaitWhileProvisioning(path, api, b, what + " (an earlier run's operation)") : r.Body;
            }

            /// <summary>
            /// PUT and wait. With <paramref name="creates"/>, the resource counts as created by this run as soon as
            /// Resource Manager accepts the request, so a failure or timeout while waiting reports it (and how to remove it).
            /// </summary>
            private void Put(string path, string api, object body, string what, bool creates) =>
                arm!.SendAndWait("PUT", path, api, body, what, creates ? () => created.Add(path) : (Action?)null);

            /// <summary>
            /// The image, gallery, definition or version: created when absent, kept when there, and sent again
            /// (ARM's PUT is create-or-update) when an earlier run's operation ended Failed or Canceled in Azure.
            /// </summary>
            private string Ensure(JsonElement? found, string path, string api, Func<object> body, string what, string kept)
            {
                if (found == null)
                {
                    Put(path, api, body(), what, creates: true);
                    return "created";
                }
                string? state = ArmClient.ProvisioningStateOf(found.Value);
                if (string.Equals(state, "Failed", StringComparison.OrdinalIgnoreCase) || string.Equals(state, "Canceled", StringComparison.OrdinalIgnoreCase))
                {
                    context.Warning($"{path} exists with provisioningState {state} (an earlier operation did not succeed): sending it again.");
                    Put(path, api, body(), what, creates: false);
                    return $"sent again after {state}";
                }
                return kept;
            }

            private T Timed<T>(string name, Func<T> body, bool secret = false)
            {
                step = name;
                context.Progress(Activity, name, steps.Count, 12);
                var clock = Stopwatch.StartNew();
                T value = body();
                string detail = secret ? "done" : value?.ToString() ?? string.Empty;
                steps.Add(new PublishStep(name, clock.Elapsed, detail));
                context.Verbose($"{name}: {detail} ({clock.Elapsed.TotalSeconds:F1} s)");
                return value;
            }

            /// <summary>What exists after a failure, and how to remove what this run created (it never deletes anything itself).</summary>
            private Exception Failed(Exception e)
            {
                if (e is AzureLinuxImageException a && created.Count == 0 && (a.ErrorId == "DefinitionMismatch" || a.ErrorId == "DefinitionIdentifierRequired" || a.ErrorId == "DiskExists"
                    || a.ErrorId == "ImageExists" || a.ErrorId == "GalleryImageVersionExists" || a.ErrorId == "SubscriptionRequired"))
                {
                    return e; // Refused during the checks: nothing was made, the message says so.
                }
                string reason = e is OperationCanceledException ? "cancelled" : e is AzureLinuxImageException x ? x.Message : CopyDiskImageToAzure.Describe(e);
                string made = created.Count == 0 ? "this run created nothing" : "this run created " + string.Join(", ", created);
                string found = existing.Count == 0 ? string.Empty : $"; existing before this run and left as they were: {string.Join(", ", existing)}";
                string removal = created.Count == 0 ? string.Empty
                    : $" To remove what this run created instead: az resource delete --ids {string.Join(" ", Enumerable.Reverse(created))} (or Remove-AzResource -ResourceId <id> -Force for each, last first).";
                string message = SecretRedaction.Redact($"Publishing {source} stopped at step {step}: {reason}. In Azure now: {made}{found}. Nothing was deleted. Run the same command again to continue (a disk in ReadyToUpload or ActiveUpload is reused and its upload resumes).{removal}");
                return new AzureLinuxImageException("PublishFailed", e is OperationCanceledException ? ErrorKind.Cancelled : (e as AzureLinuxImageException)?.Kind ?? ErrorKind.ResourceUnavailable, message, source, e is AzureLinuxImageException ? e : null);
            }
        }

        /// <summary>The resource ids of one publish.</summary>
        private sealed class Names
        {
            public Names(string subscription, PublishOptions o)
            {
                string rg = $"/subscriptions/{subscription}/resourceGroups/{o.ResourceGroupName}/providers/Microsoft.Compute";
                Disk = $"{rg}/disks/{o.DiskName}";
                Image = $"{rg}/images/{o.ImageName}";
                Gallery = $"{rg}/galleries/{o.GalleryName}";
                Definition = $"{Gallery}/images/{o.GalleryImageDefinition}";
                Version = $"{Definition}/versions/{o.GalleryImageVersion}";
            }

            public string Disk { get; }

            public string Image { get; }

            public string Gallery { get; }

            public string Definition { get; }

            public string Version { get; }
        }
    }
}
