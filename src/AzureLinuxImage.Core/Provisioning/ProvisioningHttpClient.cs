using System;
using System.Net;
using System.Net.Http;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>
    /// The HttpClient for the wire server and IMDS: never through a proxy (PROTOCOL.md: the machine's
    /// proxy settings must be ignored for 168.63.129.16 and 169.254.169.254), no redirects (an answer
    /// from elsewhere is not the fabric's), no cookies, and no client-wide timeout (each request has its
    /// own, from the <see cref="RetryPolicy"/>).
    /// </summary>
    internal static class ProvisioningHttpClient
    {
        public static HttpClient Create() =>
            new HttpClient(CreateHandler(), disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };

        internal static HttpClientHandler CreateHandler() =>
            new HttpClientHandler
            {
                UseProxy = false,
                Proxy = null,
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
            };
    }
}
