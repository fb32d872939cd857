using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Operations
{
    /// <summary>Options of Install-AgentlessProvisioning / azlinux agentless.</summary>
    internal sealed class InstallAgentlessProvisioningOptions
    {
        /// <summary>The disk image; exclusive with <see cref="RootPath"/>.</summary>
        public string? ImagePath { get; set; }

        /// <summary>A Linux root folder.</summary>
        public string? RootPath { get; set; }

        /// <summary>Write a changed copy of the image here instead of changing it in place (images only).</summary>
        public string? Destination { get; set; }

        /// <summary>With <see cref="Destination"/>: replace an existing file.</summary>
        public bool Force { get; set; }
    }

    /// <summary>
    /// Install-AgentlessProvisioning / azlinux agentless (issue 18, R-NOAGENT-3..5): writes a first-boot oneshot unit
    /// and its reporter into the image and enables it (the multi-user.target.wants link, what systemctl enable makes),
    /// so the VM reports Ready once and the unit disables itself. The reporter runs on the image as it is: `azlinux ready`
    /// when azlinux is installed in it, otherwise a POSIX sh script (embedded: azure-report-ready.sh) with the image's
    /// curl or wget; an image with neither is refused with the reason.
    /// </summary>
    internal static class InstallAgentlessProvisioning
    {
        public const string UnitName = "azure-provisioning.service";
        public const string UnitPath = "/etc/systemd/system/" + UnitName;
        public const string ScriptPath = "/usr/local/sbin/azure-report-ready";
        private const string Rule = "AgentlessReportsReady";

        /// <summary>The reporter script as it is written into images.</summary>
        public static string ReporterScript()
        {
            using Stream s = typeof(InstallAgentlessProvisioning).Assembly.GetManifestResourceStream("AzureLinuxImage.azure-report-ready.sh")
                ?? throw new InvalidOperationException("The reporter script is missing from the assembly.");
            using var r = new StreamReader(s);
            return r.ReadToEnd().Replace("\r\n", "\n");
        }

        public static IReadOnlyList<LinuxImageChange> Run(InstallAgentlessProvisioningOptions options, IOperationContext context) =>
            WriteOperation.Execute(options.ImagePath, options.RootPath, options.Destination, options.Force, "Install agent-less provisioning", context, Install);

        private static ImageEditor Install(WritableTarget target)
        {
            IFileSystemWriter w = target.Writer;
            var facts = new LinuxFacts(w, target.Disk);
            var ctx = new ReadinessContext(facts, null, ProvisioningAgentChoice.Auto);
            ProvisioningAgents agents = facts.Provisioning.Value
                ?? throw new AzureLinuxImageException("ImageNotReadable", ErrorKind.InvalidData, $"{target.Source}: the provisioning agents could not be read: {facts.Provisioning.Error}", target.Source);
            AgentRules.AgentState state = AgentRules.State(ctx);
            var present = new List<string>();
            if (agents.Waagent.Installed)
            {
                present.Add("walinuxagent (/usr/sbin/waagent)");
            }
            if (agents.CloudInit.Installed)
            {
                present.Add("cloud-init");
            }
            if (state.AzureInit)
            {
                present.Add("azure-init");
            }
            if (present.Count > 0)
            {
                throw new AzureLinuxImageException("ProvisioningAgentPresent", ErrorKind.InvalidArgument,
                    $"{target.Source}: {string.Join(", ", present)} {(present.Count == 1 ? "is installed and reports ready itself" : "are installed and report ready themselves")}; " +
                    "an agent-less reporter beside an agent would report twice (and the unit is skipped when waagent or cloud-init exists). Remove the agent first (R-NOAGENT-1).", target.Source);
            }
            if (!w.IsDirectory("/etc/systemd/system"))
            {
                throw new AzureLinuxImageException("NoSystemd", ErrorKind.NotSupported,
                    $"{target.Source}: there is no /etc/systemd/system; the first-boot unit needs systemd.", target.Source);
            }
            string? systemctl = new[] { "/usr/bin/systemctl", "/bin/systemctl" }.FirstOrDefault(w.IsFile);
            string? azlinux = new[] { "/usr/local/bin/azlinux", "/usr/bin/azlinux", "/opt/azlinux/azlinux" }.FirstOrDefault(w.IsFile);
            string? client = new[] { "/usr/bin/curl", "/bin/curl", "/usr/local/bin/curl", "/usr/bin/wget", "/bin/wget", "/usr/local/bin/wget" }.FirstOrDefault(w.IsFile);
            if (systemctl == null)
            {
                throw new AzureLinuxImageException("NoSystemd", ErrorKind.NotSupported, $"{target.Source}: systemctl is not in the image; the first-boot unit needs systemd.", target.Source);
            }
            if (azlinux == null && client == null)
            {
                throw new AzureLinuxImageException("NoHttpClient", ErrorKind.NotSupported,
                    $"{target.Source}: the image has neither curl nor wget (nor azlinux), so nothing in it can talk to the wire server at first boot. " +
                    "Install one into the image (apt-get install curl / dnf install curl) and run this again.", target.Source);
            }
            if (azlinux == null && !w.IsFile("/bin/sh") && w.GetEntry("/bin/sh") == null)
            {
                throw new AzureLinuxImageException("NoShell", ErrorKind.NotSupported, $"{target.Source}: /bin/sh is missing, so the reporter script cannot run.", target.Source);
            }
            var ed = new ImageEditor(w, target.Source, "Agentless");
            string exec;
            if (azlinux != null)
            {
                exec = $"{azlinux} ready --hostname --agent-name {UnitName} --verbose";
            }
            else
            {
                ed.EnsureDirectory("/usr/local/sbin", Rule);
                ed.WriteFile(ScriptPath, ReporterScript(), Rule,
                    $"Reports Ready to the wire server at first boot with {client!.Substring(client.LastIndexOf('/') + 1)} (PROTOCOL.md).",
                    new NewItemAttributes { Mode = 0x1ED });
                if (w.GetEntry(ScriptPath)?.Mode is uint mode && mode != 0 && (mode & 0x49) != 0x49)
                {
                    ed.Stage(Rule, ScriptPath, () => w.SetAttributes(ScriptPath, mode: 0x1ED));
                }
                exec = ScriptPath;
            }
            string unit =
                "# Written by azlinux agentless (Install-AgentlessProvisioning): first-boot provisioning for an image\n" +
                "# without walinuxagent, cloud-init or azure-init (R-NOAGENT-3..5). Reports this VM Ready to Azure once,\n" +
                "# then disables itself; after a failure it runs again at the next boot. Create VMs from the image with\n" +
                "# `az vm create ... --enable-agent false` (R-NOAGENT-6).\n" +
                "[Unit]\nDescription=Report this VM ready to Azure (agent-less image, first boot only)\n" +
                "Wants=network-online.target\nAfter=network-online.target\n" +
                "# Never alongside a provisioning agent: they report on their own.\n" +
                "ConditionPathExists=!/usr/sbin/waagent\nConditionPathExists=!/usr/bin/cloud-init\n\n" +
                "[Service]\nType=oneshot\n" +
                $"ExecStart={exec}\n" +
                $"ExecStartPost={systemctl} disable {UnitName}\n" +
                "TimeoutStartSec=25min\nRemainAfterExit=yes\nStandardOutput=journal\n" +
                "# The reporter's log also on the serial console: Azure's boot diagnostics show why a VM never became ready.\n" +
                "StandardError=journal+console\n\n" +
                "[Install]\nWantedBy=multi-user.target\n";
            ed.WriteFile(UnitPath, unit, Rule, "The first-boot unit (oneshot, after network-online.target).");
            ed.EnsureDirectory("/etc/systemd/system/multi-user.target.wants", Rule);
            string wants = "/etc/systemd/system/multi-user.target.wants/" + UnitName;
            FileEntry? link = w.GetEntry(wants, followLastLink: false);
            if (link != null && !(link.Type == FileEntryType.Symlink && link.LinkTarget == UnitPath))
            {
                ed.Remove(wants, Rule, "Replaced by the link systemctl enable makes.");
                link = null;
            }
            if (link == null)
            {
                ed.CreateSymlink(wants, UnitPath, Rule, "Enabled: the link systemctl enable makes (WantedBy=multi-user.target).");
            }
            return ed;
        }
    }
}
