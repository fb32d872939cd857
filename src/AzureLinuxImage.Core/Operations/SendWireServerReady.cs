using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// Send-WireServerReady / azlinux ready (R-NOAGENT-3..5): optionally asks IMDS (pre-provisioning,
    /// hostname), optionally writes the KVP PROVISIONING_REPORT, fetches the goal state and posts the
    /// health report with its Incarnation echoed, refetching on a stale goal state.
    /// </summary>
    internal static class SendWireServerReady
    {
        /// <summary>
        /// Runs the operation; throws when the report could not be delivered or was refused. Context calls
        /// happen on the caller's thread; the HTTP work is awaited without a captured context.
        /// </summary>
        /// <summary>
        /// The report the options ask for, checked before any I/O (the cmdlet and the CLI both call this): a
        /// sub-status or description goes with NotReady only; NotReady defaults to ProvisioningFailed.
        /// </summary>
        public static (HealthState State, ProvisioningSubStatus? SubStatus, string? Description) ValidateReport(WireServerReadyOptions options)
        {
            string? description = string.IsNullOrEmpty(options.Description) ? null : options.Description;
            if (options.State == HealthState.Ready && (options.SubStatus != null || description != null))
            {
                throw new AzureLinuxImageException("InvalidHealthReport", ErrorKind.InvalidArgument,
                    "A sub-status and a description go with a NotReady report only: add -NotReady (--not-ready).");
            }
            ProvisioningSubStatus? subStatus = options.State == HealthState.NotReady ? options.SubStatus ?? ProvisioningSubStatus.ProvisioningFailed : (ProvisioningSubStatus?)null;
            return (options.State, subStatus, description);
        }

        public static WireServerReadyResult Run(WireServerReadyOptions options, IOperationContext context)
        {
            CancellationToken cancellationToken = context.Cancellation;
            (HealthState state, ProvisioningSubStatus? subStatus, string? description) = ValidateReport(options);
            string agentName = WireServerClient.ValidateAgentName(options.AgentName);

            ResolvedEndpoint endpoint = WireServerEndpoint.Resolve(options.Endpoint, options.Root);
            context.Verbose($"Wire server: {endpoint.Uri} ({endpoint.Source}{(endpoint.LeaseFile != null ? ", " + endpoint.LeaseFile : string.Empty)}).");
            RetryPolicy policy = options.Policy ?? RetryPolicy.WireServerDefault;
            var session = new RetrySession(policy, cancellationToken);
            var warnings = new List<string>();
            using var http = ProvisioningHttpClient.Create();

            // IMDS first: a pre-provisioned VM must not be claimed Ready, and the hostname comes from it.
            ImdsDocument? imds = null;
            bool checkPps = state == HealthState.Ready && options.CheckPreprovisioning;
            if (checkPps || options.SetHostname)
            {
                imds = ReadImds(options, context, http, policy, warnings);
            }
            string? ppsType = imds?.PreprovisioningType;
            if (checkPps && ppsType != null && !string.Equals(ppsType, "None", StringComparison.OrdinalIgnoreCase))
            {
                throw new AzureLinuxImageException("PreprovisionedVm", ErrorKind.NotSupported,
                    $"IMDS reports ppsType '{ppsType}': this VM sits in a pre-provisioning pool and gets its real configuration later " +
                    "from /metadata/reprovisiondata. A one-shot report cannot finish its provisioning; use cloud-init or WALinuxAgent " +
                    "for pooled VMs, or run with the check disabled if you handle reprovisioning yourself. Nothing was sent.");
            }
            if (checkPps && imds != null && ppsType == null)
            {
                Warn(context, warnings, "IMDS did not return the extended document (ppsType unknown): pre-provisioning could not be ruled out.");
            }

            string? hostname = null, hostnameNote = null;
            if (options.SetHostname)
            {
                string? name = imds?.ComputerName;
                if (name == null)
                {
                    Warn(context, warnings, "No hostname was set: IMDS gave neither compute/osProfile/computerName nor compute/name.");
                }
                else if (context.ShouldProcess(Path.Combine(options.Root, "etc", "hostname"), $"Set the hostname to '{name}'"))
                {
                    try
                    {
                        HostnameOutcome outcome = HostnameSetter.Apply(name, options.Root, options.ApplyHostname, TimeSpan.FromSeconds(30));
                        hostname = outcome.Hostname;
                        hostnameNote = outcome.Note;
                        context.Verbose($"Hostname '{hostname}' written to {outcome.HostnameFile}{(outcome.CommandRun != null ? "; ran " + outcome.CommandRun : string.Empty)}. {outcome.Note}");
                    }
                    catch (AzureLinuxImageException e)
                    {
                        // The report must still go out, or Azure restarts the VM.
                        Warn(context, warnings, $"The hostname was not set: {e.Message}");
                    }
                }
            }

            var client = new WireServerClient(http, endpoint.Uri, agentName);
            GoalState goalState = client.GetGoalStateAsync(session).GetAwaiter().GetResult();
            context.Verbose($"Goal state: incarnation {goalState.Incarnation}, container {goalState.ContainerId}, instance {goalState.InstanceId}.");
            string body = HealthReport.Build(goalState, state, subStatus, description);

            string action = state == HealthState.Ready
                ? $"Report Ready for instance {goalState.InstanceId} (incarnation {goalState.Incarnation})"
                : $"Report NotReady/{subStatus} for instance {goalState.InstanceId} (incarnation {goalState.Incarnation})";
            if (!context.ShouldProcess(client.HealthUri.ToString(), action))
            {
                return Result(endpoint, goalState, state, subStatus, body, sent: false, status: null, session, 1, hostname, hostnameNote, ppsType, false, warnings);
            }

            bool kvpWritten = WriteKvp(options, context, agentName, state, subStatus, description, imds, ppsType, warnings, cancellationToken);
            context.Verbose($"POST {client.HealthUri}: {body}");
            HealthPostOutcome posted = client.ReportHealthAsync(session, goalState, state, subStatus, description).GetAwaiter().GetResult();
            context.Verbose($"Response: {posted.HttpStatus} after {session.Attempts} attempt(s) in {session.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s.");
            return Result(endpoint, posted.GoalState, state, subStatus, posted.Body, sent: true, status: posted.HttpStatus, session,
                1 + posted.GoalStateFetches, hostname, hostnameNote, ppsType, kvpWritten, warnings);
        }

        private static ImdsDocument? ReadImds(WireServerReadyOptions options, IOperationContext context, System.Net.Http.HttpClient http, RetryPolicy wirePolicy, List<string> warnings)
        {
            RetryPolicy imdsPolicy = options.ImdsPolicy ?? RetryPolicy.ImdsDefault;
            if (options.ImdsPolicy == null && wirePolicy.TotalBudget < imdsPolicy.TotalBudget)
            {
                imdsPolicy = imdsPolicy.WithTotalBudget(wirePolicy.TotalBudget);
            }
            Uri imdsEndpoint = options.ImdsEndpoint == null ? ImdsClient.Default : WireServerEndpoint.ParseEndpoint(options.ImdsEndpoint, "ImdsEndpoint");
            try
            {
                var imdsSession = new RetrySession(imdsPolicy, context.Cancellation);
                ImdsResponse response = new ImdsClient(http, imdsEndpoint).GetInstanceAsync(imdsSession, ImdsClient.DefaultApiVersion).GetAwaiter().GetResult();
                context.Verbose($"IMDS answered {response.RequestUri.PathAndQuery}.");
                return ImdsDocument.Parse(response.Content);
            }
            catch (AzureLinuxImageException e)
            {
                Warn(context, warnings, $"IMDS was not usable, so pre-provisioning was not checked and no hostname was set: {e.Message}");
                return null;
            }
        }

        private static bool WriteKvp(WireServerReadyOptions options, IOperationContext context, string agentName, HealthState state, ProvisioningSubStatus? subStatus, string? description,
            ImdsDocument? imds, string? ppsType, List<string> warnings, CancellationToken cancellationToken)
        {
            // Only final outcomes are worth a record; "still provisioning" is not one.
            if (state == HealthState.NotReady && subStatus != ProvisioningSubStatus.ProvisioningFailed)
            {
                return false;
            }
            string pool = Path.Combine(options.Root, options.KvpPoolPath.TrimStart('/'));
            if (!File.Exists(pool))
            {
                return false;
            }
            string timestamp = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);
            string outcome = state == HealthState.Ready ? "result=success" : "result=error|reason=" + Sanitize(description ?? "ProvisioningFailed");
            string value = $"{outcome}|agent={Sanitize(agentName)}|pps_type={Sanitize(ppsType ?? "None")}|vm_id={Sanitize(imds?.VmId ?? "unknown")}|timestamp={timestamp}";
            try
            {
                KvpPool.Append(pool, KvpPool.ProvisioningReportKey, value, cancellationToken);
                context.Verbose($"KVP {KvpPool.ProvisioningReportKey} appended to {pool}: {value}");
                return true;
            }
            catch (Exception e) when (e is AzureLinuxImageException || e is IOException || e is UnauthorizedAccessException)
            {
                Warn(context, warnings, $"The KVP record was not written to {pool}: {e.Message}");
                return false;
            }
        }

        private static void Warn(IOperationContext context, List<string> warnings, string message)
        {
            warnings.Add(message);
            context.Warning(message);
        }

        /// <summary>'|' separates the fields of a KVP report value; control characters have no place in it.</summary>
        private static string Sanitize(string s)
        {
            var chars = s.ToCharArray();
            for (int i = 0; i < chars.Length; i++)
            {
                if (chars[i] == '|' || char.IsControl(chars[i]))
                {
                    chars[i] = ' ';
                }
            }
            return new string(chars);
        }

        private static WireServerReadyResult Result(ResolvedEndpoint endpoint, GoalState goalState, HealthState state, ProvisioningSubStatus? subStatus,
            string body, bool sent, int? status, RetrySession session, int fetches, string? hostname, string? hostnameNote, string? ppsType,
            bool kvpWritten, List<string> warnings) => new WireServerReadyResult
            {
                Endpoint = endpoint.Uri.ToString(),
                EndpointSource = endpoint.Source,
                Incarnation = goalState.Incarnation,
                ContainerId = goalState.ContainerId,
                InstanceId = goalState.InstanceId!,
                State = state,
                SubStatus = state == HealthState.NotReady ? subStatus : null,
                Sent = sent,
                Accepted = sent && status != null,
                HttpStatus = status,
                Attempts = session.Attempts,
                GoalStateFetches = fetches,
                Elapsed = session.Elapsed,
                Body = body,
                Hostname = hostname,
                HostnameNote = hostnameNote,
                PreprovisioningType = ppsType,
                KvpRecordWritten = kvpWritten,
                Warnings = warnings.ToArray(),
            };
    }
}
