using System;
using System.Text;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>The role health sent to the wire server (PROTOCOL.md "Health report").</summary>
    public enum HealthState
    {
        /// <summary>Provisioning finished: the fabric stops waiting and does not restart the VM.</summary>
        Ready,
        /// <summary>Still provisioning, or provisioning failed (see <see cref="ProvisioningSubStatus"/>).</summary>
        NotReady,
    }

    /// <summary>The <c>Details/SubStatus</c> of a NotReady report.</summary>
    public enum ProvisioningSubStatus
    {
        /// <summary>Provisioning is still in progress.</summary>
        Provisioning,
        /// <summary>Provisioning failed; the description says why.</summary>
        ProvisioningFailed,
    }

    /// <summary>Builds the XML body of <c>POST /machine?comp=health</c>.</summary>
    internal static class HealthReport
    {
        /// <summary>
        /// The fabric rejects descriptions over 4096 characters with HTTP 500 (PROTOCOL.md). The escaped
        /// description is kept within this many UTF-8 bytes, which also bounds its length in characters
        /// however the fabric counts them, with a margin.
        /// </summary>
        public const int MaxDescriptionUtf8Bytes = 4000;

        private const string Ellipsis = "...";

        public static string Build(GoalState goalState, HealthState state, ProvisioningSubStatus? subStatus, string? description)
        {
            if (goalState.InstanceId == null)
            {
                throw new AzureLinuxImageException("GoalStateNotReady", ErrorKind.InvalidArgument,
                    "The goal state has no RoleInstance yet; fetch it again before reporting health.");
            }
            if (state == HealthState.Ready && (subStatus != null || !string.IsNullOrEmpty(description)))
            {
                throw new AzureLinuxImageException("InvalidHealthReport", ErrorKind.InvalidArgument,
                    "A sub-status and a description are only sent with a NotReady report.");
            }

            var sb = new StringBuilder(512);
            sb.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            sb.Append("<Health><GoalStateIncarnation>").Append(ProvisioningXml.Escape(goalState.Incarnation)).Append("</GoalStateIncarnation>");
            sb.Append("<Container><ContainerId>").Append(ProvisioningXml.Escape(goalState.ContainerId)).Append("</ContainerId>");
            sb.Append("<RoleInstanceList><Role><InstanceId>").Append(ProvisioningXml.Escape(goalState.InstanceId)).Append("</InstanceId>");
            sb.Append("<Health><State>").Append(state == HealthState.Ready ? "Ready" : "NotReady").Append("</State>");
            if (state == HealthState.NotReady && subStatus != null)
            {
                sb.Append("<Details><SubStatus>").Append(subStatus.Value.ToString()).Append("</SubStatus>");
                if (!string.IsNullOrEmpty(description))
                {
                    sb.Append("<Description>").Append(EscapeDescription(description!)).Append("</Description>");
                }
                sb.Append("</Details>");
            }
            sb.Append("</Health></Role></RoleInstanceList></Container></Health>");
            return sb.ToString();
        }

        /// <summary>
        /// Escapes and, when needed, shortens a description to <see cref="MaxDescriptionUtf8Bytes"/>
        /// ending in "..."; the cut never splits an escape sequence or a surrogate pair.
        /// </summary>
        public static string EscapeDescription(string description)
        {
            string escaped = ProvisioningXml.Escape(description, MaxDescriptionUtf8Bytes, out bool truncated);
            if (!truncated)
            {
                return escaped;
            }
            return ProvisioningXml.Escape(description, MaxDescriptionUtf8Bytes - Ellipsis.Length, out _) + Ellipsis;
        }
    }
}
