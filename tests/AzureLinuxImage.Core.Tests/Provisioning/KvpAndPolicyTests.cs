using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Provisioning;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Provisioning
{
    public class KvpAndPolicyTests
    {
        [Fact]
        public void ARecordIs512PlusHalfAKibibyteNulPadded()
        {
            using var dir = new TempDirectory();
            string pool = dir.File(".kvp_pool_1");
            File.WriteAllBytes(pool, Array.Empty<byte>());
            KvpPool.Append(pool, "PROVISIONING_REPORT", "result=success|agent=x", CancellationToken.None);
            byte[] bytes = File.ReadAllBytes(pool);
            Assert.Equal(512 + 2048, bytes.Length);
            Assert.Equal("PROVISIONING_REPORT", Encoding.UTF8.GetString(bytes, 0, 19));
            Assert.All(bytes.Skip(19).Take(512 - 19), b => Assert.Equal(0, b));
            Assert.Equal("result=success|agent=x", Encoding.UTF8.GetString(bytes, 512, 22));
            Assert.All(bytes.Skip(512 + 22), b => Assert.Equal(0, b));
        }

        [Fact]
        public void ConcurrentAppendsKeepEveryRecordWhole()
        {
            using var dir = new TempDirectory();
            string pool = dir.File(".kvp_pool_1");
            File.WriteAllBytes(pool, Array.Empty<byte>());
            Parallel.For(0, 4, t =>
            {
                for (int i = 0; i < 10; i++)
                {
                    KvpPool.Append(pool, $"K{t}-{i}", new string((char)('a' + t), 2000), CancellationToken.None);
                }
            });
            var records = KvpPool.ReadAll(File.ReadAllBytes(pool));
            Assert.Equal(40, records.Length);
            Assert.Equal(40, records.Select(r => r.Key).Distinct().Count());
            Assert.All(records, r => Assert.Equal(new string((char)('a' + (r.Key[1] - '0')), 2000), r.Value));
        }

        [Fact]
        public void LongValuesAreCutAtAWholeCharacterLeavingANul()
        {
            byte[] record = KvpPool.EncodeRecord("k", string.Concat(Enumerable.Repeat("é\U0001F600", 1000)));
            int end = Array.IndexOf(record, (byte)0, 512);
            Assert.InRange(end - 512, 2040, 2047);
            // Valid UTF-8 up to the NUL: nothing was split.
            string value = new UTF8Encoding(false, true).GetString(record, 512, end - 512);
            Assert.False(char.IsHighSurrogate(value[value.Length - 1]));
        }

        [Fact]
        public void AMissingPoolIsATypedError()
        {
            using var dir = new TempDirectory();
            Assert.Equal("KvpPoolNotFound", Assert.Throws<AzureLinuxImageException>(() =>
                KvpPool.Append(dir.File("none"), "k", "v", CancellationToken.None)).ErrorId);
        }

        [Fact]
        public void DefaultsFollowTheAgents()
        {
            // PROTOCOL.md "Retries": WALinuxAgent 10 s per request, 2/3/5/8/13 s, 1 s after throttling;
            // cloud-init and azure-init wait up to 20 minutes at first boot.
            RetryPolicy wire = RetryPolicy.WireServerDefault;
            Assert.Equal(TimeSpan.FromSeconds(10), wire.RequestTimeout);
            Assert.Equal(TimeSpan.FromMinutes(20), wire.TotalBudget);
            Assert.Equal(new[] { 2.0, 3, 5, 8, 13 }, wire.Backoff.Select(b => b.TotalSeconds));
            Assert.Equal(TimeSpan.FromSeconds(1), wire.ThrottleDelay);
            Assert.Equal(TimeSpan.FromSeconds(2), wire.DelayAfter(1, false));
            Assert.Equal(TimeSpan.FromSeconds(13), wire.DelayAfter(5, false));
            Assert.Equal(TimeSpan.FromSeconds(13), wire.DelayAfter(50, false));
            Assert.Equal(TimeSpan.FromSeconds(1), wire.DelayAfter(3, true));

            // IMDS: cloud-init 30 s per request and a 300 s deadline; azure-init every 2 s.
            RetryPolicy imds = RetryPolicy.ImdsDefault;
            Assert.Equal(TimeSpan.FromSeconds(30), imds.RequestTimeout);
            Assert.Equal(TimeSpan.FromSeconds(300), imds.TotalBudget);
            Assert.Equal(TimeSpan.FromSeconds(2), imds.DelayAfter(7, false));
        }

        [Fact]
        public void PoliciesAreValidatedAndBudgetsCapTheRequestTimeout()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(TimeSpan.Zero, TimeSpan.FromSeconds(1), new[] { TimeSpan.Zero }, TimeSpan.Zero));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(TimeSpan.FromSeconds(1), TimeSpan.Zero, new[] { TimeSpan.Zero }, TimeSpan.Zero));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), Array.Empty<TimeSpan>(), TimeSpan.Zero));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), new[] { TimeSpan.FromSeconds(-1) }, TimeSpan.Zero));
            RetryPolicy short30 = RetryPolicy.WireServerDefault.WithTotalBudget(TimeSpan.FromSeconds(3));
            Assert.Equal(TimeSpan.FromSeconds(3), short30.TotalBudget);
            Assert.Equal(TimeSpan.FromSeconds(3), short30.RequestTimeout);
        }

        [Fact]
        public void HostnamesAreValidatedAndWrittenUnderTheRoot()
        {
            using var root = new TempDirectory();
            HostnameOutcome outcome = HostnameSetter.Apply("web-01", root.Path, applyToRunningSystem: false, TimeSpan.FromSeconds(5));
            Assert.Equal("web-01\n", File.ReadAllText(Path.Combine(root.Path, "etc", "hostname")));
            Assert.Null(outcome.CommandRun);
            HostnameSetter.Apply("web-02", root.Path, applyToRunningSystem: false, TimeSpan.FromSeconds(5));
            Assert.Equal("web-02\n", File.ReadAllText(Path.Combine(root.Path, "etc", "hostname")));
            Assert.Single(Directory.GetFiles(Path.Combine(root.Path, "etc")));
            foreach (string bad in new[] { "", "-web", "web_01", "a b", "x;rm -rf", new string('a', 64), "a..b", "web\tx" })
            {
                Assert.Equal("InvalidHostname", Assert.Throws<AzureLinuxImageException>(() => HostnameSetter.Validate(bad)).ErrorId);
            }
        }
    }
}
