using System;
using System.CommandLine;
using AzureLinuxImage.Cli.Verbs;

namespace AzureLinuxImage.Cli
{
    /// <summary>azlinux: the module's operations as a cross-platform command line. Bindings only.</summary>
    internal static class Program
    {
        /// <summary>Every verb, one file each under Verbs/: its name and how to build it.</summary>
        private static readonly (string Name, Func<Command> Create)[] Verbs =
        {
            ("info", InfoVerb.Create),
            ("convert", ConvertVerb.Create),
            ("resize", ResizeVerb.Create),
            ("ls", LsVerb.Create),
            ("cat", CatVerb.Create),
            ("waagent", WaagentVerb.Create),
            ("goalstate", GoalStateVerb.Create),
            ("ready", ReadyVerb.Create),
            ("imds", ImdsVerb.Create),
            ("test", TestVerb.Create),
            ("fix", FixVerb.Create),
            ("generalize", GeneralizeVerb.Create),
            ("agentless", AgentlessVerb.Create),
            ("upload", UploadVerb.Create),
            ("publish", PublishVerb.Create),
            ("rehearse", RehearseVerb.Create),
            ("write", ImageWriteVerbs.Write),
            ("rm", ImageWriteVerbs.Remove),
            ("mkdir", ImageWriteVerbs.MakeDirectory),
            ("ln", ImageWriteVerbs.Link),
        };

        private static int Main(string[] args)
        {
            var root = new RootCommand("azlinux: take a Linux disk image from any hypervisor to a working VM in Azure.");
            root.Options.Add(NoPipelineLogging);
            // Only the verb named first is built (with its options and help): building all of them, and loading
            // what their types need, was start-up time every short command paid (issue 17's waagent benchmark).
            // Anything else (no verb, an option, a typo) builds them all, so help and suggestions are complete.
            Func<Command>? only = null;
            if (args.Length > 0)
            {
                foreach (var (name, create) in Verbs)
                {
                    if (string.Equals(name, args[0], StringComparison.Ordinal))
                    {
                        only = create;
                    }
                }
            }
            if (only != null)
            {
                root.Subcommands.Add(only());
            }
            else
            {
                foreach (var (_, create) in Verbs)
                {
                    root.Subcommands.Add(create());
                }
            }
            return root.Parse(args).Invoke();
        }

        /// <summary>
        /// Every verb takes it: no Azure Pipelines / GitHub Actions logging commands even when TF_BUILD=True or
        /// GITHUB_ACTIONS=true (issue 23). Read-only after construction.
        /// </summary>
        internal static readonly Option<bool> NoPipelineLogging = new Option<bool>("--no-pipeline-logging")
        {
            Description = "Write no Azure Pipelines (##vso) or GitHub Actions (::) logging commands, even in a pipeline.",
            Recursive = true,
        };
    }
}
