using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Compression;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>
    /// Issue 24: what the image's own boot code does with rootdelay=. The real Debian 12 initrd sleeps for it
    /// unconditionally; a dracut-style initramfs built here (its /init, dracut-lib.sh and initqueue hooks written
    /// from dracut's documented behaviour: an initqueue loop bounded by rd.retry) bounds it or ignores it.
    /// </summary>
    public sealed class RootDelayTests : IClassFixture<DebianRoots>
    {
        private const string Kver = "5.14.0-427.13.1.el9_4.x86_64";
        private readonly DebianRoots roots;

        public RootDelayTests(DebianRoots roots)
        {
            this.roots = roots;
        }

        private static RootDelayFact Analyze(string initrd)
        {
            var names = new List<string>();
            var scripts = new Dictionary<string, string>(StringComparer.Ordinal);
            using FileStream s = File.OpenRead(initrd);
            foreach (InitramfsItem item in InitramfsNames.List(s, initrd))
            {
                names.Add(InitramfsBootCode.PathOf(item.Name));
                if (item.Text != null)
                {
                    scripts[InitramfsBootCode.PathOf(item.Name)] = item.Text;
                }
            }
            return InitramfsBootCode.AnalyzeRootDelay(names, scripts);
        }

        /// <summary>The line of /init holding sleep "$ROOTDELAY", found with zstd, cpio and grep.</summary>
        private static int SleepLineByTools(string initrd)
        {
            ExternalTool.Require("zstd", "zstd");
            ExternalTool.Require("cpio", "cpio");
            string line = ExternalTool.Run("/bin/bash", new[] { "-c", $"zstd -dc '{initrd}' | cpio --quiet -i --to-stdout init | grep -n 'sleep \"$ROOTDELAY\"'" }).StdOut;
            return int.Parse(line.Split(':')[0], System.Globalization.CultureInfo.InvariantCulture);
        }

        [Fact]
        public void Debians_initramfs_sleeps_for_rootdelay_unconditionally_and_the_line_is_reported()
        {
            string initrd = DebianInitrdTests.RequireInitrd();
            RootDelayFact f = Analyze(initrd);
            Assert.Equal(RootDelayHandling.Unconditional, f.Handling);
            Assert.Equal("initramfs-tools", f.Generator);
            Assert.Equal("/init", f.Script);
            Assert.Equal(SleepLineByTools(initrd), f.Line);
            Assert.Equal("sleep \"$ROOTDELAY\"", f.Text);
        }

        [Fact]
        public void On_the_Debian_root_rootdelay_warns_with_the_cost_and_where_and_absent_passes()
        {
            string initrd = DebianInitrdTests.RequireInitrd();
            int line = SleepLineByTools(initrd);
            LinuxRoot root = roots.AzureReady;
            using IDisposable change = root.Change();
            IReadOnlyList<ReadinessFinding> findings = DebianReadinessTests.Check(root.Path);
            // The ready image as built now: no rootdelay, nothing sleeps; earlyprintk is there and the kernel has CONFIG_EARLY_PRINTK.
            Assert.Equal(ReadinessStatus.Pass, DebianReadinessTests.Rule(findings, "RootDelay").Status);
            ReadinessFinding early = DebianReadinessTests.Rule(findings, "EarlyPrintk");
            Assert.Equal(ReadinessStatus.Pass, early.Status);
            Assert.Contains("CONFIG_EARLY_PRINTK", early.Message);
            Assert.DoesNotContain("rootdelay", DebianReadinessTests.Rule(findings, "SerialConsole").Message);

            // The seed article's rootdelay=300, as the ready image had it before issue 24.
            root.SetKey("etc/default/grub", "GRUB_CMDLINE_LINUX", "\"console=ttyS0,115200n8 earlyprintk=ttyS0,115200 net.ifnames=0 rootdelay=300\"");
            root.Edit("boot/grub/grub.cfg", t => t.Replace(" net.ifnames=0", " net.ifnames=0 rootdelay=300"));
            ReadinessFinding f = DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "RootDelay");
            Assert.Equal(ReadinessStatus.Warning, f.Status);
            Assert.Contains("every boot wait 300 s", f.Message);
            Assert.Contains($"/boot/initrd.img-{root.KernelVersion}:/init:{line}", f.Message);
            Assert.Contains("initramfs-tools", f.Message);
            Assert.Contains("R-BOOT-1", f.Message);
            Assert.Equal("/boot/grub/grub.cfg", f.EvidenceFile);
            int grubLine = Array.FindIndex(root.Read("etc/default/grub").Split('\n'), l => l.StartsWith("GRUB_CMDLINE_LINUX=", StringComparison.Ordinal)) + 1;
            Assert.Equal($"Remove \"rootdelay=300\" from GRUB_CMDLINE_LINUX at /etc/default/grub:{grubLine}, then run: update-grub", f.Remediation);
            // No remediation of any rule adds a parameter that sleeps.
            Assert.DoesNotContain(DebianReadinessTests.Check(root.Path), x => x.Remediation != null && x.Remediation.Contains("append") && x.Remediation.Contains("rootdelay"));
        }

        [Fact]
        public void The_stock_root_is_never_told_to_add_rootdelay()
        {
            LinuxRoot root = roots.Stock;
            using IDisposable change = root.Change();
            IReadOnlyList<ReadinessFinding> findings = DebianReadinessTests.Check(root.Path);
            Assert.DoesNotContain(findings, x => x.Remediation != null && x.Remediation.Contains("rootdelay"));
            Assert.Equal(ReadinessStatus.Pass, DebianReadinessTests.Rule(findings, "RootDelay").Status);
            Assert.Equal(ReadinessStatus.Warning, DebianReadinessTests.Rule(findings, "EarlyPrintk").Status);
        }

        // A dracut-style initramfs, written here from dracut's documented behaviour (dracut.cmdline(7): the
        // initqueue is retried for rd.retry seconds, default 180); not dracut's code.
        private const string DracutLib = "#!/bin/sh\n# getarg NAME: the value of NAME= on the kernel command line\n" +
            "getarg() {\n    for _o in $(cat /proc/cmdline); do\n        case \"$_o\" in\n            \"$1\"=*) echo \"${_o#*=}\"; return 0 ;;\n        esac\n    done\n    return 1\n}\n";

        private const string DracutInit = "#!/bin/sh\n. /lib/dracut-lib.sh\n" +
            "RDRETRY=$(getarg rd.retry)\nRDRETRY=${RDRETRY:-180}\nmain_loop=0\n" +
            "while :; do\n    [ -e /dev/root ] && break\n    for job in /lib/dracut/hooks/initqueue/*.sh; do\n        [ -e \"$job\" ] && . \"$job\"\n    done\n" +
            "    sleep 0.5\n    main_loop=$((main_loop + 1))\n    [ $main_loop -gt $((RDRETRY * 2)) ] && exec sh\ndone\n" +
            "for hook in /lib/dracut/hooks/mount/*.sh; do . \"$hook\"; done\nexec switch_root /sysroot /sbin/init\n";

        private const string BoundedHook = "#!/bin/sh\n# wait for the root device at most rootdelay seconds\n" +
            "limit=$(getarg rootdelay)\nlimit=${limit:-30}\nwaited=0\n" +
            "while [ ! -b /dev/root ] && [ \"$waited\" -lt \"$limit\" ]; do\n    sleep 1\n    waited=$((waited + 1))\ndone\n";

        private static LinuxRoot DracutRoot(params (string Path, string Text)[] scripts)
        {
            LinuxRoot r = LinuxRoot.Synthetic();
            r.Write("etc/os-release", "ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n");
            r.Write($"boot/vmlinuz-{Kver}", "not a real kernel");
            r.Write($"boot/config-{Kver}", "CONFIG_EARLY_PRINTK=y\nCONFIG_HYPERV=m\n");
            r.Write("boot/grub2/grub.cfg", $"set default=\"0\"\nmenuentry 'RHEL' {{\n\tlinux\t/vmlinuz-{Kver} root=UUID=0b0c3b1e-6f4e-4b8a-9d55-3c8f3f1f2a10 ro console=ttyS0,115200n8 earlyprintk=ttyS0,115200 rootdelay=300\n\tinitrd\t/initramfs-{Kver}.img\n}}\n");
            string cpio = ExternalTool.Require("cpio", "cpio");
            ExternalTool.Require("xz", "xz-utils");
            using var staging = new TempDirectory();
            foreach ((string path, string text) in scripts.Append(("usr/lib/dracut/modules.txt", "base\nrootfs-block\n")))
            {
                string full = Path.Combine(staging.Path, path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                File.WriteAllText(full, text);
            }
            string output = staging.File("out.img");
            // RHEL's dracut compresses with xz (--check=crc32, as the kernel needs).
            ExternalTool.Run("sh", new[] { "-c", $"cd '{staging.Path}' && find . -path ./out.img -prune -o -print | LC_ALL=C sort | '{cpio}' --quiet -o -H newc | xz --check=crc32 > '{output}'" });
            r.WriteBytes($"boot/initramfs-{Kver}.img", File.ReadAllBytes(output));
            return r;
        }

        [Fact]
        public void A_dracut_style_initramfs_that_bounds_rootdelay_passes()
        {
            using LinuxRoot root = DracutRoot(("init", DracutInit), ("lib/dracut-lib.sh", DracutLib), ("lib/dracut/hooks/initqueue/settled/90-wait-root.sh", BoundedHook));
            ReadinessFinding f = DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "RootDelay");
            Assert.True(f.Status == ReadinessStatus.Pass, f.Message);
            Assert.Contains("only bounds the wait", f.Message);
            Assert.Contains("dracut", f.Message);
            Assert.Contains($"/boot/initramfs-{Kver}.img:/lib/dracut/hooks/initqueue/settled/90-wait-root.sh:6", f.Message);
            Assert.Null(f.Remediation);
        }

        [Fact]
        public void A_dracut_style_initramfs_that_never_reads_rootdelay_passes_and_one_that_sleeps_warns()
        {
            using (LinuxRoot root = DracutRoot(("init", DracutInit), ("lib/dracut-lib.sh", DracutLib)))
            {
                ReadinessFinding f = DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "RootDelay");
                Assert.Equal(ReadinessStatus.Pass, f.Status);
                Assert.Contains("never reads it", f.Message);
                Assert.Contains("rd.retry", f.Message);
            }
            // The same initramfs with a hook that sleeps the whole delay: the analysis is of the code, not of the name.
            using (LinuxRoot root = DracutRoot(("init", DracutInit), ("lib/dracut-lib.sh", DracutLib),
                ("lib/dracut/hooks/pre-mount/10-delay.sh", "#!/bin/sh\nDELAY=$(getarg rootdelay)\n[ -n \"$DELAY\" ] && sleep $DELAY\nsleep ${DELAY}\n")))
            {
                ReadinessFinding f = DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "RootDelay");
                Assert.Equal(ReadinessStatus.Warning, f.Status);
                Assert.Contains("/lib/dracut/hooks/pre-mount/10-delay.sh:4", f.Message);
                Assert.Contains("grub2-mkconfig", f.Remediation);
            }
        }

        [Fact]
        public void An_unreadable_initramfs_is_unknown()
        {
            using LinuxRoot root = DracutRoot(("init", DracutInit));
            root.WriteBytes($"boot/initramfs-{Kver}.img", new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 1, 2, 3 });
            Assert.Equal(ReadinessStatus.Unknown, DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "RootDelay").Status);
        }

        [Fact]
        public void Numa_off_on_a_kernel_that_handles_numa_warns_and_earlyprintk_follows_the_kernel_config()
        {
            using LinuxRoot root = DracutRoot(("init", DracutInit));
            root.Edit("boot/grub2/grub.cfg", t => t.Replace("rootdelay=300", "numa=off"));
            IReadOnlyList<ReadinessFinding> findings = DebianReadinessTests.Check(root.Path);
            ReadinessFinding numa = DebianReadinessTests.Rule(findings, "NumaOffOnOldKernels");
            Assert.Equal(ReadinessStatus.Warning, numa.Status);
            Assert.Contains("only disables NUMA", numa.Message);
            Assert.Equal(ReadinessStatus.Pass, DebianReadinessTests.Rule(findings, "EarlyPrintk").Status);

            // A kernel without CONFIG_EARLY_PRINTK: earlyprintk does nothing, so it is neither asked for nor kept.
            root.Write($"boot/config-{Kver}", "# CONFIG_EARLY_PRINTK is not set\nCONFIG_HYPERV=m\n");
            ReadinessFinding early = DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "EarlyPrintk");
            Assert.Equal(ReadinessStatus.Warning, early.Status);
            Assert.Contains("without CONFIG_EARLY_PRINTK", early.Message);
            root.Edit("boot/grub2/grub.cfg", t => t.Replace(" earlyprintk=ttyS0,115200", string.Empty));
            Assert.Equal(ReadinessStatus.Pass, DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "EarlyPrintk").Status);
            root.Edit("boot/grub2/grub.cfg", t => t.Replace(" console=ttyS0,115200n8", string.Empty));
            ReadinessFinding console = DebianReadinessTests.Rule(DebianReadinessTests.Check(root.Path), "SerialConsole");
            Assert.Equal(ReadinessStatus.Fail, console.Status);
            Assert.Contains("console=ttyS0,115200n8", console.Remediation);
            Assert.DoesNotContain("earlyprintk", console.Remediation);
            Assert.DoesNotContain("rootdelay", console.Remediation);
        }
    }
}
