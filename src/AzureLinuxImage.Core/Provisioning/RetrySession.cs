using System;
using System.Diagnostics;
using System.IO;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>The outcome of one HTTP attempt: a status and a body, or the transport problem.</summary>
    internal sealed class HttpAttempt
    {
        private HttpAttempt(int? status, byte[] body, string? problem, TimeSpan? retryAfter = null)
        {
            Status = status;
            Body = body;
            Problem = problem;
            RetryAfter = retryAfter;
        }

        public int? Status { get; }
        public byte[] Body { get; }
        /// <summary>The response's Retry-After (RFC 9110 10.2.3: seconds or an HTTP date), as a delay from now; null when absent.</summary>
        public TimeSpan? RetryAfter { get; }
        /// <summary>Why no complete response arrived (connection refused, timeout, reset ...).</summary>
        public string? Problem { get; }

        public static HttpAttempt Response(int status, byte[] body, TimeSpan? retryAfter = null) => new HttpAttempt(status, body, null, retryAfter);
        public static HttpAttempt Failed(string problem) => new HttpAttempt(null, Array.Empty<byte>(), problem);

        /// <summary>The body as text, shortened and without control characters, for messages.</summary>
        public string BodyExcerpt(int max = 300)
        {
            string text = System.Text.Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, max * 4));
            var sb = new System.Text.StringBuilder();
            foreach (char c in text)
            {
                if (sb.Length >= max)
                {
                    sb.Append("...");
                    break;
                }
                sb.Append(char.IsControl(c) ? ' ' : c);
            }
            return sb.ToString().Trim();
        }
    }

    /// <summary>
    /// One operation's attempts under a <see cref="RetryPolicy"/>: counts attempts, bounds every request
    /// by min(request timeout, what is left of the budget), pauses between failures, and never waits past
    /// the budget. Cancellation of the caller's token is honoured at once and surfaces as
    /// <see cref="OperationCanceledException"/>; a timeout is an ordinary failed attempt.
    /// </summary>
    internal sealed class RetrySession
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _consecutiveFailures;
        private int _consecutiveThrottles;
        private string? _lastProblem;

        public RetrySession(RetryPolicy policy, CancellationToken cancellationToken)
        {
            Policy = policy;
            CancellationToken = cancellationToken;
        }

        public RetryPolicy Policy { get; }
        public CancellationToken CancellationToken { get; }
        public int Attempts { get; private set; }
        public TimeSpan Elapsed => _clock.Elapsed;
        public TimeSpan Remaining => Policy.TotalBudget - _clock.Elapsed;

        /// <summary>
        /// Sends one request and reads at most <paramref name="maxBodyBytes"/> of its body; with
        /// <paramref name="successBodyUnused"/> a 2xx body is not read at all (its size cannot fail the request).
        /// </summary>
        public async Task<HttpAttempt> SendAsync(HttpClient client, Func<HttpRequestMessage> createRequest, int maxBodyBytes, string what, bool successBodyUnused = false)
        {
            CancellationToken.ThrowIfCancellationRequested();
            TimeSpan remaining = Remaining;
            if (remaining <= TimeSpan.Zero)
            {
                // Nothing left to try with: report the last real problem, not the empty budget.
                return HttpAttempt.Failed(_lastProblem ?? "the budget was used up before the first request");
            }
            TimeSpan timeout = Policy.RequestTimeout < remaining ? Policy.RequestTimeout : remaining;
            Attempts++;
            using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken);
            attemptCts.CancelAfter(timeout);
            try
            {
                using HttpRequestMessage request = createRequest();
                using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptCts.Token).ConfigureAwait(false);
                // Disposing the response aborts a body read that ignores the token (.NET Framework).
                int status = (int)response.StatusCode;
                if (successBodyUnused && status >= 200 && status <= 299)
                {
                    return HttpAttempt.Response(status, Array.Empty<byte>());
                }
                using (attemptCts.Token.Register(() => response.Dispose()))
                {
                    byte[] body = await ReadBodyAsync(response, maxBodyBytes, what, attemptCts.Token).ConfigureAwait(false);
                    return HttpAttempt.Response(status, body, RetryAfterOf(response));
                }
            }
            catch (Exception e) when (CancellationToken.IsCancellationRequested && !(e is AzureLinuxImageException))
            {
                throw new OperationCanceledException("The operation was cancelled.", e, CancellationToken);
            }
            catch (Exception e) when (attemptCts.IsCancellationRequested && (e is OperationCanceledException || e is IOException || e is ObjectDisposedException || e is HttpRequestException))
            {
                return HttpAttempt.Failed(FormattableString.Invariant($"no complete response within {timeout.TotalSeconds:0.###} s"));
            }
            catch (HttpRequestException e)
            {
                return HttpAttempt.Failed(Innermost(e));
            }
            catch (IOException e)
            {
                return HttpAttempt.Failed(Innermost(e));
            }
        }

        /// <summary>The previous attempt succeeded: the backoff starts again from its first step.</summary>
        public void Succeeded()
        {
            _consecutiveFailures = 0;
            _consecutiveThrottles = 0;
        }

        /// <summary>
        /// Pauses before the next attempt: the server's <paramref name="retryAfter"/> when it gave one (but
        /// never less than the policy's backoff), else the policy's backoff (exponential over throttling answers in a row). When the pause would
        /// reach past the budget, throws the budget-exhausted error instead of sleeping only to fail.
        /// </summary>
        public async Task PauseAsync(bool throttled, string errorId, string target, string lastProblem, TimeSpan? retryAfter = null)
        {
            _lastProblem = lastProblem;
            _consecutiveFailures++;
            _consecutiveThrottles = throttled ? _consecutiveThrottles + 1 : 0;
            TimeSpan delay = Policy.DelayAfter(_consecutiveFailures, throttled, _consecutiveThrottles);
            if (retryAfter != null)
            {
                // Never sooner than our own backoff: a server repeating "Retry-After: 0" is not hammered.
                delay = retryAfter.Value > delay ? retryAfter.Value : delay;
                if (Remaining <= delay)
                {
                    throw Exhausted(errorId, target, FormattableString.Invariant(
                        $"{lastProblem}; the server asked to wait {delay.TotalSeconds:0.###} s (Retry-After), past what is left of the budget"));
                }
            }
            if (Remaining <= delay)
            {
                throw Exhausted(errorId, target, lastProblem);
            }
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, CancellationToken).ConfigureAwait(false);
            }
        }

        public AzureLinuxImageException Exhausted(string errorId, string target, string lastProblem) =>
            new AzureLinuxImageException(errorId, ErrorKind.ResourceUnavailable, FormattableString.Invariant(
                $"{target} did not answer successfully within the {Policy.TotalBudget.TotalSeconds:0.###} s budget ({Attempts} attempt(s) in {Elapsed.TotalSeconds:0.0} s); last problem: {lastProblem}. Check that the VM runs in Azure with its network up, or allow more time."));

        /// <summary>Retry-After as a delay from now (a date in the past is no delay); null when absent or invalid.</summary>
        internal static TimeSpan? RetryAfterOf(HttpResponseMessage response)
        {
            RetryConditionHeaderValue? value = response.Headers.RetryAfter;
            if (value?.Delta is TimeSpan delta)
            {
                return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
            }
            if (value?.Date is DateTimeOffset date)
            {
                TimeSpan wait = date - DateTimeOffset.UtcNow;
                return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
            }
            return null;
        }

        private static async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, int maxBodyBytes, string what, CancellationToken token)
        {
            long? declared = response.Content.Headers.ContentLength;
            if (declared > maxBodyBytes)
            {
                throw TooLarge(what, maxBodyBytes);
            }
            using Stream stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            var buffer = new byte[Math.Min(maxBodyBytes + 1, (int)(declared ?? 16384) + 1)];
            using var collected = new MemoryStream();
            while (true)
            {
                int n = await stream.ReadAsync(buffer, 0, buffer.Length, token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                if (collected.Length + n > maxBodyBytes)
                {
                    throw TooLarge(what, maxBodyBytes);
                }
                collected.Write(buffer, 0, n);
            }
            return collected.ToArray();
        }

        private static AzureLinuxImageException TooLarge(string what, int max) =>
            new AzureLinuxImageException("ResponseTooLarge", ErrorKind.InvalidData,
                $"{what} sent a response larger than {max} bytes; refusing to read it.");

        private static string Innermost(Exception e)
        {
            while (e.InnerException != null)
            {
                e = e.InnerException;
            }
            return e.Message;
        }
    }
}
