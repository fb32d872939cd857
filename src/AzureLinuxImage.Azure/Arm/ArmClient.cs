using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;
using System.Threading.Tasks;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Azure.Arm
{
    /// <summary>
    /// Options of the Resource Manager pipeline: Azure.Core's retry (429, 503 and the other transient
    /// answers, waiting at least the server's Retry-After), no content logging (bodies carry the write SAS).
    /// </summary>
    internal sealed class ArmClientOptions : ClientOptions
    {
        public ArmClientOptions()
        {
            Retry.Mode = RetryMode.Exponential;
            Retry.MaxRetries = 6;
            Retry.Delay = TimeSpan.FromMilliseconds(800);
            Retry.MaxDelay = TimeSpan.FromSeconds(60);
            Retry.NetworkTimeout = TimeSpan.FromSeconds(100);
            Diagnostics.IsLoggingContentEnabled = false;
            Diagnostics.IsTelemetryEnabled = false;
            Diagnostics.IsDistributedTracingEnabled = false;
        }
    }

    /// <summary>One Resource Manager answer: status, the JSON body (null when empty) and the headers polling needs.</summary>
    internal sealed class ArmResponse
    {
        public ArmResponse(int status, JsonElement? body, string? asyncOperation, string? location, TimeSpan? retryAfter)
        {
            Status = status;
            Body = body;
            AsyncOperation = asyncOperation;
            Location = location;
            RetryAfter = retryAfter;
        }

        public int Status { get; }

        public JsonElement? Body { get; }

        public string? AsyncOperation { get; }

        public string? Location { get; }

        public TimeSpan? RetryAfter { get; }
    }

    /// <summary>
    /// The Microsoft.Compute REST calls of Publish-LinuxImage over Azure.Core's HttpPipeline (bearer token
    /// policy, retry honouring Retry-After). Chosen over Azure.ResourceManager.Compute: README, "Dependencies".
    /// Long-running operations are followed as ARM says: Azure-AsyncOperation, else Location, each poll
    /// after the server's Retry-After. Every call is recorded (method and path, no query) for the result.
    /// </summary>
    internal sealed class ArmClient
    {
        private static readonly TimeSpan DefaultPoll = TimeSpan.FromSeconds(5);

        /// <summary>Longest wait between two polls: a server's larger Retry-After is capped to it.</summary>
        private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(60);
        private readonly HttpPipeline pipeline;
        private readonly Uri endpoint;
        private readonly IOperationContext context;

        public ArmClient(Uri endpoint, TokenCredential credential, ArmClientOptions options, IOperationContext context)
        {
            if (endpoint.Scheme != Uri.UriSchemeHttps)
            {
                // Azure.Core would refuse the bearer token later with a raw exception.
                throw new AzureLinuxImageException("CredentialNeedsHttps", ErrorKind.InvalidArgument,
                    $"{endpoint} is not an https URL: Resource Manager tokens are only sent over https.");
            }
            this.endpoint = endpoint;
            this.context = context;
            string scope = endpoint.GetLeftPart(UriPartial.Authority) + "/.default";
            pipeline = HttpPipelineBuilder.Build(options, new BearerTokenAuthenticationPolicy(credential, scope));
        }

        /// <summary>Every request sent (after retries, one entry per logical call): "GET /subscriptions/…/disks/d".</summary>
        public List<string> Calls { get; } = new List<string>();

        public ArmResponse Send(string method, string path, string apiVersion, object? body = null)
        {
            Uri uri = new Uri(endpoint, path + (path.Contains("?") ? "&" : "?") + "api-version=" + apiVersion);
            return SendTo(method, uri, body);
        }

        private ArmResponse SendTo(string method, Uri uri, object? body)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            using HttpMessage message = pipeline.CreateMessage();
            Request request = message.Request;
            request.Method = RequestMethod.Parse(method);
            request.Uri.Reset(uri);
            request.Headers.Add("Accept", "application/json");
            if (body != null)
            {
                request.Headers.Add("Content-Type", "application/json");
                request.Content = RequestContent.Create(JsonSerializer.SerializeToUtf8Bytes(body));
            }
            else if (method == "POST")
            {
                request.Content = RequestContent.Create(Array.Empty<byte>());
            }
            lock (Calls)
            {
                Calls.Add($"{method} {uri.AbsolutePath}");
            }
            context.Verbose($"{method} {uri.AbsolutePath}");
            pipeline.Send(message, context.Cancellation);
            Response response = message.Response;
            JsonElement? json = null;
            if (response.ContentStream != null)
            {
                using var buffer = new MemoryStream();
                response.ContentStream.CopyTo(buffer);
                if (buffer.Length > 0)
                {
                    try
                    {
                        using JsonDocument doc = JsonDocument.Parse(buffer.ToArray());
                        json = doc.RootElement.Clone();
                    }
                    catch (JsonException)
                    {
                        json = null;
                    }
                }
            }
            response.Headers.TryGetValue("Azure-AsyncOperation", out string? asyncOperation);
            response.Headers.TryGetValue("Location", out string? location);
            return new ArmResponse(response.Status, json, asyncOperation, location, RetryAfterOf(response));
        }

        private static TimeSpan? RetryAfterOf(Response response)
        {
            if (response.Headers.TryGetValue("Retry-After", out string? value) && value != null)
            {
                if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seconds) && seconds >= 0)
                {
                    return TimeSpan.FromSeconds(seconds);
                }
                if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset when))
                {
                    TimeSpan wait = when - DateTimeOffset.UtcNow;
                    return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
                }
            }
            return null;
        }

        /// <summary>
        /// Sends and, when the answer is 201/202 with an operation to follow, polls it to the end. Returns the
        /// final resource (PUT: a GET of the resource; POST: the Location result or the operation's output).
        /// Throws <see cref="ArmRequestException"/> for an error answer or a failed operation.
        /// </summary>
        public JsonElement? SendAndWait(string method, string path, string apiVersion, object? body, string what)
        {
            ArmResponse first = Send(method, path, apiVersion, body);
            ThrowIfError(first, method, path);
            if (first.AsyncOperation == null && (first.Status != 202 || first.Location == null))
            {
                return first.Body;
            }
            JsonElement? output = Poll(first, what, method, path);
            if (method == "PUT")
            {
                ArmResponse final = Send("GET", path, apiVersion);
                ThrowIfError(final, "GET", path);
                return final.Body;
            }
            return output;
        }

        private JsonElement? Poll(ArmResponse first, string what, string method, string path)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan wait = first.RetryAfter ?? DefaultPoll;
            if (first.AsyncOperation != null)
            {
                Uri status = new Uri(first.AsyncOperation);
                while (true)
                {
                    Sleep(wait);
                    ArmResponse r = SendTo("GET", status, null);
                    ThrowIfError(r, "GET", status.AbsolutePath);
                    string state = r.Body is JsonElement b && b.ValueKind == JsonValueKind.Object && b.TryGetProperty("status", out JsonElement s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : string.Empty;
                    context.Progress("Publishing to Azure", $"{what}: {state} ({clock.Elapsed.TotalSeconds:F0} s)", 0, 1);
                    if (string.Equals(state, "Succeeded", StringComparison.OrdinalIgnoreCase))
                    {
                        if (method == "POST" && first.Location != null)
                        {
                            ArmResponse result = SendTo("GET", new Uri(first.Location), null);
                            ThrowIfError(result, "GET", new Uri(first.Location).AbsolutePath);
                            return result.Body;
                        }
                        return r.Body is JsonElement sb && sb.ValueKind == JsonValueKind.Object && sb.TryGetProperty("properties", out JsonElement p)
                            && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("output", out JsonElement o) ? o : (JsonElement?)null;
                    }
                    if (string.Equals(state, "Failed", StringComparison.OrdinalIgnoreCase) || string.Equals(state, "Canceled", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new ArmRequestException(r.Status, $"{method} {path}: the operation {state}: {ErrorMessageOf(r.Body)}");
                    }
                    wait = r.RetryAfter ?? DefaultPoll;
                }
            }
            Uri location = new Uri(first.Location!);
            while (true)
            {
                Sleep(wait);
                ArmResponse r = SendTo("GET", location, null);
                ThrowIfError(r, "GET", location.AbsolutePath);
                context.Progress("Publishing to Azure", $"{what}: {(r.Status == 202 ? "InProgress" : "Succeeded")} ({clock.Elapsed.TotalSeconds:F0} s)", 0, 1);
                if (r.Status != 202)
                {
                    return r.Body;
                }
                wait = r.RetryAfter ?? DefaultPoll;
            }
        }

        private void Sleep(TimeSpan wait)
        {
            if (wait > MaxPoll)
            {
                wait = MaxPoll;
            }
            if (wait > TimeSpan.Zero)
            {
                Task.Delay(wait, context.Cancellation).GetAwaiter().GetResult();
            }
        }

        /// <summary>Throws for 4xx/5xx (after Azure.Core's retries), with ARM's error code and message.</summary>
        public static void ThrowIfError(ArmResponse r, string method, string path)
        {
            if (r.Status >= 400)
            {
                throw new ArmRequestException(r.Status, $"{method} {path}: HTTP {r.Status} {ErrorCodeOf(r.Body)}: {ErrorMessageOf(r.Body)}");
            }
        }

        private static string ErrorCodeOf(JsonElement? body) =>
            body is JsonElement b && b.ValueKind == JsonValueKind.Object && b.TryGetProperty("error", out JsonElement e) && e.ValueKind == JsonValueKind.Object && e.TryGetProperty("code", out JsonElement c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : string.Empty;

        private static string ErrorMessageOf(JsonElement? body) =>
            body is JsonElement b && b.ValueKind == JsonValueKind.Object && b.TryGetProperty("error", out JsonElement e) && e.ValueKind == JsonValueKind.Object && e.TryGetProperty("message", out JsonElement m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "(no error message)";
    }

    /// <summary>A Resource Manager answer that was an error, after retries; the message is redacted.</summary>
    internal sealed class ArmRequestException : AzureLinuxImageException
    {
        public ArmRequestException(int status, string message)
            : base("ArmRequestFailed", status == 401 || status == 403 ? ErrorKind.InvalidArgument : status == 404 ? ErrorKind.NotFound : status == 409 ? ErrorKind.AlreadyExists : ErrorKind.ResourceUnavailable,
                SecretRedaction.Redact(message))
        {
        }
    }
}
