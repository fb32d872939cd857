using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>What setting the hostname did.</summary>
    internal sealed record HostnameOutcome(string Hostname, string HostnameFile, string? CommandRun, string Note);

    /// <summary>
    /// Sets the hostname from IMDS (R-NOAGENT-4): writes <c>etc/hostname</c> under a root folder and, when
    /// asked and on Linux, applies it to the running system with hostnamectl (or hostname).
    /// </summary>
    internal static class HostnameSetter
    {
        /// <summary>Azure DNS learns the name from the DHCP request (PROTOCOL.md "IMDS").</summary>
        public const string DhcpNote =
            "Azure DNS learns the hostname from the DHCP request: the new name is published when the DHCP lease is renewed " +
            "(restart the network interface or reboot; WALinuxAgent restarts the interface for this).";

        /// <summary>RFC 1123 labels, at most 63 characters (HOST_NAME_MAX 64 with its NUL).</summary>
        public static string Validate(string name)
        {
            string n = (name ?? string.Empty).Trim();
            bool ok = n.Length >= 1 && n.Length <= 63
                && n.Split('.').All(label => label.Length >= 1 && label.Length <= 63
                    && label[0] != '-' && label[label.Length - 1] != '-'
                    && label.All(c => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'));
            if (!ok)
            {
                throw new AzureLinuxImageException("InvalidHostname", ErrorKind.InvalidData,
                    $"The computer name '{name}' from the Instance Metadata Service is not a valid Linux hostname (letters, digits and '-', at most 63 characters).");
            }
            return n;
        }

        public static HostnameOutcome Apply(string name, string root, bool applyToRunningSystem, TimeSpan commandTimeout)
        {
            string hostname = Validate(name);
            string etc = Path.Combine(root, "etc");
            Directory.CreateDirectory(etc);
            string file = Path.Combine(etc, "hostname");
            string temp = file + ".azlinux-tmp";
            File.WriteAllText(temp, hostname + "\n", new UTF8Encoding(false));
            if (File.Exists(file))
            {
                File.Replace(temp, file, null);
            }
            else
            {
                File.Move(temp, file);
            }

            string? command = null;
            if (applyToRunningSystem)
            {
                if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
                {
                    throw new AzureLinuxImageException("NotLinux", ErrorKind.NotSupported,
                        "The running system's hostname can only be set on Linux; the hostname file was written.", file);
                }
                command = RunFirstAvailable(hostname, commandTimeout);
            }
            return new HostnameOutcome(hostname, file, command, DhcpNote);
        }

        private static string RunFirstAvailable(string hostname, TimeSpan timeout)
        {
            foreach (var (exe, args) in new[] { ("hostnamectl", "set-hostname " + hostname), ("hostname", hostname) })
            {
                string? path = FindOnPath(exe);
                if (path == null)
                {
                    continue;
                }
                var psi = new System.Diagnostics.ProcessStartInfo(path, args)
                {
                    UseShellExecute = false,
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                };
                using var process = System.Diagnostics.Process.Start(psi)!;
                var stderrText = new StringBuilder();
                process.ErrorDataReceived += (_, e) => { if (e.Data != null) { lock (stderrText) { stderrText.AppendLine(e.Data); } } };
                process.OutputDataReceived += (_, e) => { };
                process.BeginErrorReadLine();
                process.BeginOutputReadLine();
                if (!process.WaitForExit((int)timeout.TotalMilliseconds))
                {
                    try
                    {
                        process.Kill();
                    }
                    catch (InvalidOperationException)
                    {
                    }
                    throw new AzureLinuxImageException("HostnameCommandTimedOut", ErrorKind.ResourceUnavailable, $"{exe} did not finish within {timeout.TotalSeconds} s.");
                }
                process.WaitForExit();
                string stderr;
                lock (stderrText)
                {
                    stderr = stderrText.ToString();
                }
                if (process.ExitCode == 0)
                {
                    return $"{exe} {args}";
                }
                // hostnamectl fails without systemd-hostnamed (containers, early boot): try hostname.
                if (exe == "hostname")
                {
                    throw new AzureLinuxImageException("HostnameCommandFailed", ErrorKind.ResourceUnavailable, $"{exe} exited {process.ExitCode}: {stderr.Trim()}");
                }
            }
            throw new AzureLinuxImageException("HostnameCommandMissing", ErrorKind.NotFound,
                "Neither hostnamectl nor hostname could set the hostname; the hostname file was written.");
        }

        private static string? FindOnPath(string name)
        {
            string path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
            return path.Split(Path.PathSeparator).Concat(new[] { "/usr/bin", "/bin", "/usr/sbin", "/sbin" })
                .Where(d => d.Length > 0)
                .Select(d => Path.Combine(d, name))
                .FirstOrDefault(File.Exists);
        }
    }
}
