using System.Collections.Generic;
using System.Diagnostics;

namespace AzureLinuxImage.Tests.Infrastructure
{
    /// <summary>Runs the real azlinux CLI in a child process.</summary>
    public static class AzLinux
    {
        public static ToolResult Run(params string[] args)
        {
            var all = new string[args.Length + 1];
            all[0] = Repository.CliDll;
            args.CopyTo(all, 1);
            return ExternalTool.Run("dotnet", all, check: false);
        }

        /// <summary>
        /// As <see cref="Run(string[])"/> with <paramref name="environment"/> applied last (a null value removes
        /// the variable), and the output kept exactly as written: carriage returns included, which the
        /// line-by-line capture of <see cref="ExternalTool.Run"/> drops (progress redraws, PipelineCliTests).
        /// </summary>
        public static ToolResult Run(IReadOnlyDictionary<string, string?> environment, params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(Repository.CliDll);
            foreach (string a in args)
            {
                psi.ArgumentList.Add(a);
            }
            psi.Environment["LC_ALL"] = "C";
            psi.Environment.Remove("TF_BUILD");
            psi.Environment.Remove("GITHUB_ACTIONS");
            foreach (KeyValuePair<string, string?> v in environment)
            {
                if (v.Value == null)
                {
                    psi.Environment.Remove(v.Key);
                }
                else
                {
                    psi.Environment[v.Key] = v.Value;
                }
            }
            using Process p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(600_000))
            {
                p.Kill(true);
                throw new System.TimeoutException($"azlinux {string.Join(' ', args)} did not finish in 10 minutes");
            }
            p.WaitForExit();
            return new ToolResult(p.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
