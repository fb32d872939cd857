using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Xml.Linq;
using AzureLinuxImage.Readiness;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>Report writers (JUnit as PublishTestResults@2 reads it, JSON, Markdown) and the rule catalogue in the docs.</summary>
    public sealed class ReportAndCatalogTests
    {
        private static ReadinessFinding Finding(string path, string id, ReadinessStatus status, string? remediation = null) =>
            new ReadinessFinding(path, id, "Title of " + id, "Boot", "R-BOOT-1", ReadinessSeverity.Error, status, "Message <of> " + id + " & more",
                "/boot/grub/grub.cfg", 6, "/boot/grub/grub.cfg:6", remediation);

        private static IReadOnlyList<ReadinessFinding> Sample() => new[]
        {
            Finding("a.vhd", "SerialConsole", ReadinessStatus.Fail, "update-grub"),
            Finding("a.vhd", "QuietBoot", ReadinessStatus.Warning, "remove quiet"),
            Finding("a.vhd", "FixedVhd", ReadinessStatus.Pass),
            Finding("a.vhd", "SecureBootSigned", ReadinessStatus.NotApplicable),
            Finding("a.vhd", "InitrdHyperVDrivers", ReadinessStatus.Unknown),
            Finding("b.vhd", "SerialConsole", ReadinessStatus.Pass),
        };

        private static byte[] Write(ReadinessReportFormat format, IReadOnlyList<ReadinessFinding> findings)
        {
            using var ms = new MemoryStream();
            ReadinessReportWriter.Write(format, findings, ms);
            return ms.ToArray();
        }

        [Fact]
        public void JUnitHasATestcasePerRuleFailuresWithRemediationAndSkippedForNotApplicable()
        {
            XDocument doc = XDocument.Load(new MemoryStream(Write(ReadinessReportFormat.JUnit, Sample())));
            XElement root = doc.Root!;
            Assert.Equal("testsuites", root.Name.LocalName);
            Assert.Equal("6", root.Attribute("tests")!.Value);
            Assert.Equal("1", root.Attribute("failures")!.Value);
            Assert.Equal("2", root.Attribute("skipped")!.Value);
            List<XElement> suites = root.Elements("testsuite").ToList();
            Assert.Equal(new[] { "a.vhd", "b.vhd" }, suites.Select(s => s.Attribute("name")!.Value));
            Assert.Equal(5, suites[0].Elements("testcase").Count());
            Assert.Equal("5", suites[0].Attribute("tests")!.Value);
            XElement failed = suites[0].Elements("testcase").Single(t => t.Attribute("name")!.Value.StartsWith("SerialConsole:"));
            Assert.Equal("AzureLinuxImage.Readiness.Boot", failed.Attribute("classname")!.Value);
            XElement failure = failed.Element("failure")!;
            Assert.Equal("Message <of> SerialConsole & more", failure.Attribute("message")!.Value);
            Assert.Contains("Remediation: update-grub", failure.Value);
            Assert.Contains("Evidence: /boot/grub/grub.cfg:6", failure.Value);
            Assert.NotNull(suites[0].Elements("testcase").Single(t => t.Attribute("name")!.Value.StartsWith("SecureBootSigned:")).Element("skipped"));
            Assert.NotNull(suites[0].Elements("testcase").Single(t => t.Attribute("name")!.Value.StartsWith("InitrdHyperVDrivers:")).Element("skipped"));
            XElement warning = suites[0].Elements("testcase").Single(t => t.Attribute("name")!.Value.StartsWith("QuietBoot:"));
            Assert.Null(warning.Element("failure"));
            Assert.Contains("WARNING", warning.Element("system-out")!.Value);
            Assert.Empty(suites[0].Elements("testcase").Single(t => t.Attribute("name")!.Value.StartsWith("FixedVhd:")).Elements());
        }

        [Fact]
        public void JsonCarriesSummaryAndEveryFinding()
        {
            using JsonDocument json = JsonDocument.Parse(Write(ReadinessReportFormat.Json, Sample()));
            JsonElement summary = json.RootElement.GetProperty("summary");
            Assert.Equal(2, summary.GetProperty("pass").GetInt32());
            Assert.Equal(1, summary.GetProperty("fail").GetInt32());
            Assert.Equal(1, summary.GetProperty("notApplicable").GetInt32());
            JsonElement first = json.RootElement.GetProperty("findings")[0];
            Assert.Equal("SerialConsole", first.GetProperty("ruleId").GetString());
            Assert.Equal("Fail", first.GetProperty("status").GetString());
            Assert.Equal(6, first.GetProperty("evidenceLine").GetInt32());
            Assert.Equal("update-grub", first.GetProperty("remediation").GetString());
            Assert.Equal(6, json.RootElement.GetProperty("findings").GetArrayLength());
        }

        [Fact]
        public void MarkdownHasATablePerAreaAndTheRemediations()
        {
            string md = System.Text.Encoding.UTF8.GetString(Write(ReadinessReportFormat.Markdown, Sample()));
            Assert.Contains("# Azure readiness of a.vhd", md);
            Assert.Contains("# Azure readiness of b.vhd", md);
            Assert.Contains("1 failed, 1 warnings, 1 passed, 1 not applicable, 1 unknown.", md);
            Assert.Contains("| Fail | SerialConsole | R-BOOT-1 |", md);
            Assert.Contains("- **SerialConsole** (Fail): `update-grub`", md);
        }

        [Fact]
        public void EveryRuleHasAUniqueIdACitedRequirementAndADescription()
        {
            var ids = ReadinessRules.All.Select(r => r.Id).ToList();
            Assert.Equal(ids.Count, ids.Distinct(StringComparer.OrdinalIgnoreCase).Count());
            foreach (ReadinessRule r in ReadinessRules.All)
            {
                Assert.Matches(@"^(R-(DISK|PART|KERNEL|INITRD|AGENT|BOOT|SYS|NOAGENT)-\d|AZ-[A-Z]+)(, (R-[A-Z]+-\d|AZ-[A-Z]+))*$", r.Requirement);
                Assert.Contains(r.Area, ReadinessRules.Areas);
                Assert.False(string.IsNullOrWhiteSpace(r.Description));
            }
            // Every numbered seed requirement that can be seen in files is checked by some rule.
            foreach (string req in new[] { "R-DISK-1", "R-DISK-2", "R-PART-1", "R-PART-2", "R-PART-3", "R-KERNEL-1", "R-KERNEL-2", "R-KERNEL-3", "R-INITRD-1",
                "R-AGENT-1", "R-AGENT-2", "R-AGENT-3", "R-AGENT-5", "R-BOOT-1", "R-BOOT-2", "R-SYS-1", "R-SYS-2", "R-SYS-3", "R-NOAGENT-1", "R-NOAGENT-2", "R-NOAGENT-3", "R-NOAGENT-5" })
            {
                Assert.Contains(ReadinessRules.All, r => r.Requirement.Split(", ").Contains(req));
            }
        }

        /// <summary>docs/rules.md and the about topic are generated from the rules; AZLI_UPDATE_DOCS=1 rewrites them.</summary>
        [Fact]
        public void RuleCatalogueDocsMatchTheRulesInCode()
        {
            var docs = new[]
            {
                (Path: Repository.File("docs/rules.md"), Text: ReadinessCatalog.Markdown()),
                (Path: Repository.File("en-US/about_AzureLinuxImage_Readiness.help.txt"), Text: ReadinessCatalog.AboutTopic()),
            };
            foreach (var doc in docs)
            {
                if (Environment.GetEnvironmentVariable("AZLI_UPDATE_DOCS") == "1")
                {
                    File.WriteAllText(doc.Path, doc.Text);
                }
                Assert.True(File.Exists(doc.Path), $"{doc.Path} is missing: run the tests once with AZLI_UPDATE_DOCS=1.");
                Assert.True(File.ReadAllText(doc.Path) == doc.Text, $"{doc.Path} is out of date with the rules in code: run the tests with AZLI_UPDATE_DOCS=1.");
            }
            foreach (ReadinessRule r in ReadinessRules.All)
            {
                Assert.Contains($"| `{r.Id}` | {r.Requirement} |", docs[0].Text);
                Assert.Contains($"    {r.Id} (", docs[1].Text);
            }
            Assert.All(docs[1].Text.Split('\n'), line => Assert.True(line.Length <= 80, line));
        }
    }
}
