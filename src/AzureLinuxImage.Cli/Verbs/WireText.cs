using System;
using System.Globalization;
using System.Linq;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>Text output of the provisioning verbs, and the options they share.</summary>
    internal static class WireText
    {
        /// <summary>Exit code when --dry-run stopped before anything was sent.</summary>
        public const int NotSent = 2;

        public static RetryPolicy WirePolicy(int? timeoutSeconds) =>
            timeoutSeconds is int t ? RetryPolicy.WireServerDefault.WithTotalBudget(TimeSpan.FromSeconds(Positive(t))) : RetryPolicy.WireServerDefault;

        public static RetryPolicy ImdsPolicy(int? timeoutSeconds) =>
            timeoutSeconds is int t ? RetryPolicy.ImdsDefault.WithTotalBudget(TimeSpan.FromSeconds(Positive(t))) : RetryPolicy.ImdsDefault;

        private static int Positive(int seconds) => seconds > 0 ? seconds
            : throw new Errors.AzureLinuxImageException("InvalidTimeout", Errors.ErrorKind.InvalidArgument, "--timeout must be a positive number of seconds.");

        public static void Write(WireServerGoalStateResult g)
        {
            Console.WriteLine($"Endpoint: {g.Endpoint} ({g.EndpointSource})");
            Console.WriteLine($"Incarnation: {g.Incarnation}");
            Console.WriteLine($"ContainerId: {g.ContainerId}");
            Console.WriteLine($"InstanceId: {g.InstanceId}");
            Console.WriteLine($"ExpectedState: {g.ExpectedState}");
            Console.WriteLine($"RoleState: {g.RoleState}");
            foreach (var entry in g.Configuration.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                Console.WriteLine($"Configuration.{entry.Key}: {entry.Value}");
            }
        }

        /// <summary>The lines R-NOAGENT-5 expects in the journal: the ids, the XML sent and the response.</summary>
        public static void Write(WireServerReadyResult r)
        {
            Console.WriteLine($"Endpoint: {r.Endpoint} ({r.EndpointSource})");
            Console.WriteLine($"ContainerId: {r.ContainerId}");
            Console.WriteLine($"InstanceId: {r.InstanceId}");
            Console.WriteLine($"Incarnation: {r.Incarnation}");
            if (r.Hostname != null)
            {
                Console.WriteLine($"Hostname: {r.Hostname}");
            }
            if (r.PreprovisioningType != null)
            {
                Console.WriteLine($"PreprovisioningType: {r.PreprovisioningType}");
            }
            Console.WriteLine((r.Sent ? "Health sent: " : "Health not sent (dry run): ") + r.Body);
            if (r.Sent)
            {
                Console.WriteLine(FormattableString.Invariant(
                    $"Response: {r.HttpStatus} ({r.Attempts} request(s), {r.GoalStateFetches} goal state fetch(es), {r.Elapsed.TotalSeconds:0.0} s)"));
            }
        }
    }
}
