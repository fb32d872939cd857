using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace AzureLinuxImage.Readiness
{
    /// <summary>The rule catalogue as documentation (docs/rules.md), generated from the rules in code.</summary>
    internal static class ReadinessCatalog
    {
        /// <summary>Where the check departs from the seed articles, and the evidence (issue 24).</summary>
        internal static readonly (string Title, string Text)[] Divergences =
        {
            ("rootdelay=300 is not asked for (R-BOOT-1)",
                "The articles add rootdelay=300, meaning a maximum wait for the root device. Debian's initramfs-tools instead runs an unconditional sleep \"$ROOTDELAY\" in /init before it even looks for the root (Debian 12's 6.1 cloud kernel initrd: /init lines 231-232, `if [ \"$ROOTDELAY\" ]; then sleep \"$ROOTDELAY\"`), so every boot waits five minutes, in Azure and anywhere; measured under QEMU it adds 300 s to a Debian 12 boot (AZURE-LINUX.md, \"Booting an image locally\"). Its scripts/local already waits up to max(30, rootdelay) s for a missing root, and dracut (RHEL, Fedora, SUSE) bounds its wait by rd.retry (dracut.cmdline(7)). Ubuntu and other distributions build their initramfs with their own versions of these tools, so RootDelay does not assume: it reads the default kernel's initramfs, it warns when the boot code sleeps for the parameter (naming the script and line inside the initrd), passes when it only bounds a wait, ignores it, or the parameter is absent, and no remediation ever adds it."),
            ("earlyprintk only where the kernel has it (R-BOOT-1)",
                "earlyprintk= does nothing unless the kernel is built with CONFIG_EARLY_PRINTK (x86; Arm64 kernels have earlycon instead). EarlyPrintk reads the default kernel's /boot/config-* and asks for it only then."),
            ("numa=off only for old kernels (R-KERNEL-1)",
                "numa=off is needed by kernels before 2.6.37 (RHEL before 2.6.32-504); on newer kernels it only disables NUMA on large VM sizes, so NumaOffOnOldKernels warns when it is set there."),
            ("A NIC nothing brings up fails (R-NOAGENT-2)",
                "The articles only ask for DHCP. An image where nothing asks for an address at boot is never provisioned (waagent never brings a NIC up), so DhcpPrimaryNic fails it and gives Debian's cloud images' fix: net.ifnames=0 and auto eth0 / iface eth0 inet dhcp (not a pattern stanza: waagent runs ifup eth0)."),
        };

        public static string Markdown()
        {
            var sb = new StringBuilder();
            sb.Append("# Readiness rules\n\n");
            sb.Append("Generated from the rules in `src/AzureLinuxImage.Core/Readiness` (a test keeps this file in sync).\n");
            sb.Append("`Test-LinuxImageReadiness` and `azlinux test` report one finding per rule: Pass, Fail, Warning, NotApplicable or Unknown.\n");
            sb.Append("Requirements: `R-…` are numbered in REQUIREMENTS.md (the seed articles); `AZ-…` are rows of AZURE-LINUX.md (Azure's current documentation).\n");
            sb.Append("Rules of severity Warning or Info report Warning, never Fail.\n");
            sb.Append("Not visible in an image's files, so not rules: R-DISK-3 (how to resize), R-AGENT-4 (where the agent comes from), ");
            sb.Append("R-NOAGENT-6 (create VMs with --enable-agent false), R-NOAGENT-7 (who supports custom provisioning code).\n\n");
            foreach (string area in ReadinessRules.Areas)
            {
                var rules = ReadinessRules.All.Where(r => r.Area == area).ToList();
                if (rules.Count == 0)
                {
                    continue;
                }
                sb.Append("## ").Append(area).Append("\n\n| Rule | Requirement | Severity | Checks |\n| --- | --- | --- | --- |\n");
                foreach (ReadinessRule r in rules)
                {
                    sb.Append($"| `{r.Id}` | {r.Requirement} | {r.Severity} | **{r.Title}.** {r.Description.Replace("|", "\\|")} |\n");
                }
                sb.Append('\n');
            }
            sb.Append("## Where this check departs from the articles\n\n");
            foreach ((string title, string text) in Divergences)
            {
                sb.Append("- **").Append(title).Append(".** ").Append(text).Append('\n');
            }
            return sb.ToString();
        }
    
        /// <summary>The about_AzureLinuxImage_Readiness help topic (plain text, 80 columns).</summary>
        public static string AboutTopic()
        {
            var sb = new StringBuilder();
            sb.Append("TOPIC\n    about_AzureLinuxImage_Readiness\n\n");
            sb.Append("SHORT DESCRIPTION\n    The rules Test-LinuxImageReadiness checks, and what each one needs.\n\n");
            sb.Append("LONG DESCRIPTION\n");
            foreach (string line in Wrap("Test-LinuxImageReadiness (azlinux test) reads an image or a root folder offline and reports one finding per rule: Pass, Fail, Warning, NotApplicable or Unknown, with the evidence (file and line) and the exact remediation. Select rules with -Rule and -ExcludeRule (wildcards). Requirements R-... are those of the seed articles, AZ-... those of Azure's current documentation. Rules of severity Warning or Info never fail.", 4))
            {
                sb.Append(line).Append('\n');
            }
            foreach (string area in ReadinessRules.Areas)
            {
                var rules = ReadinessRules.All.Where(r => r.Area == area).ToList();
                if (rules.Count == 0)
                {
                    continue;
                }
                sb.Append('\n').Append("  ").Append(area.ToUpperInvariant()).Append('\n');
                foreach (ReadinessRule r in rules)
                {
                    sb.Append("    ").Append(r.Id).Append(" (").Append(r.Requirement).Append(", ").Append(r.Severity).Append(")\n");
                    foreach (string line in Wrap(r.Title + ". " + r.Description, 8))
                    {
                        sb.Append(line).Append('\n');
                    }
                }
            }
            sb.Append("\n  WHERE THIS CHECK DEPARTS FROM THE ARTICLES\n");
            foreach ((string title, string text) in Divergences)
            {
                sb.Append("    ").Append(title).Append('\n');
                foreach (string line in Wrap(text.Replace("`", string.Empty), 8))
                {
                    sb.Append(line).Append('\n');
                }
            }
            sb.Append("\nSEE ALSO\n    Test-LinuxImageReadiness\n    Export-ReadinessReport\n    about_AzureLinuxImage\n");
            return sb.ToString();
        }

        private static IEnumerable<string> Wrap(string text, int indent, int width = 80)
        {
            var line = new StringBuilder();
            foreach (string word in text.Split(' '))
            {
                if (line.Length > 0 && indent + line.Length + 1 + word.Length > width)
                {
                    yield return new string(' ', indent) + line;
                    line.Clear();
                }
                if (line.Length > 0)
                {
                    line.Append(' ');
                }
                line.Append(word);
            }
            if (line.Length > 0)
            {
                yield return new string(' ', indent) + line;
            }
        }
    }
}
