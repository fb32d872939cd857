using System;
using System.CommandLine;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>azlinux upload &lt;image&gt; &lt;url&gt; [--threads N] [--resume] [--md5] [--managed-identity] [--json]: Copy-DiskImageToAzure.</summary>
    internal static class UploadVerb
    {
        public static Command Create()
        {
            var image = new Argument<string>("image") { Description = "Image to upload (any format this tool reads)." };
            var url = new Argument<string>("url") { Description = "Page blob URL (with a SAS, or with --managed-identity / --default-credential) or a managed disk upload URL." };
            var threads = new Option<int>("--threads") { Description = "Put Page requests in flight at most (1-64).", DefaultValueFactory = _ => UploadOptions.DefaultThreadCount };
            var resume = new Option<bool>("--resume") { Description = "Continue an interrupted upload of the same image." };
            var md5 = new Option<bool>("--md5") { Description = "Compute the MD5 in the same pass and set it as the blob's Content-MD5." };
            var managedIdentity = new Option<bool>("--managed-identity") { Description = "Authorise with the machine's managed identity." };
            var defaultCredential = new Option<bool>("--default-credential") { Description = "Authorise with Azure.Identity's DefaultAzureCredential." };
            var force = new Option<bool>("--force") { Description = "Replace or overwrite an existing page blob." };
            var json = new Option<bool>("--json") { Description = "Write the result as JSON." };
            var verbose = new Option<bool>("--verbose") { Description = "Say what is being done." };
            var command = new Command("upload", "Stream an image into an Azure page blob or managed disk as a fixed VHD, sending only data.")
            {
                image, url, threads, resume, md5, managedIdentity, defaultCredential, force, json, verbose,
            };
            command.SetAction(parse => CliErrors.Run(() =>
            {
                using var context = new CliContext(parse, verbose: parse.GetValue(verbose));
                if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out Uri? destination))
                {
                    throw new Errors.AzureLinuxImageException("InvalidDestination", Errors.ErrorKind.InvalidArgument, "The URL is not an absolute http(s) URL.");
                }
                var options = new UploadOptions
                {
                    UseManagedIdentity = parse.GetValue(managedIdentity),
                    UseDefaultAzureCredential = parse.GetValue(defaultCredential),
                    ThreadCount = parse.GetValue(threads),
                    Resume = parse.GetValue(resume),
                    ComputeMd5 = parse.GetValue(md5),
                    Force = parse.GetValue(force),
                };
                AzureUploadResult result = CopyDiskImageToAzure.Run(parse.GetValue(image)!, destination, options, context)!;
                if (parse.GetValue(json))
                {
                    CliJson.Write(result);
                }
                else
                {
                    Console.Out.WriteLine($"Uploaded {result.Source} to {result.Destination}");
                    Console.Out.WriteLine($"  virtual size {result.VirtualSize} bytes, blob {result.BlobLength} bytes{(result.Resumed ? " (resumed)" : string.Empty)}");
                    Console.Out.WriteLine($"  sent {result.BytesSent} bytes in {result.Requests} requests, skipped {result.BytesSkipped}, cleared {result.BytesCleared}");
                    Console.Out.WriteLine($"  {result.Duration.TotalSeconds:F1} s, {result.BytesPerSecond / 1048576:F1} MiB/s sent");
                    if (result.Md5 != null)
                    {
                        Console.Out.WriteLine($"  MD5 {result.Md5}");
                    }
                }
                return 0;
            }));
            return command;
        }
    }
}
