using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using System.Xml;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Azure
{
    /// <summary>Properties of an existing blob (Get Blob Properties).</summary>
    internal sealed class BlobState
    {
        public BlobState(long length, string? blobType, IReadOnlyDictionary<string, string> metadata)
        {
            Length = length;
            BlobType = blobType;
            Metadata = metadata;
        }

        public long Length { get; }

        public string? BlobType { get; }

        public IReadOnlyDictionary<string, string> Metadata { get; }
    }

    /// <summary>Options of the pipeline: Azure.Core's retry and a place for tests to put a transport.</summary>
    internal sealed class PageBlobClientOptions : ClientOptions
    {
        public PageBlobClientOptions()
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
        }
    }

    /// <summary>
    /// The few Blob service REST calls a page-blob upload needs, on Azure.Core's HttpPipeline (the Blob
    /// service REST reference: Put Blob, Put Page, Get Page Ranges, Get Blob Properties, Set Blob
    /// Metadata, Set Blob Properties). Authorised by the URL's SAS, or by a bearer token for the storage
    /// scope when a credential is given.
    /// </summary>
    internal sealed class PageBlobClient
    {
        /// <summary>Put Page takes at most 4 MiB per update request.</summary>
        public const int MaxPutPageBytes = 4 << 20;

        public const string StorageScope = "https://storage.azure.com/.default";

        private const string ApiVersion = "2021-08-06";
        private readonly HttpPipeline pipeline;
        private readonly Uri blobUri;

        public PageBlobClient(Uri blobUri, TokenCredential? credential, PageBlobClientOptions options, params HttpPipelinePolicy[] perRetryPolicies)
        {
            this.blobUri = blobUri ?? throw new ArgumentNullException(nameof(blobUri));
            var policies = new List<HttpPipelinePolicy>(perRetryPolicies);
            if (credential != null)
            {
                policies.Insert(0, new BearerTokenAuthenticationPolicy(credential, StorageScope));
            }
            pipeline = HttpPipelineBuilder.Build(options, Array.Empty<HttpPipelinePolicy>(), policies.ToArray(), new ResponseClassifier());
        }

        /// <summary>The URL users see, without the SAS.</summary>
        public string DisplayUrl => SecretRedaction.WithoutQuery(blobUri);

        /// <summary>Get Blob Properties; null when the blob does not exist.</summary>
        public async Task<BlobState?> GetPropertiesAsync(CancellationToken cancellation)
        {
            using Request request = Create(RequestMethod.Head, null);
            using Response response = await SendAsync(request, cancellation, 200, 404).ConfigureAwait(false);
            if (response.Status == 404)
            {
                return null;
            }
            long length = response.Headers.TryGetValue("Content-Length", out string? cl) ? long.Parse(cl, CultureInfo.InvariantCulture) : -1;
            response.Headers.TryGetValue("x-ms-blob-type", out string? type);
            var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (HttpHeader h in response.Headers)
            {
                if (h.Name.StartsWith("x-ms-meta-", StringComparison.OrdinalIgnoreCase))
                {
                    metadata[h.Name.Substring("x-ms-meta-".Length)] = h.Value;
                }
            }
            return new BlobState(length, type, metadata);
        }

        /// <summary>Put Blob: a new (all-zero) page blob of <paramref name="length"/> bytes, replacing any blob there.</summary>
        public async Task CreateAsync(long length, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellation)
        {
            using Request request = Create(RequestMethod.Put, null);
            request.Headers.Add("x-ms-blob-type", "PageBlob");
            request.Headers.Add("x-ms-blob-content-length", length.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("x-ms-blob-content-type", "application/octet-stream");
            AddMetadata(request, metadata);
            request.Content = RequestContent.Create(Array.Empty<byte>());
            using Response response = await SendAsync(request, cancellation, 201).ConfigureAwait(false);
        }

        /// <summary>Put Page (update): writes <paramref name="count"/> bytes, 512-aligned, at most 4 MiB.</summary>
        public async Task PutPagesAsync(long offset, byte[] buffer, int index, int count, CancellationToken cancellation)
        {
            CheckRange(offset, count);
            if (count > MaxPutPageBytes)
            {
                throw new ArgumentOutOfRangeException(nameof(count), "Put Page takes at most 4 MiB.");
            }
            using Request request = Create(RequestMethod.Put, "comp=page");
            request.Headers.Add("x-ms-page-write", "update");
            request.Headers.Add("x-ms-range", RangeHeader(offset, count));
            request.Content = RequestContent.Create(new ReadOnlyMemory<byte>(buffer, index, count));
            using Response response = await SendAsync(request, cancellation, 201).ConfigureAwait(false);
        }

        /// <summary>Put Page (clear): the range reads as zeros again and stops being a page range.</summary>
        public async Task ClearPagesAsync(long offset, long count, CancellationToken cancellation)
        {
            CheckRange(offset, count);
            using Request request = Create(RequestMethod.Put, "comp=page");
            request.Headers.Add("x-ms-page-write", "clear");
            request.Headers.Add("x-ms-range", RangeHeader(offset, count));
            request.Content = RequestContent.Create(Array.Empty<byte>());
            using Response response = await SendAsync(request, cancellation, 201).ConfigureAwait(false);
        }

        /// <summary>Get Page Ranges: the ranges holding written pages, ascending, following NextMarker.</summary>
        public async Task<List<ByteRange>> GetPageRangesAsync(CancellationToken cancellation)
        {
            var ranges = new List<ByteRange>();
            string? marker = null;
            do
            {
                using Request request = Create(RequestMethod.Get, "comp=pagelist" + (marker != null ? "&marker=" + Uri.EscapeDataString(marker) : string.Empty));
                using Response response = await SendAsync(request, cancellation, 200).ConfigureAwait(false);
                marker = ParsePageList(response.ContentStream ?? Stream.Null, ranges);
            }
            while (!string.IsNullOrEmpty(marker));
            return new List<ByteRange>(RangeMath.Coalesce(ranges));
        }

        /// <summary>Set Blob Metadata: replaces all metadata.</summary>
        public async Task SetMetadataAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellation)
        {
            using Request request = Create(RequestMethod.Put, "comp=metadata");
            AddMetadata(request, metadata);
            request.Content = RequestContent.Create(Array.Empty<byte>());
            using Response response = await SendAsync(request, cancellation, 200).ConfigureAwait(false);
        }

        /// <summary>Set Blob Properties: the Content-MD5 of the whole blob (what Add-AzVhd records).</summary>
        public async Task SetContentMd5Async(byte[] md5, CancellationToken cancellation)
        {
            using Request request = Create(RequestMethod.Put, "comp=properties");
            request.Headers.Add("x-ms-blob-content-md5", Convert.ToBase64String(md5));
            request.Headers.Add("x-ms-blob-content-type", "application/octet-stream");
            request.Content = RequestContent.Create(Array.Empty<byte>());
            using Response response = await SendAsync(request, cancellation, 200).ConfigureAwait(false);
        }

        internal static string? ParsePageList(Stream xml, List<ByteRange> ranges)
        {
            string? next = null;
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreWhitespace = true };
            using XmlReader reader = XmlReader.Create(xml, settings);
            long start = -1;
            bool advanced = reader.Read();
            while (advanced)
            {
                // ReadElementContentAsString moves past the element: do not Read() again after it.
                if (reader.NodeType != XmlNodeType.Element)
                {
                    advanced = reader.Read();
                    continue;
                }
                switch (reader.Name)
                {
                    case "Start":
                        start = long.Parse(reader.ReadElementContentAsString(), CultureInfo.InvariantCulture);
                        break;
                    case "End":
                        long end = long.Parse(reader.ReadElementContentAsString(), CultureInfo.InvariantCulture);
                        if (start < 0 || end < start)
                        {
                            throw new AzureLinuxImageException("InvalidPageList", ErrorKind.InvalidData, $"The service returned a page range [{start}, {end}] that is not a range.");
                        }
                        ranges.Add(new ByteRange(start, end - start + 1));
                        start = -1;
                        break;
                    case "NextMarker":
                        next = reader.ReadElementContentAsString();
                        break;
                    default:
                        advanced = reader.Read();
                        break;
                }
            }
            ranges.Sort((a, b) => a.Offset.CompareTo(b.Offset));
            return next;
        }

        private static void CheckRange(long offset, long count)
        {
            if (offset < 0 || count <= 0 || offset % 512 != 0 || count % 512 != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"Page ranges must be 512-aligned: [{offset}, +{count}).");
            }
        }

        private static string RangeHeader(long offset, long count) =>
            string.Format(CultureInfo.InvariantCulture, "bytes={0}-{1}", offset, offset + count - 1);

        private static void AddMetadata(Request request, IReadOnlyDictionary<string, string> metadata)
        {
            foreach (KeyValuePair<string, string> m in metadata)
            {
                request.Headers.Add("x-ms-meta-" + m.Key, m.Value);
            }
        }

        private Request Create(RequestMethod method, string? operationQuery)
        {
            Request request = pipeline.CreateRequest();
            request.Method = method;
            var uri = new RequestUriBuilder();
            uri.Reset(blobUri);
            if (operationQuery != null)
            {
                foreach (string pair in operationQuery.Split('&'))
                {
                    int eq = pair.IndexOf('=');
                    uri.AppendQuery(pair.Substring(0, eq), pair.Substring(eq + 1), escapeValue: false);
                }
            }
            request.Uri = uri;
            request.Headers.Add("x-ms-version", ApiVersion);
            return request;
        }

        private async Task<Response> SendAsync(Request request, CancellationToken cancellation, params int[] expected)
        {
            Response response = await pipeline.SendRequestAsync(request, cancellation).ConfigureAwait(false);
            if (Array.IndexOf(expected, response.Status) >= 0)
            {
                return response;
            }
            string code = response.Headers.TryGetValue("x-ms-error-code", out string? c) ? c : string.Empty;
            string body = string.Empty;
            if (response.ContentStream != null && request.Method != RequestMethod.Head)
            {
                using var reader = new StreamReader(response.ContentStream);
                char[] chars = new char[2048];
                body = new string(chars, 0, reader.ReadBlock(chars, 0, chars.Length));
            }
            int status = response.Status;
            response.Dispose();
            throw new BlobRequestException(status, code,
                SecretRedaction.Redact($"{request.Method} {DisplayUrl}: HTTP {status} {code} {body}".Trim()));
        }
    }

    /// <summary>A Blob service answer that was not success, after Azure.Core's retries; the message is redacted.</summary>
    internal sealed class BlobRequestException : AzureLinuxImageException
    {
        public BlobRequestException(int status, string errorCode, string message)
            : base("BlobRequestFailed", status == 403 || status == 401 ? ErrorKind.InvalidArgument : ErrorKind.ResourceUnavailable, message)
        {
            Status = status;
            ErrorCode = errorCode;
        }

        public int Status { get; }

        public string ErrorCode { get; }

        /// <summary>Whether the service asks us to slow down (R: back off on 503 ServerBusy, 500 OperationTimedOut, 429).</summary>
        public bool IsThrottle => Status == 503 || Status == 429 || (Status == 500 && ErrorCode == "OperationTimedOut") || Status == 500;
    }
}
