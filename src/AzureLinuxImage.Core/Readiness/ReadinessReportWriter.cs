using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Xml;

namespace AzureLinuxImage.Readiness
{
    /// <summary>Formats of Export-ReadinessReport.</summary>
    public enum ReadinessReportFormat
    {
        /// <summary>JUnit XML as Azure DevOps' PublishTestResults@2 (testResultsFormat: JUnit) reads it.</summary>
        JUnit,
        /// <summary>JSON: a summary and every finding.</summary>
        Json,
        /// <summary>Markdown: a table per image, remediations listed.</summary>
        Markdown,
    }

    /// <summary>Writes findings (of one or several images) as JUnit, JSON or Markdown.</summary>
    internal static class ReadinessReportWriter
    {
        public static void Write(ReadinessReportFormat format, IReadOnlyList<ReadinessFinding> findings, Stream output)
        {
            switch (format)
            {
                case ReadinessReportFormat.JUnit:
                    WriteJUnit(findings, output);
                    break;
                case ReadinessReportFormat.Json:
                    WriteJson(findings, output);
                    break;
                default:
                    using (var w = new StreamWriter(output, new UTF8Encoding(false), 4096, leaveOpen: true))
                    {
                        w.Write(Markdown(findings));
                    }
                    break;
            }
        }

        private static IEnumerable<IGrouping<string, ReadinessFinding>> ByImage(IEnumerable<ReadinessFinding> findings) =>
            findings.GroupBy(f => f.Path, StringComparer.Ordinal);

        private static int Count(IEnumerable<ReadinessFinding> f, ReadinessStatus s) => f.Count(x => x.Status == s);

        /// <summary>
        /// One testsuite per image, one testcase per rule (classname = area, name = rule id and title). Fail is a
        /// &lt;failure&gt; with the message and the remediation; NotApplicable and Unknown are &lt;skipped&gt; (Unknown says
        /// why); Warning passes with the warning in &lt;system-out&gt;, which Azure DevOps shows with the result.
        /// </summary>
        public static void WriteJUnit(IReadOnlyList<ReadinessFinding> findings, Stream output)
        {
            var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true, CloseOutput = false };
            using XmlWriter x = XmlWriter.Create(output, settings);
            x.WriteStartDocument();
            x.WriteStartElement("testsuites");
            x.WriteAttributeString("name", "Linux image readiness for Azure");
            x.WriteAttributeString("tests", Num(findings.Count));
            x.WriteAttributeString("failures", Num(Count(findings, ReadinessStatus.Fail)));
            x.WriteAttributeString("errors", "0");
            x.WriteAttributeString("skipped", Num(Count(findings, ReadinessStatus.NotApplicable) + Count(findings, ReadinessStatus.Unknown)));
            x.WriteAttributeString("time", "0");
            int id = 0;
            foreach (IGrouping<string, ReadinessFinding> image in ByImage(findings))
            {
                var list = image.ToList();
                x.WriteStartElement("testsuite");
                x.WriteAttributeString("name", image.Key);
                x.WriteAttributeString("id", Num(id++));
                x.WriteAttributeString("package", "AzureLinuxImage.Readiness");
                x.WriteAttributeString("tests", Num(list.Count));
                x.WriteAttributeString("failures", Num(Count(list, ReadinessStatus.Fail)));
                x.WriteAttributeString("errors", "0");
                x.WriteAttributeString("skipped", Num(Count(list, ReadinessStatus.NotApplicable) + Count(list, ReadinessStatus.Unknown)));
                x.WriteAttributeString("time", "0");
                x.WriteAttributeString("timestamp", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
                foreach (ReadinessFinding f in list)
                {
                    x.WriteStartElement("testcase");
                    x.WriteAttributeString("classname", "AzureLinuxImage.Readiness." + f.Area);
                    x.WriteAttributeString("name", $"{f.RuleId}: {f.Title}");
                    x.WriteAttributeString("time", "0");
                    switch (f.Status)
                    {
                        case ReadinessStatus.Fail:
                            x.WriteStartElement("failure");
                            x.WriteAttributeString("message", f.Message);
                            x.WriteAttributeString("type", f.Requirement);
                            x.WriteString(Details(f));
                            x.WriteEndElement();
                            break;
                        case ReadinessStatus.NotApplicable:
                        case ReadinessStatus.Unknown:
                            x.WriteStartElement("skipped");
                            x.WriteAttributeString("message", (f.Status == ReadinessStatus.Unknown ? "Unknown: " : "Not applicable: ") + f.Message);
                            x.WriteEndElement();
                            break;
                        case ReadinessStatus.Warning:
                            x.WriteElementString("system-out", "WARNING: " + Details(f));
                            break;
                    }
                    x.WriteEndElement();
                }
                x.WriteEndElement();
            }
            x.WriteEndElement();
            x.WriteEndDocument();
        }

