using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace AzureLinuxImage.Azure
{
    /// <summary>
    /// Keeps SAS signatures and tokens out of every message, error, progress line and result (issue 8,
    /// "Secrets"). A SAS is a bearer secret: anyone who reads `sig` can write the disk.
    /// </summary>
    internal static class SecretRedaction
    {
        public const string Redacted = "REDACTED";

        // sig= (SAS signature) and any other credential-bearing query or header value.
        private static readonly Regex SecretParameter = new Regex(
            @"(?<name>(?:[?&;]|\b)(?:sig|signature|token|access_token|code|client_secret|password|se?cret)=)(?<value>[^&\s""'<>]+)",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled);

        private static readonly Regex BearerValue = new Regex(
            @"(?<name>Bearer\s+)(?<value>[A-Za-z0-9\-_\.=+/]+)",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled);

        /// <summary>The text with every secret value replaced by <see cref="Redacted"/>.</summary>
        public static string Redact(string? text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return text ?? string.Empty;
            }
            string s = SecretParameter.Replace(text, m => m.Groups["name"].Value + Redacted);
            return BearerValue.Replace(s, m => m.Groups["name"].Value + Redacted);
        }

        /// <summary>
        /// The secret values of a URL (a SAS's sig, any token or secret parameter), as written in the URL and,
        /// when different, percent-decoded: a log may show either form, so the CI host is told both (issue 23).
        /// </summary>
        public static IEnumerable<string> SecretsOf(Uri url)
        {
            foreach (Match m in SecretParameter.Matches(url.OriginalString))
            {
                string value = m.Groups["value"].Value;
                yield return value;
                string decoded = Uri.UnescapeDataString(value);
                if (decoded != value)
                {
                    yield return decoded;
                }
            }
        }

        /// <summary>The blob URL users see: scheme, host, path; no query string at all (the SAS is the secret).</summary>
        public static string WithoutQuery(Uri uri)
        {
            var b = new UriBuilder(uri) { Query = string.Empty, Fragment = string.Empty };
            return b.Uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        }
    }
}
