using System;
using System.CommandLine;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux publish: Publish-LinuxImage (issue 26).</summary>
    internal static class PublishVerb
    {
        public static Command Create()
        {
            var image = new Argument<string>("image") { Description = "Image to publish (any format this tool reads)." };
            var subscription = new Option<string?>("--subscription") { Description = "Subscription id (default: the one subscription the credential sees)." };
            var group = new Option<string>("--resource-group") { Description = "Resource group.", Required = true };
            var location = new Option<string>("--location") { Description = "Azure region.", Required = true };
            var disk = new Option<string>("--disk") { Description = "Managed disk to create (or reuse after an interrupted run).", Required = true };
            var imageName = new Option<string?>("--image") { Description = "Managed image to create from the disk." };
            var gallery = new Option<string?>("--gallery") { Description = "Compute Gallery (created when absent)." };
            var definition = new Option<string?>("--definition") { Description = "Gallery image definition (created with the image's features when absent)." };
            var version = new Option<string?>("--version") { Description = "Gallery image version to create (MAJOR.MINOR.PATCH)." };
            var publisher = new Option<string?>("--publisher") { Description = "Definition publisher (when created)." };
            var offer = new Option<string?>("--offer") { Description = "Definition offer (when created)." };
            var sku = new Option<string?>("--sku") { Description = "Definition SKU (when created)." };
            var regions = new Option<string[]>("--target-region") { Description = "Version region NAME[=COUNT[:STORAGE]]; repeatable (default: --location).", AllowMultipleArgumentsPerToken = false };
            var generation = new Option<string?>("--generation") { Description = "1 or 2 (default: from the image's boot loaders; hybrid images 2)." };
            var endpoint = new Option<string?>("--arm-endpoint") { Description = "Resource Manager URL (Azure Stack Hub, other clouds)." };
            var environment = new Option<string>("--environment") { Description = "AzureCloud, AzureChinaCloud or AzureUSGovernment.", DefaultValueFactory = _ => "AzureCloud" };
            var tokenFile = new Option<string?>("--access-token-file") { Description = "File holding a Resource Manager bearer token (az account get-access-token's JSON, or the token alone)." };
            var managedIdentity = new Option<bool>("--managed-identity") { Description = "Authorise with the machine's managed identity." };
            var defaultCredential = new Option<bool>("--default-credential") { Description = "Authorise with Azure.Identity's DefaultAzureCredential." };
            var threads = new Option<int>("--threads") { Description = "Put Page requests in flight at most (1-64).", DefaultValueFactory = _ => UploadOptions.DefaultThreadCount };
            var operationTimeout = new Option<string?>("--operation-timeout") { Description = "Longest wait for one Resource Manager operation: 45s, 90m, 2h or 01:30:00 (default 3h; a version's replication can take over an hour)." };
            var force = new Option<bool>("--force") { Description = "Publish despite failed readiness rules." };
            var dryRun = new Option<bool>("--dry-run") { Description = "List every Resource Manager call it would make, and make none." };
            var json = new Option<bool>("--json") { Description = "Write the result as JSON." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("publish", "Publish an image to Azure: managed disk, optional image and Compute Gallery version, the definition's features read from the image.")
            {
                image, subscription, group, location, disk, imageName, gallery, definition, version, publisher, offer, sku, regions, generation,
                endpoint, environment, tokenFile, managedIdentity, defaultCredential, threads, operationTimeout, force, dryRun, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                using var context = new CliContext(parse, dryRun: parse.GetValue(dryRun), verbose: parse.GetValue(verbose));
                Uri? arm = null;
                string? armText = parse.GetValue(endpoint);
                if (armText != null && !Uri.TryCreate(armText, UriKind.Absolute, out arm))
                {
                    throw new AzureLinuxImageException("InvalidArmEndpoint", ErrorKind.InvalidArgument, $"'{armText}' is not an absolute URL.");
                }
                string? genText = parse.GetValue(generation);
                int? gen = genText == null ? null : VmGeneration.Parse(genText);
                var options = new PublishOptions
                {
                    SubscriptionId = parse.GetValue(subscription),
                    ResourceGroupName = parse.GetValue(group)!,
                    Location = parse.GetValue(location)!,
                    DiskName = parse.GetValue(disk)!,
                    ImageName = parse.GetValue(imageName),
                    GalleryName = parse.GetValue(gallery),
                    GalleryImageDefinition = parse.GetValue(definition),
                    GalleryImageVersion = parse.GetValue(version),
                    Publisher = parse.GetValue(publisher),
                    Offer = parse.GetValue(offer),
                    Sku = parse.GetValue(sku),
                    Generation = gen,
                    Force = parse.GetValue(force),
                    UseManagedIdentity = parse.GetValue(managedIdentity),
                    UseDefaultAzureCredential = parse.GetValue(defaultCredential),
                    Environment = parse.GetValue(environment)!,
                    ResourceManagerUrl = arm,
                    ThreadCount = parse.GetValue(threads),
                };
                string? timeoutText = parse.GetValue(operationTimeout);
                if (timeoutText != null)
                {
                    options.OperationTimeout = PublishOptions.ParseTimeout(timeoutText, "--operation-timeout");
                }
                string? file = parse.GetValue(tokenFile);
                if (file != null)
                {
                    options.Credential = AzureCredentials.ReadTokenFile(file);
                }
                foreach (string r in parse.GetValue(regions) ?? Array.Empty<string>())
                {
                    options.TargetRegions.Add(TargetRegion.Parse(r));
                }
                LinuxImagePublishResult? result = PublishLinuxImage.Run(parse.GetValue(image)!, options, context);
                if (result == null)
                {
                    return 0;
                }
                if (parse.GetValue(json))
                {
                    CliJson.Write(result);
                    return 0;
                }
                Console.Out.WriteLine($"Published {result.Source}");
                Console.Out.WriteLine($"  disk     {result.DiskId}{(result.Resumed ? " (reused)" : string.Empty)}");
                if (result.ImageId != null)
                {
                    Console.Out.WriteLine($"  image    {result.ImageId}");
                }
                if (result.GalleryImageVersionId != null)
                {
                    Console.Out.WriteLine($"  version  {result.GalleryImageVersionId}");
                }
                foreach (ImageFeature f in result.Features.All)
                {
                    Console.Out.WriteLine($"  {f.Name} = {f.Value}: {f.Evidence} [{f.Rule}]");
                }
                foreach (PublishStep s in result.Steps)
                {
                    Console.Out.WriteLine($"  {s.Name,-11} {s.Duration.TotalSeconds,6:F1} s  {s.Detail}");
                }
                Console.Out.WriteLine($"  {result.ArmRequests} Resource Manager requests, {result.Duration.TotalSeconds:F1} s");
                return 0;
            }));
            return command;
        }
    }
}
