using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>
    /// azlinux test &lt;image&gt; | --root DIR [--json] [--junit FILE] [--generation N] [--agent A] [--rule ID] [--exclude-rule ID]:
    /// Test-LinuxImageReadiness. Exit code 0 when no rule fails, 1 when one does, 2 when the image could not be inspected.
    /// </summary>
    internal static class TestVerb
    {
        public const int RuleFailed = 1;
        public const int NotInspected = 2;

        public static Command Create()
        {
            var image = new Argument<string?>("image") { Description = "Disk image to inspect (or use --root).", Arity = ArgumentArity.ZeroOrOne };
            var root = new Option<string?>("--root") { Description = "A Linux root folder (a mounted or extracted image) instead of an image." };
            var json = new Option<bool>("--json") { Description = "Write the findings as JSON on stdout." };
            var junit = new Option<string?>("--junit") { Description = "Also write a JUnit report (Azure DevOps PublishTestResults@2) to this file; overwritten." };
            var generation = new Option<string>("--generation") { Description = "VM generation the image is for: 1, 2 or auto.", DefaultValueFactory = _ => "auto" };
            generation.AcceptOnlyFromAmong("1", "2", "auto");
            var agent = new Option<string>("--agent") { Description = "Provisioning agent the image is meant to use: auto, waagent, cloud-init or none.", DefaultValueFactory = _ => "auto" };
            agent.AcceptOnlyFromAmong("auto", "waagent", "cloud-init", "none");
            var rule = new Option<string[]>("--rule") { Description = "Only these rules (repeatable, wildcards allowed).", AllowMultipleArgumentsPerToken = true };
            var exclude = new Option<string[]>("--exclude-rule") { Description = "Skip these rules (repeatable, wildcards allowed).", AllowMultipleArgumentsPerToken = true };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("test", "Check a Linux image (or root folder) offline against Azure's requirements; exit 0 when nothing fails, 1 when a rule fails, 2 when it cannot be inspected.")
            {
                image, root, json, junit, generation, agent, rule, exclude, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                string? imagePath = parse.GetValue(image);
                string? rootPath = parse.GetValue(root);
                if ((imagePath == null) == (rootPath == null))
                {
                    throw new AzureLinuxImageException("ImageOrRootRequired", ErrorKind.InvalidArgument, "Give an image or --root DIR (one of them).");
                }
                string gen = parse.GetValue(generation)!;
                var options = new LinuxImageReadinessOptions
                {
                    ImagePath = imagePath,
                    RootPath = rootPath,
                    Generation = VmGeneration.Parse(gen),
                    ProvisioningAgent = TestLinuxImageReadiness.ParseProvisioningAgent(parse.GetValue(agent)),
                    Rules = parse.GetValue(rule)?.ToList() ?? new List<string>(),
                    ExcludeRules = parse.GetValue(exclude)?.ToList() ?? new List<string>(),
                };
                using var context = new CliContext(parse, verbose: parse.GetValue(verbose));
                IReadOnlyList<ReadinessFinding> findings = TestLinuxImageReadiness.Run(options, context);
                context.ReportFindings(findings); // annotations under Azure Pipelines / GitHub Actions (issue 23)
                string? junitPath = parse.GetValue(junit);
                if (junitPath != null)
                {
                    ExportReadinessReport.Run(findings, ReadinessReportFormat.JUnit, Path.GetFullPath(junitPath), force: true, context);
                }
                if (parse.GetValue(json))
                {
                    using Stream stdout = Console.OpenStandardOutput();
                    ReadinessReportWriter.WriteJson(findings, stdout);
                    stdout.Flush();
                    Console.Out.WriteLine();
                }
                else
                {
                    WriteText(findings);
                }
                return findings.Any(f => f.Status == ReadinessStatus.Fail) ? RuleFailed : 0;
            }, NotInspected));
            return command;
        }

        /// <summary>One line per rule grouped by area, then the remediations of what failed or warned.</summary>
        private static void WriteText(IReadOnlyList<ReadinessFinding> findings)
        {
            TextWriter o = Console.Out;
            o.WriteLine(findings[0].Path);
            foreach (IGrouping<string, ReadinessFinding> area in findings.GroupBy(f => f.Area))
            {
                o.WriteLine();
                o.WriteLine(area.Key);
                foreach (ReadinessFinding f in area)
                {
                    o.WriteLine($"  {Label(f.Status),-7} {f.RuleId,-28} {f.Message}");
                }
            }
            var todo = findings.Where(f => f.Remediation != null).ToList();
            if (todo.Count > 0)
            {
                o.WriteLine();
                o.WriteLine("To fix");
                foreach (ReadinessFinding f in todo)
                {
                    o.WriteLine($"  {f.RuleId}{(f.Evidence != null ? " (" + f.Evidence + ")" : string.Empty)}: {f.Remediation}");
                }
            }
            o.WriteLine();
            o.WriteLine($"{findings.Count(f => f.Status == ReadinessStatus.Fail)} failed, {findings.Count(f => f.Status == ReadinessStatus.Warning)} warnings, " +
                $"{findings.Count(f => f.Status == ReadinessStatus.Pass)} passed, {findings.Count(f => f.Status == ReadinessStatus.NotApplicable)} not applicable, " +
                $"{findings.Count(f => f.Status == ReadinessStatus.Unknown)} unknown");
        }

        private static string Label(ReadinessStatus s) => s switch
        {
            ReadinessStatus.Pass => "PASS",
            ReadinessStatus.Fail => "FAIL",
            ReadinessStatus.Warning => "WARN",
            ReadinessStatus.NotApplicable => "N/A",
            _ => "UNKNOWN",
        };
    }
}
