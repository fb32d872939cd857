using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using Sdk = Azure.Storage.Blobs.Specialized;

namespace AzureLinuxImage.Azure
{
    /// <summary>Properties of an existing blob (Get Blob Properties).</summary>
    internal sealed class BlobState
    {
        public BlobState(long length, string? blobType, IReadOnlyDictionary<string, string> metadata, ETag etag = default)
        {
            Length = length;
            BlobType = blobType;
            Metadata = metadata;
            ETag = etag;
        }

        public long Length { get; }

        public string? BlobType { get; }

        public IReadOnlyDictionary<string, string> Metadata { get; }

        /// <summary>The blob's ETag when it was looked at: replacing it is conditional on it (If-Match).</summary>
        public ETag ETag { get; }
    }

    /// <summary>
    /// Options of the SDK's pipeline: Azure.Core's retry, a place for tests to put a transport, and the
    /// REST version pinned to the one this upload was written and measured against (2021-08-06: Get Page
    /// Ranges with markers; Azurite and every Azure region serve it).
    /// </summary>
    internal sealed class PageBlobClientOptions : BlobClientOptions
    {
        public PageBlobClientOptions()
            : base(ServiceVersion.V2021_08_06)
        {
            Retry.Mode = RetryMode.Exponential;
            Retry.MaxRetries = 5;
            Retry.Delay = TimeSpan.FromMilliseconds(200);
            Retry.MaxDelay = TimeSpan.FromSeconds(30);
            Retry.NetworkTimeout = TimeSpan.FromSeconds(120);
            // The URL's query is the SAS: Azure.Core's logging redacts every query parameter not allowed here.
            Diagnostics.IsLoggingContentEnabled = false;
            Diagnostics.IsTelemetryEnabled = false;
            Diagnostics.IsDistributedTracingEnabled = false;
            // No per-request CRC-64/MD5: the whole-image MD5 (-ComputeMd5) is ours, and a transactional hash
            // per Put Page would cost a second pass over every byte for what TLS already guarantees.
            TransferValidation.Upload.ChecksumAlgorithm = StorageChecksumAlgorithm.None;
            TransferValidation.Download.ChecksumAlgorithm = StorageChecksumAlgorithm.None;
            TransferValidation.Download.AutoValidateChecksum = false;
        }
    }

    /// <summary>
    /// The page-blob calls an upload needs (create, upload pages, clear pages, get page ranges, metadata,
    /// properties, conditions), on Azure.Storage.Blobs' PageBlobClient (issue 19). Authorised by the URL's
    /// SAS (a page blob or a managed disk's upload URL), or by Entra ID when a credential is given. SDK
    /// failures come out as <see cref="BlobRequestException"/> with the URL's secrets redacted.
    /// </summary>
    internal sealed class PageBlobClient
    {
        /// <summary>Put Page takes at most 4 MiB per update request.</summary>
        public const int MaxPutPageBytes = 4 << 20;

        public const string StorageScope = "https://storage.azure.com/.default";

        private readonly Sdk.PageBlobClient blob;

        /// <param name="blobUri">Blob URL, with its SAS when no credential is given.</param>
        /// <param name="credential">Entra ID credential for the storage scope; requires https.</param>
        /// <param name="options">Pipeline options; <paramref name="perRetryPolicies"/> are added to them.</param>
        /// <param name="perRetryPolicies">Policies that see every attempt (the throttle observer).</param>
        public PageBlobClient(Uri blobUri, TokenCredential? credential, PageBlobClientOptions options, params HttpPipelinePolicy[] perRetryPolicies)
        {
            if (blobUri == null)
            {
                throw new ArgumentNullException(nameof(blobUri));
            }
            DisplayUrl = SecretRedaction.WithoutQuery(blobUri);
            if (credential != null && blobUri.Scheme != Uri.UriSchemeHttps)
            {
                // A bearer token must never travel in clear text; Azure.Core would refuse it later with a raw exception.
                throw new AzureLinuxImageException("CredentialNeedsHttps", ErrorKind.InvalidArgument,
                    $"{DisplayUrl} is an http URL: an Entra ID credential (-Credential, -UseManagedIdentity, -UseDefaultAzureCredential) is only sent over https. Use the https URL, or a SAS URL without a credential.");
            }
            foreach (HttpPipelinePolicy policy in perRetryPolicies)
            {
                options.AddPolicy(policy, HttpPipelinePosition.PerRetry);
            }
            blob = credential == null ? new Sdk.PageBlobClient(blobUri, options) : new Sdk.PageBlobClient(blobUri, credential, options);
        }

        /// <summary>The URL users see, without the SAS.</summary>
        public string DisplayUrl { get; }

        /// <summary>Get Blob Properties; null when the blob does not exist.</summary>
        public Task<BlobState?> GetPropertiesAsync(CancellationToken cancellation) => Call("HEAD", async () =>
        {
            try
            {
                Response<BlobProperties> response = await blob.GetPropertiesAsync(cancellationToken: cancellation).ConfigureAwait(false);
                BlobProperties p = response.Value;
                var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (KeyValuePair<string, string> m in p.Metadata)
                {
                    metadata[m.Key] = m.Value;
                }
                // The REST names (x-ms-blob-type), which messages show: PageBlob, BlockBlob, AppendBlob.
                return new BlobState(p.ContentLength, p.BlobType + "Blob", metadata, p.ETag);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                return (BlobState?)null;
            }
        });

