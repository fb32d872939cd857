using System;
using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Hosting;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Hosting
{
    /// <summary>
    /// The logging-command text of issue 23, escaped as the Azure Pipelines agent (CommandStringConvertor:
    /// ; \r \n ] in properties, % as %AZP25) and the GitHub runner (% \r \n, and : , in properties) decode it.
    /// </summary>
    public sealed class PipelineLogTests
    {
        private static Func<string, string?> Env(params (string Name, string Value)[] vars)
        {
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (n, v) in vars)
            {
                d[n] = v;
            }
            return name => d.TryGetValue(name, out string? v) ? v : null;
        }

        [Theory]
        [InlineData("TF_BUILD", "True", "AzureDevOps")]
        [InlineData("TF_BUILD", "true", "AzureDevOps")]
        [InlineData("TF_BUILD", "False", "None")]
        [InlineData("TF_BUILD", "", "None")]
        [InlineData("GITHUB_ACTIONS", "true", "GitHubActions")]
        [InlineData("GITHUB_ACTIONS", "1", "None")]
        [InlineData("CI", "true", "None")]
        public void Detects_the_host_from_its_documented_variable(string name, string value, string expected)
        {
            Assert.Equal(expected, PipelineLog.Detect(Env((name, value))).ToString());
        }

        [Fact]
        public void Is_off_without_a_host_with_the_switch_or_with_the_variable()
        {
            var lines = new List<string>();
            Assert.Null(PipelineLog.FromEnvironment(Env(), lines.Add));
            Assert.Null(PipelineLog.FromEnvironment(Env(("TF_BUILD", "True")), lines.Add, disabled: true));
            Assert.Null(PipelineLog.FromEnvironment(Env(("GITHUB_ACTIONS", "true"), (PipelineLog.DisableVariable, "1")), lines.Add));
            Assert.NotNull(PipelineLog.FromEnvironment(Env(("GITHUB_ACTIONS", "true"), (PipelineLog.DisableVariable, "0")), lines.Add));
            Assert.Equal(PipelineKind.AzureDevOps, PipelineLog.FromEnvironment(Env(("TF_BUILD", "True"), ("GITHUB_ACTIONS", "true")), lines.Add)!.Kind);
            Assert.Empty(lines);
        }

        [Fact]
        public void Escapes_azure_devops_properties_and_message()
        {
            var lines = new List<string>();
            var log = new PipelineLog(PipelineKind.AzureDevOps, lines.Add);
            log.Issue(true, "/etc/a;b]c%d", 7, "50% done\r\nnext; [x]");
            Assert.Equal("##vso[task.logissue type=error;sourcepath=/etc/a%3Bb%5Dc%AZP25d;linenumber=7]50%AZP25 done%0D%0Anext; [x]", Assert.Single(lines));
        }

        [Fact]
        public void Escapes_github_properties_and_message()
        {
            var lines = new List<string>();
            var log = new PipelineLog(PipelineKind.GitHubActions, lines.Add);
            log.Issue(false, "/etc/a,b:c%d", 3, "50% done\r\nnext: a, b");
            Assert.Equal("::warning file=/etc/a%2Cb%3Ac%25d,line=3::50%25 done%0D%0Anext: a, b", Assert.Single(lines));
        }

        [Fact]
        public void Omits_file_and_line_that_are_not_known()
        {
            var lines = new List<string>();
            new PipelineLog(PipelineKind.AzureDevOps, lines.Add).Issue(true, null, 0, "R: m");
            new PipelineLog(PipelineKind.AzureDevOps, lines.Add).Issue(false, "/etc/x", 0, "R: m");
            new PipelineLog(PipelineKind.GitHubActions, lines.Add).Issue(true, null, 0, "R: m");
            new PipelineLog(PipelineKind.GitHubActions, lines.Add).Issue(false, "/etc/x", 0, "R: m");
            Assert.Equal(new[] { "##vso[task.logissue type=error]R: m", "##vso[task.logissue type=warning;sourcepath=/etc/x]R: m", "::error::R: m", "::warning file=/etc/x::R: m" }, lines);
        }

        [Fact]
        public void Registers_each_secret_once_and_escapes_it_as_the_agent_decodes_it()
        {
            var ado = new List<string>();
            var log = new PipelineLog(PipelineKind.AzureDevOps, ado.Add);
            log.RegisterSecret("abc%2Bdef");
            log.RegisterSecret("abc%2Bdef");
            log.RegisterSecret("  ");
            log.RegisterSecret(null);
            Assert.Equal("##vso[task.setsecret]abc%AZP252Bdef", Assert.Single(ado));
            var gh = new List<string>();
            new PipelineLog(PipelineKind.GitHubActions, gh.Add).RegisterSecret("abc%2Bdef");
            Assert.Equal("::add-mask::abc%252Bdef", Assert.Single(gh));
        }

        [Fact]
        public void Rate_limits_setprogress_to_one_line_every_few_seconds_and_ends_with_100_once()
        {
            var lines = new List<string>();
            DateTime now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            var log = new PipelineLog(PipelineKind.AzureDevOps, lines.Add, clock: () => now);
            for (int i = 0; i < 100; i++)
            {
                log.Progress("Converting", i, 100); // 100 reports 100 ms apart: 10 s
                now = now.AddMilliseconds(100);
            }
            log.Progress("Converting", 100, 100);
            log.Progress("Converting", 100, 100);
            Assert.Equal(new[]
            {
                "##vso[task.setprogress value=0;]Converting",
                "##vso[task.setprogress value=50;]Converting",
                "##vso[task.setprogress value=100;]Converting",
            }, lines);
            Assert.True(PipelineLog.ProgressInterval >= TimeSpan.FromSeconds(5));
        }

        [Fact]
        public void Github_has_no_progress_command()
        {
            var lines = new List<string>();
            var log = new PipelineLog(PipelineKind.GitHubActions, lines.Add);
            log.Progress("Converting", 1, 2);
            log.Progress("Converting", 2, 2);
            Assert.Empty(lines);
        }

        [Fact]
        public void Ends_with_succeeded_with_issues_only_after_warnings_alone()
        {
            var lines = new List<string>();
            var warnings = new PipelineLog(PipelineKind.AzureDevOps, lines.Add);
            warnings.Issue(false, null, 0, "W: w");
            warnings.Finish(PipelineReporting.FinishMessage(warnings));
            Assert.Equal("##vso[task.complete result=SucceededWithIssues]Linux image readiness: 1 warning, no failures", lines[^1]);

            lines.Clear();
            var both = new PipelineLog(PipelineKind.AzureDevOps, lines.Add);
            both.Issue(false, null, 0, "W: w");
            both.Issue(true, null, 0, "E: e");
            both.Finish("x");
            var none = new PipelineLog(PipelineKind.AzureDevOps, lines.Add);
            none.Finish("x");
            var github = new PipelineLog(PipelineKind.GitHubActions, lines.Add);
            github.Issue(false, null, 0, "W: w");
            github.Finish("x");
            Assert.DoesNotContain(lines, l => l.Contains("task.complete", StringComparison.Ordinal));
        }

        [Fact]
        public void Appends_the_step_summary_and_never_replaces_it()
        {
            using var dir = new TempDirectory();
            string summary = Path.Combine(dir.Path, "summary.md");
            File.WriteAllText(summary, "earlier step\n");
            var log = PipelineLog.FromEnvironment(Env(("GITHUB_ACTIONS", "true"), ("GITHUB_STEP_SUMMARY", summary)), _ => { })!;
            log.AppendSummary("# one");
            log.AppendSummary("# two\n");
            Assert.Equal("earlier step\n# one\n# two\n", File.ReadAllText(summary));
            var ado = PipelineLog.FromEnvironment(Env(("TF_BUILD", "True"), ("GITHUB_STEP_SUMMARY", summary)), _ => { })!;
            ado.AppendSummary("# three");
            Assert.Equal("earlier step\n# one\n# two\n", File.ReadAllText(summary));
        }

        [Fact]
        public void Byte_progress_says_bytes_done_rate_and_time_left()
        {
            var meter = new ByteProgress(new SilentContext(), "Converting", "a.vhdx -> a.vhd", 40L << 20, () => TimeSpan.FromSeconds(2));
            Assert.Equal("a.vhdx -> a.vhd: 10.0 of 40.0 MiB, 5.0 MiB/s, 00:00:06 left", meter.Status(10L << 20, 40L << 20, TimeSpan.FromSeconds(2)));
            Assert.Equal("x: 0.0 of 2.0 GiB, 0 B/s, --:--:-- left", new ByteProgress(new SilentContext(), "A", "x", 2L << 30).Status(0, 2L << 30, TimeSpan.Zero));
            Assert.Equal("x: 2.0 of 2.0 GiB, 1.0 GiB/s, 00:00:00 left", new ByteProgress(new SilentContext(), "A", "x", 2L << 30).Status(2L << 30, 2L << 30, TimeSpan.FromSeconds(2)));
            Assert.Equal("x: 1.5 of 3.0 TiB, 1.0 MiB/s, 436:54:24 left", new ByteProgress(new SilentContext(), "A", "x", 3L << 40).Status(3L << 39, 3L << 40, TimeSpan.FromSeconds((3L << 39) / (1 << 20))));
        }
    }
}
