using System;
using System.Collections.Generic;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Operations
{
    /// <summary>The wire server's goal state as Get-WireServerGoalState returns it.</summary>
    public sealed class WireServerGoalStateResult
    {
        /// <summary>The wire server asked, e.g. http://168.63.129.16/.</summary>
        public string Endpoint { get; init; } = string.Empty;
        /// <summary>How the endpoint was found (explicit, DHCP lease, well-known address).</summary>
        public EndpointSource EndpointSource { get; init; }
        /// <summary>GoalState/Version.</summary>
        public string? Version { get; init; }
        /// <summary>GoalState/Incarnation: a health report must echo it.</summary>
        public string Incarnation { get; init; } = string.Empty;
        /// <summary>Machine/ExpectedState, e.g. Started.</summary>
        public string? ExpectedState { get; init; }
        /// <summary>Container/ContainerId.</summary>
        public string ContainerId { get; init; } = string.Empty;
        /// <summary>RoleInstance/InstanceId.</summary>
        public string InstanceId { get; init; } = string.Empty;
        /// <summary>RoleInstance/State, e.g. Started.</summary>
        public string? RoleState { get; init; }
        /// <summary>RoleInstance/Configuration: name to URI (HostingEnvironmentConfig, SharedConfig, ExtensionsConfig ...).</summary>
        public IReadOnlyDictionary<string, string> Configuration { get; init; } = new Dictionary<string, string>();
        /// <summary>HTTP requests made, retries included.</summary>
        public int Attempts { get; init; }
        /// <summary>Time taken, pauses between retries included.</summary>
        public TimeSpan Elapsed { get; init; }

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => System.FormattableString.Invariant($"Incarnation {Incarnation} of {ContainerId} at {Endpoint}");
    }

    /// <summary>What Send-WireServerReady sent and what the fabric answered.</summary>
    public sealed class WireServerReadyResult
    {
        /// <summary>The wire server the report went to.</summary>
        public string Endpoint { get; init; } = string.Empty;
        /// <summary>How the endpoint was found.</summary>
        public EndpointSource EndpointSource { get; init; }
        /// <summary>The Incarnation echoed in GoalStateIncarnation (of the last goal state fetched).</summary>
        public string Incarnation { get; init; } = string.Empty;
        /// <summary>Container/ContainerId reported.</summary>
        public string ContainerId { get; init; } = string.Empty;
        /// <summary>RoleInstance/InstanceId reported.</summary>
        public string InstanceId { get; init; } = string.Empty;
        /// <summary>The health state reported (Ready or NotReady).</summary>
        public HealthState State { get; init; }
        /// <summary>The sub-status of a NotReady report.</summary>
        public ProvisioningSubStatus? SubStatus { get; init; }
        /// <summary>True when the report was posted (false with -WhatIf).</summary>
        public bool Sent { get; init; }
        /// <summary>True when the fabric accepted the report (HTTP 200, 201 or 202).</summary>
        public bool Accepted { get; init; }
        /// <summary>The HTTP status of the accepted report, or null when nothing was sent.</summary>
        public int? HttpStatus { get; init; }
        /// <summary>HTTP requests made (goal state and health), retries included.</summary>
        public int Attempts { get; init; }
        /// <summary>Goal states fetched (more than one after a stale goal state).</summary>
        public int GoalStateFetches { get; init; }
        /// <summary>Time taken, pauses between retries included.</summary>
        public TimeSpan Elapsed { get; init; }
        /// <summary>The XML body posted (or that would be posted).</summary>
        public string Body { get; init; } = string.Empty;
        /// <summary>The hostname set from IMDS, when asked.</summary>
        public string? Hostname { get; init; }
        /// <summary>How the DHCP-published name catches up with a new hostname, when one was set.</summary>
        public string? HostnameNote { get; init; }
        /// <summary>IMDS extended.compute.ppsType ("None" for an ordinary VM), when IMDS was asked.</summary>
        public string? PreprovisioningType { get; init; }
        /// <summary>True when a PROVISIONING_REPORT record was appended to the Hyper-V KVP pool.</summary>
        public bool KvpRecordWritten { get; init; }
        /// <summary>Things that did not stop the report but deserve attention.</summary>
        public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => System.FormattableString.Invariant($"{State} to {Endpoint}: {(Accepted ? "accepted" : Sent ? "not accepted" : "not sent")}");
    }

    /// <summary>An Instance Metadata Service answer as Get-AzureInstanceMetadata returns it.</summary>
    public sealed class InstanceMetadataResult
    {
        /// <summary>The IMDS endpoint asked.</summary>
        public string Endpoint { get; init; } = string.Empty;
        /// <summary>The value path asked, or null for the whole document.</summary>
        public string? Path { get; init; }
        /// <summary>The api-version that answered (2019-06-01 after a fallback).</summary>
        public string ApiVersion { get; init; } = string.Empty;
        /// <summary>True when the whole document was asked with extended=true.</summary>
        public bool Extended { get; init; }
        /// <summary>The value as text (format=text), or the whole document as JSON.</summary>
        public string Value { get; init; } = string.Empty;
        /// <summary>extended.compute.ppsType of the whole extended document; null otherwise.</summary>
        public string? PreprovisioningType { get; init; }
        /// <summary>True when ppsType is present and not "None": the VM sits in a pre-provisioning pool.</summary>
        public bool IsPreprovisioned => PreprovisioningType != null && !string.Equals(PreprovisioningType, "None", StringComparison.OrdinalIgnoreCase);
        /// <summary>HTTP requests made, retries and the api-version fallback included.</summary>
        public int Attempts { get; init; }
        /// <summary>Time taken.</summary>
        public TimeSpan Elapsed { get; init; }

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => Value;
    }
}
