using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>Where the wire server address came from.</summary>
    public enum EndpointSource
    {
        /// <summary>Given by the caller (-Endpoint / --endpoint).</summary>
        Explicit,
        /// <summary>DHCP option 245 in a dhclient lease file.</summary>
        DhclientLease,
        /// <summary>DHCP option 245 in a systemd-networkd lease file.</summary>
        NetworkdLease,
        /// <summary>The well-known address 168.63.129.16.</summary>
        WellKnown,
    }

    /// <summary>A resolved wire server address and how it was found.</summary>
    internal sealed record ResolvedEndpoint(Uri Uri, EndpointSource Source, string? LeaseFile);

    /// <summary>
    /// Finds the wire server (PROTOCOL.md "Endpoint"): an explicit endpoint wins; otherwise DHCP option
    /// 245 from the newest dhclient or systemd-networkd lease under <c>root</c>; otherwise 168.63.129.16.
    /// </summary>
    internal static class WireServerEndpoint
    {
        public const string WellKnownAddress = "168.63.129.16";
        public const string ImdsAddress = "169.254.169.254";

        /// <summary>Lease files larger than this are read from their end only (dhclient appends).</summary>
        private const int MaxLeaseBytes = 1024 * 1024;

        private static readonly string[] DhclientFolders =
        {
            "var/lib/dhcp",            // Debian, Ubuntu
            "var/lib/dhclient",        // RHEL, Fedora, SUSE
            "var/lib/NetworkManager",  // NetworkManager driving dhclient
        };

        private const string NetworkdLeaseFolder = "run/systemd/netif/leases";

        public static Uri WellKnown => new Uri("http://" + WellKnownAddress + "/");

        /// <summary>Parses "host", "host:port" or an http(s) URL into a base URI with an empty path.</summary>
        public static Uri ParseEndpoint(string endpoint, string parameter = "Endpoint")
        {
            string text = (endpoint ?? string.Empty).Trim();
            if (text.Length == 0)
            {
                throw BadEndpoint(endpoint ?? string.Empty, parameter, "it is empty");
            }
            if (!text.Contains("://"))
            {
                text = "http://" + text;
            }
            if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw BadEndpoint(endpoint!, parameter, "it is not an http:// or https:// address");
            }
            if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            {
                throw BadEndpoint(endpoint!, parameter, "give the host (and port) only, without a path, query or credentials");
            }
            return new UriBuilder(uri.Scheme, uri.Host, uri.Port, "/").Uri;
        }

        /// <summary>Resolves the wire server address; <paramref name="root"/> is "/" on a VM and a folder in tests.</summary>
        public static ResolvedEndpoint Resolve(string? explicitEndpoint, string root)
        {
            if (!string.IsNullOrWhiteSpace(explicitEndpoint))
            {
                return new ResolvedEndpoint(ParseEndpoint(explicitEndpoint!), EndpointSource.Explicit, null);
            }
            var candidates = new List<(FileInfo File, EndpointSource Source)>();
            foreach (string folder in DhclientFolders)
            {
                candidates.AddRange(Files(Path.Combine(root, folder)).Where(f => f.Name.EndsWith(".lease", StringComparison.Ordinal) || f.Name.EndsWith(".leases", StringComparison.Ordinal))
                    .Select(f => (f, EndpointSource.DhclientLease)));
            }
            candidates.AddRange(Files(Path.Combine(root, NetworkdLeaseFolder)).Select(f => (f, EndpointSource.NetworkdLease)));

            // The newest lease describes the current network (WALinuxAgent and cloud-init do the same).
            foreach (var (file, source) in candidates.OrderByDescending(c => c.File.LastWriteTimeUtc))
            {
                string? text = ReadTail(file);
                if (text == null)
                {
                    continue;
                }
                IPAddress? address = source == EndpointSource.DhclientLease ? DhcpLeases.FromDhclient(text) : DhcpLeases.FromNetworkd(text);
                if (address != null)
                {
                    return new ResolvedEndpoint(new Uri("http://" + address + "/"), source, file.FullName);
                }
            }
            return new ResolvedEndpoint(WellKnown, EndpointSource.WellKnown, null);
        }

        private static IEnumerable<FileInfo> Files(string folder)
        {
            try
            {
                return Directory.Exists(folder) ? new DirectoryInfo(folder).GetFiles() : Array.Empty<FileInfo>();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return Array.Empty<FileInfo>();
            }
        }

        private static string? ReadTail(FileInfo file)
        {
            try
            {
                using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                long start = Math.Max(0, stream.Length - MaxLeaseBytes);
                stream.Position = start;
                var buffer = new byte[stream.Length - start];
                int read = 0;
                while (read < buffer.Length)
                {
                    int n = stream.Read(buffer, read, buffer.Length - read);
                    if (n == 0)
                    {
                        break;
                    }
                    read += n;
                }
                return Encoding.UTF8.GetString(buffer, 0, read);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return null;
            }
        }

        private static AzureLinuxImageException BadEndpoint(string endpoint, string parameter, string problem) =>
            new AzureLinuxImageException("InvalidEndpoint", ErrorKind.InvalidArgument,
                $"{parameter} '{endpoint}' is not usable: {problem}. Example: 168.63.129.16 or http://127.0.0.1:8080.");
    }

    /// <summary>Reads DHCP option 245 (the wire server address) from lease files.</summary>
    internal static class DhcpLeases
    {
        /// <summary>
        /// dhclient: the last <c>option unknown-245 a8:3f:81:10;</c> (dhclient appends newer leases).
        /// dhclient prints each byte in hex without leading zeros, or a quoted string when every byte is
        /// printable.
        /// </summary>
        public static IPAddress? FromDhclient(string text)
        {
            IPAddress? found = null;
            foreach (string rawLine in text.Split('\n'))
            {
                string line = rawLine.Trim();
                const string Prefix = "option unknown-245 ";
                if (!line.StartsWith(Prefix, StringComparison.Ordinal) || !line.EndsWith(";", StringComparison.Ordinal))
                {
                    continue;
                }
                string value = line.Substring(Prefix.Length, line.Length - Prefix.Length - 1).Trim();
                byte[]? bytes = value.StartsWith("\"", StringComparison.Ordinal) ? QuotedBytes(value) : ColonHexBytes(value);
                IPAddress? address = ToAddress(bytes);
                if (address != null)
                {
                    found = address;
                }
            }
            return found;
        }

        /// <summary>
        /// systemd-networkd: the environment-style lease (<c>OPTION_245=A83F8110</c>, hex) of most
        /// systemd versions, or the JSON lease of the newest ones (<c>"Private_Options": [{"Option":245,"Data":"a83f8110"}]</c>).
        /// </summary>
        public static IPAddress? FromNetworkd(string text)
        {
            string trimmed = text.TrimStart();
            if (trimmed.StartsWith("{", StringComparison.Ordinal))
            {
                return FromNetworkdJson(trimmed);
            }
            foreach (string rawLine in text.Split('\n'))
            {
                string line = rawLine.Trim();
                if (line.StartsWith("OPTION_245=", StringComparison.Ordinal))
                {
                    return ToAddress(PlainHexBytes(line.Substring("OPTION_245=".Length).Trim().Trim('"')));
                }
            }
            return null;
        }

        private static IPAddress? FromNetworkdJson(string text)
        {
            try
            {
                using JsonDocument doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
                if (doc.RootElement.ValueKind != JsonValueKind.Object
                    || !doc.RootElement.TryGetProperty("Private_Options", out JsonElement options)
                    || options.ValueKind != JsonValueKind.Array)
                {
                    return null;
                }
                foreach (JsonElement option in options.EnumerateArray())
                {
                    if (option.ValueKind == JsonValueKind.Object
                        && option.TryGetProperty("Option", out JsonElement tag) && tag.ValueKind == JsonValueKind.Number
                        && tag.TryGetInt32(out int code) && code == 245
                        && option.TryGetProperty("Data", out JsonElement data) && data.ValueKind == JsonValueKind.String)
                    {
                        return ToAddress(PlainHexBytes(data.GetString() ?? string.Empty));
                    }
                }
            }
            catch (JsonException)
            {
            }
            return null;
        }

        private static byte[]? ColonHexBytes(string value)
        {
            string[] parts = value.Split(':');
            if (parts.Length != 4)
            {
                return null;
            }
            var bytes = new byte[4];
            for (int i = 0; i < 4; i++)
            {
                if (parts[i].Length < 1 || parts[i].Length > 2
                    || !byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
                {
                    return null;
                }
            }
            return bytes;
        }

        private static byte[]? PlainHexBytes(string value)
        {
            if (value.Length != 8)
            {
                return null;
            }
            var bytes = new byte[4];
            for (int i = 0; i < 4; i++)
            {
                if (!byte.TryParse(value.Substring(i * 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
                {
                    return null;
                }
            }
            return bytes;
        }

        /// <summary>A dhclient quoted string: printable bytes, with \" \\ and \ooo octal escapes.</summary>
        private static byte[]? QuotedBytes(string value)
        {
            if (value.Length < 2 || !value.EndsWith("\"", StringComparison.Ordinal))
            {
                return null;
            }
            string inner = value.Substring(1, value.Length - 2);
            var bytes = new List<byte>(4);
            for (int i = 0; i < inner.Length; i++)
            {
                char c = inner[i];
                if (c == '\\')
                {
                    if (i + 3 < inner.Length && IsOctal(inner[i + 1]) && IsOctal(inner[i + 2]) && IsOctal(inner[i + 3]))
                    {
                        int v = (inner[i + 1] - '0') * 64 + (inner[i + 2] - '0') * 8 + (inner[i + 3] - '0');
                        if (v > 255)
                        {
                            return null;
                        }
                        bytes.Add((byte)v);
                        i += 3;
                        continue;
                    }
                    if (i + 1 < inner.Length)
                    {
                        c = inner[++i];
                    }
                }
                if (c > 0x7E || c < 0x20)
                {
                    return null;
                }
                bytes.Add((byte)c);
                if (bytes.Count > 4)
                {
                    return null;
                }
            }
            return bytes.Count == 4 ? bytes.ToArray() : null;
        }

        private static bool IsOctal(char c) => c >= '0' && c <= '7';

        private static IPAddress? ToAddress(byte[]? bytes)
        {
            if (bytes == null || bytes.Length != 4)
            {
                return null;
            }
            // 0.0.0.0 and broadcast are never a wire server.
            if (bytes.All(b => b == 0) || bytes.All(b => b == 0xFF))
            {
                return null;
            }
            return new IPAddress(bytes);
        }
    }
}
