using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>
    /// How long the wire server and IMDS clients wait and retry. Every request has a timeout, the whole
    /// operation a budget it never exceeds, and the pause between attempts follows <see cref="Backoff"/>
    /// (its last entry repeats), or <see cref="ThrottleDelay"/> after a throttling answer. Defaults follow
    /// the Azure agents (PROTOCOL.md "Retries"). Immutable.
    /// </summary>
    public sealed class RetryPolicy
    {
        /// <summary>Creates a policy; every time must be positive and the backoff list non-empty.</summary>
        public RetryPolicy(TimeSpan requestTimeout, TimeSpan totalBudget, IEnumerable<TimeSpan> backoff, TimeSpan throttleDelay)
        {
            TimeSpan[] steps = (backoff ?? throw new ArgumentNullException(nameof(backoff))).ToArray();
            if (requestTimeout <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(requestTimeout), "The per-request timeout must be positive.");
            }
            if (totalBudget <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(totalBudget), "The total budget must be positive.");
            }
            if (steps.Length == 0 || steps.Any(s => s < TimeSpan.Zero))
            {
                throw new ArgumentOutOfRangeException(nameof(backoff), "The backoff needs at least one non-negative delay.");
            }
            if (throttleDelay < TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(throttleDelay), "The throttle delay cannot be negative.");
            }
            RequestTimeout = requestTimeout;
            TotalBudget = totalBudget;
            Backoff = steps;
            ThrottleDelay = throttleDelay;
        }

        /// <summary>Longest wait for one request: connecting, the response headers and the whole body.</summary>
        public TimeSpan RequestTimeout { get; }

        /// <summary>Longest time for the whole operation, all attempts and pauses included.</summary>
        public TimeSpan TotalBudget { get; }

        /// <summary>Pauses after the 1st, 2nd ... failure; the last one repeats.</summary>
        public IReadOnlyList<TimeSpan> Backoff { get; }

        /// <summary>Pause after a first throttling answer (403, 429, 503 from the wire server; 429 from IMDS) without Retry-After; doubled for each further one in a row.</summary>
        public TimeSpan ThrottleDelay { get; }

        /// <summary>
        /// Wire server default: 10 s per request and the 2, 3, 5, 8, 13 s backoff of WALinuxAgent, 1 s after
        /// throttling, and the 20-minute first-boot budget of cloud-init and azure-init, so a network that
        /// comes up late is waited for.
        /// </summary>
        public static RetryPolicy WireServerDefault => new RetryPolicy(
            TimeSpan.FromSeconds(10),
            TimeSpan.FromMinutes(20),
            new[] { 2, 3, 5, 8, 13 }.Select(s => TimeSpan.FromSeconds(s)),
            TimeSpan.FromSeconds(1));

        /// <summary>IMDS default: 30 s per request and a 300 s deadline (cloud-init), a retry every 2 s (azure-init).</summary>
        public static RetryPolicy ImdsDefault => new RetryPolicy(
            TimeSpan.FromSeconds(30),
            TimeSpan.FromSeconds(300),
            new[] { TimeSpan.FromSeconds(2) },
            TimeSpan.FromSeconds(2));

        /// <summary>Returns a copy whose total budget is <paramref name="totalBudget"/> (and whose request timeout is capped by it).</summary>
        public RetryPolicy WithTotalBudget(TimeSpan totalBudget) =>
            new RetryPolicy(RequestTimeout < totalBudget ? RequestTimeout : totalBudget, totalBudget, Backoff, ThrottleDelay);

        /// <summary>Repeated throttling doubles the pause up to this (issue 16), unless Retry-After says otherwise.</summary>
        internal static readonly TimeSpan MaxThrottleBackoff = TimeSpan.FromSeconds(60);

        /// <summary>
        /// The pause after the <paramref name="failures"/>-th consecutive failure (1-based); after the
        /// <paramref name="throttles"/>-th throttling answer in a row, <see cref="ThrottleDelay"/> doubled each
        /// time, at most <see cref="MaxThrottleBackoff"/> (or the throttle delay when that is longer).
        /// </summary>
        internal TimeSpan DelayAfter(int failures, bool throttled, int throttles = 1)
        {
            if (throttled)
            {
                double factor = Math.Pow(2, Math.Min(Math.Max(throttles, 1) - 1, 30));
                double seconds = ThrottleDelay.TotalSeconds * factor;
                double cap = Math.Max(MaxThrottleBackoff.TotalSeconds, ThrottleDelay.TotalSeconds);
                return TimeSpan.FromSeconds(Math.Min(seconds, cap));
            }
            int index = Math.Min(Math.Max(failures, 1), Backoff.Count) - 1;
            return Backoff[index];
        }

        /// <summary>Short description for messages.</summary>
        public override string ToString() => FormattableString.Invariant(
            $"request timeout {RequestTimeout.TotalSeconds:0.###} s, budget {TotalBudget.TotalSeconds:0.###} s, backoff {string.Join("/", Backoff.Select(b => b.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)))} s, throttle {ThrottleDelay.TotalSeconds:0.###} s");
    }
}
