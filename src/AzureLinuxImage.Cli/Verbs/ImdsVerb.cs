using System;
using System.CommandLine;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux imds [PATH] [--api-version V] [--endpoint URL] [--timeout S] [--json]: Get-AzureInstanceMetadata.</summary>
    internal static class ImdsVerb
    {
        public static Command Create()
        {
            var path = new Argument<string?>("path") { Description = "A value path such as compute/osProfile/computerName (default: the whole extended document).", Arity = ArgumentArity.ZeroOrOne };
            var apiVersion = new Option<string>("--api-version") { Description = "The api-version asked first (2019-06-01 when refused with 400).", DefaultValueFactory = _ => "2021-08-01" };
            var endpoint = new Option<string?>("--endpoint") { Description = "Instance Metadata Service endpoint (default 169.254.169.254)." };
            var timeout = new Option<int?>("--timeout") { Description = "Total seconds allowed, retries included (default 300)." };
            var json = new Option<bool>("--json") { Description = "Write the result object as JSON (default: the value or document as IMDS sent it)." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("imds", "Read the Azure Instance Metadata Service: the whole document or one value.")
            {
                path, apiVersion, endpoint, timeout, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                using var context = new CliContext(parse, verbose: parse.GetValue(verbose));
                InstanceMetadataResult result = GetInstanceMetadata.Run(new InstanceMetadataOptions
                {
                    Path = parse.GetValue(path),
                    ApiVersion = parse.GetValue(apiVersion)!,
                    Endpoint = parse.GetValue(endpoint),
                    Policy = WireText.ImdsPolicy(parse.GetValue(timeout)),
                }, context);
                if (parse.GetValue(json))
                {
                    CliJson.Write(result);
                }
                else
                {
                    Console.WriteLine(result.Value);
                }
                return 0;
            }));
            return command;
        }
    }
}
