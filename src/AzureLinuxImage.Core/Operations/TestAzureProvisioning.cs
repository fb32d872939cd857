using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Emulation;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.IO;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Operations
{
    /// <summary>What Test-AzureProvisioning / azlinux rehearse is asked to do.</summary>
    internal sealed class RehearsalOptions
    {
        public string ImagePath { get; set; } = string.Empty;
        public int Generation { get; set; } = 1;
        public string? QemuPath { get; set; }
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);
        public string HostName { get; set; } = "rehearsal-vm";
        public string UserName { get; set; } = "azureuser";
        public string? SshPublicKey { get; set; }
        public int Incarnation { get; set; } = 1;
        public int MemoryMiB { get; set; } = 2048;
        /// <summary>Where the serial log, overlay and CD are kept; a temporary folder (deleted) when null.</summary>
        public string? WorkDirectory { get; set; }
        /// <summary>Force TCG even when /dev/kvm is usable.</summary>
        public bool NoKvm { get; set; }
        /// <summary>A file QEMU writes the serial console to as it arrives (tail -f), kept whatever the outcome; null: none.</summary>
        public string? SerialLog { get; set; }
        /// <summary>Whether an existing <see cref="SerialLog"/> may be replaced (-Force / --force).</summary>
        public bool OverwriteSerialLog { get; set; }
        /// <summary>Custom data for ovf-env.xml (base64-encoded there, as Azure does); null: none.</summary>
        public byte[]? CustomData { get; set; }
        /// <summary>The KVM device probed (tests point it elsewhere).</summary>
        public string KvmDevice { get; set; } = KvmProbe.DefaultDevice;
    }

    /// <summary>The outcome of a local first boot under an emulated Azure fabric.</summary>
    public sealed class ProvisioningRehearsal
    {
        /// <summary>The image rehearsed (never written).</summary>
        public string Image { get; internal set; } = string.Empty;
        /// <summary>1 (SeaBIOS, IDE CD) or 2 (OVMF, virtio-scsi CD).</summary>
        public int Generation { get; internal set; }
        /// <summary>KVM or TCG.</summary>
        public string Accelerator { get; internal set; } = string.Empty;
        /// <summary>True when the guest reported Ready to the wire server with the goal state's incarnation.</summary>
        public bool Ready { get; internal set; }
        /// <summary>Power-on to the first Ready.</summary>
        public TimeSpan? ReadyAfter { get; internal set; }
        /// <summary>The incarnation the Ready report echoed.</summary>
        public int? IncarnationEchoed { get; internal set; }
        /// <summary>The incarnation the goal state announced.</summary>
        public int Incarnation { get; internal set; }
        /// <summary>User-Agent / x-ms-agent-name of the health report.</summary>
        public string? Agent { get; internal set; }
        /// <summary>The last NotReady's substatus and description.</summary>
        public string? NotReadyDescription { get; internal set; }
        /// <summary>Why the rehearsal ended without Ready (timeout, QEMU exit), or null.</summary>
        public string? Failure { get; internal set; }
        /// <summary>The host name asked for, and the one /etc/hostname holds after shutdown.</summary>
        public string RequestedHostName { get; internal set; } = string.Empty;
        /// <summary>/etc/hostname read back from the overlay after shutdown.</summary>
        public string? HostName { get; internal set; }
        /// <summary>The user asked for.</summary>
        public string UserName { get; internal set; } = string.Empty;
        /// <summary>True when /etc/passwd holds the user after shutdown.</summary>
        public bool UserCreated { get; internal set; }
        /// <summary>True when the user's authorized_keys holds the key given.</summary>
        public bool SshKeyInstalled { get; internal set; }
        /// <summary>
        /// Null when no custom data was given; else whether the agent wrote it back (waagent: /var/lib/waagent/CustomData,
        /// base64 or decoded; cloud-init: /var/lib/cloud/instance/user-data.txt, decoded), read from the overlay after shutdown.
        /// </summary>
        public bool? CustomDataWritten { get; internal set; }
        /// <summary>The guest file found holding the custom data, or null.</summary>
        public string? CustomDataFile { get; internal set; }
        /// <summary>Kernel panics, emergency shells and the like seen on the serial console.</summary>
        public IReadOnlyList<string> ConsoleProblems { get; internal set; } = Array.Empty<string>();
        /// <summary>The last serial console lines (all of them are in <see cref="ConsoleLog"/> when kept).</summary>
        public IReadOnlyList<string> LastConsoleLines { get; internal set; } = Array.Empty<string>();
        /// <summary>Every request the guest sent to the wire server, HostGAPlugin and IMDS.</summary>
        public IReadOnlyList<FabricRequest> Requests { get; internal set; } = Array.Empty<FabricRequest>();
        /// <summary>The serial console log: the -SerialLog / --serial-log file, else serial.log in the work directory when one was given.</summary>
        public string? ConsoleLog { get; internal set; }
        /// <summary>What a local boot cannot prove about Azure.</summary>
        public IReadOnlyList<string> NotProven { get; internal set; } = Array.Empty<string>();

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => Image + ": " + (Ready ? "Ready" + (ReadyAfter is TimeSpan t ? " after " + (int)t.TotalSeconds + " s" : string.Empty) : "not ready" + (Failure == null ? string.Empty : " (" + Failure + ")"));
    }

    /// <summary>
    /// Test-AzureProvisioning / azlinux rehearse (issue 22): boots the image under QEMU as Azure would
    /// (Hyper-V SMBIOS, provisioning CD with ovf-env.xml, wire server, HostGAPlugin and IMDS behind a
    /// network of its own) on a copy-on-write overlay, so the image is never written, and reports
    /// whether and when the guest's agent reported Ready, and what it changed.
    /// </summary>
    internal static class TestAzureProvisioning
    {
        internal const string ChassisAssetTag = "7783-7084-3265-9085-8269-3286-77"; // cloud-init's Azure detection
        private static readonly string[] ProblemMarkers =
        {
            "Kernel panic", "emergency mode", "Give root password for maintenance", "(initramfs)", "dracut-emergency",
            "Dependency failed", "Failed to start", "Traceback (most recent call last)", "not syncing", "ALERT!",
        };

        internal static readonly string[] Unprovable =
        {
            "Hyper-V drivers (hv_vmbus, hv_storvsc, hv_netvsc) are not exercised: the VM runs on virtio devices.",
            "Accelerated networking (Mellanox VF) and Azure's real DHCP/DNS are not emulated.",
            "Extensions and the HostGAPlugin are not emulated (it answers 404 to everything).",
            "Certificates, secrets and password provisioning through the wire server are not emulated.",
            "Trusted launch (secure boot keys, vTPM) and the Azure VM sizes' real hardware are not emulated.",
        };

        /// <summary>How long a KVM guest may stay silent before the rehearsal gives KVM up for TCG.</summary>
        internal static readonly TimeSpan KvmSignOfLife = TimeSpan.FromSeconds(60);

        /// <summary>
        /// True when KVM is in use and, <see cref="KvmSignOfLife"/> after power-on, the guest has written nothing to the
        /// serial console and asked for no lease: firmware, GRUB on the serial terminal or the kernel's console=ttyS0
        /// (which Azure images have, R-BOOT) print within seconds under KVM. An image silent on ttyS0 with no NIC brought
        /// up is then booted under TCG needlessly, which costs time but not correctness.
        /// </summary>
        internal static bool KvmSilent(bool kvm, TimeSpan elapsed, long consoleBytes, bool leased) =>
            kvm && elapsed >= KvmSignOfLife && consoleBytes == 0 && !leased;

        private sealed class KvmSilentException : Exception
        {
            public KvmSilentException(string message)
                : base(message)
            {
            }
        }

        /// <summary>Finds qemu-system-x86_64 (the given path, else PATH), or throws QemuNotFound with an install hint.</summary>
        internal static string FindQemu(string? qemuPath)
        {
            string exe = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "qemu-system-x86_64.exe" : "qemu-system-x86_64";
            if (!string.IsNullOrEmpty(qemuPath))
            {
                string candidate = Directory.Exists(qemuPath) ? Path.Combine(qemuPath, exe) : qemuPath!;
                if (File.Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
                throw new AzureLinuxImageException("QemuNotFound", ErrorKind.NotFound, $"QEMU was not found at '{qemuPath}'. {InstallHint}", qemuPath);
            }
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
            {
                if (dir.Length > 0 && File.Exists(Path.Combine(dir, exe)))
                {
                    return Path.Combine(dir, exe);
                }
            }
            throw new AzureLinuxImageException("QemuNotFound", ErrorKind.NotFound, $"{exe} is not on PATH. {InstallHint}");
        }

        /// <summary>Azure's limit on custom data: 64 KiB before base64 (osProfile.customData).</summary>
        internal const int MaxCustomDataBytes = 65535;

        internal const string InstallHint = "Install QEMU (Debian/Ubuntu: apt-get install qemu-system-x86 qemu-utils ovmf; Fedora: dnf install qemu-system-x86 qemu-img edk2-ovmf; macOS: brew install qemu; Windows: winget install SoftwareFreedomConservancy.QEMU) or give its path with -QemuPath / --qemu.";

        public static ProvisioningRehearsal Run(RehearsalOptions options, IOperationContext context)
        {
            string image = Path.GetFullPath(options.ImagePath);
            if (!File.Exists(image))
            {
                throw new AzureLinuxImageException("ImageNotFound", ErrorKind.NotFound, $"The image '{image}' does not exist.", image);
            }
            VmGeneration.Require(options.Generation, image);
            DiskFormat format;
            using (DiskImage disk = DiskImage.Open(image))
            {
                format = disk.Format;
            }
            if (options.CustomData != null && options.CustomData.Length > MaxCustomDataBytes)
            {
                throw new AzureLinuxImageException("CustomDataTooLarge", ErrorKind.InvalidArgument,
                    $"Custom data is {options.CustomData.Length} bytes; Azure accepts at most {MaxCustomDataBytes} (before base64).", image);
            }
            string? serialLog = options.SerialLog == null ? null : CheckSerialLog(options.SerialLog, options.OverwriteSerialLog, image);
            string qemu = FindQemu(options.QemuPath);
            string qemuImg = Path.Combine(Path.GetDirectoryName(qemu) ?? ".", RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "qemu-img.exe" : "qemu-img");
            if (!File.Exists(qemuImg))
            {
                throw new AzureLinuxImageException("QemuNotFound", ErrorKind.NotFound, $"qemu-img was not found beside {qemu}. {InstallHint}", qemuImg);
            }
            string? ovmfCode = null, ovmfVars = null;
            if (options.Generation == 2)
            {
                (ovmfCode, ovmfVars) = FindOvmf(qemu);
            }
            // KVM only when /dev/kvm opens and answers as KVM: its mere existence is not enough (containers, no permission)
            (bool kvm, string acceleratorReason) = KvmProbe.Choose(options.NoKvm, options.NoKvm ? default : KvmProbe.Probe(options.KvmDevice));
            context.Verbose(acceleratorReason);

            var result = new ProvisioningRehearsal
            {
                Image = image,
                Generation = options.Generation,
                Accelerator = kvm ? "KVM" : "TCG",
                Incarnation = options.Incarnation,
                RequestedHostName = options.HostName,
                UserName = options.UserName,
                NotProven = Unprovable,
            };
            if (!context.ShouldProcess(image, $"Boot a copy-on-write overlay under QEMU ({result.Accelerator}, generation {options.Generation}) with an emulated Azure fabric"))
            {
                return result;
            }

            if (serialLog != null)
            {
                CreateSerialLog(serialLog, options.OverwriteSerialLog);
                result.ConsoleLog = serialLog;
            }
            bool keep = options.WorkDirectory != null;
            string work = options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), "azlinux-rehearse-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(work);
            try
            {
                try
                {
                    return Boot(options, context, image, format, qemu, qemuImg, ovmfCode, ovmfVars, kvm, work, keep, result);
                }
                catch (KvmSilentException e)
                {
                    // seen on a nested host: /dev/kvm opens and answers, QEMU runs, the guest never executes a line
                    context.Warning(e.Message);
                    result.Accelerator = "TCG";
                    return Boot(options, context, image, format, qemu, qemuImg, ovmfCode, ovmfVars, kvm: false, work, keep, result);
                }
            }
            finally
            {
                if (!keep)
                {
                    try
                    {
                        Directory.Delete(work, recursive: true);
                    }
                    catch (IOException)
                    {
                    }
                    catch (UnauthorizedAccessException)
                    {
                    }
                }
            }
        }

        private static ProvisioningRehearsal Boot(RehearsalOptions options, IOperationContext context, string image, DiskFormat format, string qemu, string qemuImg,
            string? ovmfCode, string? ovmfVars, bool kvm, string work, bool keep, ProvisioningRehearsal result)
        {
            string overlay = Path.Combine(work, "overlay.qcow2");
            string iso = Path.Combine(work, "provisioning.iso");
            // the user's serial log is written by QEMU itself (its file chardev truncates it), so it fills as the guest writes
            string console = options.SerialLog == null ? Path.Combine(work, "serial.log") : Path.GetFullPath(options.SerialLog);
            File.Delete(overlay);
            if (options.SerialLog == null)
            {
                File.Delete(console);
            }
            RunTool(qemuImg, new[] { "create", "-q", "-f", "qcow2", "-b", image, "-F", QemuFormat(format), overlay }, image);

            var identity = new FabricIdentity { HostName = options.HostName, UserName = options.UserName, SshPublicKey = options.SshPublicKey, CustomData = options.CustomData, Incarnation = options.Incarnation };
            var messages = new ConcurrentQueue<string>();
            var clock = new Stopwatch();
            var fabric = new EmulatedFabric(identity, clock, messages.Enqueue);
            File.WriteAllBytes(iso, IsoImageWriter.Build("rd_rdfe_stable", new[] { new KeyValuePair<string, byte[]>("ovf-env.xml", Encoding.UTF8.GetBytes(fabric.OvfEnvironment())) }, DateTime.UtcNow));

            using var network = new VirtualNetwork(fabric.Handle, messages.Enqueue);
            var args = new List<string>
            {
                "-machine", options.Generation == 1 ? "pc" : "q35",
                "-accel", kvm ? "kvm" : "tcg",
                // ConditionVirtualization=microsoft (waagent's unit): no hypervisor CPUID bit, Hyper-V's SMBIOS
                "-cpu", "qemu64,-hypervisor", // not "host": on nested hosts KVM refuses some of its MSRs (seen here: MSR 0x10a)
                "-m", options.MemoryMiB.ToString(CultureInfo.InvariantCulture), "-smp", "2",
                "-uuid", identity.VmId.ToString("D"),
                "-smbios", "type=1,manufacturer=Microsoft Corporation,product=Virtual Machine,version=Hyper-V UEFI Release v4.1,serial=0000-0000-0000-0000-0000-0000-00",
                "-smbios", "type=3,manufacturer=Microsoft Corporation,asset=" + ChassisAssetTag,
                "-drive", "file=" + overlay + ",format=qcow2,if=virtio,cache=writeback",
                "-netdev", network.NetdevArgument,
                "-device", "virtio-net-pci,netdev=azure0,mac=00:0d:3a:" + string.Join(":", identity.VmId.ToByteArray().Take(3).Select(b => b.ToString("x2", CultureInfo.InvariantCulture))),
                "-serial", "file:" + console,
                "-display", "none", "-vga", "none", "-monitor", "stdio", "-nodefaults", "-no-reboot",
            };
            if (options.Generation == 1)
            {
                args.AddRange(new[] { "-drive", "file=" + iso + ",format=raw,if=ide,media=cdrom,readonly=on" });
            }
            else
            {
                string vars = Path.Combine(work, "OVMF_VARS.fd");
                File.Copy(ovmfVars!, vars, overwrite: true);
                args.AddRange(new[]
                {
                    "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + ovmfCode,
                    "-drive", "if=pflash,format=raw,unit=1,file=" + vars,
                    "-device", "virtio-scsi-pci,id=scsi0",
                    "-drive", "if=none,id=cd0,file=" + iso + ",format=raw,media=cdrom,readonly=on",
                    "-device", "scsi-cd,drive=cd0,bus=scsi0.0",
                });
            }
            context.Verbose(qemu + " " + string.Join(" ", args.Select(a => a.IndexOf(' ') >= 0 ? "\"" + a + "\"" : a)));

            var start = new ProcessStartInfo(qemu, JoinArguments(args))
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
            };
            var stderr = new StringBuilder();
            using var process = new Process { StartInfo = start };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data != null)
                {
                    lock (stderr)
                    {
                        stderr.AppendLine(e.Data);
                    }
                }
            };
            process.OutputDataReceived += (_, e) => { };
            process.Start();
            clock.Start();
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();

            var tail = new ConsoleTail(console);
            var lastLines = new Queue<string>();
            var problems = new List<string>();
            bool loginPrompt = false;
            void Drain()
            {
                while (messages.TryDequeue(out string? m))
                {
                    context.Verbose(m);
                }
                foreach (string line in tail.ReadLines())
                {
                    context.Verbose("console: " + line);
                    loginPrompt = loginPrompt || line.IndexOf(" login: ", StringComparison.Ordinal) >= 0;
                    lastLines.Enqueue(line);
                    if (lastLines.Count > 40)
                    {
                        lastLines.Dequeue();
                    }
                    if (ProblemMarkers.Any(p => line.IndexOf(p, StringComparison.Ordinal) >= 0) && problems.Count < 50)
                    {
                        problems.Add(string.Format(CultureInfo.InvariantCulture, "{0:0.0}s {1}", clock.Elapsed.TotalSeconds, line));
                    }
                }
                // getty's prompt ("<host> login: ", no newline): systemd has finished the boot transaction up to the
                // login, so what the agent does after Ready (cloud-init creates the user after it) is done
                loginPrompt = loginPrompt || tail.Pending.EndsWith(" login: ", StringComparison.Ordinal);
            }

            // After Ready, the boot is left to finish (up to the login prompt, at most this long) before the power-off,
            // and what follows the report itself (an agent-less unit disabling itself) gets a few seconds more
            TimeSpan settle = kvm ? TimeSpan.FromSeconds(60) : TimeSpan.FromSeconds(180);
            TimeSpan afterReady = kvm ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(15);

            bool cancelled = false;
            try
            {
                while (true)
                {
                    Drain();
                    if (fabric.ReadyAt is TimeSpan readyAt)
                    {
                        if ((loginPrompt && clock.Elapsed - readyAt >= afterReady) || clock.Elapsed - readyAt >= settle || clock.Elapsed > options.Timeout + settle || process.HasExited)
                        {
                            context.Verbose(string.Format(CultureInfo.InvariantCulture, "Ready at {0:0} s; {1} at {2:0} s, powering off.", readyAt.TotalSeconds,
                                loginPrompt ? "login prompt" : "no login prompt", clock.Elapsed.TotalSeconds));
                            break;
                        }
                    }
                    else if (process.HasExited)
                    {
                        string err;
                        lock (stderr)
                        {
                            err = stderr.ToString().Trim();
                        }
                        if (clock.Elapsed < TimeSpan.FromSeconds(5) && err.Length > 0 && !network.Leased)
                        {
                            throw new AzureLinuxImageException("QemuFailed", ErrorKind.ResourceUnavailable, $"QEMU exited at once (code {process.ExitCode}): {err}", image);
                        }
                        result.Failure = $"QEMU exited after {clock.Elapsed.TotalSeconds:0} s (code {process.ExitCode}) without a Ready report. {err}".Trim();
                        break;
                    }
                    else if (KvmSilent(kvm, clock.Elapsed, tail.BytesRead, network.Leased))
                    {
                        throw new KvmSilentException($"Under KVM the guest showed no sign of life in {KvmSignOfLife.TotalSeconds:0} s (no console output, no DHCP request): " +
                            "KVM on this host does not run guests (seen on nested hosts whose /dev/kvm answers but runs nothing). Booting again under TCG; use -NoKvm / --no-kvm to skip the wait.");
                    }
                    else if (clock.Elapsed > options.Timeout)
                    {
                        result.Failure = $"No Ready report within {options.Timeout.TotalSeconds:0} s of power-on" + (network.Leased ? "." : "; the guest never asked for a DHCP lease.");
                        break;
                    }
                    if (context.Cancellation.IsCancellationRequested)
                    {
                        cancelled = true;
                        break;
                    }
                    context.Progress("Rehearsing the first boot in Azure", $"{clock.Elapsed.TotalSeconds:0} s, {fabric.Requests.Count} fabric requests", (long)clock.Elapsed.TotalSeconds, (long)options.Timeout.TotalSeconds);
                    System.Threading.Thread.Sleep(250);
                }
                if (!process.HasExited)
                {
                    // ACPI power button: the guest shuts down cleanly so the overlay holds what the agent wrote
                    try
                    {
                        process.StandardInput.WriteLine("system_powerdown");
                        process.StandardInput.Flush();
                    }
                    catch (IOException)
                    {
                    }
                    // A guest that never took a lease may have no OS listening for the button at all (a disk
                    // without one waited the whole 3 minutes): a shorter wait, since little the agent wrote is at stake.
                    bool booted = network.Leased || fabric.ReadyAt != null || loginPrompt;
                    var deadline = clock.Elapsed + TimeSpan.FromSeconds(booted ? (kvm ? 60 : 180) : (kvm ? 20 : 60));
                    while (!process.HasExited && clock.Elapsed < deadline && !context.Cancellation.IsCancellationRequested)
                    {
                        Drain();
                        context.Progress("Rehearsing the first boot in Azure", "shutting the VM down", (long)options.Timeout.TotalSeconds, (long)options.Timeout.TotalSeconds);
                        System.Threading.Thread.Sleep(250);
                    }
                    if (!process.HasExited)
                    {
                        context.Warning("The VM did not power off in time; stopped QEMU. What the agent wrote may not all be on the overlay.");
                        process.Kill();
                        process.WaitForExit(10000);
                    }
                }
                process.WaitForExit();
                Drain();
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit(10000);
                }
            }
            context.Progress("Rehearsing the first boot in Azure", "done", 1, 1);
            context.Cancellation.ThrowIfCancellationRequested();
            if (cancelled)
            {
                throw new OperationCanceledException();
            }

            result.Ready = fabric.ReadyAt != null && fabric.ReadyIncarnation == options.Incarnation;
            result.ReadyAfter = fabric.ReadyAt;
            result.IncarnationEchoed = fabric.ReadyIncarnation;
            result.Agent = fabric.Agent;
            result.NotReadyDescription = fabric.NotReadyDescription;
            result.Requests = fabric.Requests;
            result.ConsoleProblems = problems;
            result.LastConsoleLines = lastLines.ToList();
            result.ConsoleLog = options.SerialLog != null || keep ? console : null;
            if (!result.Ready && result.Failure == null)
            {
                result.Failure = "Ready was reported with incarnation " + fabric.ReadyIncarnation + ", not " + options.Incarnation + ".";
            }
            ReadBack(overlay, options, result, context);
            return result;
        }

        // What the agent did, read from the overlay through the project's own Linux view (the qcow2 reader follows the backing file).
        private static void ReadBack(string overlay, RehearsalOptions options, ProvisioningRehearsal result, IOperationContext context)
        {
            result.CustomDataWritten = options.CustomData == null ? (bool?)null : false; // false, not unknown, when the overlay holds no Linux
            try
            {
                using LinuxImageView view = LinuxImageView.Open(overlay, null, context);
                IFileSystem fs = view.FileSystem;
                result.HostName = ReadText(fs, "/etc/hostname")?.Trim();
                string? passwd = ReadText(fs, "/etc/passwd");
                var entry = passwd?.Split('\n').Select(l => l.Split(':')).FirstOrDefault(f => f.Length >= 7 && f[0] == options.UserName);
                result.UserCreated = entry != null;
                if (entry != null && options.SshPublicKey != null)
                {
                    string? keys = ReadText(fs, entry[5].TrimEnd('/') + "/.ssh/authorized_keys");
                    string wanted = string.Join(" ", options.SshPublicKey.Trim().Split(' ').Take(2));
                    result.SshKeyInstalled = keys != null && keys.IndexOf(wanted, StringComparison.Ordinal) >= 0;
                }
                if (options.CustomData != null)
                {
                    foreach (string path in CustomDataFiles)
                    {
                        byte[]? written = fs.TryReadBytes(path, MaxCustomDataBytes * 2);
                        if (written != null && HoldsCustomData(written, options.CustomData))
                        {
                            result.CustomDataWritten = true;
                            result.CustomDataFile = path;
                            break;
                        }
                        if (written != null)
                        {
                            context.Warning($"{path} holds something other than the custom data given ({written.Length} bytes).");
                        }
                    }
                }
            }
            catch (AzureLinuxImageException e)
            {
                context.Warning("Could not read the overlay back: " + e.Message);
            }
        }

        /// <summary>Where the agents write custom data: waagent (Provisioning.DecodeCustomData decides base64 or not), cloud-init's user data.</summary>
        internal static readonly string[] CustomDataFiles = { "/var/lib/waagent/CustomData", "/var/lib/cloud/instance/user-data.txt" };

        /// <summary>True when a file an agent wrote holds the custom data, decoded or as the base64 text of ovf-env.xml.</summary>
        internal static bool HoldsCustomData(byte[] written, byte[] customData)
        {
            if (written.SequenceEqual(customData))
            {
                return true;
            }
            string text = Encoding.ASCII.GetString(written).Trim();
            return text == Convert.ToBase64String(customData);
        }

        // Checked before anything runs, as any output file (AtomicOutputFile's checks), and never the image. The image
        // was opened already, so it is an existing file: naming it fails here first, as SerialLogIsImage.
        private static string CheckSerialLog(string serialLog, bool overwrite, string image)
        {
            string full = Path.GetFullPath(serialLog);
            if (string.Equals(full, image, RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            {
                throw new AzureLinuxImageException("SerialLogIsImage", ErrorKind.InvalidArgument, $"The serial log {full} is the image itself; the image is never written.", full);
            }
            return AtomicOutputFile.CheckDestination(full, overwrite);
        }

        private static void CreateSerialLog(string full, bool overwrite)
        {
            try
            {
                using (new FileStream(full, overwrite ? FileMode.Create : FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite))
                {
                }
            }
            catch (IOException) when (File.Exists(full) && !overwrite)
            {
                throw new AzureLinuxImageException("DestinationExists", ErrorKind.AlreadyExists, $"{full} appeared before the boot; nothing was overwritten.", full);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new AzureLinuxImageException("DestinationAccessDenied", ErrorKind.ResourceUnavailable, $"{full}: {e.Message}", full);
            }
        }

        private static string? ReadText(IFileSystem fs, string path)
        {
            if (fs.GetEntry(path) == null)
            {
                return null;
            }
            using Stream s = fs.OpenRead(path);
            using var reader = new StreamReader(s, new UTF8Encoding(false));
            return reader.ReadToEnd();
        }

        private static string QemuFormat(DiskFormat format) => format switch
        {
            DiskFormat.Raw => "raw",
            DiskFormat.Vhd => "vpc",
            DiskFormat.Vhdx => "vhdx",
            DiskFormat.Vmdk => "vmdk",
            DiskFormat.Vdi => "vdi",
            DiskFormat.Qcow2 => "qcow2",
            _ => throw new AzureLinuxImageException("UnsupportedFormat", ErrorKind.NotSupported, $"QEMU cannot boot a {format} image."),
        };

        private static (string Code, string Vars) FindOvmf(string qemu)
        {
            var dirs = new List<string> { "/usr/share/OVMF", "/usr/share/edk2/ovmf", "/usr/share/edk2/x64", "/usr/share/qemu" };
            string? qemuDir = Path.GetDirectoryName(qemu);
            if (qemuDir != null)
            {
                dirs.Add(Path.Combine(qemuDir, "share"));
            }
            foreach (string dir in dirs)
            {
                foreach (var (code, vars) in new[] { ("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"), ("OVMF_CODE.fd", "OVMF_VARS.fd"), ("edk2-x86_64-code.fd", "edk2-i386-vars.fd") })
                {
                    if (File.Exists(Path.Combine(dir, code)) && File.Exists(Path.Combine(dir, vars)))
                    {
                        return (Path.Combine(dir, code), Path.Combine(dir, vars));
                    }
                }
            }
            throw new AzureLinuxImageException("OvmfNotFound", ErrorKind.NotFound, "Generation 2 needs OVMF (UEFI firmware for QEMU), looked for in " + string.Join(", ", dirs) + ". " + InstallHint);
        }

        private static void RunTool(string tool, IEnumerable<string> arguments, string target)
        {
            var start = new ProcessStartInfo(tool, JoinArguments(arguments)) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true, CreateNoWindow = true };
            using Process p = Process.Start(start)!;
            string err = p.StandardError.ReadToEnd();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new AzureLinuxImageException("QemuFailed", ErrorKind.ResourceUnavailable, $"{Path.GetFileName(tool)} failed (code {p.ExitCode}): {err.Trim()}", target);
            }
        }

        // Windows command-line quoting (also what .NET splits on other platforms)
        private static string JoinArguments(IEnumerable<string> arguments) =>
            string.Join(" ", arguments.Select(a => a.Length > 0 && a.IndexOfAny(new[] { ' ', '"', '\t' }) < 0 ? a : "\"" + a.Replace("\\\"", "\\\\\"").Replace("\"", "\\\"") + "\""));

        /// <summary>Reads the serial log as QEMU appends to it, line by line.</summary>
        private sealed class ConsoleTail
        {
            private readonly string _path;
            private long _offset;
            private readonly StringBuilder _partial = new StringBuilder();

            /// <summary>Bytes of the log read so far.</summary>
            public long BytesRead => _offset;

            /// <summary>The line being written, not yet ended (a prompt waits there).</summary>
            public string Pending => Clean(_partial.ToString());

            public ConsoleTail(string path)
            {
                _path = path;
            }

            public IEnumerable<string> ReadLines()
            {
                var lines = new List<string>();
                if (!File.Exists(_path))
                {
                    return lines;
                }
                using (var s = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                {
                    if (s.Length <= _offset)
                    {
                        return lines;
                    }
                    s.Position = _offset;
                    var buffer = new byte[Math.Min(s.Length - _offset, 1 << 20)];
                    int n = s.Read(buffer, 0, buffer.Length);
                    _offset += n;
                    foreach (char c in Encoding.UTF8.GetString(buffer, 0, n))
                    {
                        if (c == '\n')
                        {
                            lines.Add(Clean(_partial.ToString()));
                            _partial.Clear();
                        }
                        else if (c != '\r')
                        {
                            _partial.Append(c);
                        }
                    }
                }
                return lines;
            }

            // drop terminal escape sequences GRUB and systemd write
            private static string Clean(string line) => System.Text.RegularExpressions.Regex.Replace(line, @"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f]", string.Empty);
        }
    }
}
