using System;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// What Copy-DiskImageToAzure / azlinux upload did (issue 8). The destination never carries its SAS:
    /// the query string is dropped.
    /// </summary>
    public sealed class AzureUploadResult
    {
        /// <summary>Creates a result.</summary>
        public AzureUploadResult(string source, string destination, long virtualSize, long blobLength, long bytesSent, long bytesSkipped, long bytesCleared, TimeSpan duration, bool resumed, string? md5, int requests = 0)
        {
            Requests = requests;
            Source = source;
            Destination = destination;
            VirtualSize = virtualSize;
            BlobLength = blobLength;
            BytesSent = bytesSent;
            BytesSkipped = bytesSkipped;
            BytesCleared = bytesCleared;
            Duration = duration;
            Resumed = resumed;
            Md5 = md5;
        }

        /// <summary>The image that was read.</summary>
        public string Source { get; }

        /// <summary>The page blob or managed disk URL, without its query string (no SAS signature).</summary>
        public string Destination { get; }

        /// <summary>Virtual size of the uploaded disk: the source's, rounded up to a whole MiB (R-DISK-2).</summary>
        public long VirtualSize { get; }

        /// <summary>Length of the blob: <see cref="VirtualSize"/> plus the 512-byte fixed VHD footer.</summary>
        public long BlobLength { get; }

        /// <summary>Page bytes sent in Put Page requests (data and footer).</summary>
        public long BytesSent { get; }

        /// <summary>Bytes of the blob not sent: unallocated, all-zero, or already there when resuming.</summary>
        public long BytesSkipped { get; }

        /// <summary>Bytes of stale pages cleared on an existing blob or disk (sent as no data).</summary>
        public long BytesCleared { get; }

        /// <summary>Put Page requests (data and clears) the service acknowledged; retries not counted (issue 20).</summary>
        public int Requests { get; }

        /// <summary>Wall time of the upload.</summary>
        public TimeSpan Duration { get; }

        /// <summary>Bytes sent per second.</summary>
        public double BytesPerSecond => Duration.TotalSeconds > 0 ? BytesSent / Duration.TotalSeconds : 0;

        /// <summary>Disk bytes made current per second, sent or skipped: how fast the disk was uploaded.</summary>
        public double EffectiveBytesPerSecond => Duration.TotalSeconds > 0 ? BlobLength / Duration.TotalSeconds : 0;

        /// <summary>Whether an earlier upload to the same blob was continued (-Resume).</summary>
        public bool Resumed { get; }

        /// <summary>Base64 MD5 of the whole blob, set as its Content-MD5 (only with -ComputeMd5).</summary>
        public string? Md5 { get; }

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => System.FormattableString.Invariant($"{Source} -> {Destination} ({BytesSent} bytes sent)");
    }
}
