using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using AzureLinuxImage.Tests.Infrastructure;
using AzureLinuxImage.Tests.Upload;
using Xunit;

namespace AzureLinuxImage.Tests.Hosting
{
    /// <summary>
    /// azlinux under Azure Pipelines (TF_BUILD=True) and GitHub Actions (GITHUB_ACTIONS=true), issue 23: the
    /// exact logging-command lines for the committed sample's findings (file and line inside the image), the
    /// SAS given to `azlinux upload` registered once, first, and nothing of this without the variables or with
    /// --no-pipeline-logging. Every run clears the host variables it does not set (CI may itself run under one).
    /// </summary>
    public sealed class PipelineCliTests : IClassFixture<AzuriteFixture>
    {
        private static readonly string[] HostVariables = { "TF_BUILD", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "AZURELINUXIMAGE_NO_PIPELINE_LOGGING" };
        private readonly AzuriteFixture azurite;

        public PipelineCliTests(AzuriteFixture azurite) => this.azurite = azurite;

        private static string Sample => Repository.File("samples/sample.vhd");

        /// <summary>Runs the built azlinux with exactly the host variables given (the others removed).</summary>
        internal static ToolResult Run(IDictionary<string, string> variables, params string[] args)
        {
            var environment = HostVariables.ToDictionary(v => v, _ => (string?)null, StringComparer.Ordinal);
            foreach (KeyValuePair<string, string> v in variables)
            {
                environment[v.Key] = v.Value;
            }
            return AzLinux.Run(environment, args);
        }

        private static string[] Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();

        private static bool IsCommand(string line) => line.StartsWith("##vso[", StringComparison.Ordinal) || line.StartsWith("::", StringComparison.Ordinal) || line.StartsWith("##[", StringComparison.Ordinal);

        /// <summary>The sample's failing and warning findings, from azlinux test --json with no host.</summary>
        private static List<JsonElement> SampleIssues()
        {
            var json = Run(new Dictionary<string, string>(), "test", Sample, "--json");
            Assert.True(json.ExitCode == 1, json.StdErr);
            using var doc = JsonDocument.Parse(json.StdOut);
            return doc.RootElement.GetProperty("findings").EnumerateArray()
                .Where(f => f.GetProperty("status").GetString() is "Fail" or "Warning").Select(f => f.Clone()).ToList();
        }

        private static string? Text(JsonElement f, string name) => f.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        private static int Number(JsonElement f, string name) => f.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : 0;

        [Fact]
        public void Azure_pipelines_gets_one_logissue_per_failing_or_warning_finding_with_file_and_line_inside_the_image()
        {
            var run = Run(new Dictionary<string, string> { ["TF_BUILD"] = "True" }, "test", Sample);
            Assert.Equal(1, run.ExitCode);
            string[] issues = Lines(run.StdOut).Where(l => l.StartsWith("##vso[task.logissue", StringComparison.Ordinal)).ToArray();

            // The sample's facts, as the README shows them.
            Assert.Contains("##vso[task.logissue type=error;sourcepath=/boot/grub/grub.cfg;linenumber=14]SerialConsole: The default boot entry's command line has no console= argument: Azure's serial console and boot diagnostics stay blank.", issues);
            Assert.Contains("##vso[task.logissue type=warning;sourcepath=/etc/default/grub;linenumber=4]QuietBoot: The command line has quiet: boot messages are hidden from the serial console.", issues);
            Assert.Contains("##vso[task.logissue type=error;sourcepath=/etc/fstab;linenumber=3]NoSwapOnOsDisk: Swap on the OS disk: fstab line 3 swaps on /swapfile. Swap belongs on the resource disk (waagent or cloud-init).", issues);
            Assert.Contains("##vso[task.logissue type=error;sourcepath=/etc/sudoers;linenumber=2]SudoersTargetPw: Defaults targetpw at /etc/sudoers:2: sudo asks for root's password, which provisioned users do not have.", issues);
            Assert.Contains("##vso[task.logissue type=error]FixedVhd: The image is vhd (dynamic); Azure accepts fixed VHD only.", issues);

            // Every other one built from the JSON findings by the documented rule, in the same order.
            var expected = SampleIssues().Select(f =>
            {
                string props = "type=" + (Text(f, "status") == "Fail" ? "error" : "warning");
                if (Text(f, "evidenceFile") is string file)
                {
                    props += ";sourcepath=" + file + (Number(f, "evidenceLine") > 0 ? ";linenumber=" + Number(f, "evidenceLine") : string.Empty);
                }
                return $"##vso[task.logissue {props}]{Text(f, "ruleId")}: {Text(f, "message")}";
            }).ToArray();
            Assert.Equal(16, expected.Length);
            Assert.Equal(expected, issues);
            Assert.Equal(8, issues.Count(l => l.StartsWith("##vso[task.logissue type=error", StringComparison.Ordinal)));

            // Progress as setprogress, never a redrawn bar; no SucceededWithIssues (rules failed).
            Assert.Contains("##vso[task.setprogress value=100;]Testing Linux image readiness", Lines(run.StdOut));
            Assert.DoesNotContain("task.complete", run.StdOut, StringComparison.Ordinal);
            Assert.DoesNotContain("\r", run.StdErr, StringComparison.Ordinal);
        }

