using System.CommandLine;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux goalstate [--endpoint URL] [--agent-name N] [--timeout S] [--json]: Get-WireServerGoalState.</summary>
    internal static class GoalStateVerb
    {
        public static Command Create()
        {
            var endpoint = new Option<string?>("--endpoint") { Description = "Wire server (host, host:port or http URL). Default: DHCP option 245, else 168.63.129.16." };
            var agent = new Option<string>("--agent-name") { Description = "The x-ms-agent-name header.", DefaultValueFactory = _ => WireServerOptions.DefaultAgentName };
            var timeout = new Option<int?>("--timeout") { Description = "Total seconds allowed, retries included (default 1200)." };
            var json = new Option<bool>("--json") { Description = "Write JSON instead of text." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("goalstate", "Show the Azure wire server's goal state (incarnation, container and instance ids).")
            {
                endpoint, agent, timeout, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                using var context = new CliContext(parse, verbose: parse.GetValue(verbose));
                WireServerGoalStateResult result = GetWireServerGoalState.Run(new WireServerOptions
                {
                    Endpoint = parse.GetValue(endpoint),
                    AgentName = parse.GetValue(agent)!,
                    Policy = WireText.WirePolicy(parse.GetValue(timeout)),
                }, context);
                if (parse.GetValue(json))
                {
                    CliJson.Write(result);
                }
                else
                {
                    WireText.Write(result);
                }
                return 0;
            }));
            return command;
        }
    }
}
