using System;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>An IMDS answer: the text, the api-version that produced it and the URI asked.</summary>
    internal sealed record ImdsResponse(string Content, string ApiVersion, Uri RequestUri, bool Extended);

    /// <summary>
    /// Instance Metadata Service (PROTOCOL.md "IMDS"): <c>Metadata: true</c> on every request, never a
    /// proxy, the whole (extended) document or one value with <c>format=text</c>; a 400 to a newer
    /// api-version falls back to <see cref="MinimumApiVersion"/> once, as cloud-init does.
    /// </summary>
    internal sealed class ImdsClient
    {
        public const string DefaultApiVersion = "2021-08-01";
        public const string MinimumApiVersion = "2019-06-01";
        public const int MaxResponseBytes = 1024 * 1024;

        /// <summary>A value path answering 404 this many times does not exist; the whole document is retried on 404 for the budget.</summary>
        public const int MaxNotFoundForValue = 3;

        private readonly HttpClient _http;

        public ImdsClient(HttpClient http, Uri endpoint)
        {
            _http = http;
            Endpoint = endpoint;
        }

        public Uri Endpoint { get; }

        private string Target => $"The Instance Metadata Service at {Endpoint}";

        public static Uri Default => new Uri("http://" + WireServerEndpoint.ImdsAddress + "/");

        /// <summary>The whole instance document, extended (ppsType and friends) when the api-version allows it.</summary>
        public Task<ImdsResponse> GetInstanceAsync(RetrySession session, string apiVersion) =>
            GetAsync(session, null, apiVersion);

        /// <summary>One value, e.g. <c>compute/osProfile/computerName</c>, as text.</summary>
        public Task<ImdsResponse> GetValueAsync(RetrySession session, string path, string apiVersion) =>
            GetAsync(session, NormalizePath(path), apiVersion);

        private async Task<ImdsResponse> GetAsync(RetrySession session, string? path, string apiVersion)
        {
            string version = ValidateApiVersion(apiVersion);
            int notFound = 0;
            while (true)
            {
                bool extended = path == null && version != MinimumApiVersion;
                Uri uri = BuildUri(path, version, extended);
                HttpAttempt attempt = await session.SendAsync(_http, () =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    request.Headers.TryAddWithoutValidation("Metadata", "true");
                    return request;
                }, MaxResponseBytes, Target).ConfigureAwait(false);

                if (attempt.Status == null)
                {
                    await session.PauseAsync(false, "InstanceMetadataUnavailable", Target, attempt.Problem!).ConfigureAwait(false);
                    continue;
                }
                int status = attempt.Status.Value;
                if (status == 200)
                {
                    session.Succeeded();
                    return new ImdsResponse(DecodeUtf8(attempt.Body), version, uri, extended);
                }
                if (status == 400 && version != MinimumApiVersion)
                {
                    // An older IMDS (or cloud) does not know the newer version: fall back at once.
                    version = MinimumApiVersion;
                    continue;
                }
                if (status == 404 && path != null && ++notFound >= MaxNotFoundForValue)
                {
                    throw new AzureLinuxImageException("InstanceMetadataNotFound", ErrorKind.NotFound,
                        $"{Target} has no value at '{path}' (HTTP 404 {notFound} times). Check the path against the whole document (no path).");
                }
                if (status == 404 || status == 410 || status == 429 || status == 500 || status == 503)
                {
                    await session.PauseAsync(status == 429, "InstanceMetadataUnavailable", Target, $"HTTP {status}: {attempt.BodyExcerpt(120)}", attempt.RetryAfter).ConfigureAwait(false);
                    continue;
                }
                // 400 at the minimum version, 401, 403, 405 ...: final (PROTOCOL.md).
                throw new AzureLinuxImageException("InstanceMetadataRejected", ErrorKind.InvalidData,
                    $"{Target} refused {uri.PathAndQuery} with HTTP {status}: '{attempt.BodyExcerpt()}'.");
            }
        }

        private Uri BuildUri(string? path, string version, bool extended)
        {
            var query = new StringBuilder("api-version=").Append(version);
            if (path == null)
            {
                if (extended)
                {
                    query.Append("&extended=true");
                }
            }
            else
            {
                query.Append("&format=text");
            }
            return new UriBuilder(Endpoint)
            {
                Path = "/metadata/instance" + (path == null ? string.Empty : "/" + path),
                Query = query.ToString(),
            }.Uri;
        }

        /// <summary>Path segments are names or array indexes: letters, digits, '_' and '-' only.</summary>
        internal static string NormalizePath(string path)
        {
            string trimmed = (path ?? string.Empty).Trim().Trim('/');
            string[] segments = trimmed.Split('/');
            if (trimmed.Length == 0 || trimmed.Length > 256 || segments.Length > 16
                || segments.Any(s => s.Length == 0 || !s.All(c => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')))
            {
                throw new AzureLinuxImageException("InvalidMetadataPath", ErrorKind.InvalidArgument,
                    $"The metadata path '{path}' is not valid: use names separated by '/', e.g. compute/osProfile/computerName or network/interface/0/macAddress.");
            }
            return trimmed;
        }

        internal static string ValidateApiVersion(string apiVersion)
        {
            string v = (apiVersion ?? string.Empty).Trim();
            bool ok = v.Length >= 10 && v.Length <= 32 && v.All(c => (c >= '0' && c <= '9') || c == '-' || (c >= 'a' && c <= 'z'))
                && char.IsDigit(v[0]);
            if (!ok)
            {
                throw new AzureLinuxImageException("InvalidApiVersion", ErrorKind.InvalidArgument,
                    $"The api-version '{apiVersion}' is not valid; use a date such as {DefaultApiVersion}.");
            }
            return v;
        }

        private static string DecodeUtf8(byte[] body)
        {
            try
            {
                return new UTF8Encoding(false, true).GetString(body);
            }
            catch (ArgumentException e)
            {
                throw new AzureLinuxImageException("InvalidInstanceMetadata", ErrorKind.InvalidData,
                    "The Instance Metadata Service answered with text that is not UTF-8.", null, e);
            }
        }
    }
}
