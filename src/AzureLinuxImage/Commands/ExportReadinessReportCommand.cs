using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Commands
{
    /// <summary>Export-ReadinessReport: findings from the pipeline to a JUnit (Azure DevOps), JSON or Markdown file.</summary>
    [Cmdlet(VerbsData.Export, "ReadinessReport", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportReadinessReportCommand : AzureLinuxImageCmdlet
    {
        private readonly List<ReadinessFinding> findings = new List<ReadinessFinding>();

        /// <summary>Findings of Test-LinuxImageReadiness (of one or several images).</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        [ValidateNotNull]
        public ReadinessFinding[] InputObject { get; set; } = null!;

        /// <summary>Report format: JUnit (PublishTestResults@2), Json or Markdown.</summary>
        [Parameter(Mandatory = true)]
        public ReadinessReportFormat Format { get; set; }

        /// <summary>The report file to write.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = null!;

        /// <summary>Overwrite an existing report.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord() => findings.AddRange(InputObject);

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            string output = ResolveOutputPath(Path);
            ForEachItem(output, () =>
            {
                FileInfo? file = ExportReadinessReport.Run(findings, Format, output, Force, Context);
                if (file != null)
                {
                    // The provider's item, as Get-Item gives it: a bare FileInfo has no PSParentPath and its
                    // default view prints a blank row (issue 15).
                    WriteObject(InvokeProvider.Item.Get(new[] { file.FullName }, true, true), enumerateCollection: true);
                }
            });
            base.EndProcessing();
        }
    }
}
