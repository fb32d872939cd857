using System;
using System.Diagnostics;
using System.Globalization;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// Progress of work measured in bytes (the conversion): each report's status says the bytes
    /// done of the total, the rate since the start and the time left at that rate (issue 23), e.g.
    /// "12.0 of 40.0 MiB, 85.3 MiB/s, 00:00:01 left". The end is reported once, by <see cref="Complete"/>:
    /// the last bytes copied are not the end of the work (a footer, a rename may follow), and a context
    /// shows each completion it is given (a second one a second finished line or bar).
    /// </summary>
    internal sealed class ByteProgress
    {
        private readonly IOperationContext context;
        private readonly string activity;
        private readonly string subject;
        private readonly long total;
        private readonly Func<TimeSpan> elapsed;
        private bool completed;

        public ByteProgress(IOperationContext context, string activity, string subject, long total, Func<TimeSpan>? elapsed = null)
        {
            this.context = context;
            this.activity = activity;
            this.subject = subject;
            this.total = Math.Max(0, total);
            if (elapsed == null)
            {
                Stopwatch clock = Stopwatch.StartNew();
                elapsed = () => clock.Elapsed;
            }
            this.elapsed = elapsed;
        }

        /// <summary>
        /// Reports <paramref name="done"/> bytes of the total, clamped below it (only <see cref="Complete"/> completes
        /// the activity); nothing once completed.
        /// </summary>
        public void Report(long done)
        {
            if (completed || total == 0)
            {
                return;
            }
            done = Math.Max(0, Math.Min(done, total - 1));
            context.Progress(activity, Status(done, total, elapsed()), done, total);
        }

        /// <summary>Completes the activity: the one report of the total; later calls report nothing.</summary>
        public void Complete()
        {
            if (completed)
            {
                return;
            }
            completed = true;
            context.Progress(activity, Status(total, total, elapsed()), total, total);
        }

        /// <summary>"subject: done of total, rate, time left" (time left "--:--:--" until a rate is known).</summary>
        internal string Status(long done, long total, TimeSpan elapsed)
        {
            double seconds = elapsed.TotalSeconds;
            double rate = seconds > 0 ? done / seconds : 0;
            string left = done >= total ? "00:00:00"
                : rate > 0 ? Clock(TimeSpan.FromSeconds(Math.Min((total - done) / rate, TimeSpan.MaxValue.TotalSeconds / 2)))
                : "--:--:--";
            return string.Format(CultureInfo.InvariantCulture, "{0}: {1} of {2}, {3}/s, {4} left", subject, Number(done, total), Size(total, total), Size((long)rate, (long)rate), left);
        }

        /// <summary>The number of <see cref="Size"/> without its unit.</summary>
        internal static string Number(long bytes, long scale)
        {
            string s = Size(bytes, scale);
            return s.Substring(0, s.IndexOf(' '));
        }

        /// <summary>Bytes in the unit that suits <paramref name="scale"/> (so "done of total" share a unit).</summary>
        internal static string Size(long bytes, long scale)
        {
            string[] units = { "B", "KiB", "MiB", "GiB", "TiB" };
            int u = 0;
            double s = scale;
            while (s >= 1024 && u < units.Length - 1)
            {
                s /= 1024;
                u++;
            }
            return u == 0
                ? string.Format(CultureInfo.InvariantCulture, "{0} B", bytes)
                : string.Format(CultureInfo.InvariantCulture, "{0:F1} {1}", bytes / Math.Pow(1024, u), units[u]);
        }

        private static string Clock(TimeSpan t) =>
            string.Format(CultureInfo.InvariantCulture, "{0:00}:{1:00}:{2:00}", (long)t.TotalHours, t.Minutes, t.Seconds);

        /// <inheritdoc/>
        public override string ToString() => $"{activity}: {subject} ({total} bytes)";
    }
}
