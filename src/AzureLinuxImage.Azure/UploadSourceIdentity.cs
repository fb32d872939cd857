using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using AzureLinuxImage.Disks;

namespace AzureLinuxImage.Azure
{
    /// <summary>
    /// What a blob's metadata records about the image it is being filled from, so that -Resume only
    /// continues an upload of the same image by the same module version (issue 8, "-Resume").
    /// </summary>
    internal sealed class UploadSourceIdentity
    {
        private const string Prefix = "azlinux";
        private const long Sample = 1024 * 1024;

        private UploadSourceIdentity(IReadOnlyDictionary<string, string> metadata, byte[] digest)
        {
            Metadata = metadata;
            Digest = digest;
        }

        /// <summary>Blob metadata (names are C# identifiers, values ASCII: the path is escaped).</summary>
        public IReadOnlyDictionary<string, string> Metadata { get; }

        /// <summary>SHA-256 of all the identity fields: seeds the footer's unique id, so a resumed run writes the same footer.</summary>
        public byte[] Digest { get; }

        public DateTime LastWriteTimeUtc => DateTime.Parse(Metadata[Prefix + "sourcemtime"], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

        public static UploadSourceIdentity Of(DiskImage source, long blobLength, string moduleVersion)
        {
            var file = new FileInfo(source.Path);
            byte[] sampleHash;
            using (SHA256 sha = SHA256.Create())
            {
                byte[] buffer = new byte[Sample];
                int first = (int)Math.Min(Sample, source.VirtualSize);
                source.Read(0, buffer, 0, first);
                sha.TransformBlock(buffer, 0, first, null, 0);
                int last = (int)Math.Min(Sample, source.VirtualSize);
                source.Read(source.VirtualSize - last, buffer, 0, last);
                sha.TransformFinalBlock(buffer, 0, last);
                sampleHash = sha.Hash!;
            }
            var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                [Prefix + "sourcepath"] = Uri.EscapeDataString(source.Path),
                [Prefix + "sourcesize"] = file.Length.ToString(CultureInfo.InvariantCulture),
                [Prefix + "sourcemtime"] = file.LastWriteTimeUtc.ToString("o", CultureInfo.InvariantCulture),
                [Prefix + "sourcehash"] = ToHex(sampleHash),
                [Prefix + "bloblength"] = blobLength.ToString(CultureInfo.InvariantCulture),
                [Prefix + "version"] = moduleVersion,
            };
            byte[] digest;
            using (SHA256 sha = SHA256.Create())
            {
                var all = new System.Text.StringBuilder();
                foreach (KeyValuePair<string, string> m in metadata)
                {
                    all.Append(m.Key).Append('=').Append(m.Value).Append('\n');
                }
                digest = sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes(all.ToString()));
            }
            return new UploadSourceIdentity(new Dictionary<string, string>(metadata, StringComparer.Ordinal), digest);
        }

        /// <summary>The first field recorded on the blob that differs from this source, or null when all match.</summary>
        public string? FirstDifference(IReadOnlyDictionary<string, string> blobMetadata)
        {
            foreach (KeyValuePair<string, string> m in Metadata)
            {
                if (!blobMetadata.TryGetValue(m.Key, out string? recorded))
                {
                    return $"the blob does not record {m.Key} (it was not created by an upload of this module)";
                }
                if (!string.Equals(recorded, m.Value, StringComparison.Ordinal))
                {
                    return $"{m.Key} is '{Uri.UnescapeDataString(recorded)}' on the blob but '{Uri.UnescapeDataString(m.Value)}' for this source";
                }
            }
            return null;
        }

        private static string ToHex(byte[] bytes)
        {
            var sb = new System.Text.StringBuilder(bytes.Length * 2);
            foreach (byte b in bytes)
            {
                sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            }
            return sb.ToString();
        }
    }
}
