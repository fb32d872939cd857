using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Cli
{
    /// <summary>
    /// azlinux builds only the verb named first (start-up time, issue 17): every verb the full help lists
    /// must be found by its name alone, so a verb whose table name and command name differ fails here.
    /// </summary>
    public class CliVerbTableTests
    {
        [Fact]
        public void Every_verb_in_the_full_help_is_built_by_its_name_alone()
        {
            ToolResult help = AzLinux.Run("--help");
            Assert.Equal(0, help.ExitCode);
            string commands = help.StdOut.Substring(help.StdOut.IndexOf("Commands:", System.StringComparison.Ordinal));
            var verbs = Regex.Matches(commands, @"^\s{2}([a-z]+)\b", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
            Assert.Contains("waagent", verbs);
            Assert.Contains("write", verbs);
            Assert.True(verbs.Count >= 19, "verbs listed: " + string.Join(", ", verbs));
            foreach (string verb in verbs)
            {
                ToolResult r = AzLinux.Run(verb, "--help");
                Assert.True(r.ExitCode == 0, $"azlinux {verb} --help: exit {r.ExitCode}\n{r.StdErr}");
                Assert.Contains("Usage:", r.StdOut);
                Assert.Contains(verb, r.StdOut);
            }
            // A name that is no verb still gets the whole list to suggest from.
            ToolResult typo = AzLinux.Run("waagnet");
            Assert.NotEqual(0, typo.ExitCode);
            Assert.Contains("Did you mean", typo.StdOut + typo.StdErr);
            Assert.Matches(@"(?m)^waagent\r?$", typo.StdOut + typo.StdErr);
        }
    }
}
