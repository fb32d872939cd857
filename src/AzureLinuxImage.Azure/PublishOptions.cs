using System;
using System.Collections.Generic;
using System.Globalization;
using Azure.Core.Pipeline;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Azure
{
    /// <summary>One region a gallery image version is replicated to.</summary>
    internal sealed class TargetRegion
    {
        public TargetRegion(string name, int replicaCount = 1, string storageAccountType = "Standard_LRS")
        {
            Name = name;
            ReplicaCount = replicaCount;
            StorageAccountType = storageAccountType;
        }

        public string Name { get; }

        public int ReplicaCount { get; }

        public string StorageAccountType { get; }

        /// <summary>"westeurope", "westeurope=2" or "westeurope=2:Premium_LRS" (the CLI's --target-region).</summary>
        public static TargetRegion Parse(string text)
        {
            string[] parts = text.Split(new[] { '=' }, 2);
            if (parts.Length == 1)
            {
                return new TargetRegion(parts[0].Trim());
            }
            string[] count = parts[1].Split(new[] { ':' }, 2);
            if (!int.TryParse(count[0], out int n) || n < 1 || n > 100 || parts[0].Trim().Length == 0)
            {
                throw new AzureLinuxImageException("InvalidTargetRegion", ErrorKind.InvalidArgument, $"'{text}' is not a target region: use NAME, NAME=COUNT or NAME=COUNT:STORAGE (COUNT 1-100).");
            }
            return new TargetRegion(parts[0].Trim(), n, count.Length > 1 ? count[1].Trim() : "Standard_LRS");
        }
    }

    /// <summary>The choices of Publish-LinuxImage / azlinux publish (issue 26).</summary>
    internal sealed class PublishOptions
    {
        public string? SubscriptionId { get; set; }

        public string ResourceGroupName { get; set; } = string.Empty;

        public string Location { get; set; } = string.Empty;

        public string DiskName { get; set; } = string.Empty;

        public string? ImageName { get; set; }

        public string? GalleryName { get; set; }

        public string? GalleryImageDefinition { get; set; }

        public string? GalleryImageVersion { get; set; }

        public string? Publisher { get; set; }

        public string? Offer { get; set; }

        public string? Sku { get; set; }

        public IList<TargetRegion> TargetRegions { get; } = new List<TargetRegion>();

        /// <summary>-Generation: 1 or 2, null to decide from the image (hybrid images: 2).</summary>
        public int? Generation { get; set; }

        /// <summary>Publish despite failed readiness rules.</summary>
        public bool Force { get; set; }

        /// <summary>As <see cref="UploadOptions.Credential"/>: a TokenCredential of any Azure.Core, a token, or Get-AzAccessToken's output.</summary>
        public object? Credential { get; set; }

        public bool UseManagedIdentity { get; set; }

        public bool UseDefaultAzureCredential { get; set; }

        /// <summary>AzureCloud, AzureChinaCloud or AzureUSGovernment.</summary>
        public string Environment { get; set; } = "AzureCloud";

        /// <summary>Resource Manager's URL (Azure Stack Hub, other clouds); wins over <see cref="Environment"/>.</summary>
        public Uri? ResourceManagerUrl { get; set; }

        public int ThreadCount { get; set; } = UploadOptions.DefaultThreadCount;

        /// <summary>The default <see cref="OperationTimeout"/>: 3 hours.</summary>
        public static readonly TimeSpan DefaultOperationTimeout = TimeSpan.FromHours(3);

        /// <summary>
        /// The longest one Resource Manager long-running operation (disk, image, gallery, definition, version,
        /// access grant) is waited for before the publish stops with ArmOperationTimedOut, so that a stuck
        /// operation ends a pipeline job or runbook with a message instead of hanging it. Default 3 hours:
        /// a gallery image version's replication to its target regions can legitimately take over an hour.
        /// </summary>
        public TimeSpan OperationTimeout { get; set; } = DefaultOperationTimeout;

        /// <summary>
        /// The CLI's --operation-timeout: "90m", "2h", "45s", "1.5h" or a TimeSpan ("01:30:00"). Zero, negative
        /// or unreadable values are refused (InvalidOperationTimeout) naming <paramref name="option"/>.
        /// </summary>
        public static TimeSpan ParseTimeout(string text, string option)
        {
            string t = (text ?? string.Empty).Trim();
            TimeSpan value = TimeSpan.Zero;
            bool read = false;
            if (t.Length > 1 && "smhd".IndexOf(char.ToLowerInvariant(t[t.Length - 1])) >= 0
                && double.TryParse(t.Substring(0, t.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && !double.IsNaN(n) && !double.IsInfinity(n))
            {
                double seconds = n * char.ToLowerInvariant(t[t.Length - 1]) switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 86400 };
                if (Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds / 2)
                {
                    value = TimeSpan.FromSeconds(seconds);
                    read = true;
                }
            }
            else if (t.Contains(":") && TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out TimeSpan span))
            {
                value = span;
                read = true;
            }
            if (!read || value <= TimeSpan.Zero)
            {
                throw new AzureLinuxImageException("InvalidOperationTimeout", ErrorKind.InvalidArgument,
                    $"{option} '{text}' is not a positive duration: use a number with s, m, h or d (45s, 90m, 2h) or a TimeSpan (01:30:00).");
            }
            return value;
        }

        /// <summary>Test hook: the transport of the Resource Manager pipeline.</summary>
        public HttpPipelineTransport? ArmTransport { get; set; }

        /// <summary>Test hook: the upload's options (transport, retry budget); the publish sets its own fields on it.</summary>
        public UploadOptions Upload { get; set; } = new UploadOptions();

        /// <summary>Resource Manager's URL for the environment.</summary>
        public Uri ResolveEndpoint()
        {
            if (ResourceManagerUrl != null)
            {
                return ResourceManagerUrl;
            }
            return (Environment ?? "AzureCloud").ToUpperInvariant() switch
            {
                "AZURECLOUD" => new Uri("https://management.azure.com/"),
                "AZURECHINACLOUD" => new Uri("https://management.chinacloudapi.cn/"),
                "AZUREUSGOVERNMENT" => new Uri("https://management.usgovcloudapi.net/"),
                _ => throw new AzureLinuxImageException("UnknownEnvironment", ErrorKind.InvalidArgument,
                    $"Environment '{Environment}' is not known: use AzureCloud, AzureChinaCloud or AzureUSGovernment, or give -ResourceManagerUrl (--arm-endpoint)."),
            };
        }
    }
}
