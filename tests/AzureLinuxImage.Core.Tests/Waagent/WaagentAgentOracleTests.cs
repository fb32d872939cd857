using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using AzureLinuxImage.Linux.Waagent;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Waagent
{
    /// <summary>
    /// The real agent as oracle: WALinuxAgent's own configuration module (Debian's waagent package, unpacked
    /// with dpkg-deb into /opt/waagent-oracle, or installed) reads the same files, and its effective value of
    /// every option must equal ours. .ci/run provides it: apt-get download waagent; dpkg-deb -x … /opt/waagent-oracle.
    /// </summary>
    public class WaagentAgentOracleTests
    {
        private static readonly string[] ModuleRoots =
        {
            Environment.GetEnvironmentVariable("WAAGENT_ORACLE_PYTHONPATH") ?? string.Empty,
            "/opt/waagent-oracle/usr/lib/python3/dist-packages",
            "/usr/lib/python3/dist-packages",
        };

        // Reads each file named on the command line with the agent's loader and prints one JSON object per file
        // (the agent's get_configuration), or null when the agent refuses the file.
        private const string Script = @"
import json, sys
import azurelinuxagent.common.conf as conf
for path in sys.argv[1:]:
    provider = conf.ConfigurationProvider()
    try:
        conf.load_conf_from_file(path, provider)
        print(json.dumps(conf.get_configuration(provider)))
    except Exception as e:
        print('null')
";

        private static (string python, string modules) RequireAgent()
        {
            string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : ExternalTool.Require("python3", "python3");
            foreach (string root in ModuleRoots)
            {
                if (root.Length > 0 && File.Exists(Path.Combine(root, "azurelinuxagent", "common", "conf.py")))
                {
                    return (python, root);
                }
            }
            string reason = "WALinuxAgent's module is not unpacked (apt-get download waagent; dpkg-deb -x waagent_*.deb /opt/waagent-oracle).";
            ExternalTool.Unavailable(reason);
            return (string.Empty, string.Empty);
        }

        [Fact]
        public void Defaults_and_effective_values_match_the_real_agent()
        {
            (string python, string modules) = RequireAgent();
            using var dir = new TempDirectory();
            var files = new List<string>();
            foreach (string f in WaagentFixtures.All)
            {
                files.Add(WaagentFixtures.CopyTo(dir, f, f));
            }
            // Only a comment: every option defaulted.
            string defaults = dir.File("defaults.conf");
            File.WriteAllText(defaults, "#\n");
            files.Add(defaults);

            // Seeded documents mixing documented keys, odd values, quotes, comments, CRLF and duplicates.
            var random = new Random(2745);
            string[] keys = WaagentOptionCatalog.Options.Select(o => o.Key).Take(60).ToArray();
            string[] values = { "y", "n", "Y", "N", "yes", "None", "none", "", "12", " 3_0 ", "+7", "-1", "1__0", "\"y\"", "'n'", "ext4", "/mnt/x", "0", "07", "y # c", "n#c", "\"300\"" };
            string[] spaces = { "", " ", "\t", "  " };
            for (int c = 0; c < 200; c++)
            {
                var sb = new StringBuilder("# seeded\n");
                int lines = random.Next(1, 15);
                for (int l = 0; l < lines; l++)
                {
                    string prefix = random.Next(8) == 0 ? "#" : random.Next(8) == 0 ? " " : "";
                    sb.Append(prefix).Append(keys[random.Next(keys.Length)]).Append(spaces[random.Next(spaces.Length)]).Append('=')
                      .Append(spaces[random.Next(spaces.Length)]).Append(values[random.Next(values.Length)])
                      .Append(random.Next(4) == 0 ? "\r\n" : "\n");
                }
                string path = dir.File($"seeded-{c}.conf");
                File.WriteAllText(path, sb.ToString());
                files.Add(path);
            }

            string script = dir.File("oracle.py");
            File.WriteAllText(script, Script);
            var args = new List<string> { script };
            args.AddRange(files);
            string stdout = RunWithPythonPath(python, modules, args);
            string[] outputs = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(files.Count, outputs.Length);

            int compared = 0;
            for (int i = 0; i < files.Count; i++)
            {
                using JsonDocument agent = JsonDocument.Parse(outputs[i]);
                Assert.NotEqual(JsonValueKind.Null, agent.RootElement.ValueKind);
                WaagentConfigInfo ours = WaagentConfigAnalyzer.Analyze(WaagentConfig.Parse(File.ReadAllBytes(files[i]), files[i]), null, files[i]);
                foreach (JsonProperty p in agent.RootElement.EnumerateObject())
                {
                    WaagentSetting? s = ours.Settings.FirstOrDefault(x => x.Key == p.Name && x.IsDocumented);
                    if (s == null || s.Key == "OS.RootDeviceScsiTimeout")
                    {
                        // Debug.* (experimental) are not catalogued; the agent keeps RootDeviceScsiTimeout as text
                        // and only fails later when it writes it, where we report "unset" and an error.
                        continue;
                    }
                    string? expected = p.Value.ValueKind switch
                    {
                        JsonValueKind.True => "y",
                        JsonValueKind.False => "n",
                        JsonValueKind.Null => null,
                        JsonValueKind.Number => p.Value.GetInt64().ToString(CultureInfo.InvariantCulture),
                        _ => p.Value.GetString(),
                    };
                    Assert.True(expected == s.EffectiveValue, $"{Path.GetFileName(files[i])}: {p.Name}: agent {expected ?? "null"}, ours {s.EffectiveValue ?? "null"}");
                    compared++;
                }
            }
            Assert.True(compared > files.Count * 40, $"only {compared} values compared");
        }

        private static string RunWithPythonPath(string python, string modules, List<string> args)
        {
            var psi = new System.Diagnostics.ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in args)
            {
                psi.ArgumentList.Add(a);
            }
            psi.Environment["PYTHONPATH"] = modules;
            using var p = System.Diagnostics.Process.Start(psi)!;
            System.Threading.Tasks.Task<string> err = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(120_000), "python did not finish");
            Assert.True(p.ExitCode == 0, "python failed: " + err.Result);
            return output;
        }
    }
}
