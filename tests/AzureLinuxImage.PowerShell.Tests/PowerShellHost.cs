using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace AzureLinuxImage.PowerShellTests
{
    /// <summary>
    /// The real PowerShell 7.6.10 of the repository's tool manifest (.config/dotnet-tools.json), run as
    /// `dotnet tool run pwsh` in child processes: a process per suite keeps suites from sharing session
    /// state, and lets tests send signals and compare runs across processes.
    /// </summary>
    public static class PowerShellHost
    {
        public static string RepoRoot => Metadata("RepoRoot");

        /// <summary>Pester 5.7.1's manifest in the NuGet cache (PackageDownload of the test project).</summary>
        public static string PesterModule => Metadata("PesterModule");

        /// <summary>The module laid out by the build, or AZURELINUXIMAGE_MODULE when the caller names another layout (build.ps1's out/).</summary>
        public static string ModuleManifest =>
            Environment.GetEnvironmentVariable("AZURELINUXIMAGE_MODULE") is { Length: > 0 } fromCaller ? fromCaller : Metadata("ModuleManifest");

        public static string CliDll => Metadata("CliDll");

        /// <summary>The Resource Manager test double (tests/AzureLinuxImage.ArmDouble), for Publish.Tests.ps1.</summary>
        public static string ArmDoubleDll => Metadata("ArmDoubleDll");

        public static string Configuration => Metadata("Configuration");

        public static string SuiteFolder => Path.Combine(RepoRoot, "tests", "AzureLinuxImage.Tests");

        /// <summary>Every Pester suite: the glob the README promises, so new suites run without registration.</summary>
        public static IReadOnlyList<string> Suites() =>
            Directory.GetFiles(SuiteFolder, "*.Tests.ps1").OrderBy(f => f, StringComparer.Ordinal).ToArray();

        public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

        private static string Metadata(string key) =>
            typeof(PowerShellHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
            ?? throw new InvalidOperationException("No assembly metadata " + key);

        /// <summary>Environment every PowerShell child gets: the module under test, the CLI, no colour, no telemetry.</summary>
        public static void Prepare(ProcessStartInfo psi)
        {
            psi.Environment["AZURELINUXIMAGE_MODULE"] = ModuleManifest;
            psi.Environment["AZURELINUXIMAGE_CLI"] = CliDll;
            psi.Environment["AZURELINUXIMAGE_ARMDOUBLE"] = ArmDoubleDll;
            psi.Environment["NO_COLOR"] = "1";
            psi.Environment["TERM"] = "dumb";
            psi.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
            psi.Environment["POWERSHELL_UPDATECHECK"] = "Off";
            psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            psi.Environment["DOTNET_NOLOGO"] = "1";
            // CI may run under Azure Pipelines or GitHub Actions: suites run as on a console unless a test sets a
            // host itself (issue 23, Hosts.Tests.ps1).
            psi.Environment.Remove("TF_BUILD");
            psi.Environment.Remove("GITHUB_ACTIONS");
            psi.Environment.Remove("GITHUB_STEP_SUMMARY");
        }

        /// <summary>A ProcessStartInfo for pwsh with <paramref name="arguments"/>, started in <paramref name="workingDirectory"/>.</summary>
        public static ProcessStartInfo StartInfo(string workingDirectory, IEnumerable<string> arguments)
        {
            // `dotnet tool run` finds the manifest from its own working folder, so it starts in the
            // repository and pwsh moves to the test's folder with -WorkingDirectory.
            var psi = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = RepoRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (string a in new[] { "tool", "run", "pwsh", "--", "-NoLogo", "-NoProfile", "-NonInteractive", "-WorkingDirectory", workingDirectory })
            {
                psi.ArgumentList.Add(a);
            }
            foreach (string a in arguments)
            {
                psi.ArgumentList.Add(a);
            }
            Prepare(psi);
            return psi;
        }

        /// <summary>Runs pwsh to the end (or kills it after <paramref name="timeout"/>) and returns its exit code and output.</summary>
        public static async Task<PwshResult> RunAsync(string workingDirectory, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellation = default)
        {
            var psi = StartInfo(workingDirectory, arguments);
            using var p = new Process { StartInfo = psi };
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            p.OutputDataReceived += (_, e) => { if (e.Data != null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
            p.ErrorDataReceived += (_, e) => { if (e.Data != null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
            var clock = Stopwatch.StartNew();
            p.Start();
            p.StandardInput.Close();
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timer.CancelAfter(timeout);
            bool timedOut = false;
            try
            {
                await p.WaitForExitAsync(timer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            p.WaitForExit();
            lock (stdout)
            {
                lock (stderr)
                {
                    return new PwshResult(timedOut ? -1 : p.ExitCode, stdout.ToString(), stderr.ToString(), timedOut, clock.Elapsed);
                }
            }
        }

        public static PwshResult Run(string workingDirectory, IEnumerable<string> arguments, TimeSpan timeout) =>
            RunAsync(workingDirectory, arguments, timeout).GetAwaiter().GetResult();

        /// <summary>Runs one script text (-Command) in a fresh pwsh in a fresh temporary folder.</summary>
        public static PwshResult Command(string script, TimeSpan? timeout = null)
        {
            string dir = Directory.CreateTempSubdirectory("azli-pwsh-").FullName;
            try
            {
                return Run(dir, new[] { "-Command", script }, timeout ?? TimeSpan.FromMinutes(5));
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    public sealed record PwshResult(int ExitCode, string StdOut, string StdErr, bool TimedOut, TimeSpan Elapsed)
    {
        public override string ToString() =>
            $"pwsh exited {(TimedOut ? "(killed: timed out)" : ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture))} after {Elapsed.TotalSeconds:F1} s\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
    }
}
