using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>
    /// azlinux rehearse &lt;image&gt;: Test-AzureProvisioning. Boots a copy-on-write overlay of the image
    /// under QEMU with an emulated Azure fabric. Exit code 0 when the guest reported Ready, 1 when it did
    /// not, 2 when the rehearsal could not run (QEMU missing, bad image).
    /// </summary>
    internal static class RehearseVerb
    {
        private const int NotReady = 1;

        public static Command Create()
        {
            var image = new Argument<string>("image") { Description = "Disk image to boot (raw, VHD, VHDX, VMDK, VDI, qcow2); never written." };
            var generation = new Option<int>("--generation") { Description = "1: SeaBIOS, CD on IDE (default); 2: OVMF UEFI, CD on virtio-scsi.", DefaultValueFactory = _ => 1 };
            var qemu = new Option<string?>("--qemu") { Description = "qemu-system-x86_64, or its folder (default: found on PATH)." };
            var timeout = new Option<int>("--timeout") { Description = "Seconds from power-on to wait for Ready (default 600).", DefaultValueFactory = _ => 600 };
            var hostName = new Option<string>("--hostname") { Description = "Host name ovf-env.xml asks for.", DefaultValueFactory = _ => "rehearsal-vm" };
            var user = new Option<string>("--user", "--admin-username") { Description = "Admin user ovf-env.xml asks for.", DefaultValueFactory = _ => "azureuser" };
            var key = new Option<string?>("--ssh-key") { Description = "SSH public key (text, or a .pub file) for the admin user." };
            var incarnation = new Option<int>("--incarnation") { Description = "Goal state incarnation the guest must echo (default 1).", DefaultValueFactory = _ => 1 };
            var workDir = new Option<string?>("--keep") { Description = "Folder to keep the serial log, overlay and provisioning CD in (default: a temporary folder, deleted)." };
            var noKvm = new Option<bool>("--no-kvm") { Description = "Use TCG even when /dev/kvm is usable (opens and answers as KVM)." };
            var serialLog = new Option<string?>("--serial-log") { Description = "Write the serial console to this file as it arrives (tail -f it); kept whatever the outcome." };
            var force = new Option<bool>("--force") { Description = "With --serial-log: replace an existing file." };
            var customData = new Option<string?>("--custom-data") { Description = "Custom data (text) for ovf-env.xml, base64-encoded there as Azure does." };
            var customDataFile = new Option<string?>("--custom-data-file") { Description = "Custom data read from this file (any bytes: a cloud-config, a script)." };
            var dryRun = new Option<bool>("--dry-run") { Description = "Check QEMU and the image; boot nothing." };
            var json = new Option<bool>("--json") { Description = "Write the result as JSON." };
            var verbose = new Option<bool>("--verbose") { Description = "Stream the serial console and every fabric request to stderr." };
            var command = new Command("rehearse", "Boot the image locally as Azure would (emulated fabric, real provisioning agent) and report whether it reports Ready.")
            {
                image, generation, qemu, timeout, hostName, user, key, incarnation, workDir, noKvm, serialLog, force, customData, customDataFile, dryRun, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                using var context = new CliContext(parse, parse.GetValue(dryRun), parse.GetValue(verbose));
                string? keyText = parse.GetValue(key);
                if (keyText != null && File.Exists(keyText))
                {
                    keyText = File.ReadAllText(keyText).Trim();
                }
                byte[]? customDataBytes = null;
                string? customDataText = parse.GetValue(customData), customDataPath = parse.GetValue(customDataFile);
                if (customDataText != null && customDataPath != null)
                {
                    throw new AzureLinuxImageException("CustomDataTwice", ErrorKind.InvalidArgument, "Give --custom-data or --custom-data-file, not both.");
                }
                if (customDataPath != null)
                {
                    if (!File.Exists(customDataPath))
                    {
                        throw new AzureLinuxImageException("CustomDataFileNotFound", ErrorKind.NotFound, $"The custom data file '{Path.GetFullPath(customDataPath)}' does not exist.", customDataPath);
                    }
                    customDataBytes = File.ReadAllBytes(customDataPath);
                }
                else if (customDataText != null)
                {
                    customDataBytes = new UTF8Encoding(false).GetBytes(customDataText);
                }
                var options = new RehearsalOptions
                {
                    ImagePath = parse.GetValue(image)!,
                    Generation = parse.GetValue(generation),
                    QemuPath = parse.GetValue(qemu),
                    Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                    HostName = parse.GetValue(hostName)!,
                    UserName = parse.GetValue(user)!,
                    SshPublicKey = keyText,
                    Incarnation = parse.GetValue(incarnation),
                    WorkDirectory = parse.GetValue(workDir),
                    NoKvm = parse.GetValue(noKvm),
                    SerialLog = parse.GetValue(serialLog),
                    OverwriteSerialLog = parse.GetValue(force),
                    CustomData = customDataBytes,
                };
                ProvisioningRehearsal result = TestAzureProvisioning.Run(options, context);
                if (parse.GetValue(dryRun))
                {
                    return 0;
                }
                if (parse.GetValue(json))
                {
                    CliJson.Write(result);
                }
                else
                {
                    Write(result);
                }
                return result.Ready ? 0 : NotReady;
            }, failure: 2));
            return command;
        }

        private static void Write(ProvisioningRehearsal r)
        {
            Console.WriteLine($"Image:        {r.Image} (generation {r.Generation}, {r.Accelerator})");
            Console.WriteLine(r.Ready
                ? $"Ready:        yes, {r.ReadyAfter!.Value.TotalSeconds:0.0} s after power-on, incarnation {r.IncarnationEchoed} echoed"
                : $"Ready:        no — {r.Failure}");
            if (!r.Ready && r.NotReadyDescription != null)
            {
                Console.WriteLine($"NotReady:     {r.NotReadyDescription}");
            }
            Console.WriteLine($"Agent:        {r.Agent ?? "(no health report)"}");
            Console.WriteLine($"Hostname:     {r.HostName ?? "(unreadable)"} (asked {r.RequestedHostName})");
            Console.WriteLine($"User:         {r.UserName} {(r.UserCreated ? "created" : "NOT created")}{(r.SshKeyInstalled ? ", key installed" : string.Empty)}");
            if (r.CustomDataWritten is bool written)
            {
                Console.WriteLine($"Custom data:  {(written ? "written to " + r.CustomDataFile : "NOT written back by the agent")}");
            }
            if (r.ConsoleLog != null)
            {
                Console.WriteLine($"Serial log:   {r.ConsoleLog}");
            }
            Console.WriteLine($"Requests:     {r.Requests.Count}");
            foreach (var request in r.Requests)
            {
                Console.WriteLine("  " + request);
            }
            foreach (string p in r.ConsoleProblems)
            {
                Console.WriteLine("Console:      " + p);
            }
            if (!r.Ready)
            {
                Console.WriteLine("Last console lines:");
                foreach (string line in r.LastConsoleLines.Skip(Math.Max(0, r.LastConsoleLines.Count - 15)))
                {
                    Console.WriteLine("  " + line);
                }
            }
            Console.WriteLine("Not proven locally:");
            foreach (string n in r.NotProven)
            {
                Console.WriteLine("  - " + n);
            }
        }
    }
}