        private static string Details(ReadinessFinding f)
        {
            var sb = new StringBuilder();
            sb.Append(f.Message).Append('\n');
            sb.Append("Requirement: ").Append(f.Requirement).Append('\n');
            if (f.Evidence != null)
            {
                sb.Append("Evidence: ").Append(f.Evidence).Append('\n');
            }
            if (f.Remediation != null)
            {
                sb.Append("Remediation: ").Append(f.Remediation).Append('\n');
            }
            return sb.ToString();
        }

        private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

        public static void WriteJson(IReadOnlyList<ReadinessFinding> findings, Stream output)
        {
            using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteString("tool", "AzureLinuxImage");
            w.WriteStartObject("summary");
            foreach (ReadinessStatus s in (ReadinessStatus[])Enum.GetValues(typeof(ReadinessStatus)))
            {
                w.WriteNumber(char.ToLowerInvariant(s.ToString()[0]) + s.ToString().Substring(1), Count(findings, s));
            }
            w.WriteEndObject();
            w.WriteStartArray("findings");
            foreach (ReadinessFinding f in findings)
            {
                w.WriteStartObject();
                w.WriteString("path", f.Path);
                w.WriteString("ruleId", f.RuleId);
                w.WriteString("title", f.Title);
                w.WriteString("area", f.Area);
                w.WriteString("requirement", f.Requirement);
                w.WriteString("severity", f.Severity.ToString());
                w.WriteString("status", f.Status.ToString());
                w.WriteString("message", f.Message);
                if (f.EvidenceFile != null)
                {
                    w.WriteString("evidenceFile", f.EvidenceFile);
                    w.WriteNumber("evidenceLine", f.EvidenceLine);
                }
                if (f.Evidence != null)
                {
                    w.WriteString("evidence", f.Evidence);
                }
                if (f.Remediation != null)
                {
                    w.WriteString("remediation", f.Remediation);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }

        public static string Markdown(IReadOnlyList<ReadinessFinding> findings)
        {
            var sb = new StringBuilder();
            foreach (IGrouping<string, ReadinessFinding> image in ByImage(findings))
            {
                var list = image.ToList();
                sb.Append("# Azure readiness of ").Append(Cell(image.Key)).Append("\n\n");
                sb.Append($"{Count(list, ReadinessStatus.Fail)} failed, {Count(list, ReadinessStatus.Warning)} warnings, {Count(list, ReadinessStatus.Pass)} passed, " +
                    $"{Count(list, ReadinessStatus.NotApplicable)} not applicable, {Count(list, ReadinessStatus.Unknown)} unknown.\n\n");
                foreach (IGrouping<string, ReadinessFinding> area in list.GroupBy(f => f.Area))
                {
                    sb.Append("## ").Append(area.Key).Append("\n\n");
                    sb.Append("| Status | Rule | Requirement | Finding | Evidence |\n| --- | --- | --- | --- | --- |\n");
                    foreach (ReadinessFinding f in area)
                    {
                        sb.Append($"| {f.Status} | {f.RuleId} | {f.Requirement} | {Cell(f.Message)} | {Cell(f.Evidence ?? string.Empty)} |\n");
                    }
                    sb.Append('\n');
                }
                var todo = list.Where(f => f.Remediation != null).ToList();
                if (todo.Count > 0)
                {
                    sb.Append("## Remediation\n\n");
                    foreach (ReadinessFinding f in todo)
                    {
                        sb.Append($"- **{f.RuleId}** ({f.Status}): `{f.Remediation!.Replace("`", "'")}`\n");
                    }
                    sb.Append('\n');
                }
            }
            return sb.ToString();
        }

        private static string Cell(string s) => s.Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");
    }
}
