using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Tests.Provisioning
{
    /// <summary>The real protocol samples (Fixtures/NOTICE.md) and values read from them by hand.</summary>
    internal static class ProvisioningFixtures
    {
        public const string GoalStateTarget = "/machine/?comp=goalstate";
        public const string HealthTarget = "/machine?comp=health";
        public const string Agent = "TestAgent/1.0";

        // From goalstate-walinuxagent.xml.
        public const string ContainerId = "c6d5526c-5ac2-4200-b6e2-56f2b70c5ab2";
        public const string InstanceId = "MachineRole_IN_0";

        public static string Text(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Provisioning", "Fixtures", name));

        public static string GoalStateXml => Text("goalstate-walinuxagent.xml");

        public static string GoalStateWithIncarnation(int incarnation) =>
            GoalStateXml.Replace("<Incarnation>1</Incarnation>", $"<Incarnation>{incarnation}</Incarnation>");

        /// <summary>The sample with its RoleInstanceList emptied: what the fabric serves right after boot.</summary>
        public static string GoalStateWithoutRoleInstance
        {
            get
            {
                string xml = GoalStateXml;
                int start = xml.IndexOf("<RoleInstance>", StringComparison.Ordinal);
                int end = xml.IndexOf("</RoleInstance>", StringComparison.Ordinal) + "</RoleInstance>".Length;
                return xml.Substring(0, start) + xml.Substring(end);
            }
        }

        /// <summary>The body PROTOCOL.md describes, written out by hand.</summary>
        public static string ReadyBody(string incarnation, string containerId = ContainerId, string instanceId = InstanceId) =>
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>" +
            $"<Health><GoalStateIncarnation>{incarnation}</GoalStateIncarnation><Container><ContainerId>{containerId}</ContainerId>" +
            $"<RoleInstanceList><Role><InstanceId>{instanceId}</InstanceId><Health><State>Ready</State></Health></Role></RoleInstanceList></Container></Health>";

        /// <summary>
        /// Short pauses: tests wait milliseconds where the agents wait seconds. The request timeout and
        /// budget stay generous unless a test is about them: the CI machine may be heavily loaded.
        /// </summary>
        public static RetryPolicy Fast(double requestTimeout = 5, double budget = 20, double backoff = 0.05, double throttle = 0.02) =>
            new RetryPolicy(TimeSpan.FromSeconds(requestTimeout), TimeSpan.FromSeconds(budget), new[] { TimeSpan.FromSeconds(backoff) }, TimeSpan.FromSeconds(throttle));
    }

    /// <summary>An operation context that records what the operation said and answers ShouldProcess as told.</summary>
    internal sealed class RecordingContext : IOperationContext
    {
        private readonly bool _allow;

        public RecordingContext(bool allow = true, CancellationToken cancellation = default)
        {
            _allow = allow;
            Cancellation = cancellation;
        }

        public CancellationToken Cancellation { get; }
        public List<string> Verbose { get; } = new List<string>();
        public List<string> Warnings { get; } = new List<string>();
        public List<string> Asked { get; } = new List<string>();

        public bool ShouldProcess(string target, string action)
        {
            lock (Asked)
            {
                Asked.Add(action + " @ " + target);
            }
            return _allow;
        }

        public void Progress(string activity, string status, long done, long total)
        {
        }

        void IOperationContext.Verbose(string message)
        {
            lock (Verbose)
            {
                Verbose.Add(message);
            }
        }

        public void Warning(string message)
        {
            lock (Warnings)
            {
                Warnings.Add(message);
            }
        }
    }
}
