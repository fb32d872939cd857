using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Xunit;

namespace AzureLinuxImage.Tests.Infrastructure
{
    /// <summary>
    /// Real tools used as oracles (qemu-img, sgdisk, mkfs ...). A missing tool fails the test when
    /// CI=true (CI must install it) and skips it with the reason otherwise.
    /// </summary>
    public static class ExternalTool
    {
        public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

        /// <summary>The cached Debian 12 root that build-debian-image.sh builds images from (DEBIAN_ROOTFS_CACHE, else /var/tmp/debian12-rootfs).</summary>
        public static string DebianRootfsCache => Environment.GetEnvironmentVariable("DEBIAN_ROOTFS_CACHE") ?? "/var/tmp/debian12-rootfs";

        /// <summary>
        /// The one rule for a test whose tool, root or fixture is missing: it fails under CI=true (CI must
        /// provide it, see .ci/run) and is skipped with <paramref name="reason"/> otherwise.
        /// </summary>
        public static void Unavailable(string reason)
        {
            if (InCi)
            {
                Assert.Fail(reason + " CI must provide it: see .ci/run.");
            }
            Assert.Skip(reason);
        }

        /// <summary>The Debian 12 root cache when its build finished (.complete); otherwise <see cref="Unavailable"/>.</summary>
        public static string RequireDebianRootfs()
        {
            string cache = DebianRootfsCache;
            if (!File.Exists(Path.Combine(cache, ".complete")))
            {
                Unavailable($"The Debian 12 root cache {cache} is not built: run tests/fixtures/build-debian-image.sh (as root) once, or set DEBIAN_ROOTFS_CACHE.");
            }
            return cache;
        }

        /// <summary>Full path of <paramref name="name"/> on PATH (or /usr/sbin, /sbin), or null.</summary>
        public static string? Find(string name)
        {
            string path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
            foreach (string dir in path.Split(Path.PathSeparator).Concat(new[] { "/usr/sbin", "/sbin", "/usr/bin" }))
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
            return null;
        }

        /// <summary>Skips (or, under CI, fails) the current test when a tool is missing.</summary>
        public static string Require(string name, string package)
        {
            string? found = Find(name);
            if (found != null)
            {
                return found;
            }
            Unavailable($"'{name}' is not installed (Debian package {package}).");
            return string.Empty;
        }

        /// <summary>Runs a tool and returns its result; throws with its stderr when it fails and <paramref name="check"/> is set.</summary>
        public static ToolResult Run(string exe, string[] args, bool check = true, string? stdin = null, int timeoutSeconds = 600)
        {
            var psi = new ProcessStartInfo(exe)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = stdin != null,
                UseShellExecute = false,
            };
            foreach (string a in args)
            {
                psi.ArgumentList.Add(a);
            }
            psi.Environment["LC_ALL"] = "C";
            // CI may run under Azure Pipelines or GitHub Actions: the tools (azlinux) run as on a console unless a
            // test sets a host itself (issue 23, PipelineCliTests).
            psi.Environment.Remove("TF_BUILD");
            psi.Environment.Remove("GITHUB_ACTIONS");
            using var p = Process.Start(psi)!;
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            p.OutputDataReceived += (_, e) => { if (e.Data != null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
            p.ErrorDataReceived += (_, e) => { if (e.Data != null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            if (stdin != null)
            {
                p.StandardInput.Write(stdin);
                p.StandardInput.Close();
            }
            if (!p.WaitForExit(timeoutSeconds * 1000))
            {
                p.Kill(true);
                throw new TimeoutException($"{exe} {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
            }
            p.WaitForExit();
            var result = new ToolResult(p.ExitCode, stdout.ToString(), stderr.ToString());
            if (check && result.ExitCode != 0)
            {
                throw new InvalidOperationException($"{exe} {string.Join(' ', args)} exited {result.ExitCode}: {result.StdErr}{result.StdOut}");
            }
            return result;
        }

        public static ToolResult QemuImg(params string[] args) => Run(Require("qemu-img", "qemu-utils"), args);
    }

    public sealed record ToolResult(int ExitCode, string StdOut, string StdErr);
}