        [Fact]
        public void Azure_pipelines_run_with_only_warnings_ends_succeeded_with_issues()
        {
            // The sample's warnings alone (its failing rules excluded): the task ends SucceededWithIssues, exit 0.
            string[] failing = SampleIssues().Where(f => Text(f, "status") == "Fail").Select(f => Text(f, "ruleId")!).ToArray();
            var args = new List<string> { "test", Sample };
            foreach (string r in failing)
            {
                args.Add("--exclude-rule");
                args.Add(r);
            }
            var run = Run(new Dictionary<string, string> { ["TF_BUILD"] = "True" }, args.ToArray());
            Assert.True(run.ExitCode == 0, run.StdErr);
            string[] lines = Lines(run.StdOut);
            Assert.Equal("##vso[task.complete result=SucceededWithIssues]Linux image readiness: 8 warnings, no failures", lines[^1]);
            Assert.Equal(8, lines.Count(l => l.StartsWith("##vso[task.logissue type=warning;", StringComparison.Ordinal)));
        }

        [Fact]
        public void Github_actions_gets_annotations_and_a_step_summary()
        {
            using var dir = new TempDirectory();
            string summary = dir.File("summary.md");
            var run = Run(new Dictionary<string, string> { ["GITHUB_ACTIONS"] = "true", ["GITHUB_STEP_SUMMARY"] = summary }, "test", Sample);
            Assert.Equal(1, run.ExitCode);
            string[] annotations = Lines(run.StdOut).Where(l => l.StartsWith("::", StringComparison.Ordinal)).ToArray();
            Assert.Contains("::error file=/boot/grub/grub.cfg,line=14::SerialConsole: The default boot entry's command line has no console= argument: Azure's serial console and boot diagnostics stay blank.", annotations);
            Assert.Contains("::warning file=/etc/default/grub,line=4::QuietBoot: The command line has quiet: boot messages are hidden from the serial console.", annotations);
            Assert.Contains("::warning file=/etc/ssh/sshd_config::SshClientAliveInterval: ClientAliveInterval is not set (0: idle sessions are dropped by Azure's load balancer after 4 minutes).", annotations);
            Assert.Contains("::error::FixedVhd: The image is vhd (dynamic); Azure accepts fixed VHD only.", annotations);
            var expected = SampleIssues().Select(f =>
            {
                var props = new List<string>();
                if (Text(f, "evidenceFile") is string file)
                {
                    props.Add("file=" + file.Replace(",", "%2C").Replace(":", "%3A"));
                    if (Number(f, "evidenceLine") > 0)
                    {
                        props.Add("line=" + Number(f, "evidenceLine"));
                    }
                }
                string command = Text(f, "status") == "Fail" ? "error" : "warning";
                return $"::{command}{(props.Count > 0 ? " " + string.Join(",", props) : string.Empty)}::{Text(f, "ruleId")}: {Text(f, "message")}";
            }).ToArray();
            Assert.Equal(expected, annotations);

            string markdown = File.ReadAllText(summary);
            Assert.StartsWith("# Azure readiness of ", markdown, StringComparison.Ordinal);
            Assert.Contains("8 failed, 8 warnings,", markdown, StringComparison.Ordinal);
            Assert.Contains("| Fail | SerialConsole | ", markdown, StringComparison.Ordinal);
            Assert.Contains("/boot/grub/grub.cfg:14", markdown, StringComparison.Ordinal);
            Assert.Contains("## Remediation", markdown, StringComparison.Ordinal);
            Assert.DoesNotContain("setprogress", run.StdOut, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData(false, false)]
        [InlineData(true, false)]
        [InlineData(true, true)]
        public void Nothing_of_this_without_the_variables_or_with_the_switch(bool setVariables, bool useVariable)
        {
            using var dir = new TempDirectory();
            string summary = dir.File("summary.md");
            var vars = new Dictionary<string, string>();
            if (setVariables)
            {
                vars["TF_BUILD"] = "True";
                vars["GITHUB_ACTIONS"] = "true";
                vars["GITHUB_STEP_SUMMARY"] = summary;
            }
            var args = new List<string> { "test", Sample };
            if (useVariable)
            {
                vars["AZURELINUXIMAGE_NO_PIPELINE_LOGGING"] = "1";
            }
            else if (setVariables)
            {
                args.Add("--no-pipeline-logging");
            }
            var run = Run(vars, args.ToArray());
            Assert.Equal(1, run.ExitCode);
            Assert.DoesNotContain(Lines(run.StdOut).Concat(Lines(run.StdErr)), IsCommand);
            Assert.Contains("8 failed, 8 warnings", run.StdOut, StringComparison.Ordinal);
            Assert.False(File.Exists(summary));
        }

        [Fact]
        public void Json_output_stays_json_the_commands_going_to_stderr()
        {
            var run = Run(new Dictionary<string, string> { ["TF_BUILD"] = "True" }, "test", Sample, "--json");
            using var doc = JsonDocument.Parse(run.StdOut);
            Assert.Equal(8, doc.RootElement.GetProperty("summary").GetProperty("fail").GetInt32());
            Assert.Equal(16, Lines(run.StdErr).Count(l => l.StartsWith("##vso[task.logissue", StringComparison.Ordinal)));
        }

        [Theory]
        [InlineData("TF_BUILD", "True")]
        [InlineData("GITHUB_ACTIONS", "true")]
        public void Upload_registers_the_sas_signature_once_before_any_other_output(string variable, string value)
        {
            azurite.Require();
            using var dir = new TempDirectory();
            Uri url = azurite.BlobUrl($"sample-{variable}.vhd");
            string sig = AzuriteFixture.Signature();            // as in the URL: percent-encoded
            string decoded = Uri.UnescapeDataString(sig);
            Assert.NotEqual(sig, decoded);
            var run = Run(new Dictionary<string, string> { [variable] = value }, "upload", Sample, url.ToString());
            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            string[] lines = Lines(run.StdOut);
            string[] expectedFirst = variable == "TF_BUILD"
                ? new[] { "##vso[task.setsecret]" + sig.Replace("%", "%AZP25"), "##vso[task.setsecret]" + decoded.Replace("%", "%AZP25") }
                : new[] { "::add-mask::" + sig.Replace("%", "%25"), "::add-mask::" + decoded.Replace("%", "%25") };
            Assert.Equal(expectedFirst, lines.Take(2).ToArray());
            string all = run.StdOut + run.StdErr;
            Assert.Equal(1, Occurrences(all, expectedFirst[0]));
            Assert.Equal(0, Occurrences(all, sig));              // the escaped form only, in its line
            Assert.Equal(1, Occurrences(all, decoded));          // in its registration line only
            Assert.Contains(lines, l => l.StartsWith("Uploaded ", StringComparison.Ordinal));
            if (variable == "TF_BUILD")
            {
                Assert.Contains("##vso[task.setprogress value=100;]Uploading to Azure", lines);
            }
        }

        [Fact]
        public void Upload_without_a_host_prints_no_commands_and_no_secret()
        {
            azurite.Require();
            var run = Run(new Dictionary<string, string>(), "upload", Sample, azurite.BlobUrl("sample-none.vhd").ToString());
            Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
            Assert.DoesNotContain(Lines(run.StdOut).Concat(Lines(run.StdErr)), IsCommand);
            Assert.DoesNotContain(Uri.UnescapeDataString(AzuriteFixture.Signature()), run.StdOut + run.StdErr, StringComparison.Ordinal);
        }

        private static int Occurrences(string text, string part)
        {
            int n = 0;
            for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
            {
                n++;
            }
            return n;
        }
    }
}

namespace AzureLinuxImage.Tests.Hosting
{
    /// <summary>
    /// azlinux's console progress (issue 23): on a terminal (a pseudo-terminal from util-linux's script), one
    /// redrawn stderr line with bytes done, rate and time left, ended once; nothing when stderr is not a terminal.
    /// </summary>
    public sealed class CliProgressTests
    {
        [Fact]
        public void Convert_on_a_terminal_shows_bytes_rate_and_time_left_and_ends_the_line_once()
        {
            string script = ExternalTool.Require("script", "bsdutils");
            using var dir = new TempDirectory();
            string output = dir.File("out.vhd");
            string command = $"dotnet '{Repository.CliDll}' convert '{Repository.File("samples/sample.vhd")}' '{output}' >/dev/null";
            // The terminal's bytes from script's typescript file (captured stdout is read by lines, which turns
            // every carriage return into a line end); script needs a readable stdin: an empty pipe.
            string typescript = dir.File("tty.log");
            ExternalTool.Run(script, new[] { "-qec", command, typescript }, stdin: string.Empty);
            string tty = File.ReadAllText(typescript);
            string[] redraws = tty.Split('\r').Select(s => s.Trim('\n')).Where(s => s.StartsWith("Converting to a fixed VHD:", StringComparison.Ordinal)).ToArray();
            Assert.True(redraws.Length > 0, "no progress line on the terminal: " + tty);
            Assert.All(redraws, r => Assert.Matches(@"^Converting to a fixed VHD: +\d+% .* -> .*out\.vhd: [\d.]+ of 40\.0 MiB, [\d.]+ (B|KiB|MiB|GiB)/s, (\d\d:\d\d:\d\d|--:--:--) left *$", r));
            Assert.Single(redraws, r => r.Contains("100%", StringComparison.Ordinal));
            Assert.Matches(@"100% .*: 40\.0 of 40\.0 MiB, .* 00:00:00 left *\r?\n", tty);
            Assert.True(File.Exists(output));
        }

