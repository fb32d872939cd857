using System;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Operations
{
    /// <summary>Options shared by the wire server operations.</summary>
    public class WireServerOptions
    {
        /// <summary>Default x-ms-agent-name.</summary>
        public const string DefaultAgentName = "AzureLinuxImage";

        /// <summary>The wire server ("host", "host:port" or an http URL); null: DHCP option 245, else 168.63.129.16.</summary>
        public string? Endpoint { get; init; }
        /// <summary>The x-ms-agent-name header.</summary>
        public string AgentName { get; init; } = DefaultAgentName;
        /// <summary>Retry policy; null: <see cref="RetryPolicy.WireServerDefault"/>.</summary>
        public RetryPolicy? Policy { get; init; }
        /// <summary>The folder lease files (and etc/hostname, the KVP pool) are found under: "/" on a VM.</summary>
        public string Root { get; init; } = "/";

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => (Endpoint ?? "the wire server") + " as " + AgentName;
    }

    /// <summary>Options of Send-WireServerReady.</summary>
    public sealed class WireServerReadyOptions : WireServerOptions
    {
        /// <summary>Ready (default) or NotReady.</summary>
        public HealthState State { get; init; } = HealthState.Ready;
        /// <summary>Sub-status of a NotReady report.</summary>
        public ProvisioningSubStatus? SubStatus { get; init; }
        /// <summary>Description of a NotReady report; escaped and shortened below the fabric's 4096-character limit.</summary>
        public string? Description { get; init; }
        /// <summary>Set the hostname from IMDS compute/osProfile/computerName (else compute/name).</summary>
        public bool SetHostname { get; init; }
        /// <summary>
        /// With <see cref="SetHostname"/>: also apply it to the running system (hostnamectl or hostname). The running
        /// system's name is only changed inside the VM itself: on Linux, with the real root (/) as <see cref="WireServerOptions.Root"/>.
        /// </summary>
        public bool ApplyHostname => SetHostname && Root == "/" && System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux);
        /// <summary>Ask IMDS whether the VM is pre-provisioned before claiming it is Ready (default true).</summary>
        public bool CheckPreprovisioning { get; init; } = true;
        /// <summary>The IMDS endpoint; null: 169.254.169.254.</summary>
        public string? ImdsEndpoint { get; init; }
        /// <summary>IMDS retry policy; null: <see cref="RetryPolicy.ImdsDefault"/> capped by the wire server budget.</summary>
        public RetryPolicy? ImdsPolicy { get; init; }
        /// <summary>The Hyper-V KVP pool, relative to <see cref="WireServerOptions.Root"/>; the record is written only when it exists.</summary>
        public string KvpPoolPath { get; init; } = KvpPool.DefaultPoolPath;
    }

    /// <summary>Options of Get-AzureInstanceMetadata.</summary>
    public sealed class InstanceMetadataOptions
    {
        /// <summary>A value path such as compute/osProfile/computerName; null: the whole document.</summary>
        public string? Path { get; init; }
        /// <summary>The api-version asked first; 2019-06-01 answers when it is refused with 400.</summary>
        public string ApiVersion { get; init; } = "2021-08-01";
        /// <summary>The IMDS endpoint; null: 169.254.169.254.</summary>
        public string? Endpoint { get; init; }
        /// <summary>Retry policy; null: <see cref="RetryPolicy.ImdsDefault"/>.</summary>
        public RetryPolicy? Policy { get; init; }

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => (Endpoint ?? "IMDS") + " " + (Path ?? "/") + " (" + ApiVersion + ")";
    }
}
