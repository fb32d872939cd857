using System.CommandLine;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>
    /// azlinux ready [--endpoint URL] [--not-ready [--sub-status S] [--description D]] [--hostname] [--json]:
    /// Send-WireServerReady. Exit code 0 only when the fabric accepted the report; 2 after --dry-run.
    /// </summary>
    internal static class ReadyVerb
    {
        public static Command Create()
        {
            var endpoint = new Option<string?>("--endpoint") { Description = "Wire server (host, host:port or http URL). Default: DHCP option 245, else 168.63.129.16." };
            var agent = new Option<string>("--agent-name") { Description = "The x-ms-agent-name header.", DefaultValueFactory = _ => WireServerOptions.DefaultAgentName };
            var timeout = new Option<int?>("--timeout") { Description = "Total seconds allowed, retries included (default 1200, the agents' first-boot budget)." };
            var notReady = new Option<bool>("--not-ready") { Description = "Report NotReady instead of Ready." };
            var subStatus = new Option<ProvisioningSubStatus?>("--sub-status") { Description = "Provisioning or ProvisioningFailed (default with --not-ready: ProvisioningFailed)." };
            var description = new Option<string?>("--description") { Description = "Why provisioning failed (escaped, shortened below 4096 characters)." };
            var hostname = new Option<bool>("--hostname") { Description = "Set the hostname from IMDS compute/osProfile/computerName (else compute/name) first." };
            var imds = new Option<string?>("--imds-endpoint") { Description = "Instance Metadata Service endpoint (default 169.254.169.254)." };
            var skipPps = new Option<bool>("--skip-preprovisioning-check") { Description = "Do not ask IMDS whether the VM is pre-provisioned." };
            var root = new Option<string>("--root") { Description = "Root folder for lease files, etc/hostname and the KVP pool.", DefaultValueFactory = _ => "/" };
            var dryRun = new Option<bool>("--dry-run") { Description = "Fetch the goal state and show the report; send nothing (exit code 2)." };
            var json = new Option<bool>("--json") { Description = "Write the result as JSON." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("ready", "Report this VM ready (or not ready) to the Azure wire server, as an agent-less image must at first boot.")
            {
                endpoint, agent, timeout, notReady, subStatus, description, hostname, imds, skipPps, root, dryRun, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                bool isNotReady = parse.GetValue(notReady);
                string rootPath = parse.GetValue(root)!;
                using var context = new CliContext(parse, parse.GetValue(dryRun), parse.GetValue(verbose));
                WireServerReadyResult result = SendWireServerReady.Run(new WireServerReadyOptions
                {
                    Endpoint = parse.GetValue(endpoint),
                    AgentName = parse.GetValue(agent)!,
                    Policy = WireText.WirePolicy(parse.GetValue(timeout)),
                    State = isNotReady ? HealthState.NotReady : HealthState.Ready,
                    SubStatus = parse.GetValue(subStatus),
                    Description = parse.GetValue(description),
                    SetHostname = parse.GetValue(hostname),
                    CheckPreprovisioning = !parse.GetValue(skipPps),
                    ImdsEndpoint = parse.GetValue(imds),
                    Root = rootPath,
                }, context);
                if (parse.GetValue(json))
                {
                    CliJson.Write(result);
                }
                else
                {
                    WireText.Write(result);
                }
                if (result.HostnameNote != null)
                {
                    context.Warning(result.HostnameNote);
                }
                return result.Accepted ? 0 : result.Sent ? CliErrors.Failure : WireText.NotSent;
            }));
            return command;
        }
    }
}
