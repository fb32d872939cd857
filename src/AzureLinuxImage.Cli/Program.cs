using System.CommandLine;
using AzureLinuxImage.Cli.Verbs;

namespace AzureLinuxImage.Cli
{
    /// <summary>azlinux: the module's operations as a cross-platform command line. Bindings only.</summary>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            var root = new RootCommand("azlinux: take a Linux disk image from any hypervisor to a working VM in Azure.");
            root.Options.Add(NoPipelineLogging);
            foreach (Command verb in AllVerbs())
            {
                root.Subcommands.Add(verb);
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

        /// <summary>Every verb, one file each under Verbs/.</summary>
        internal static Command[] AllVerbs() => new Command[]
        {
            InfoVerb.Create(),
            ConvertVerb.Create(),
            ResizeVerb.Create(),
            LsVerb.Create(),
            CatVerb.Create(),
            WaagentVerb.Create(),
            GoalStateVerb.Create(),
            ReadyVerb.Create(),
            ImdsVerb.Create(),
            TestVerb.Create(),
            FixVerb.Create(),
            GeneralizeVerb.Create(),
            AgentlessVerb.Create(),
            UploadVerb.Create(),
            PublishVerb.Create(),
            RehearseVerb.Create(),
            ImageWriteVerbs.Write(),
            ImageWriteVerbs.Remove(),
            ImageWriteVerbs.MakeDirectory(),
            ImageWriteVerbs.Link(),
        };
    }
}