        /// <summary>
        /// Put Blob: a new (all-zero) page blob of <paramref name="length"/> bytes. <paramref name="replacing"/>
        /// null: only if no blob is there (If-None-Match: *); otherwise only if the blob is still that one (If-Match).
        /// </summary>
        public Task CreateAsync(long length, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellation, BlobState? replacing = null) => Call("PUT", async () =>
        {
            var conditions = new PageBlobRequestConditions();
            if (replacing == null)
            {
                conditions.IfNoneMatch = ETag.All;
            }
            else if (replacing.ETag != default)
            {
                conditions.IfMatch = replacing.ETag;
            }
            var create = new PageBlobCreateOptions
            {
                Metadata = Copy(metadata),
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
                Conditions = conditions,
            };
            await blob.CreateAsync(length, create, cancellation).ConfigureAwait(false);
            return true;
        });

        /// <summary>Put Page (update): writes <paramref name="count"/> bytes, 512-aligned, at most 4 MiB.</summary>
        public Task PutPagesAsync(long offset, byte[] buffer, int index, int count, CancellationToken cancellation)
        {
            CheckRange(offset, count);
            if (count > MaxPutPageBytes)
            {
                throw new ArgumentOutOfRangeException(nameof(count), "Put Page takes at most 4 MiB.");
            }
            return Call("PUT", async () =>
            {
                // A MemoryStream over the pooled buffer: the SDK sends it as the body without copying it.
                using var content = new MemoryStream(buffer, index, count, writable: false);
                await blob.UploadPagesAsync(content, offset, new PageBlobUploadPagesOptions(), cancellation).ConfigureAwait(false);
                return true;
            });
        }

        /// <summary>Put Page (clear): the range reads as zeros again and stops being a page range.</summary>
        public Task ClearPagesAsync(long offset, long count, CancellationToken cancellation)
        {
            CheckRange(offset, count);
            return Call("PUT", async () =>
            {
                await blob.ClearPagesAsync(new HttpRange(offset, count), null, cancellation).ConfigureAwait(false);
                return true;
            });
        }

        /// <summary>Get Page Ranges: the ranges holding written pages, ascending and merged (the SDK follows NextMarker).</summary>
        public Task<List<ByteRange>> GetPageRangesAsync(CancellationToken cancellation) => Call("GET", async () =>
        {
            var ranges = new List<ByteRange>();
            await foreach (PageRangeItem item in blob.GetAllPageRangesAsync(new GetPageRangesOptions(), cancellation).ConfigureAwait(false))
            {
                if (item.IsClear)
                {
                    continue;
                }
                long start = item.Range.Offset;
                long length = item.Range.Length ?? throw new AzureLinuxImageException("InvalidPageList", ErrorKind.InvalidData, $"The service returned a page range at {start} without an end.");
                if (start < 0 || length <= 0)
                {
                    throw new AzureLinuxImageException("InvalidPageList", ErrorKind.InvalidData, $"The service returned a page range [{start}, +{length}) that is not a range.");
                }
                ranges.Add(new ByteRange(start, length));
            }
            ranges.Sort((a, b) => a.Offset.CompareTo(b.Offset));
            return new List<ByteRange>(RangeMath.Coalesce(ranges));
        });

        /// <summary>Set Blob Metadata: replaces all metadata.</summary>
        public Task SetMetadataAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellation) => Call("PUT", async () =>
        {
            await blob.SetMetadataAsync(Copy(metadata), null, cancellation).ConfigureAwait(false);
            return true;
        });

        /// <summary>Set Blob Properties: the Content-MD5 of the whole blob (what Add-AzVhd records).</summary>
        public Task SetContentMd5Async(byte[] md5, CancellationToken cancellation) => Call("PUT", async () =>
        {
            await blob.SetHttpHeadersAsync(new BlobHttpHeaders { ContentHash = md5, ContentType = "application/octet-stream" }, null, cancellation).ConfigureAwait(false);
            return true;
        });

        private static void CheckRange(long offset, long count)
        {
            if (offset < 0 || count <= 0 || offset % 512 != 0 || count % 512 != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"Page ranges must be 512-aligned: [{offset}, +{count}).");
            }
        }

        private static Dictionary<string, string> Copy(IReadOnlyDictionary<string, string> metadata)
        {
            var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (KeyValuePair<string, string> m in metadata)
            {
                d[m.Key] = m.Value;
            }
            return d;
        }

        /// <summary>Runs one SDK call; a service answer that is not success becomes a redacted <see cref="BlobRequestException"/>.</summary>
        private async Task<T> Call<T>(string method, Func<Task<T>> call)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status != 0)
            {
                // The SDK's message carries response headers; the first line (status and reason) is what users need.
                // The SDK exception is not chained (see BlobRequestException).
                string reason = e.Message.Split('\n')[0].Trim();
                throw new BlobRequestException(e.Status, e.ErrorCode ?? string.Empty,
                    SecretRedaction.Redact($"{method} {DisplayUrl}: HTTP {e.Status} {e.ErrorCode} {reason}".Trim()));
            }
        }
    }

    /// <summary>A Blob service answer that was not success, after Azure.Core's retries; the message is redacted.</summary>
    internal sealed class BlobRequestException : AzureLinuxImageException
    {
        /// <remarks>No inner exception: the SDK's may echo request details; status, code and reason are copied.</remarks>
        public BlobRequestException(int status, string errorCode, string message)
            : base("BlobRequestFailed", status == 403 || status == 401 ? ErrorKind.InvalidArgument : ErrorKind.ResourceUnavailable, message)
        {
            Status = status;
            ErrorCode = errorCode;
        }

        public int Status { get; }

        public string ErrorCode { get; }

        /// <summary>Whether the service asks us to slow down: 503 ServerBusy, 500 (OperationTimedOut and the like), 429.</summary>
        public bool IsThrottle => Status == 503 || Status == 429 || Status == 500;
    }
}
