using System;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace AzureLinuxImage.Benchmarks
{
    /// <summary>A work folder and the measuring helpers: wall time, and peak RSS of child processes.</summary>
    internal sealed class Bench : IDisposable
    {
        public Bench(string name)
        {
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

        /// <summary>Runs a command, returning wall seconds and peak resident memory (VmHWM, polled) in MiB.</summary>
        public (double Seconds, double PeakMiB) Run(string exe, params string[] args) => RunAllowingExit(0, exe, args);

        /// <summary>As <see cref="Run"/>, accepting <paramref name="okExit"/> as well as 0.</summary>
        public (double Seconds, double PeakMiB) RunAllowingExit(int okExit, string exe, params string[] args)
        {
            DropCaches();
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
            while (!p.WaitForExit(20))
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

        public static string Azlinux => Path.Combine(AppContext.BaseDirectory, "azlinux");

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

        /// <summary>Best effort: cold page cache for every run (needs root), so no tool reads from memory only.</summary>
        private static void DropCaches()
        {
            try
            {
                System.IO.File.WriteAllText("/proc/sys/vm/drop_caches", "1");
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
            }
            Thread.Sleep(100);
        }

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
