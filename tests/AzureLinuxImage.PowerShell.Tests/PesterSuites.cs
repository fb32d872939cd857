using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace AzureLinuxImage.PowerShellTests
{
    /// <summary>
    /// Every Pester test of tests/AzureLinuxImage.Tests/*.Tests.ps1 as one xUnit case, plus one case per
    /// suite for what belongs to no test (a file that does not load, a failing BeforeAll/AfterAll). The
    /// tests are found by Pester's own discovery when xUnit enumerates cases; each suite then runs once,
    /// in its own pwsh process, two suites at a time, and each case reports its test's result.
    /// </summary>
    public sealed class PesterSuites : IClassFixture<PesterRuns>
    {
        private const string SuiteKey = "";
        private readonly PesterRuns runs;

        public PesterSuites(PesterRuns runs) => this.runs = runs;

        public static IEnumerable<TheoryDataRow<string, string>> Cases()
        {
            var suites = PowerShellHost.Suites();
            if (suites.Count == 0)
            {
                throw new InvalidOperationException("No *.Tests.ps1 in " + PowerShellHost.SuiteFolder);
            }
            var discovered = PesterRuns.Discover(suites);
            foreach (string suite in suites)
            {
                string name = Path.GetFileName(suite);
                yield return new TheoryDataRow<string, string>(name, SuiteKey) { TestDisplayName = $"{name} (suite: loads, BeforeAll/AfterAll)" };
                var container = discovered.FirstOrDefault(c => SameFile(c.File, suite));
                foreach (var test in container?.Tests ?? new List<PesterTest>())
                {
                    yield return new TheoryDataRow<string, string>(name, test.Key) { TestDisplayName = $"{name}: {test.Name}" };
                }
            }
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public async Task Pester(string suite, string key)
        {
            var run = await this.runs.GetAsync(Path.Combine(PowerShellHost.SuiteFolder, suite)).ConfigureAwait(true);
            var container = run.Containers.FirstOrDefault();
            if (key == SuiteKey)
            {
                TestContext.Current.TestOutputHelper?.WriteLine(run.Process.StdOut);
                if (container == null)
                {
                    Assert.Fail($"{suite} produced no Pester result.\n{run.Process}");
                }
                var failures = new List<string>();
                if (!string.IsNullOrEmpty(container.Message))
                {
                    failures.Add(container.Message);
                }
                var discoveredKeys = new HashSet<string>(run.DiscoveredKeys, StringComparer.Ordinal);
                foreach (var t in container.Tests.Where(t => !discoveredKeys.Contains(t.Key) && t.Result != "Passed"))
                {
                    failures.Add($"{t.Name}: {t.Result} (not found by discovery, so it has no case of its own)\n{t.Message}");
                }
                if (run.Process.ExitCode != 0)
                {
                    failures.Add(run.Process.ToString());
                }
                Assert.True(failures.Count == 0, $"{suite}:\n" + string.Join("\n\n", failures));
                return;
            }

            var test = container?.Tests.FirstOrDefault(t => t.Key == key);
            if (test == null)
            {
                Assert.Fail($"{suite}: the test '{key}' was discovered but did not run.\n{container?.Message}\n{run.Process}");
                return;
            }
            switch (test.Result)
            {
                case "Passed":
                    return;
                case "Skipped":
                    string reason = string.IsNullOrEmpty(test.Message) ? "skipped by the suite" : test.Message;
                    if (PowerShellHost.InCi)
                    {
                        Assert.Fail($"{test.Name}: skipped under CI=true, where nothing may be skipped ({reason}). CI must install what it needs: see .ci/run.");
                    }
                    Assert.Skip(reason);
                    return;
                default:
                    Assert.Fail($"{test.Name}: {test.Result}\n{test.Message}");
                    return;
            }
        }

        private static bool SameFile(string a, string b) =>
            string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    /// <summary>Runs the suites once each, all started on the first request so they overlap (two pwsh at a time).</summary>
    public sealed class PesterRuns : IDisposable
    {
        // A hung suite fails all its cases after this, instead of holding the test run.
        private static readonly TimeSpan SuiteTimeout = TimeSpan.FromMinutes(15);
        private readonly ConcurrentDictionary<string, Lazy<Task<SuiteRun>>> runs = new(StringComparer.Ordinal);
        private readonly SemaphoreSlim slots = new(Math.Max(2, Environment.ProcessorCount));
        private readonly string workRoot = Directory.CreateTempSubdirectory("azli-pester-").FullName;
        private int started;

        public Task<SuiteRun> GetAsync(string suite)
        {
            if (Interlocked.Exchange(ref this.started, 1) == 0)
            {
                foreach (string s in PowerShellHost.Suites())
                {
                    _ = this.Start(s);
                }
            }
            return this.Start(suite);
        }

        private Task<SuiteRun> Start(string suite) =>
            this.runs.GetOrAdd(Path.GetFullPath(suite), s => new Lazy<Task<SuiteRun>>(() => Task.Run(() => this.RunAsync(s)))).Value;

        private async Task<SuiteRun> RunAsync(string suite)
        {
            await this.slots.WaitAsync().ConfigureAwait(false);
            try
            {
                string dir = Path.Combine(this.workRoot, Path.GetFileNameWithoutExtension(suite));
                Directory.CreateDirectory(dir);
                string resultPath = Path.Combine(dir, "pester-result.json");
                string runner = Path.Combine(AppContext.BaseDirectory, "Invoke-PesterSuite.ps1");
                var process = await PowerShellHost.RunAsync(dir, new[] { "-File", runner, "-Path", suite, "-PesterModule", PowerShellHost.PesterModule, "-ResultPath", resultPath }, SuiteTimeout).ConfigureAwait(false);
                var containers = File.Exists(resultPath) ? Read(resultPath) : new List<PesterContainer>();
                // Discovery keys again, to flag tests that only exist when run (their results have no case).
                var keys = containers.SelectMany(c => c.Tests).Select(t => t.Key).ToList();
                return new SuiteRun(process, containers, DiscoveredKeysOf(suite) ?? keys);
            }
            finally
            {
                this.slots.Release();
            }
        }

        private static readonly ConcurrentDictionary<string, IReadOnlyList<string>> DiscoveredKeysCache = new(StringComparer.Ordinal);

        private static IReadOnlyList<string>? DiscoveredKeysOf(string suite) =>
            DiscoveredKeysCache.TryGetValue(Path.GetFullPath(suite), out var keys) ? keys : null;

        /// <summary>Pester's discovery of every suite in one pwsh (Run.SkipRun): the tests, not run.</summary>
        public static List<PesterContainer> Discover(IReadOnlyList<string> suites)
        {
            string dir = Directory.CreateTempSubdirectory("azli-pester-discovery-").FullName;
            try
            {
                string resultPath = Path.Combine(dir, "discovery.json");
                var args = new List<string> { "-File", Path.Combine(AppContext.BaseDirectory, "Invoke-PesterSuite.ps1"), "-Discover", "-PesterModule", PowerShellHost.PesterModule, "-ResultPath", resultPath, "-Path" };
                args.Add(string.Join(Path.PathSeparator, suites));
                var process = PowerShellHost.Run(dir, args, TimeSpan.FromMinutes(5));
                if (process.ExitCode != 0 || !File.Exists(resultPath))
                {
                    throw new InvalidOperationException("Pester discovery failed.\n" + process);
                }
                var containers = Read(resultPath);
                foreach (var c in containers)
                {
                    DiscoveredKeysCache[Path.GetFullPath(c.File)] = c.Tests.Select(t => t.Key).ToList();
                }
                return containers;
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        private static List<PesterContainer> Read(string path)
        {
            var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };
            return JsonSerializer.Deserialize<List<PesterContainer>>(File.ReadAllText(path, Encoding.UTF8), options) ?? new List<PesterContainer>();
        }

        public void Dispose()
        {
            this.slots.Dispose();
            try
            {
                Directory.Delete(this.workRoot, recursive: true);
            }
            catch (IOException)
            {
                // A suite left a file open or a mount: the temporary folder stays, the results do not depend on it.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    public sealed record SuiteRun(PwshResult Process, List<PesterContainer> Containers, IReadOnlyList<string> DiscoveredKeys);

    public sealed class PesterContainer
    {
        public string File { get; set; } = string.Empty;
        public string Result { get; set; } = string.Empty;
        public string? Message { get; set; }
        public List<PesterTest> Tests { get; set; } = new();
    }

    public sealed class PesterTest
    {
        public string Key { get; set; } = string.Empty;
        public string Name { get; set; } = string.Empty;
        public string Result { get; set; } = string.Empty;
        public string? Message { get; set; }
        public long DurationMs { get; set; }
    }
}
