using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.Linux;
using AzureLinuxImage.Readiness;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>
    /// Issue 27 item 1: /etc/default/grub.d/*.cfg overrides /etc/default/grub as grub-mkconfig sources them, on the
    /// real Debian 12 root with an Ubuntu-style 50-cloudimg-settings.cfg written into it.
    /// </summary>
    public sealed class GrubDropInTests : IClassFixture<DebianRoots>
    {
        private const string CloudImg = "etc/default/grub.d/50-cloudimg-settings.cfg";
        private readonly DebianRoots roots;

        public GrubDropInTests(DebianRoots roots)
        {
            this.roots = roots;
        }

        private static IReadOnlyList<ReadinessFinding> Check(string root) => DebianReadinessTests.Check(root);

        private static ReadinessFinding Rule(IReadOnlyList<ReadinessFinding> f, string id) => DebianReadinessTests.Rule(f, id);

        /// <summary>grub.cfg's linux line rewritten with <paramref name="args"/>, as grub-mkconfig would from the effective values.</summary>
        private static void Regenerate(LinuxRoot root, string args) =>
            root.Edit("boot/grub/grub.cfg", t => System.Text.RegularExpressions.Regex.Replace(t, @"(\tlinux \S+ root=UUID=\S+ ro) .*", "$1 " + args));

        [Fact]
        public void A_drop_in_decides_the_command_line_and_is_named_with_its_line()
        {
            LinuxRoot root = roots.Stock;
            using System.IDisposable change = root.Change();
            // Written the way Ubuntu's cloud images ship theirs: the default line replaced, GRUB_CMDLINE_LINUX appended to.
            root.Write(CloudImg, "# Cloud Image specific settings\n\nGRUB_TIMEOUT=0\n" +
                "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200\"\n" +
                "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX net.ifnames=0\"\nGRUB_TERMINAL=console\n");
            Regenerate(root, "net.ifnames=0 console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200");

            BootConfiguration boot = new LinuxFacts(new AzureLinuxImage.FileSystems.HostDirectoryFileSystem(root.Path)).Boot.Value!;
            // Debian 12 ships init-select.cfg there too (comments only: a workaround for Debian bug 858528); glob order.
            Assert.Equal(new[] { "/etc/default/grub", "/etc/default/grub.d/50-cloudimg-settings.cfg", "/etc/default/grub.d/init-select.cfg" }, boot.Defaults.Files);
            Assert.Equal("console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200", boot.DefaultGrub["GRUB_CMDLINE_LINUX_DEFAULT"]);
            GrubAssignment linux = boot.Defaults.Last("GRUB_CMDLINE_LINUX")!;
            Assert.Equal("/etc/default/grub.d/50-cloudimg-settings.cfg:5", linux.Source.ToString());
            Assert.Equal("net.ifnames=0", linux.Value.Trim()); // Debian's GRUB_CMDLINE_LINUX="" expanded, then appended to
            Assert.True(linux.Appends);
            Assert.Equal("/etc/default/grub.d/50-cloudimg-settings.cfg:4", boot.Defaults.Last("GRUB_CMDLINE_LINUX_DEFAULT")!.Source.ToString());
            Assert.Equal("/etc/default/grub.d/50-cloudimg-settings.cfg:5", boot.DefaultGrubCommandLine!.Source.ToString());

            IReadOnlyList<ReadinessFinding> findings = Check(root.Path);
            // /etc/default/grub still says quiet, but the drop-in overrides it: grub.cfg is in sync, not stale.
            ReadinessFinding sync = Rule(findings, "BootConfigurationInSync");
            Assert.True(sync.Status == ReadinessStatus.Pass, sync.Message);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "QuietBoot").Status);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "SerialConsole").Status);

            // The drop-in brings quiet back: the finding and its fix name the drop-in's line, not /etc/default/grub.
            root.Edit(CloudImg, t => t.Replace("console=tty1 console=ttyS0", "quiet splash console=tty1 console=ttyS0"));
            Regenerate(root, "net.ifnames=0 quiet splash console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200");
            findings = Check(root.Path);
            ReadinessFinding quiet = Rule(findings, "QuietBoot");
            Assert.Equal(ReadinessStatus.Warning, quiet.Status);
            Assert.Equal("/etc/default/grub.d/50-cloudimg-settings.cfg", quiet.EvidenceFile);
            Assert.Equal(4, quiet.EvidenceLine);
            Assert.Contains("GRUB_CMDLINE_LINUX_DEFAULT at /etc/default/grub.d/50-cloudimg-settings.cfg:4", quiet.Remediation);
            Assert.DoesNotContain("in /etc/default/grub,", quiet.Remediation);
            Assert.Equal(ReadinessStatus.Pass, Rule(findings, "BootConfigurationInSync").Status);

            // Without the console in the drop-in, the fix appends to the assignment that decides GRUB_CMDLINE_LINUX.
            root.Edit(CloudImg, t => t.Replace(" console=ttyS0,115200n8 earlyprintk=ttyS0,115200", string.Empty));
            Regenerate(root, "net.ifnames=0 quiet splash console=tty1");
            ReadinessFinding console = Rule(Check(root.Path), "SerialConsole");
            Assert.Equal(ReadinessStatus.Fail, console.Status);
            Assert.Contains("In /etc/default/grub.d/50-cloudimg-settings.cfg (line 5", console.Remediation);
        }

        [Fact]
        public void A_drop_in_edit_missing_from_grub_cfg_is_a_real_disagreement()
        {
            LinuxRoot root = roots.AzureReady;
            using System.IDisposable change = root.Change();
            root.Write(CloudImg, "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX nvme_core.io_timeout=240\"\n");
            // grub.cfg not regenerated: the drop-in's argument is missing from it, which is a real disagreement.
            ReadinessFinding f = Rule(Check(root.Path), "BootConfigurationInSync");
            Assert.Equal(ReadinessStatus.Warning, f.Status);
            Assert.Contains("nvme_core.io_timeout=240", f.Message);
            Assert.Contains("50-cloudimg-settings.cfg", f.Message);
        }

        [Theory]
        [InlineData("K='a b'\"c $X\"\\ d\n", "a bc 1 d")]
        [InlineData("K=\"$X ${X}x\"\n", "1 1x")]
        [InlineData("export K=\"one\ntwo\"\n", "one\ntwo")]
        [InlineData("K=\"a\" # comment\n", "a")]
        [InlineData("K='$X'\n", "$X")]
        [InlineData("K=\"\\$X \\\" \\q\"\n", "$X \" \\q")]
        [InlineData("#K=\"nope\"\nK=yes\n", "yes")]
        public void Assignments_are_read_as_the_shell_does(string text, string expected)
        {
            var d = new GrubDefaults();
            d.ReadText("/x", "X=1\n" + text);
            Assert.Equal(expected, d.Values["K"]);
        }
    }
}