        [Fact]
        public void Convert_without_a_terminal_writes_no_progress()
        {
            using var dir = new TempDirectory();
            var run = PipelineCliTests.Run(new Dictionary<string, string>(), "convert", Repository.File("samples/sample.vhd"), dir.File("out.vhd"));
            Assert.True(run.ExitCode == 0, run.StdErr);
            Assert.DoesNotContain("Converting to a fixed VHD", run.StdErr + run.StdOut, StringComparison.Ordinal);
            Assert.DoesNotContain("\r", run.StdErr, StringComparison.Ordinal);
        }

        [Fact]
        public void Convert_under_azure_pipelines_reports_setprogress_and_no_bar_even_on_a_terminal()
        {
            string script = ExternalTool.Require("script", "bsdutils");
            using var dir = new TempDirectory();
            string command = $"TF_BUILD=True dotnet '{Repository.CliDll}' convert '{Repository.File("samples/sample.vhd")}' '{dir.File("out.vhd")}'";
            var run = ExternalTool.Run(script, new[] { "-qec", command, "/dev/null" }, stdin: string.Empty);
            Assert.Contains("##vso[task.setprogress value=100;]Converting to a fixed VHD", run.StdOut, StringComparison.Ordinal);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(run.StdOut, @"value=100;\]Converting"));
            Assert.DoesNotContain("Converting to a fixed VHD: ", run.StdOut, StringComparison.Ordinal);
        }
    }
}
