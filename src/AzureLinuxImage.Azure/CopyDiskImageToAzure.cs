using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Disks.Vhd;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.Azure
{
    /// <summary>
    /// Copy-DiskImageToAzure / azlinux upload (issue 8): any readable image streamed into a page blob
    /// or a managed disk's upload URL as the aligned fixed VHD Azure wants (R-DISK-1, R-DISK-2), in one
    /// read pass and without a temporary file. Only the source's allocated, non-zero 512-byte pages are
    /// sent; the tail is rounded up to a whole MiB and the fixed VHD footer goes last.
    /// </summary>
    internal static class CopyDiskImageToAzure
    {
        public const string Activity = "Uploading to Azure";
        private const int PageSize = 512;
        private const int ChunkSize = PageBlobClient.MaxPutPageBytes;

        internal enum Mode
        {
            /// <summary>A blob this call created: all zeros, so zero pages are skipped.</summary>
            Created,

            /// <summary>An existing blob or disk: zero pages skipped, stale pages cleared.</summary>
            Overwrite,

            /// <summary>-Resume of our own blob: pages Get Page Ranges already shows are not sent again.</summary>
            Resume,
        }

        public static AzureUploadResult? Run(string sourcePath, Uri destination, UploadOptions options, IOperationContext context)
        {
            RegisterSecrets(destination, options.Credential, context);
            try
            {
                return RunCore(sourcePath, destination, options, context);
            }
            catch (Exception e) when (IsFromTransport(e))
            {
                // Connection refused, DNS failure, TLS, a token that could not be had: after Azure.Core's
                // retries these come as an AggregateException of RequestFailedException (status 0). One typed,
                // redacted error naming the destination (issue 15); Azure.Core and HttpClient may echo the SAS.
                throw new AzureLinuxImageException("UploadFailed", ErrorKind.ResourceUnavailable,
                    SecretRedaction.Redact($"Cannot upload to {DisplayOf(destination)}: {Describe(e)}"));
            }
        }

        /// <summary>
        /// Tells the CI host (Azure Pipelines, GitHub Actions) the SAS signature and any token before anything is
        /// written, so its logs mask them everywhere, other steps' lines included (issue 23). Idempotent.
        /// <paramref name="destination"/> is null when no URL is known yet (a publish, before beginGetAccess).
        /// </summary>
        public static void RegisterSecrets(Uri? destination, object? credential, IOperationContext context)
        {
            foreach (string secret in destination == null ? Array.Empty<string>() : SecretRedaction.SecretsOf(destination))
            {
                context.RegisterSecret(secret);
            }
            foreach (string secret in AzureCredentials.SecretsOf(credential))
            {
                context.RegisterSecret(secret);
            }
        }

        /// <summary>Whether the exception is a failure to reach or talk to the service (not a bug, not a typed error of ours).</summary>
        internal static bool IsFromTransport(Exception e)
        {
            if (e is AggregateException aggregate)
            {
                // Azure.Core's retry policy throws one of these when every attempt failed in transport.
                return aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsFromTransport);
            }
            return e is global::Azure.RequestFailedException || e is global::Azure.Identity.AuthenticationFailedException
                || e is global::Azure.Identity.CredentialUnavailableException || e is System.Net.Http.HttpRequestException
                || (e is System.IO.IOException && !(e is System.IO.FileNotFoundException) && !(e is System.IO.DirectoryNotFoundException) && e.InnerException is System.Net.Sockets.SocketException);
        }

        /// <summary>The innermost distinct reason ("Connection refused (127.0.0.1:9)"), and how many attempts failed.</summary>
        internal static string Describe(Exception e)
        {
            int attempts = 1;
            if (e is AggregateException aggregate)
            {
                attempts = aggregate.InnerExceptions.Count;
                e = aggregate.InnerExceptions[aggregate.InnerExceptions.Count - 1];
            }
            Exception inner = e;
            while (inner.InnerException != null)
            {
                inner = inner.InnerException;
            }
            string reason = inner.Message.Split('\n')[0].Trim();
            return attempts > 1 ? $"{reason} ({attempts} attempts)" : reason;
        }

        private static string DisplayOf(Uri destination) =>
            destination.IsAbsoluteUri ? SecretRedaction.WithoutQuery(destination) : SecretRedaction.Redact(destination.OriginalString);

        private static AzureUploadResult? RunCore(string sourcePath, Uri destination, UploadOptions options, IOperationContext context)
        {
            if (!destination.IsAbsoluteUri || (destination.Scheme != Uri.UriSchemeHttps && destination.Scheme != Uri.UriSchemeHttp))
            {
                throw new AzureLinuxImageException("InvalidDestination", ErrorKind.InvalidArgument, "The destination must be an http(s) page blob or managed disk upload URL.");
            }
            if (options.ThreadCount < 1 || options.ThreadCount > 64)
            {
                throw new AzureLinuxImageException("InvalidThreadCount", ErrorKind.InvalidArgument, "The thread count must be between 1 and 64.");
            }
            CancellationToken cancellation = context.Cancellation;
            using DiskImage source = DiskImage.Open(sourcePath);
            foreach (string w in source.Warnings)
            {
                context.Warning(w);
            }
            long size = AzureDiskRules.RoundUpToMiB(source.VirtualSize);
            long blobLength = size + VhdFooter.Size;
            bool managedDisk = options.ManagedDisk || IsManagedDiskUrl(destination);
            var identity = UploadSourceIdentity.Of(source, blobLength, options.ModuleVersion);
            var limiter = new AdaptiveConcurrency(options.ThreadCount);
            TokenCredential? credential = AzureCredentials.Resolve(options.Credential, options.UseManagedIdentity, options.UseDefaultAzureCredential);
            var client = new PageBlobClient(destination, credential, options.ClientOptions, new ThrottleObserverPolicy(limiter));
            string display = client.DisplayUrl;
            context.Verbose($"Source: {source.Format} {source.Variant}, {source.VirtualSize} bytes; upload: fixed VHD of {size} bytes + 512-byte footer = {blobLength} bytes to {display}.");

            // Every check happens before any write (issue 8: a disk of the wrong size is refused first).
            BlobState? existing = Wait(client.GetPropertiesAsync(cancellation));
            Mode mode = Decide(existing, managedDisk, blobLength, identity, options, display, context);
            if (!options.Confirmed && !context.ShouldProcess(display, $"Upload {source.Path} as a fixed VHD of {blobLength} bytes ({Describe(mode)})"))
            {
                return null;
            }

            var clock = Stopwatch.StartNew();
            List<ByteRange> present = new List<ByteRange>();
            if (mode == Mode.Created)
            {
                CreateBlob(client, blobLength, managedDisk ? new Dictionary<string, string>() : identity.Metadata, existing, cancellation);
            }
            else
            {
                present = Wait(client.GetPageRangesAsync(cancellation));
                if (mode == Mode.Overwrite && !managedDisk)
                {
                    // Until the overwrite completes the blob holds other data: no identity, so -Resume refuses it.
                    Wait(client.SetMetadataAsync(new Dictionary<string, string>(), cancellation));
                }
            }

            var footer = VhdFooter.CreateFixed(size, new Guid(Slice(identity.Digest, 16)), identity.LastWriteTimeUtc,
                Version.TryParse(options.ModuleVersion, out Version? v) ? v : new Version(0, 1));
            // The very disk ConvertTo-FixedVhd writes (issue 15): padded to the MiB, the GPT backup moved.
            using AlignedDiskImage aligned = AlignedDiskImage.Create(source, size, display);
            ConvertToFixedVhd.ReportAlignment(aligned, display, context);
            var pump = new UploadPump(client, limiter, options, size, size, blobLength, present, mode, display, context, source.Path);
            byte[]? md5 = pump.Run(aligned, footer.Serialize());
            clock.Stop();

            if (mode == Mode.Overwrite && !managedDisk)
            {
                Wait(client.SetMetadataAsync(identity.Metadata, cancellation));
            }
            string? md5Text = md5 == null ? null : Convert.ToBase64String(md5);
            if (md5 != null)
            {
                Wait(client.SetContentMd5Async(md5, cancellation));
            }
            if (limiter.BackOffs > 0)
            {
                context.Verbose($"The service asked to slow down {limiter.BackOffs} time(s); concurrency went down to {limiter.LowestLimit} of {options.ThreadCount}.");
            }
            var result = new AzureUploadResult(source.Path, display, size, blobLength, pump.BytesSent, blobLength - pump.BytesSent, pump.BytesCleared, clock.Elapsed, mode == Mode.Resume, md5Text, pump.Requests);
            context.Verbose(string.Format(CultureInfo.InvariantCulture, "Sent {0} bytes in {5} requests, skipped {1}, cleared {2}, in {3:F1} s ({4:F1} MiB/s).",
                result.BytesSent, result.BytesSkipped, result.BytesCleared, result.Duration.TotalSeconds, result.BytesPerSecond / AzureDiskRules.MiB, result.Requests));
            return result;
        }

        /// <summary>Put Blob, conditional on what Get Blob Properties saw: nothing there, or that very blob.</summary>
        private static void CreateBlob(PageBlobClient client, long blobLength, IReadOnlyDictionary<string, string> metadata, BlobState? existing, CancellationToken cancellation)
        {
            try
            {
                Wait(client.CreateAsync(blobLength, metadata, cancellation, existing));
            }
            catch (BlobRequestException e) when (e.Status == 409 || e.Status == 412)
            {
                throw new AzureLinuxImageException("BlobChanged", ErrorKind.AlreadyExists,
                    $"{client.DisplayUrl} was {(existing == null ? "created" : "changed")} by someone else while this upload started ({e.ErrorCode}); nothing was written. Run the command again.");
            }
        }

        /// <summary>Managed disk upload URLs (Grant-AzDiskAccess -Access Write) are on md-*.blob.storage.azure.net style hosts.</summary>
        internal static bool IsManagedDiskUrl(Uri uri) => uri.Host.StartsWith("md-", StringComparison.OrdinalIgnoreCase);

        private static Mode Decide(BlobState? existing, bool managedDisk, long blobLength, UploadSourceIdentity identity, UploadOptions options, string display, IOperationContext context)
        {
            if (existing == null)
            {
                if (managedDisk)
                {
                    throw new AzureLinuxImageException("ManagedDiskNotFound", ErrorKind.NotFound,
                        $"{display} does not exist: the upload URL has expired or the disk was not granted for upload. {HowToCreateDisk(blobLength)}");
                }
                if (options.Resume)
                {
                    context.Verbose($"{display} does not exist yet: nothing to resume, starting a new upload.");
                }
                return Mode.Created;
            }
            bool isPageBlob = string.Equals(existing.BlobType, "PageBlob", StringComparison.OrdinalIgnoreCase);
            if (existing.Length != blobLength || !isPageBlob)
            {
                string what = isPageBlob ? $"is {existing.Length} bytes" : $"is a {existing.BlobType ?? "non-page"} blob";
                if (managedDisk)
                {
                    throw new AzureLinuxImageException("ManagedDiskSizeMismatch", ErrorKind.InvalidArgument,
                        $"The managed disk behind {display} {what}, but this image uploads as exactly {blobLength} bytes. {HowToCreateDisk(blobLength)}");
                }
                if (!options.Force)
                {
                    throw new AzureLinuxImageException("BlobSizeMismatch", ErrorKind.AlreadyExists,
                        $"{display} exists and {what}, but this image uploads as exactly {blobLength} bytes. Use -Force to replace it.");
                }
                return Mode.Created;
            }
            if (options.Resume)
            {
                if (managedDisk)
                {
                    context.Warning("A managed disk's upload URL keeps no metadata: -Resume cannot check that the pages already there came from this image.");
                    return Mode.Resume;
                }
                string? difference = identity.FirstDifference(existing.Metadata);
                if (difference == null)
                {
                    return Mode.Resume;
                }
                if (!options.Force)
                {
                    throw new AzureLinuxImageException("ResumeSourceMismatch", ErrorKind.InvalidArgument,
                        $"Cannot resume {display}: {difference}. Use -Force without -Resume to overwrite it.");
                }
                context.Warning($"Not resuming {display}: {difference}. Overwriting it.");
                return Mode.Overwrite;
            }
            if (!managedDisk && !options.Force)
            {
                throw new AzureLinuxImageException("BlobExists", ErrorKind.AlreadyExists,
                    $"{display} already exists. Use -Resume to continue an interrupted upload of this image or -Force to overwrite it.");
            }
            return Mode.Overwrite;
        }

        private static string HowToCreateDisk(long blobLength) =>
            $"Create the disk for this image with UploadSizeBytes {blobLength}: New-AzDiskConfig -CreateOption Upload -UploadSizeInBytes {blobLength} (or az disk create --upload-type Upload --upload-size-bytes {blobLength}), then Grant-AzDiskAccess -Access Write.";

        private static string Describe(Mode mode) => mode switch
        {
            Mode.Created => "new page blob",
            Mode.Resume => "resuming: only pages not already there",
            _ => "overwriting the existing pages",
        };

        private static byte[] Slice(byte[] bytes, int count)
        {
            byte[] r = new byte[count];
            Array.Copy(bytes, r, count);
            return r;
        }

        internal static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

        internal static void Wait(Task task) => task.GetAwaiter().GetResult();
    }
}
