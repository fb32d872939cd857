using System;
using System.Collections.Generic;
using System.Linq;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>A work folder and the measuring helpers: wall time, and peak RSS of child processes.</summary>
    internal sealed class Bench : IDisposable
    {
        private readonly ISet<string> shown;

        /// <param name="name">The benchmark: its work folder's name.</param>
        /// <param name="shown">Lines printed once per process, shared by the benchmarks of one run (see <see cref="Once"/>).</param>
        public Bench(string name, ISet<string> shown)
        {
            this.shown = shown;
            string root = Environment.GetEnvironmentVariable("AZLI_BENCH_DIR") ?? "/var/tmp/azli-bench";
            Dir = Path.Combine(root, name);
            if (Directory.Exists(Dir))
            {
                Directory.Delete(Dir, true);
            }
            Directory.CreateDirectory(Dir);
        }

        public string Dir { get; }

        public string File(string name) => Path.Combine(Dir, name);

        /// <summary>True the first time a benchmark of this run asks about <paramref name="what"/>: for lines every benchmark would print alike.</summary>
        public bool Once(string what) => shown.Add(what);

        /// <summary>Runs a command, returning wall seconds and peak resident memory (VmHWM, polled) in MiB.</summary>
        public (double Seconds, double PeakMiB) Run(string exe, params string[] args) => RunAllowingExit(0, exe, args);

        /// <summary>As <see cref="Run"/>, accepting <paramref name="okExit"/> as well as 0.</summary>
        public (double Seconds, double PeakMiB) RunAllowingExit(int okExit, string exe, params string[] args)
        {
            DropCaches();
            return RunWarm(okExit, exe, args);
        }

        /// <summary>As <see cref="Run"/> without touching the page cache (the caller evicted what it measures, or times a start with the runtime's files cached).</summary>
        public (double Seconds, double PeakMiB) RunWarm(string exe, params string[] args) => RunWarm(0, exe, args);

        private (double Seconds, double PeakMiB) RunWarm(int okExit, string exe, string[] args)
        {
            var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in args)
            {
                psi.ArgumentList.Add(a);
            }
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            p.OutputDataReceived += (_, _) => { };
            p.BeginOutputReadLine();
            string err = string.Empty;
            p.ErrorDataReceived += (_, e) => { if (e.Data != null) { err += e.Data + "\n"; } };
            p.BeginErrorReadLine();
            long peakKb = 0;
            while (!p.WaitForExit(5))
            {
                peakKb = Math.Max(peakKb, ReadHwmKb(p.Id));
            }
            sw.Stop();
            if (p.ExitCode != 0 && p.ExitCode != okExit)
            {
                throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed: {err}");
            }
            return (sw.Elapsed.TotalSeconds, peakKb / 1024.0);
        }

        public static (double Seconds, double PeakMiB) Best(int runs, Func<(double, double)> run)
        {
            (double s, double m) best = (double.MaxValue, 0);
            for (int i = 0; i < runs; i++)
            {
                var r = run();
                if (r.Item1 < best.s)
                {
                    best = r;
                }
            }
            return best;
        }

        /// <summary>
        /// The azlinux to time: $AZLI_BENCH_AZLINUX if set, else the CLI published for this machine with
        /// ReadyToRun (`dotnet publish -r linux-x64`, as it is deployed), once per benchmark process; the
        /// JIT build next to the benchmark when publishing fails.
        /// </summary>
        public static string Azlinux => azlinux.Value;

        private static readonly Lazy<string> azlinux = new Lazy<string>(PublishAzlinux);

        private static string PublishAzlinux()
        {
            string? given = Environment.GetEnvironmentVariable("AZLI_BENCH_AZLINUX");
            if (!string.IsNullOrEmpty(given))
            {
                Console.WriteLine($"azlinux: {given}");
                return given;
            }
            string built = Path.Combine(AppContext.BaseDirectory, "azlinux");
            DirectoryInfo? repo = Repository();
            if (repo == null)
            {
                Console.WriteLine($"azlinux: {built} (JIT build; repository not found for a ReadyToRun publish)");
                return built;
            }
            string rid = "linux-" + System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
            string output = Path.Combine(Environment.GetEnvironmentVariable("AZLI_BENCH_DIR") ?? "/var/tmp/azli-bench", "azlinux-" + rid);
            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { "publish", Path.Combine(repo.FullName, "src", "AzureLinuxImage.Cli"), "-c", "Release", "-r", rid, "--self-contained", "false", "-o", output, "-nologo" })
            {
                psi.ArgumentList.Add(a);
            }
            using var p = Process.Start(psi)!;
            string log = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            string exe = Path.Combine(output, "azlinux");
            if (p.ExitCode != 0 || !System.IO.File.Exists(exe))
            {
                Console.WriteLine($"azlinux: {built} (JIT build; dotnet publish -r {rid} failed: {log.Trim()})");
                return built;
            }
            Console.WriteLine($"azlinux: {exe} (dotnet publish -r {rid}, ReadyToRun)");
            return exe;
        }

        /// <summary>The checkout this benchmark was built from (the folder holding AzureLinuxImage.sln), or null.</summary>
        public static DirectoryInfo? Repository()
        {
            DirectoryInfo? repo = new DirectoryInfo(AppContext.BaseDirectory);
            while (repo != null && !System.IO.File.Exists(Path.Combine(repo.FullName, "AzureLinuxImage.sln")))
            {
                repo = repo.Parent;
            }
            return repo;
        }

        private static long ReadHwmKb(int pid)
        {
            try
            {
                foreach (string line in System.IO.File.ReadLines($"/proc/{pid}/status"))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
                    }
                }
            }
            catch (IOException)
            {
            }
            return 0;
        }

        /// <summary>
        /// Best effort: cold page cache for every run (needs root), so no tool reads from memory only. The
        /// dirty pages an unflushed run left are written out first: otherwise the next run would pay for them.
        /// </summary>
        private static void DropCaches()
        {
            Sync();
            try
            {
                System.IO.File.WriteAllText("/proc/sys/vm/drop_caches", "1");
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
            }
            Thread.Sleep(100);
        }

        /// <summary>
        /// Issue 20: dirty data written out, then the page cache emptied of <paramref name="files"/> only
        /// (posix_fadvise DONTNEED), so each run reads its image from disk while both tools' own binaries stay
        /// cached, as for a user converting more than one image; the machine is shared, and dropping every
        /// cache each run slowed the other users' builds and added their noise to ours. AZLI_BENCH_COLD=all
        /// drops the whole page cache instead.
        /// </summary>
        public void Evict(params string[] files)
        {
            if (Environment.GetEnvironmentVariable("AZLI_BENCH_COLD") == "all")
            {
                DropCaches();
                return;
            }
            Sync();
            foreach (string f in files)
            {
                using var fs = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                PosixFadvise((int)fs.SafeFileHandle.DangerousGetHandle(), 0, 0, 4); // POSIX_FADV_DONTNEED
            }
            Thread.Sleep(100);
        }

        /// <summary>What <see cref="Evict"/> does, for the printed report.</summary>
        public string CacheMode => Environment.GetEnvironmentVariable("AZLI_BENCH_COLD") == "all"
            ? "whole page cache dropped before every run (AZLI_BENCH_COLD=all)"
            : "image files evicted from the page cache before every run (binaries stay cached)";

        /// <summary>Bytes the file occupies on disk (st_blocks × 512): what was written, holes left out.</summary>
        public static long AllocatedBytes(string path)
        {
            var psi = new ProcessStartInfo("stat", $"-c %b \"{path}\"") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            string text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return long.Parse(text.Trim()) * 512;
        }

        /// <summary>The middle value (the mean of the two middle ones for an even count).</summary>
        public static double Median(IEnumerable<double> values)
        {
            double[] sorted = values.OrderBy(x => x).ToArray();
            int n = sorted.Length;
            return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
        }

        /// <summary>
        /// Start-up with nothing cached (the whole page cache dropped first), a few times each: what
        /// <see cref="Evict"/> leaves out of the conversion times.
        /// </summary>
        public string ColdStartup(int runs)
        {
            var ours = new List<double>();
            var qemu = new List<double>();
            for (int i = 0; i < runs; i++)
            {
                ours.Add(Run(Azlinux, "--version").Seconds);
                qemu.Add(Run("qemu-img", "--version").Seconds);
            }
            return $"cold start-up (whole page cache dropped, --version): azlinux min {ours.Min():0.00} s median {Median(ours):0.00} s; qemu-img min {qemu.Min():0.00} s median {Median(qemu):0.00} s";
        }

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "posix_fadvise")]
        private static extern int PosixFadvise(int fd, long offset, long length, int advice);

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "sync")]
        private static extern void Sync();

        public void Dispose()
        {
            try
            {
                Directory.Delete(Dir, true);
            }
            catch (IOException)
            {
            }
        }
    }
}
