using System;
using Azure.Core.Pipeline;

namespace AzureLinuxImage.Azure
{
    /// <summary>Choices of one upload (the cmdlet's and CLI's parameters, plus knobs for tests).</summary>
    internal sealed class UploadOptions
    {
        public const int DefaultThreadCount = 8;

        /// <summary>See <see cref="MergeGapBytes"/>.</summary>
        public const long DefaultMergeGapBytes = 64 * 1024;

        /// <summary>
        /// The credential as the user gave it (no Azure types cross into the cmdlet assembly, which loads
        /// outside this assembly's load context): see <see cref="AzureCredentials.Resolve"/>.
        /// </summary>
        public object? Credential { get; set; }

        public bool UseManagedIdentity { get; set; }

        public bool UseDefaultAzureCredential { get; set; }

        public int ThreadCount { get; set; } = DefaultThreadCount;

        public bool Resume { get; set; }

        public bool ComputeMd5 { get; set; }

        /// <summary>
        /// Zero gaps shorter than this between data pages are sent as zeros inside one Put Page rather than
        /// splitting it (issue 20). Measured on the Debian 12 benchmark (README, "Upload"): the knee of
        /// requests against bytes sent.
        /// </summary>
        public long MergeGapBytes { get; set; } = DefaultMergeGapBytes;

        /// <summary>
        /// The destination is a managed disk's upload URL whatever its host name (Publish-LinuxImage got it
        /// from beginGetAccess): never created, no metadata written, the disk's size is the one to match.
        /// </summary>
        public bool ManagedDisk { get; set; }

        /// <summary>The caller already confirmed the whole operation (ShouldProcess is not asked again).</summary>
        public bool Confirmed { get; set; }

        /// <summary>Replace or overwrite an existing blob that is not a managed disk.</summary>
        public bool Force { get; set; }

        /// <summary>How long one batch may keep failing (after Azure.Core's own retries) before the upload gives up.</summary>
        public TimeSpan RetryBudget { get; set; } = TimeSpan.FromMinutes(10);

        public PageBlobClientOptions ClientOptions { get; set; } = new PageBlobClientOptions();

        /// <summary>Module version recorded in blob metadata and the footer.</summary>
        public string ModuleVersion { get; set; } = typeof(UploadOptions).Assembly.GetName().Version?.ToString() ?? "0.0";

        /// <summary>A test hook: called with the transport, e.g. to count bytes on the wire.</summary>
        public HttpPipelineTransport? Transport
        {
            get => ClientOptions.Transport;
            set => ClientOptions.Transport = value!;
        }
    }
}
