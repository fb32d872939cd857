using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Copy-DiskImageToAzure: streams any readable image into a page blob or a managed disk's upload URL
    /// as an aligned fixed VHD, sending only data (issue 8). No Azure type appears here, not even in a
    /// method body: AzureLinuxImage.Azure and Azure.Core load isolated (ModuleDependencies), so
    /// -Credential is an object that the Azure assembly interprets.
    /// </summary>
    [Cmdlet(VerbsCommon.Copy, "DiskImageToAzure", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(AzureUploadResult))]
    public sealed class CopyDiskImageToAzureCommand : ImagePathCmdlet
    {
        /// <summary>Page blob URL (with a SAS, or authorised by Entra ID) or a managed disk's upload URL from Grant-AzDiskAccess.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public Uri Destination { get; set; } = null!;

        /// <summary>A TokenCredential (Azure.Identity, Az.Accounts), an access token for the storage scope (string or SecureString), or Get-AzAccessToken's output.</summary>
        [Parameter]
        [ValidateNotNull]
        public object? Credential { get; set; }

        /// <summary>Authorise with the machine's managed identity (Azure Automation, Azure VMs).</summary>
        [Parameter]
        public SwitchParameter UseManagedIdentity { get; set; }

        /// <summary>Authorise with Azure.Identity's DefaultAzureCredential chain.</summary>
        [Parameter]
        public SwitchParameter UseDefaultAzureCredential { get; set; }

        /// <summary>Put Page requests in flight at most (each holds up to 4 MiB of memory).</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThreadCount { get; set; } = UploadOptions.DefaultThreadCount;

        /// <summary>Continue an interrupted upload of the same image: send only what the blob does not hold yet.</summary>
        [Parameter]
        public SwitchParameter Resume { get; set; }

        /// <summary>Compute the whole image's MD5 in the same pass and set it as the blob's Content-MD5.</summary>
        [Parameter]
        public SwitchParameter ComputeMd5 { get; set; }

        /// <summary>Replace or overwrite an existing page blob (a managed disk is always overwritten in place).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>No Azure Pipelines / GitHub Actions logging commands even when TF_BUILD or GITHUB_ACTIONS is set (issue 23).</summary>
        [Parameter]
        public SwitchParameter NoPipelineLogging
        {
            get => PipelineLoggingDisabled;
            set => PipelineLoggingDisabled = value;
        }

        /// <summary>Registers the SAS signature and any token with the CI host before anything else is written (issue 23).</summary>
        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            CopyDiskImageToAzure.RegisterSecrets(Destination, Credential is PSObject pso ? pso.BaseObject : Credential, Context);
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            List<string> files = InputFiles().ToList();
            if (files.Count > 1)
            {
                WriteError(new ErrorRecord(new ArgumentException($"{files.Count} images match, but one destination takes one image."), "OneImagePerDestination", ErrorCategory.InvalidArgument, files));
                return;
            }
            string target = SecretRedaction.WithoutQuery(Destination);
            foreach (string file in files)
            {
                ForEachItem(target, () =>
                {
                    var options = new UploadOptions
                    {
                        Credential = Credential is PSObject pso ? pso.BaseObject : Credential,
                        UseManagedIdentity = UseManagedIdentity,
                        UseDefaultAzureCredential = UseDefaultAzureCredential,
                        ThreadCount = ThreadCount,
                        Resume = Resume,
                        ComputeMd5 = ComputeMd5,
                        Force = Force,
                    };
                    AzureUploadResult? result = CopyDiskImageToAzure.Run(file, Destination, options, Context);
                    if (result != null)
                    {
                        WriteObject(result);
                    }
                });
            }
        }
    }
}
