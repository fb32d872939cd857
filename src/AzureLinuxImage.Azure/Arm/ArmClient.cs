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

        /// <summary>The longest one long-running operation is waited for (PublishOptions.OperationTimeout).</summary>
        private readonly TimeSpan operationTimeout;

        public ArmClient(Uri endpoint, TokenCredential credential, ArmClientOptions options, IOperationContext context, TimeSpan operationTimeout)
        {
            if (endpoint.Scheme != Uri.UriSchemeHttps)
            {
                // Azure.Core would refuse the bearer token later with a raw exception.
                throw new AzureLinuxImageException("CredentialNeedsHttps", ErrorKind.InvalidArgument,
                    $"{endpoint} is not an https URL: Resource Manager tokens are only sent over https.");
            }
            this.endpoint = endpoint;
            this.context = context;
            this.operationTimeout = operationTimeout;
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
        /// <paramref name="accepted"/> runs once Resource Manager has taken the request, before any poll: from then
        /// on the resource exists in Azure whatever happens to this process.
        /// Throws <see cref="ArmRequestException"/> for an error answer or a failed operation and
        /// <see cref="ArmOperationTimedOutException"/> when the operation outlives the operation timeout.
        /// </summary>
        public JsonElement? SendAndWait(string method, string path, string apiVersion, object? body, string what, Action? accepted = null)
        {
            ArmResponse first = Send(method, path, apiVersion, body);
            ThrowIfError(first, method, path);
            accepted?.Invoke();
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

        /// <summary>
        /// A resource found mid-operation (provisioningState Creating, Updating…: an earlier run's PUT that this
        /// process stopped waiting for) is polled with GETs until its state is final, under the same deadline.
        /// Returns the last body seen.
        /// </summary>
        public JsonElement WaitWhileProvisioning(string path, string apiVersion, JsonElement resource, string what)
        {
            string? state = ProvisioningStateOf(resource);
            if (state == null || IsFinal(state))
            {
                return resource;
            }
            context.Verbose($"{path} is {state}: waiting for {what} to finish.");
            JsonElement last = resource;
            return Poll<JsonElement>(DefaultPoll, what, "GET", path, () =>
            {
                ArmResponse r = Send("GET", path, apiVersion);
                ThrowIfError(r, "GET", path);
                if (r.Body is JsonElement b)
                {
                    last = b;
                }
                string now = ProvisioningStateOf(last) ?? "Succeeded";
                return (IsFinal(now), now, last, r.RetryAfter);
            });
        }

        /// <summary>properties.provisioningState, or null when the resource does not say.</summary>
        public static string? ProvisioningStateOf(JsonElement resource) =>
            resource.ValueKind == JsonValueKind.Object && resource.TryGetProperty("properties", out JsonElement p) && p.ValueKind == JsonValueKind.Object
            && p.TryGetProperty("provisioningState", out JsonElement s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;

        private static bool IsFinal(string state) =>
            string.Equals(state, "Succeeded", StringComparison.OrdinalIgnoreCase) || string.Equals(state, "Failed", StringComparison.OrdinalIgnoreCase)
            || string.Equals(state, "Canceled", StringComparison.OrdinalIgnoreCase);

        private JsonElement? Poll(ArmResponse first, string what, string method, string path)
        {
            TimeSpan wait = first.RetryAfter ?? DefaultPoll;
            if (first.AsyncOperation != null)
            {
                Uri status = new Uri(first.AsyncOperation);
                return Poll<JsonElement?>(wait, what, method, path, () =>
                {
                    ArmResponse r = SendTo("GET", status, null);
                    ThrowIfError(r, "GET", status.AbsolutePath);
                    string state = r.Body is JsonElement b && b.ValueKind == JsonValueKind.Object && b.TryGetProperty("status", out JsonElement s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : string.Empty;
                    if (string.Equals(state, "Succeeded", StringComparison.OrdinalIgnoreCase))
                    {
                        if (method == "POST" && first.Location != null)
                        {
                            ArmResponse result = SendTo("GET", new Uri(first.Location), null);
                            ThrowIfError(result, "GET", new Uri(first.Location).AbsolutePath);
                            return (true, state, result.Body, null);
                        }
                        JsonElement? output = r.Body is JsonElement sb && sb.ValueKind == JsonValueKind.Object && sb.TryGetProperty("properties", out JsonElement p)
                            && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("output", out JsonElement o) ? o : (JsonElement?)null;
                        return (true, state, output, null);
                    }
                    if (string.Equals(state, "Failed", StringComparison.OrdinalIgnoreCase) || string.Equals(state, "Canceled", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new ArmRequestException(r.Status, $"{method} {path}: the operation {state}: {ErrorMessageOf(r.Body)}");
                    }
                    return (false, state.Length == 0 ? "(no status)" : state, null, r.RetryAfter);
                });
            }
            Uri location = new Uri(first.Location!);
            return Poll<JsonElement?>(wait, what, method, path, () =>
            {
                ArmResponse r = SendTo("GET", location, null);
                ThrowIfError(r, "GET", location.AbsolutePath);
                return r.Status != 202 ? (true, "Succeeded", r.Body, null) : (false, "InProgress", (JsonElement?)null, r.RetryAfter);
            });
        }

        /// <summary>
        /// The polling loop: wait, probe, until the probe says done or the operation timeout has passed. A wait
        /// is capped to the time left, and the probe after it still runs, so an operation that finished within the
        /// deadline is never failed for it; only a probe at or past the deadline that is not done throws.
        /// </summary>
        private T Poll<T>(TimeSpan wait, string what, string method, string path, Func<(bool Done, string State, T Result, TimeSpan? RetryAfter)> probe)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                bool last = Sleep(wait, operationTimeout - clock.Elapsed);
                (bool done, string state, T result, TimeSpan? retryAfter) = probe();
                context.Progress("Publishing to Azure", $"{what}: {state} ({clock.Elapsed.TotalSeconds:F0} s)", 0, 1);
                if (done)
                {
                    return result;
                }
                if (last || clock.Elapsed >= operationTimeout)
                {
                    throw new ArmOperationTimedOutException(what, method, path, state, clock.Elapsed, operationTimeout);
                }
                wait = retryAfter ?? DefaultPoll;
            }
        }

        /// <summary>Waits at most <see cref="MaxPoll"/> and at most <paramref name="left"/>; true when the deadline cut it (the probe after it is the last).</summary>
        private bool Sleep(TimeSpan wait, TimeSpan left)
        {
            if (wait > MaxPoll)
            {
                wait = MaxPoll;
            }
            bool last = wait >= left;
            if (last)
            {
                wait = left;
            }
            if (wait > TimeSpan.Zero)
            {
                Task.Delay(wait, context.Cancellation).GetAwaiter().GetResult();
            }
            return last;
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

    /// <summary>
    /// A long-running operation still unfinished when the operation timeout ran out. It names what was waited
    /// for, the resource, the last state Azure reported and the time waited; Azure may still finish it.
    /// </summary>
    internal sealed class ArmOperationTimedOutException : AzureLinuxImageException
    {
        public ArmOperationTimedOutException(string what, string method, string path, string lastState, TimeSpan elapsed, TimeSpan timeout)
            : base("ArmOperationTimedOut", ErrorKind.OperationTimeout, SecretRedaction.Redact(
                $"{char.ToUpperInvariant(what[0])}{what.Substring(1)} ({method} {path}) did not finish within the operation timeout ({Describe(timeout)}): Azure still reported it {lastState} after {Describe(elapsed)}. "
                + "The operation may still complete in Azure. Run the same command again to resume (what exists is checked and reused), or allow longer with -OperationTimeout (--operation-timeout)."))
        {
            What = what;
            Path = path;
            LastState = lastState;
            Elapsed = elapsed;
        }

        public string What { get; }

        public string Path { get; }

        public string LastState { get; }

        public TimeSpan Elapsed { get; }

        /// <summary>"1.6 s" under a minute, else "1:05:00" (h:mm:ss).</summary>
        internal static string Describe(TimeSpan t) =>
            t < TimeSpan.FromMinutes(1) ? t.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s"
            : $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}";
    }
}
