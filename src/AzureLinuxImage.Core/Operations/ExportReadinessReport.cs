using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Operations
{
    /// <summary>Export-ReadinessReport / azlinux test --junit: findings to a JUnit, JSON or Markdown file, written atomically.</summary>
    internal static class ExportReadinessReport
    {
        /// <summary>Writes the report; null when ShouldProcess declined (-WhatIf).</summary>
        public static FileInfo? Run(IReadOnlyList<ReadinessFinding> findings, ReadinessReportFormat format, string path, bool force, IOperationContext context)
        {
            if (findings.Count == 0)
            {
                throw new AzureLinuxImageException("NoFindings", ErrorKind.InvalidArgument, "No findings came in: pipe the output of Test-LinuxImageReadiness.", path);
            }
            if (!context.ShouldProcess(path, $"Write a {format} readiness report of {findings.Count} findings"))
            {
                return null;
            }
            using (AtomicOutputFile output = AtomicOutputFile.Create(path, force))
            {
                ReadinessReportWriter.Write(format, findings, output.Stream);
                output.Commit();
            }
            context.Verbose($"Wrote {path}");
            return new FileInfo(path);
        }
    }
}
