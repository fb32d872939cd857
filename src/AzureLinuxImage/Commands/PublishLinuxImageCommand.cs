using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Publish-LinuxImage (issue 26): from a checked image to a managed disk, an optional managed image and an
    /// optional Compute Gallery image version, the definition's features read from the image. Bindings only:
    /// the flow is AzureLinuxImage.Azure's PublishLinuxImage; no Azure type appears here (see Copy-DiskImageToAzure).
    /// </summary>
    [Cmdlet(VerbsData.Publish, "LinuxImage", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LinuxImagePublishResult))]
    public sealed class PublishLinuxImageCommand : ImagePathCmdlet
    {
        /// <summary>The resource group of everything created.</summary>
        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string ResourceGroupName { get; set; } = null!;

        /// <summary>The Azure region of the disk, image, gallery and definition.</summary>
        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string Location { get; set; } = null!;

        /// <summary>The managed disk to create (or reuse, when an earlier run left it ReadyToUpload/ActiveUpload).</summary>
        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string DiskName { get; set; } = null!;

        /// <summary>A managed image to create from the disk.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ImageName { get; set; }

        /// <summary>The Compute Gallery (created when absent).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? GalleryName { get; set; }

        /// <summary>The gallery image definition (created with the image's features when absent; compared with them when present).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? GalleryImageDefinition { get; set; }

        /// <summary>The gallery image version to create (MAJOR.MINOR.PATCH).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? GalleryImageVersion { get; set; }

        /// <summary>The definition's publisher, when it is created.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Publisher { get; set; }

        /// <summary>The definition's offer, when it is created.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Offer { get; set; }

        /// <summary>The definition's SKU, when it is created.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Sku { get; set; }

        /// <summary>Regions of the version: hashtables @{Name=…; ReplicaCount=…; StorageAccountType=…} or strings "name[=count]". Default: -Location, one replica.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public object[]? TargetRegion { get; set; }

        /// <summary>The subscription; when absent, the one subscription the credential sees.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? SubscriptionId { get; set; }

        /// <summary>1 or 2; by default from the image's boot loaders (hybrid images: 2).</summary>
        [Parameter]
        [ValidateRange(1, 2)]
        public int Generation { get; set; }

        /// <summary>Publish despite failed readiness rules.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>A TokenCredential (Azure.Identity, Az.Accounts), a Resource Manager access token (string or SecureString), or Get-AzAccessToken's output.</summary>
        [Parameter]
        [ValidateNotNull]
        public object? Credential { get; set; }

        /// <summary>Authorise with the machine's managed identity.</summary>
        [Parameter]
        public SwitchParameter UseManagedIdentity { get; set; }

        /// <summary>Authorise with Azure.Identity's DefaultAzureCredential chain.</summary>
        [Parameter]
        public SwitchParameter UseDefaultAzureCredential { get; set; }

        /// <summary>The Azure cloud.</summary>
        [Parameter]
        [ValidateSet("AzureCloud", "AzureChinaCloud", "AzureUSGovernment")]
        public string Environment { get; set; } = "AzureCloud";

        /// <summary>Resource Manager's URL (Azure Stack Hub, other clouds); wins over -Environment.</summary>
        [Parameter]
        [ValidateNotNull]
        public Uri? ResourceManagerUrl { get; set; }

        /// <summary>Put Page requests in flight at most.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThreadCount { get; set; } = UploadOptions.DefaultThreadCount;

        /// <summary>
        /// The longest one Resource Manager long-running operation is waited for before the command stops with
        /// ArmOperationTimedOut (default 3 hours: a gallery version's replication can take over an hour).
        /// </summary>
        [Parameter]
        public TimeSpan OperationTimeout { get; set; } = PublishOptions.DefaultOperationTimeout;

        /// <summary>No Azure Pipelines / GitHub Actions logging commands even when TF_BUILD or GITHUB_ACTIONS is set (issue 23).</summary>
        [Parameter]
        public SwitchParameter NoPipelineLogging
        {
            get => PipelineLoggingDisabled;
            set => PipelineLoggingDisabled = value;
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            List<string> files = InputFiles().ToList();
            if (files.Count > 1)
            {
                WriteError(new ErrorRecord(new ArgumentException($"{files.Count} images match, but one disk takes one image."), "OneImagePerDisk", ErrorCategory.InvalidArgument, files));
                return;
            }
            foreach (string file in files)
            {
                ForEachItem(file, () =>
                {
                    var options = new PublishOptions
                    {
                        SubscriptionId = SubscriptionId,
                        ResourceGroupName = ResourceGroupName,
                        Location = Location,
                        DiskName = DiskName,
                        ImageName = ImageName,
                        GalleryName = GalleryName,
                        GalleryImageDefinition = GalleryImageDefinition,
                        GalleryImageVersion = GalleryImageVersion,
                        Publisher = Publisher,
                        Offer = Offer,
                        Sku = Sku,
                        Generation = MyInvocation.BoundParameters.ContainsKey(nameof(Generation)) ? Generation : (int?)null,
                        Force = Force,
                        Credential = Credential is PSObject pso ? pso.BaseObject : Credential,
                        UseManagedIdentity = UseManagedIdentity,
                        UseDefaultAzureCredential = UseDefaultAzureCredential,
                        Environment = Environment,
                        ResourceManagerUrl = ResourceManagerUrl,
                        ThreadCount = ThreadCount,
                        OperationTimeout = OperationTimeout,
                    };
                    foreach (object region in TargetRegion ?? Array.Empty<object>())
                    {
                        options.TargetRegions.Add(ToRegion(region is PSObject p ? p.BaseObject : region));
                    }
                    LinuxImagePublishResult? result = PublishLinuxImage.Run(file, options, Context);
                    if (result != null)
                    {
                        WriteObject(result);
                    }
                });
            }
        }

        private static TargetRegion ToRegion(object value)
        {
            if (value is IDictionary d)
            {
                object? Find(params string[] keys) => d.Keys.Cast<object>().Where(k => keys.Any(n => string.Equals(k?.ToString(), n, StringComparison.OrdinalIgnoreCase))).Select(k => d[k]).FirstOrDefault();
                string? name = Find("Name", "Region")?.ToString();
                if (string.IsNullOrWhiteSpace(name))
                {
                    throw new Errors.AzureLinuxImageException("InvalidTargetRegion", Errors.ErrorKind.InvalidArgument, "A -TargetRegion hashtable needs Name (and optionally ReplicaCount, StorageAccountType).");
                }
                object? count = Find("ReplicaCount", "RegionalReplicaCount");
                return new TargetRegion(name!, count == null ? 1 : Convert.ToInt32(count, System.Globalization.CultureInfo.InvariantCulture), Find("StorageAccountType")?.ToString() ?? "Standard_LRS");
            }
            return Azure.TargetRegion.Parse(value.ToString() ?? string.Empty);
        }
    }
}
