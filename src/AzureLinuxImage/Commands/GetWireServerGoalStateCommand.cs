using System.Management.Automation;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Commands
{
    /// <summary>Get-WireServerGoalState: the Azure wire server's goal state (incarnation, container and instance ids, configuration URIs).</summary>
    [Cmdlet(VerbsCommon.Get, "WireServerGoalState")]
    [OutputType(typeof(WireServerGoalStateResult))]
    public sealed class GetWireServerGoalStateCommand : WireServerCmdlet
    {
        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            ForEachItem(Target, () => WriteObject(GetWireServerGoalState.Run(
                new WireServerOptions { Endpoint = Endpoint, AgentName = AgentName, Policy = Policy }, Context)));
        }
    }
}
